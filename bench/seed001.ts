// Seed 001 benchmark (root), issue 10's two comparisons, each side by side in one run:
// 1. Dormant activation (appendix D) against a plain HI 2 handover (section 2.2):
//    topologies/seed001-dormant.yaml, two MNs in one domain, a downlink probe
//    flow at 1,000/s to each; mn1's wlan0 leaves (the LMA activates lte0's
//    dormant binding itself), mn2's wlan0 leaves and the scenario hands its
//    prefixes to lte0 (PBU HI 2, PBA). Each repetition is a fresh short run
//    (a detached interface that comes back would be a different experiment:
//    its fixed prefix is held by the other interface then), the order of the
//    two detaches alternating; the report's gap of each flow, median/p90/max.
//    The HI 2 PBU leaves at the instant of the detach (the scenario step is the
//    trigger), while the dormant activation waits for mag1 to see the link go
//    and de-register: the comparison is the one seed001-dormant.yaml makes.
// 2. Shared prefix (section 3): aggregate downlink iperf3 TCP (-P flows) from
//    the CN to the MN's wlan0 address with lte0 sharing the prefix (the LMA's
//    multipath route to both MAGs, per-flow hash) against lte0 detached (one
//    path), alternating rounds (ABBA) in one domain. Each access link gets a
//    tbf `rate:` (default 200mbit, BENCH_SEED001_RATE=none for none): without
//    it both paths are veths limited only by the 2 shared cores, and two paths
//    cannot show more than one CPU-bound path does.
// Run: npm run bench:seed001 (or node dist/bench/seed001.js); prints the
// tables, writes bench/results/seed001.json.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';
import { silentProgress, table, terminalProgress } from '../orchestrator/cli/progress.js';
import { LinkController } from '../orchestrator/netns/index.js';
import { writeReport } from '../orchestrator/report/index.js';
import { composeExperiment } from '../orchestrator/scenario/compose.js';
import { runExperiment } from '../orchestrator/scenario/experiment.js';
import { isRoot } from '../orchestrator/system/tools.js';
import { fmt, median, quantile, writeResults } from './stats.js';

const REPS = Number(process.env.BENCH_SEED001_REPS ?? 20);
const ROUNDS = Number(process.env.BENCH_SEED001_ROUNDS ?? 6);
const SECONDS = Number(process.env.BENCH_SEED001_SECONDS ?? 3);
const PARALLEL = Number(process.env.BENCH_SEED001_PARALLEL ?? 8);
const RATE = process.env.BENCH_SEED001_RATE ?? '200mbit';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const topo = (f: string) => path.join(repo, 'topologies', f);
const progress = () => (process.env.BENCH_VERBOSE ? terminalProgress() : silentProgress);

const stats = (xs: number[]) => ({ n: xs.length, p50: median(xs), p90: quantile(xs, 0.9), max: xs.length ? Math.max(...xs) : Number.NaN });

/** seed001-dormant.yaml with a short scenario: both flows, the two losses of wlan0 (order by `dormantFirst`), stop. */
export function dormantScenario(dormantFirst: boolean): unknown[] {
  const [tD, tH] = dormantFirst ? ['1500ms', '2500ms'] : ['2500ms', '1500ms'];
  const flow = (name: string, to: string) => ({ at: '500ms', action: { type: 'traffic-start', flow: name, from: 'cn1', to, rate: 1000, size: 128 } });
  return [
    flow('dormant', 'mn1:wlan0'),
    flow('hi2', 'mn2:wlan0'),
    { at: tD, action: { type: 'detach', iface: 'mn1:wlan0' } },
    { at: tH, action: { type: 'detach', iface: 'mn2:wlan0' } },
    { at: tH, action: { type: 'interface-handover', iface: 'mn2:lte0', from: 'mn2:wlan0' } },
    { at: '3800ms', action: { type: 'traffic-stop', flow: 'dormant' } },
    { at: '3800ms', action: { type: 'traffic-stop', flow: 'hi2' } },
  ];
}

type Scheme = 'dormant' | 'hi2';
interface GapSample { gapMs: number; lost: number; recovered: boolean; senderPauseMs: number }

