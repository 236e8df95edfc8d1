// Bring-up benchmark (root): `pmiplab up --network-only` against a bare
// `ip -batch` of the same objects, side by side (alternating rounds, medians,
// ratio); then with node processes (seconds to all ready, RSS per node); then
// the time of one MN move from its start to carrier up at the MN, in both L2
// models (settings.l2Move bridge and netns).
// Goals: network within 1.5x of the bare batch; 200 processes ready < 20 s;
// < 60 MB RSS per node process; an MN move < 5 ms.
// Run: npm run bench:bringup   (prints a table, writes bench/results/bringup.json)

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentProgress, table } from '../orchestrator/cli/progress.js';
import { labUp } from '../orchestrator/lab/lab.js';
import { bareBatches, LinkController } from '../orchestrator/netns/index.js';
import { execInput, runLimited } from '../orchestrator/netns/exec.js';
import { concurrency } from '../orchestrator/netns/build.js';
import { isRoot } from '../orchestrator/system/tools.js';
import { loadTopology } from '../orchestrator/topology/load.js';
import { planTopology } from '../orchestrator/topology/planner.js';
import { fmt, median, quantile, writeResults } from './stats.js';
import { scaleTopology } from '../orchestrator/topology/scale.js';

const SIZES = (process.env.BENCH_SIZES ?? '10,50,200').split(',').map(Number);
const NET_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MOVES = Number(process.env.BENCH_MOVES ?? 50);

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

