// Validates the Kubernetes manifests offline: every object against the Kubernetes API schema of
// its kind (kubernetes-models), then what the schemas cannot say: each StatefulSet has its
// governing Service, gRPC health probes, resource limits, a persistent volume, and mounts a
// ConfigMap key and a Secret that exist; each Service selects a pod template and names ports the
// pod has. With --write-configs DIR it also writes each service's options file from the
// ConfigMap into DIR, for the caller to start the binaries on.
//   node validate.js DEPLOY_KUBERNETES_DIR [--write-configs DIR]
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

const dir = process.argv[2];
const writeIdx = process.argv.indexOf("--write-configs");
const writeDir = writeIdx > 0 ? process.argv[writeIdx + 1] : null;
if (!dir) {
  console.error("usage: node validate.js DEPLOY_KUBERNETES_DIR [--write-configs DIR]");
  process.exit(2);
}

const problems = [];
const objects = [];
for (const file of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(dir, file), "utf8"));
  docs.forEach((doc, i) => {
    if (doc.errors.length) {
      problems.push(`${file} document ${i + 1}: ${doc.errors[0].message}`);
      return;
    }
    const obj = doc.toJS();
    if (obj) objects.push({ file, obj });
  });
}

// The schema of each kind, from its apiVersion: "apps/v1" -> kubernetes-models/apps/v1/<Kind>,
// "v1" -> kubernetes-models/v1/<Kind>.
for (const { file, obj } of objects) {
  const where = `${file}: ${obj.kind} ${obj.metadata && obj.metadata.name}`;
  if (!obj.apiVersion || !obj.kind) {
    problems.push(`${where}: no apiVersion or kind`);
    continue;
  }
  let Model;
  try {
    Model = require(`kubernetes-models/${obj.apiVersion}/${obj.kind}`)[obj.kind];
  } catch (e) {
    problems.push(`${where}: no schema for ${obj.apiVersion} ${obj.kind}`);
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
  }
}

const byKind = (kind) => objects.filter((o) => o.obj.kind === kind).map((o) => o.obj);
const named = (kind, name) => byKind(kind).find((o) => o.metadata.name === name);
const configMaps = byKind("ConfigMap");

for (const set of byKind("StatefulSet")) {
  const where = `StatefulSet ${set.metadata.name}`;
  const spec = set.spec;
  if (!named("Service", spec.serviceName)) {
    problems.push(`${where}: its serviceName ${spec.serviceName} is not a Service here`);
  }
  if (!(spec.volumeClaimTemplates || []).length) {
    problems.push(`${where}: no persistent volume (volumeClaimTemplates)`);
  }
  const pod = spec.template.spec;
  const volumes = new Map((pod.volumes || []).map((v) => [v.name, v]));
  for (const claim of spec.volumeClaimTemplates || []) volumes.set(claim.metadata.name, claim);
  for (const c of pod.containers) {
    const cw = `${where} container ${c.name}`;
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
      if (!c[probe] || !c[probe].grpc) problems.push(`${cw}: ${probe} is not a gRPC health probe`);
      else if (!(c.ports || []).some((p) => p.containerPort === c[probe].grpc.port)) {
        problems.push(`${cw}: ${probe} checks port ${c[probe].grpc.port}, which it does not open`);
      }
    }
    const r = c.resources || {};
    for (const k of ["cpu", "memory"]) {
      if (!r.limits || !r.limits[k]) problems.push(`${cw}: no ${k} limit`);
      if (!r.requests || !r.requests[k]) problems.push(`${cw}: no ${k} request`);
    }
    const sc = c.securityContext || {};
    if (sc.allowPrivilegeEscalation !== false || sc.readOnlyRootFilesystem !== true) {
      problems.push(`${cw}: may escalate privileges or write its root file system`);
    }
    for (const m of c.volumeMounts || []) {
      if (!volumes.has(m.name)) problems.push(`${cw}: mounts ${m.name}, which is not a volume`);
    }
  }
  for (const v of pod.volumes || []) {
    if (v.configMap) {
      const cm = configMaps.find((m) => m.metadata.name === v.configMap.name);
      if (!cm) problems.push(`${where}: ConfigMap ${v.configMap.name} is not here`);
      for (const item of v.configMap.items || []) {
        if (cm && !(item.key in (cm.data || {}))) {
          problems.push(`${where}: ConfigMap ${v.configMap.name} has no key ${item.key}`);
        }
      }
    }
    if (v.secret && !named("Secret", v.secret.secretName)) {
      problems.push(`${where}: Secret ${v.secret.secretName} is not here`);
    }
  }
}

for (const svc of byKind("Service")) {
  const where = `Service ${svc.metadata.name}`;
  const selector = svc.spec.selector || {};
  const pods = byKind("StatefulSet").filter((s) =>
    Object.entries(selector).every(([k, v]) => (s.spec.template.metadata.labels || {})[k] === v));
  if (!pods.length) {
    problems.push(`${where}: selects no pod template`);
    continue;
  }
  const portNames = new Set(pods[0].spec.template.spec.containers.flatMap((c) =>
    (c.ports || []).map((p) => p.name)));
  for (const p of svc.spec.ports) {
    if (typeof p.targetPort === "string" && !portNames.has(p.targetPort)) {
      problems.push(`${where}: targetPort ${p.targetPort} is no port of its pods`);
    }
  }
}

if (writeDir) {
  for (const cm of configMaps) {
    for (const [key, value] of Object.entries(cm.data || {})) {
      fs.writeFileSync(path.join(writeDir, key), value);
    }
  }
}

if (problems.length) {
  for (const p of problems) console.error(p);
  console.error(`${problems.length} problem(s) in ${dir}`);
  process.exit(1);
}
const kinds = {};
for (const { obj } of objects) kinds[obj.kind] = (kinds[obj.kind] || 0) + 1;
console.log(`${objects.length} objects valid: ` +
  Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(", "));