async function dormantBench(dir: string) {
  const samples: Record<Scheme, GapSample[]> = { dormant: [], hi2: [] };
  const missing: Record<Scheme, number> = { dormant: 0, hi2: 0 };
  for (let r = 0; r < REPS; r++) {
    const file = path.join(dir, `dormant-${r}.yaml`);
    writeFileSync(file, composeExperiment(topo('seed001-dormant.yaml'), { name: 'bench-seed001-dormant', scenario: dormantScenario(r % 2 === 0) }));
    const { lab, dir: runDir } = await runExperiment(file, { id: 'bs1d', capture: false, progress: progress() });
    await lab.down();
    const { metrics } = await writeReport(runDir);
    for (const [scheme, mn] of [['dormant', 'mn1'], ['hi2', 'mn2']] as const) {
      const f = metrics.flows.find((x) => x.flow === scheme);
      const ho = metrics.handovers.find((h) => h.node === mn && h.iface === 'wlan0' && h.kind === 'detach');
      const fh = f?.handovers.find((h) => h.index === ho?.index);
      if (!fh || fh.gapMs === null) {
        missing[scheme]++;
        continue;
      }
      samples[scheme].push({ gapMs: fh.gapMs, lost: fh.lost ?? 0, recovered: fh.recovered, senderPauseMs: fh.senderPauseMs ?? 0 });
    }
    const last = (s: Scheme) => samples[s].at(-1);
    process.stderr.write(`dormant bench ${r + 1}/${REPS}: dormant ${fmt(last('dormant')?.gapMs ?? NaN, 2)} ms, hi2 ${fmt(last('hi2')?.gapMs ?? NaN, 2)} ms\n`);
  }
  const per = (s: Scheme) => ({
    gapMs: stats(samples[s].map((x) => x.gapMs)),
    lostP50: median(samples[s].map((x) => x.lost)),
    // the part of the gap in which the sender itself sent nothing (a busy host), not the network
    senderPauseP50: median(samples[s].map((x) => x.senderPauseMs)),
    unrecovered: samples[s].filter((x) => !x.recovered).length,
    missing: missing[s],
    gapsMs: samples[s].map((x) => x.gapMs),
  });
  return { reps: REPS, ratePps: 1000, dormant: per('dormant'), hi2: per('hi2') };
}

type Paths = 'two' | 'one';

function nexthops(lmaNs: string, hnp: string): number {
  const out = execFileSync('ip', ['-n', lmaNs, '-6', 'route', 'show', hnp], { encoding: 'utf8' });
  const n = (out.match(/nexthop/g) ?? []).length;
  return n || (out.trim() ? 1 : 0);
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
  await sleep(300); // the MAG side settles (RA, SLAAC) after the LMA's route
}

/** One iperf3 run CN -> MN with `parallel` flows; Mbit/s received. Retries while the server is not listening yet. */
function iperf(cnNs: string, dst: string, seconds: number, parallel: number): number {
  for (let attempt = 0; ; attempt++) {
    const r = spawnSync('ip', ['netns', 'exec', cnNs, 'iperf3', '-c', dst, '-P', String(parallel), '-t', String(seconds), '-O', '1', '-J'], {
      encoding: 'utf8',
      timeout: (seconds + 15) * 1000,
    });
    if (r.status === 0) {
      const j = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } } };
      const bps = j.end?.sum_received?.bits_per_second;
      if (typeof bps === 'number') return bps / 1e6;
    }
    if (attempt >= 30) throw new Error(`iperf3 failed: ${r.stdout.slice(0, 300)} ${r.stderr}`);
    spawnSync('sleep', ['0.1']);
  }
}

