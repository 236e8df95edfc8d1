#!/usr/bin/env zx
// The main job: the handover experiment of topologies/handover-basic.yaml
// (1 LMA, 2 MAGs, 1 MN, 1 CN; the MN's interface moves between the MAGs 10
// times while 1,000 probes/s flow each way). `pmiplab run` brings the domain
// up, plays the scenario, tears it down (also on Ctrl-C or an error) and
// writes runs/<id>/report.html, metrics.json, metrics.csv, pcaps and logs.
// Run from the repository root: npx zx images/demo.mjs [topology.yaml] [--out DIR]
$.verbose = false;
const file = argv._[0] ?? 'topologies/handover-basic.yaml';
const extra = argv.out ? ['--out', argv.out] : [];
// stdio inherited: progress (stderr) and the summary table (stdout) as they come
await $({ stdio: 'inherit' })`node dist/orchestrator/cli/main.js run ${file} ${extra}`;
