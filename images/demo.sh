#!/usr/bin/env bash
# The main job until the handover experiment (`pmiplab run`) lands: bring up
# topologies/handover-basic.yaml with captures, show it, check the links,
# move the MN's interface between the MAGs 10 times (each move timed at the
# MN's carrier), and tear everything down. What it made stays readable in
# runs/<id>/ (plan, node logs, pcaps, moves.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
pmiplab() { node dist/orchestrator/cli/main.js "$@"; }

out=$(pmiplab up topologies/handover-basic.yaml --capture)
echo "$out"
id=$(sed -n 's/^run \([a-z0-9]*\) is up.*/\1/p' <<<"$out")
trap 'pmiplab down "$id"' EXIT

pmiplab inspect "$id"
echo
echo "== links"
pmiplab exec "$id" cn1 -- ping -6 -c 1 -W 2 2001:db8:c:3::1 | grep -E 'bytes from|loss'
pmiplab exec "$id" mag1 -- ping -6 -c 1 -W 2 2001:db8:b:1::2 | grep -E 'bytes from|loss'
pmiplab exec "$id" mn1 -- ping -6 -c 1 -w 3 fe80::1%wlan0 | grep -E 'bytes from|loss'

echo
echo "== 10 L2 moves of mn1:wlan0 (times from the move's start, as the MN's kernel saw its carrier)"
moves="runs/$id/moves.jsonl"
for i in $(seq 1 10); do
  to=$([ $((i % 2)) -eq 1 ] && echo mag2 || echo mag1)
  pmiplab move "$id" mn1:wlan0 "$to" --json >>"$moves"
  tail -n 1 "$moves" | node -e '
    const e = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const ms = (t) => (Number(BigInt(t) - BigInt(e.tStartNs)) / 1e6).toFixed(2);
    console.log(`${e.from} -> ${e.to}: carrier down +${ms(e.tDownNs)} ms, up +${ms(e.tUpNs)} ms`);'
done
echo "events: $moves; pcaps: runs/$id/pcaps/; node logs: runs/$id/logs/"