async function sharedBench(dir: string) {
  const doc = parse(readFileSync(topo('seed001-shared-prefix.yaml'), 'utf8')) as {
    name: string;
    topology: { nodes: Record<string, { kind: string; interfaces?: Record<string, { hnp?: string }> }>; links: Array<{ endpoints: string[]; rate?: string }> };
    scenario: unknown[];
  };
  doc.name = 'bench-seed001-shared';
  doc.scenario = [];
  if (RATE !== 'none') for (const l of doc.topology.links) if (l.endpoints.some((e) => e.startsWith('mn1:'))) l.rate = RATE;
  const hnp = doc.topology.nodes.mn1?.interfaces?.wlan0?.hnp ?? '2001:db8:a:31::/64';
  const file = path.join(dir, 'shared.yaml');
  writeFileSync(file, stringify(doc));
  const { lab } = await runExperiment(file, { id: 'bs1s', capture: false, progress: progress() });
  const ns = (node: string) => lab.plan.nodes.find((n) => n.name === node)?.netns ?? `pl${lab.runId}-${node}`;
  const links = new LinkController();
  let server: ChildProcess | undefined;
  try {
    await links.open(lab.plan);
    const addr = execFileSync('ip', ['-n', ns('mn1'), '-6', '-o', 'addr', 'show', 'dev', 'wlan0', 'scope', 'global'], { encoding: 'utf8' }).match(/inet6 ([0-9a-f:]+)\//)?.[1];
    if (!addr) throw new Error('mn1:wlan0 has no global address');
    // inside a namespace of the run: pmiplab cleanup finds it there if this process dies
    server = spawn('ip', ['netns', 'exec', ns('mn1'), 'iperf3', '-s', '-B', addr], { stdio: 'ignore' });
    await waitFor('two paths at the LMA', () => nexthops(ns('lma1'), hnp) === 2);
    let state: Paths = 'two';
    const use = async (p: Paths) => {
      if (p === state) return;
      if (p === 'one') {
        await links.down('mn1', 'lte0');
        await waitFor('one path at the LMA', () => nexthops(ns('lma1'), hnp) === 1);
      } else {
        await links.up('mn1', 'lte0');
        await waitFor('two paths at the LMA', () => nexthops(ns('lma1'), hnp) === 2);
      }
      state = p;
    };
    const samples: Record<Paths, number[]> = { two: [], one: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order: Paths[] = r % 2 === 0 ? ['two', 'one'] : ['one', 'two'];
      for (const p of order) {
        await use(p);
        const m = iperf(ns('cn1'), addr, SECONDS, PARALLEL);
        samples[p].push(m);
        process.stderr.write(`shared-prefix bench round ${r + 1}/${ROUNDS} ${p === 'two' ? 'wlan0+lte0' : 'wlan0 alone'}: ${fmt(m, 1)} Mbit/s\n`);
      }
    }
    const paired = samples.two.map((t, i) => t / (samples.one[i] ?? Number.NaN));
    return {
      rounds: ROUNDS,
      seconds: SECONDS,
      parallel: PARALLEL,
      accessRate: RATE,
      twoPathsMbps: samples.two,
      onePathMbps: samples.one,
      medianTwoMbps: median(samples.two),
      medianOneMbps: median(samples.one),
      ratio: median(samples.two) / median(samples.one),
      medianPairedRatio: median(paired),
    };
  } finally {
    server?.kill();
    await links.close().catch(() => undefined);
    await lab.down();
  }
}

async function main(): Promise<void> {
  if (!isRoot()) {
    process.stderr.write('bench:seed001 needs root (network namespaces)\n');
    process.exit(1);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-bench-'));
  try {
    const only = process.env.BENCH_SEED001_ONLY; // 'dormant' | 'shared'
    const d = only === 'shared' ? null : await dormantBench(dir);
    const s = only === 'dormant' ? null : await sharedBench(dir);
    if (d) {
      const row = (name: string, x: typeof d.dormant) => [name, String(x.gapMs.n), fmt(x.gapMs.p50, 2), fmt(x.gapMs.p90, 2), fmt(x.gapMs.max, 2), fmt(x.lostP50, 0), fmt(x.senderPauseP50, 2), String(x.unrecovered), String(x.missing)];
      process.stdout.write(
        [
          `\nwlan0 leaves, downlink probes ${d.ratePps}/s, ${d.reps} repetitions (two MNs side by side in each run, order alternating)`,
          table([
            ['scheme', 'n', 'gap p50 ms', 'gap p90 ms', 'gap max ms', 'lost p50', 'sender pause p50 ms', 'unrecovered', 'no gap found'],
            row('dormant binding (LMA activates)', d.dormant),
            row('HI 2 handover (PBU/PBA)', d.hi2),
          ]),
          `ratio of medians HI 2 / dormant: ${fmt(d.hi2.gapMs.p50 / d.dormant.gapMs.p50, 2)}`,
          '',
        ].join('\n'),
      );
    }
    if (s) {
      const row = (name: string, xs: number[]) => [name, fmt(median(xs), 1), fmt(Math.min(...xs), 1), fmt(Math.max(...xs), 1)];
      process.stdout.write(
        [
          `\niperf3 TCP CN -> MN, -P ${s.parallel}, ${s.rounds} rounds x ${s.seconds} s per side, alternating; access links ${s.accessRate === 'none' ? 'without rate limit (CPU-bound veths)' : `tbf ${s.accessRate} each`}`,
          table([
            ['paths', 'median Mbit/s', 'min', 'max'],
            row('wlan0 + lte0 sharing the prefix', s.twoPathsMbps),
            row('wlan0 alone (lte0 detached)', s.onePathMbps),
          ]),
          `ratio two/one ${fmt(s.ratio, 2)}; median of per-round ratios ${fmt(s.medianPairedRatio, 2)}`,
          '',
        ].join('\n'),
      );
    }
    const out = writeResults('seed001', { machine: { cpus: os.cpus().length, kernel: os.release(), node: process.version }, dormant: d, shared: s });
    process.stdout.write(`results: ${out}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
