#!/usr/bin/env bash
# The systemd units in deploy/systemd pass `systemd-analyze verify` with not one warning (an
# unknown or misspelt option is only a warning to systemd, and would leave a service
# unsandboxed), each starts the binary of its own service, and each sandboxes and restarts it;
# each service starts on its example options file.
#   systemd_units_test.sh DEPLOY_DIR BUILD_DIR
set -euo pipefail
DEPLOY=$(cd "$1" && pwd)
BUILD=$(cd "$2" && pwd)
source "$(dirname "$0")/lib.sh"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
status=0
for s in card merchant promotion checkout settlement; do
  unit="$DEPLOY/systemd/perks-$s.service"
  [[ -f "$unit" ]] || { echo "missing $unit"; status=1; continue; }
  # Verified against this build's binary, where the unit names the installed one.
  sed "s#/usr/local/bin/perks-$s#$BUILD/services/$s/perks-$s#" "$unit" > "$TMP/perks-$s.service"
  out=$(systemd-analyze verify --man=no "$TMP/perks-$s.service" 2>&1) || status=1
  if [[ -n "$out" ]]; then
    echo "perks-$s.service: $out"
    status=1
  fi
  for want in "ExecStart=/usr/local/bin/perks-$s " "Restart=on-failure" "NoNewPrivileges=yes" \
      "ProtectSystem=strict" "StateDirectory=perks/$s" "CapabilityBoundingSet=" \
      "--config /etc/perks/perks-$s.toml"; do
    grep -qF -- "$want" "$unit" || { echo "perks-$s.service lacks '$want'"; status=1; }
  done
  # Its example options are ones the binary takes: it starts on them (here on 127.0.0.1).
  starts_on_config "$BUILD/services/$s/perks-$s" "$DEPLOY/systemd/perks-$s.toml" "$TMP/$s" ||
    status=1
done
[[ $status == 0 ]] && echo "the five units verify"
exit $status