// The bare side spawns with the same thin helper as the builder, so the ratio
// is what pmiplab adds (YAML, plan, checks, state), not a spawner difference.
async function run(cmd: string, args: string[], input: string): Promise<void> {
  const r = await execInput(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

async function ipBatch(args: string[], input: string): Promise<void> {
  if (input) await run('ip', [...args, '-batch', '-'], input);
}

/** The same objects as buildNetwork makes, with nothing but ip/sh batches. */
async function bareBringUp(file: string, runId: string): Promise<{ ms: number; teardown: () => Promise<void> }> {
  const b = bareBatches(planTopology(loadTopology(file), file, runId));
  const t0 = process.hrtime.bigint();
  await ipBatch([], b.root);
  await runLimited(b.perNs, concurrency(), async (ns) => {
    if (ns.sysctlsAndTc) await run('nsenter', [`--net=/run/netns/${ns.netns}`, 'sh', '-c', ns.sysctlsAndTc], ns.ip);
    else await ipBatch(['-n', ns.netns], ns.ip);
  });
  const took = ms(t0);
  return { ms: took, teardown: () => ipBatch(['-force'], b.teardown) };
}

async function main(): Promise<void> {
  if (!isRoot()) {
    process.stderr.write('bench:bringup needs root (network namespaces)\n');
    process.exit(1);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-bench-'));
  const results: Record<string, unknown> = { machine: { cpus: os.cpus().length, kernel: os.release(), node: process.version } };
  const netRows: string[][] = [];
  const procRows: string[][] = [];
  try {
    // 1. network only, side by side
    const network: unknown[] = [];
    for (const n of SIZES) {
      const file = path.join(dir, `scale${n}.yaml`);
      writeFileSync(file, scaleTopology(n));
      const bare: number[] = [];
      const up: number[] = [];
      for (let r = 0; r < NET_ROUNDS; r++) {
        const b = await bareBringUp(file, `bb${n}`);
        bare.push(b.ms);
        await b.teardown();
        const t0 = process.hrtime.bigint();
        const lab = await labUp(file, { id: `bu${n}`, networkOnly: true, progress: silentProgress });
        up.push(ms(t0));
        await lab.down();
      }
      const ratio = median(up) / median(bare);
      network.push({ namespaces: n, bareMs: bare, upMs: up, medianBareMs: median(bare), medianUpMs: median(up), ratio });
      netRows.push([String(n), fmt(median(bare)), fmt(median(up)), fmt(ratio, 2), ratio <= 1.5 ? 'yes' : 'NO']);
      process.stderr.write(`network n=${n}: bare ${fmt(median(bare))} ms, up ${fmt(median(up))} ms\n`);
    }
    results.network = network;

    // 2. with node processes
    const processes: unknown[] = [];
    for (const n of SIZES) {
      const file = path.join(dir, `scale${n}.yaml`);
      const rounds = n >= 200 ? 1 : 3;
      const ready: number[] = [];
      const rss: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const t0 = process.hrtime.bigint();
        const lab = await labUp(file, { id: `bp${n}`, progress: silentProgress, readyTimeoutMs: 120_000 });
        ready.push(ms(t0) / 1000);
        for (const x of (await lab.nodes?.rssMb()) ?? []) if (x.rssMb !== null) rss.push(x.rssMb);
        await lab.down();
      }
      processes.push({ namespaces: n, readySeconds: ready, rssMbMedian: median(rss), rssMbMax: Math.max(...rss) });
      procRows.push([String(n), fmt(median(ready), 2), fmt(median(rss)), fmt(Math.max(...rss))]);
      process.stderr.write(`processes n=${n}: ready ${fmt(median(ready), 2)} s, rss median ${fmt(median(rss))} MB\n`);
    }
    results.processes = processes;

    // 3. MN moves on the basic topology, both L2 models (settings.l2Move) side by side
    const basic = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'topologies', 'handover-basic.yaml');
    const basicText = readFileSync(basic, 'utf8').replace(/^settings:.*$/m, '');
    const moveRows: string[][] = [];
    const moveResults: Record<string, unknown> = {};
    for (const mode of ['bridge', 'netns'] as const) {
      const file = path.join(dir, `handover-${mode}.yaml`);
      writeFileSync(file, `${basicText}\nsettings: { l2Move: ${mode} }\n`);
      const lab = await labUp(file, { id: mode === 'bridge' ? 'bmvb' : 'bmvn', networkOnly: true, progress: silentProgress });
      const moves: number[] = [];
      const links = new LinkController();
      try {
        await links.open(lab.plan);
        for (let i = 0; i < MOVES; i++) {
          const ev = await links.move({ node: 'mn1', iface: 'wlan0', to: i % 2 === 0 ? 'mag2' : 'mag1' });
          moves.push(Number(BigInt(ev.tUpNs) - BigInt(ev.tStartNs)) / 1e6);
        }
      } finally {
        await links.close();
        await lab.down();
      }
      moveResults[mode] = { count: moves.length, ms: moves, medianMs: median(moves), p90Ms: quantile(moves, 0.9), folded: links.folds };
      moveRows.push([mode, String(moves.length), fmt(median(moves), 2), fmt(quantile(moves, 0.9), 2), fmt(Math.min(...moves), 2), median(moves) < 5 ? 'yes' : 'NO']);
      process.stderr.write(`moves ${mode}: median ${fmt(median(moves), 2)} ms, p90 ${fmt(quantile(moves, 0.9), 2)} ms\n`);
    }
    results.moves = moveResults;

    process.stdout.write(
      [
        '',
        'Network bring-up (namespaces, veths, addresses, routes, sysctls), median of ' + NET_ROUNDS,
        table([['namespaces', 'bare ip -batch ms', 'pmiplab up ms', 'ratio', '<= 1.5x'], ...netRows]),
        '',
        'With node processes (up to all ready)',
        table([['namespaces', 'all ready s', 'RSS/node MB median', 'RSS/node MB max'], ...procRows]),
        '',
        'MN move (start to carrier up at the MN), handover-basic, settings.l2Move',
        table([['l2Move', 'moves', 'median ms', 'p90 ms', 'min ms', '< 5 ms'], ...moveRows]),
        '',
      ].join('\n'),
    );
    process.stdout.write(`results: ${writeResults('bringup', results)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
