#!/usr/bin/env bash
# The one set-up command: installs what is missing, builds, and starts perkd on a demo data set
# (the Bozhou member card, the Anqing green-travel card and Fuyang's warm-heart vouchers, with
# synthetic members and cards).
# perkd keeps running in the foreground; Ctrl-C stops it cleanly. Run it again to restart on the
# same data. PERKS_LISTEN (default 127.0.0.1:7400) and PERKS_DATA (default ./data/demo) override.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh

LISTEN="${PERKS_LISTEN:-127.0.0.1:7400}"
DATA="${PERKS_DATA:-data/demo}"
BIN=build
mkdir -p "$DATA"

"$BIN/services/perkd/perkd" --listen "$LISTEN" --data-dir "$DATA" >"$DATA/perkd.out" 2>"$DATA/perkd.log" &
PERKD=$!
trap 'kill -TERM $PERKD 2>/dev/null; wait $PERKD 2>/dev/null' INT TERM
for _ in $(seq 1 100); do
  grep -q "listening on" "$DATA/perkd.out" 2>/dev/null && break
  kill -0 $PERKD 2>/dev/null || { cat "$DATA/perkd.log"; echo "perkd did not start"; exit 1; }
  sleep 0.1
done
ADDR=$(sed -n 's/^listening on //p' "$DATA/perkd.out")
# A new installation prints its first admin token once: keep it in a file only you can read.
TOKEN=$(sed -n 's/^bootstrap admin token.*: //p' "$DATA/perkd.out")
if [ -n "$TOKEN" ]; then
  (umask 077 && printf '%s\n' "$TOKEN" > "$DATA/admin.token")
fi
CTL=("$BIN/tools/perkctl/perkctl" --server "$ADDR" --token-file "$DATA/admin.token")

if [ ! -f "$DATA/demo-loaded" ]; then
  echo "loading the demo data set…"
  "${CTL[@]}" programs create --city bozhou --id bozhou-member --name "亳州工会会员卡" --bin 623668
  "${CTL[@]}" programs create --city anqing --id anqing-green --name "安庆绿色出行卡" --bin 623669 --length 19
  "$BIN/tools/perkgen/perkgen" --count 2000 --seed 2026 --out "$DATA/members.csv"
  "${CTL[@]}" members import "$DATA/members.csv" --city bozhou --issue-program bozhou-member --batch demo-bozhou
  "$BIN/tools/perkgen/perkgen" merchants --city bozhou --count 12 --out "$DATA/merchants.csv"
  "${CTL[@]}" merchants import "$DATA/merchants.csv"
  # A till at the first merchant's first store, its id and secret in a file only you can read.
  M=$("${CTL[@]}" merchants list --city bozhou | awk 'NR==2{print $1}')
  S=$("${CTL[@]}" merchants show "$M" | awk '$1 ~ /^S[0-9a-f]+$/ {print $1; exit}')
  "${CTL[@]}" terminals register --store "$S" --label "收银台 1" --save "$DATA/till-1.terminal" >/dev/null
  "${CTL[@]}" cards export --batch demo-bozhou --out "$DATA/cards.csv"
  CARD=$(sed -n 2p "$DATA/cards.csv" | cut -d, -f2)
  "${CTL[@]}" cards activate "$CARD" >/dev/null
  touch "$DATA/demo-loaded"
fi
if [ ! -f "$DATA/campaigns-loaded" ]; then
  echo "loading the seed programs' campaigns (examples/programs)…"
  for f in examples/programs/*.yaml; do
    "${CTL[@]}" campaign apply "$f" --publish >/dev/null
  done
  touch "$DATA/campaigns-loaded"
fi
if [ ! -f "$DATA/grants-loaded" ]; then
  echo "Anqing green-travel cards and Fuyang warm-heart vouchers…"
  # 200 Anqing members; activating a card earns its 30 yuan of transit credit.
  "$BIN/tools/perkgen/perkgen" --count 200 --seed 2027 --out "$DATA/anqing-members.csv"
  "${CTL[@]}" members import "$DATA/anqing-members.csv" --city anqing --issue-program anqing-green --batch demo-anqing
  "${CTL[@]}" cards export --batch demo-anqing --out "$DATA/anqing-cards.csv" >/dev/null
  "${CTL[@]}" cards activate "$(sed -n 2p "$DATA/anqing-cards.csv" | cut -d, -f2)" >/dev/null
  # 30 Fuyang needy households, each issued the 500-yuan voucher.
  "${CTL[@]}" programs create --city fuyang --id fuyang-member --name "阜阳工会会员卡" --bin 623670 >/dev/null
  "$BIN/tools/perkgen/perkgen" --count 30 --seed 2028 --out "$DATA/fuyang-members.csv"
  awk -F, 'NR == 1 { print; next } { print $0 ($5 == "" ? "" : ";") "needy_household" }' \
    "$DATA/fuyang-members.csv" > "$DATA/fuyang-needy.csv"
  "${CTL[@]}" members import "$DATA/fuyang-needy.csv" --city fuyang --issue-program fuyang-member --batch demo-fuyang
  "${CTL[@]}" cards export --batch demo-fuyang --out "$DATA/fuyang-cards.csv" >/dev/null
  "${CTL[@]}" grant issue fuyang-warm-heart-2026 --cards "$DATA/fuyang-cards.csv" >/dev/null
  touch "$DATA/grants-loaded"
fi
CARD=$(sed -n 2p "$DATA/cards.csv" | cut -d, -f2)
ANQING=$(sed -n 2p "$DATA/anqing-cards.csv" | cut -d, -f2)
FUYANG=$(sed -n 2p "$DATA/fuyang-cards.csv" | cut -d, -f2)

cat <<MSG

perkd is serving on $ADDR with the demo data in $DATA (logs: $DATA/perkd.log).
Try, in another terminal:
  export PERKS_SERVER=$ADDR
  export PERKS_TOKEN=\$(cat $DATA/admin.token)     # the installation admin's API token
  build/tools/perkctl/perkctl whoami
  build/tools/perkctl/perkctl health
  build/tools/perkctl/perkctl programs list
  build/tools/perkctl/perkctl cards lookup $CARD
  build/tools/perkctl/perkctl cards lookup $CARD --as-terminal $DATA/till-1.terminal   # signed, as a till
  build/tools/perkctl/perkctl merchants list --city bozhou
  build/tools/perkctl/perkctl tokens create --role union_admin --city bozhou --name "亳州市总工会 李科长"
  build/tools/perkctl/perkctl cards lookup $ANQING     # activated: 30 yuan of transit credit
  build/tools/perkctl/perkctl balance debit $ANQING --name transit --amount 1.50
  build/tools/perkctl/perkctl balance history $ANQING
  build/tools/perkctl/perkctl cards lookup $FUYANG     # a needy household's 500-yuan voucher
  build/tools/perkctl/perkctl grant claim $CARD --out-of-pocket 1200   # a medical payout
  build/tools/perkctl/perkctl campaign list --city bozhou
  build/tools/perkctl/perkctl campaign evaluate --city bozhou --program bozhou-member \\
      --category supermarket --amount 100 --at "2026-12-05 10:00"   # spend 100 save 30
  build/tools/perkctl/perkctl campaign budgets bozhou-supermarket-100-30   # used, held, left
  build/tools/perkctl/perkctl campaign budgets fuyang-warm-heart-2026
(full card numbers of the demo batch are in $DATA/cards.csv)
Ctrl-C stops perkd.
MSG
wait $PERKD
