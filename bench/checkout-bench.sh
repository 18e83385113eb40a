#!/usr/bin/env bash
# The checkout benchmark: a fresh server (durable writes, its own temp data directory), then
# perks-loadgen against it: authorize + confirm pairs per second from --terminals tills with
# p50/p99 and the server's CPU per checkout, and in the same run one durable gRPC write's ceiling
# on the same server.
# The server is perkd (every service in one process), or with --five the five service
# processes started by perks-launch. Other arguments go to perks-loadgen, e.g.
#   ./bench/checkout-bench.sh [--five] --terminals 64 --seconds 20 --json
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PERKS_BIN:-build}
FIVE=0
if [[ "${1:-}" == "--five" ]]; then FIVE=1; shift; fi
DATA=$(mktemp -d /tmp/perks-checkout-bench.XXXXXX)
trap 'kill -TERM $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
if [[ $FIVE == 1 ]]; then
  "$BIN/deploy/perks-launch" --data-dir "$DATA/data" --base-port 0 >"$DATA/out" 2>"$DATA/log" &
  READY="^clients: --server "
else
  "$BIN/services/perkd/perkd" --listen 127.0.0.1:0 --data-dir "$DATA/data" >"$DATA/out" 2>"$DATA/log" &
  READY="^listening on "
fi
SERVER=$!
for _ in $(seq 1 300); do
  grep -q "$READY" "$DATA/out" 2>/dev/null && break
  kill -0 $SERVER 2>/dev/null || { cat "$DATA/out" "$DATA/log"; echo "the server did not start" >&2; exit 1; }
  sleep 0.1
done
ADDR=$(sed -n "s/$READY//p" "$DATA/out")
[[ -n "$ADDR" ]] || { cat "$DATA/out"; echo "the server did not start in 30 s" >&2; exit 1; }
(umask 077 && grep -o 'bootstrap admin token.*' "$DATA/out" | sed 's/.*: //' > "$DATA/token")
# The server's CPU per checkout is read from /proc: perkd itself, or perks-launch and its services.
PIDS=(--server-pid "$SERVER")
if [[ $FIVE == 1 ]]; then
  for pid in $(pgrep -P "$SERVER"); do PIDS+=(--server-pid "$pid"); done
fi
"$BIN/tools/loadgen/perks-loadgen" --server "$ADDR" --token-file "$DATA/token" "${PIDS[@]}" "$@"
