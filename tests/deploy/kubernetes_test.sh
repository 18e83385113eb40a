#!/usr/bin/env bash
# The Kubernetes manifests in deploy/kubernetes pass yamllint and are valid against the
# Kubernetes API schemas (validated offline, tests/deploy/k8s/validate.js); a manifest broken on
# purpose is caught; and each service starts on the options file its ConfigMap gives it.
#   kubernetes_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SRC=$(cd "$1" && pwd)
BUILD=$(cd "$2" && pwd)
source "$SRC/tests/deploy/lib.sh"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CHECK="$SRC/tests/deploy/k8s"
if [[ ! -d "$CHECK/node_modules/kubernetes-models" ]]; then
  echo "the schema check's packages are missing: run ./scripts/install-deps.sh (npm ci in $CHECK)"
  exit 1
fi
status=0
yamllint --strict -c "$SRC/.yamllint" "$SRC/deploy/kubernetes" || status=1
node "$CHECK/validate.js" "$SRC/deploy/kubernetes" --write-configs "$TMP" || status=1

# The check can fail: a port that is not a number, and a probe on a port the pod does not open.
mkdir "$TMP/broken"
cp "$SRC"/deploy/kubernetes/*.yaml "$TMP/broken/"
sed -i '0,/containerPort: 7401/s//containerPort: "7401x"/' "$TMP/broken/perks-card.yaml"
if node "$CHECK/validate.js" "$TMP/broken" >"$TMP/broken.out" 2>&1; then
  echo "a manifest with containerPort \"7401x\" passed the check"; status=1
fi
grep -q "containerPort must be integer" "$TMP/broken.out" ||
  { echo "the broken manifest was not refused for its port:"; cat "$TMP/broken.out"; status=1; }

for s in card merchant promotion checkout settlement; do
  starts_on_config "$BUILD/services/$s/perks-$s" "$TMP/perks-$s.toml" "$TMP/run-$s" || status=1
done
[[ $status == 0 ]] && echo "the manifests are valid and each service starts on its ConfigMap"
exit $status
