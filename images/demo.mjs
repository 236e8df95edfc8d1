#!/usr/bin/env zx
// The main job until the handover experiment (`pmiplab run`) lands: bring up
// topologies/handover-basic.yaml with captures, show it, check the links,
// move the MN's interface between the MAGs 10 times (each move timed at the
// MN's carrier), and tear everything down, also on Ctrl-C or an error. What
// it made stays readable in runs/<id>/ (plan, node logs, pcaps, moves.jsonl).
// Run from the repository root: npx zx images/demo.mjs
import { appendFileSync } from 'node:fs';

$.verbose = false;
const cli = ['node', 'dist/orchestrator/cli/main.js'];
const pmiplab = (...args) => $`${cli} ${args}`;

const up = await pmiplab('up', 'topologies/handover-basic.yaml', '--capture');
echo(up.stdout);
const id = /^run ([a-z0-9]+) is up/m.exec(up.stdout)[1];
let downed = false;
const down = async () => {
  if (downed) return;
  downed = true;
  echo((await pmiplab('down', id)).stdout);
};
process.once('SIGINT', () => down().then(() => process.exit(130)));

try {
  echo((await pmiplab('inspect', id)).stdout);
  echo('== links');
  for (const [node, addr] of [['cn1', '2001:db8:c:3::1'], ['mag1', '2001:db8:b:1::2'], ['mn1', 'fe80::1%wlan0']]) {
    // -w: the MN's link-local address is still in DAD for about a second after bring-up
    const r = await pmiplab('exec', id, node, '--', 'ping', '-6', '-c', '1', '-w', '3', addr);
    echo(`${node} -> ${addr}: ${/(\d+) received/.exec(r.stdout)?.[1] === '1' ? 'ok' : 'FAILED'}`);
  }

  echo('\n== 10 L2 moves of mn1:wlan0 (from the move\'s start, as the MN\'s kernel saw its carrier)');
  const moves = `runs/${id}/moves.jsonl`;
  for (let i = 1; i <= 10; i++) {
    const r = await pmiplab('move', id, 'mn1:wlan0', i % 2 ? 'mag2' : 'mag1', '--json');
    appendFileSync(moves, r.stdout);
    const e = JSON.parse(r.stdout);
    const ms = (t) => (Number(BigInt(t) - BigInt(e.tStartNs)) / 1e6).toFixed(2);
    echo(`${e.from} -> ${e.to}: carrier down +${ms(e.tDownNs)} ms, up +${ms(e.tUpNs)} ms`);
  }
  echo(`\nevents: ${moves}; pcaps: runs/${id}/pcaps/; node logs: runs/${id}/logs/`);
} finally {
  await down();
}
