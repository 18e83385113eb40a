#!/usr/bin/env bash
# Installs the Debian 12 packages Perks builds with. Safe to run again: it installs only what is
# missing. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libasio-dev libgtest-dev libgmock-dev librapidcheck-dev libabsl-dev
  libssl-dev libcli11-dev nlohmann-json3-dev libfccp-dev tzdata libyaml-cpp-dev
  systemd prometheus-cpp-dev libcurl4-openssl-dev yamllint nodejs libjemalloc-dev
)
# npm checks the Kubernetes manifests (tests/deploy/k8s); a Node.js that brings its own npm
# needs no other.
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

# The manifests' schema check: the versions package-lock.json pins, from the npm registry.
npm_packages() {
  local dir
  dir="$(dirname "$0")/../tests/deploy/k8s"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
     ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"; then
    echo "install-deps: npm ci in tests/deploy/k8s (the Kubernetes schema check)"
    if (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); then
      cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"
    else
      echo "install-deps: warning: npm ci failed (is registry.npmjs.org reachable?); only the" \
        "Kubernetes manifest test needs it"
    fi
  fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  npm_packages
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
npm_packages
