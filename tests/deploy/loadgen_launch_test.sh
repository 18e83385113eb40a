#!/usr/bin/env bash
# perks-loadgen runs against the five service processes perks-launch starts: it sets up its city
# through them, its tills check out (back to back, then paced by --rate), nothing is refused, and
# the launcher then stops every service cleanly. (The figures are the benchmark's business:
# bench/checkout-bench.sh --five.)
#   loadgen_launch_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
TMP=$(mktemp -d)
LAUNCH=""
trap '[[ -n "$LAUNCH" ]] && kill -KILL $LAUNCH 2>/dev/null; rm -rf "$TMP"' EXIT
"$BUILD/deploy/perks-launch" --data-dir "$TMP/data" --base-port 0 >"$TMP/out" 2>"$TMP/err" &
LAUNCH=$!
for _ in $(seq 1 600); do  # polls for the line, up to 60 s
  grep -q "^clients: --server " "$TMP/out" && break
  kill -0 $LAUNCH 2>/dev/null || break
  sleep 0.1
done
SERVER=$(sed -n 's/^clients: --server //p' "$TMP/out")
if [[ -z "$SERVER" ]]; then
  echo "perks-launch did not bring the services up:"; cat "$TMP/out" "$TMP/err"; exit 1
fi
(umask 077 && grep -o 'bootstrap admin token.*' "$TMP/out" | sed 's/.*: //' > "$TMP/token")
"$BUILD/tools/loadgen/perks-loadgen" --server "$SERVER" --token-file "$TMP/token" \
  --terminals 4 --cards 40 --seconds 2 --ceiling-seconds 1 --json >"$TMP/figures" 2>"$TMP/loadgen.err" ||
  { echo "perks-loadgen failed:"; cat "$TMP/loadgen.err" "$TMP/figures"; exit 1; }
cat "$TMP/figures"
status=0
grep -q '"errors":{}' "$TMP/figures" || { echo "calls were refused"; status=1; }
grep -Eq '"confirmed":[1-9]' "$TMP/figures" || { echo "nothing was confirmed"; status=1; }
grep -Eq '"durable_write_per_s":[1-9]' "$TMP/figures" || { echo "no durable write"; status=1; }
# Paced: the tills start 40 pairs a second between them, on their own schedules.
"$BUILD/tools/loadgen/perks-loadgen" --server "$SERVER" --token-file "$TMP/token" \
  --terminals 4 --cards 40 --seconds 2 --ceiling-seconds 0 --rate 40 --json >"$TMP/paced" 2>"$TMP/loadgen.err" ||
  { echo "perks-loadgen --rate failed:"; cat "$TMP/loadgen.err" "$TMP/paced"; exit 1; }
cat "$TMP/paced"
grep -q '"offered_pairs_per_s":40.0' "$TMP/paced" || { echo "the offered rate is not reported"; status=1; }
grep -q '"errors":{}' "$TMP/paced" || { echo "paced calls were refused"; status=1; }
# About 2 s x 40 /s less the reversed: far fewer than back to back, and some.
confirmed=$(sed -n 's/.*"confirmed":\([0-9]*\).*/\1/p' "$TMP/paced")
if (( confirmed < 20 || confirmed > 100 )); then
  echo "paced at 40 pairs a second for 2 s, $confirmed were confirmed"; status=1
fi
kill -TERM $LAUNCH
if wait $LAUNCH; then LAUNCH=""; else echo "perks-launch did not stop cleanly"; LAUNCH=""; status=1; fi
grep -q "^\[launch\] stopped" "$TMP/out" || { echo "the launcher did not say it stopped"; status=1; }
exit $status
