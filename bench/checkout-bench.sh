#!/usr/bin/env bash
# The checkout benchmark: a fresh perkd (durable writes, its own temp data directory), then
# perks-loadgen against it: authorize + confirm pairs per second from --terminals tills with
# p50/p99, and in the same run one durable gRPC write's ceiling on the same server.
# Extra arguments go to perks-loadgen, e.g. --terminals 64 --seconds 20 --json.
#   ./bench/checkout-bench.sh [perks-loadgen options]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PERKS_BIN:-build}
DATA=$(mktemp -d /tmp/perks-checkout-bench.XXXXXX)
trap 'kill -TERM $PERKD 2>/dev/null || true; wait $PERKD 2>/dev/null || true; rm -rf "$DATA"' EXIT
"$BIN/services/perkd/perkd" --listen 127.0.0.1:0 --data-dir "$DATA/data" >"$DATA/out" 2>"$DATA/log" &
PERKD=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$DATA/out" 2>/dev/null && break
  kill -0 $PERKD 2>/dev/null || { cat "$DATA/log"; echo "perkd did not start" >&2; exit 1; }
  sleep 0.1
done
ADDR=$(sed -n 's/^listening on //p' "$DATA/out")
(umask 077 && sed -n 's/^bootstrap admin token.*: //p' "$DATA/out" > "$DATA/token")
"$BIN/tools/loadgen/perks-loadgen" --server "$ADDR" --token-file "$DATA/token" "$@"
