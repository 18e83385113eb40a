#!/usr/bin/env bash
# perks-launch refuses what it cannot do and says why: a service that cannot start stops the
# launch with the end of its log and exit code 1; binaries that are not where it is told to look
# are named, with exit code 2. Nothing is left running.
#   launch_errors_test.sh BUILD_DIR
set -uo pipefail
BUILD=$(cd "$1" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
status=0

"$BUILD/deploy/perks-launch" --data-dir "$TMP/a" --base-port 0 -- --no-such-option \
  >"$TMP/a.out" 2>"$TMP/a.err"
rc=$?
[[ $rc == 1 ]] || { echo "a service that cannot start: exit code $rc, not 1"; status=1; }
grep -q "before it was serving" "$TMP/a.err" || { echo "it did not say which service:"; cat "$TMP/a.err"; status=1; }
grep -q "not expected: --no-such-option" "$TMP/a.err" ||
  { echo "it did not show the service's own words:"; cat "$TMP/a.err"; status=1; }
grep -q "^\[launch\] stopped" "$TMP/a.out" || { echo "it did not stop the others"; status=1; }
ls "$TMP/a/run"/*.pid >/dev/null 2>&1 && { echo "pid files left behind: a service still running?"; status=1; }

"$BUILD/deploy/perks-launch" --data-dir "$TMP/b" --bin-dir "$TMP/nowhere" >"$TMP/b.out" 2>"$TMP/b.err"
rc=$?
[[ $rc == 2 ]] || { echo "missing binaries: exit code $rc, not 2"; status=1; }
grep -q "cannot run $TMP/nowhere/perks-card; is --bin-dir right?" "$TMP/b.err" ||
  { echo "it did not name the missing binary:"; cat "$TMP/b.err"; status=1; }
[[ $status == 0 ]] && echo "perks-launch refuses and says why"
exit $status
