// Tunnel benchmark (root): iperf3 TCP from the MN to the CN through the
// LMA-MAG tunnel against the same hops routed without a tunnel (plain routes
// on the LMA and the MAG), on topologies/handover-basic.yaml. The two run in
// alternating rounds (ABBA order, so neither always goes first), each a fresh
// iperf3 client against one server; medians and their ratio. Goal: >= 0.95x.
// Run: npm run bench (or node dist/bench/tunnel.js); writes bench/results/tunnel.json.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { openDataPlane, type DataPlane } from '../nodes/dataplane/index.js';
import { silentProgress, table } from '../orchestrator/cli/progress.js';
import { labUp } from '../orchestrator/lab/lab.js';
import { isRoot } from '../orchestrator/system/tools.js';
import { fmt, median, writeResults } from './stats.js';

const HNP = '2001:db8:a:1::/64';
const MN = '2001:db8:a:1::100';
const CN = '2001:db8:c:3::2';
const PCOA = '2001:db8:b:1::1';
const LMAA = ['2001:db8:b:1::2', '2001:db8:b:2::2'];

export interface TunnelBenchOptions {
  rounds?: number; // per side; default 8
  seconds?: number; // per iperf3 run; default 3
  runId?: string;
}

export interface TunnelBenchResult {
  machine: { cpus: number; kernel: string; node: string };
  backend: string;
  rounds: number;
  seconds: number;
  tunnelGbps: number[];
  routedGbps: number[];
  medianTunnelGbps: number;
  medianRoutedGbps: number;
  ratio: number; // median tunnel / median routed
  /** tunnel / routed of each round (the two runs of a round are adjacent in time: robust to load drifting) */
  pairedRatios: number[];
  medianPairedRatio: number;
  goal: number;
  goalMet: boolean;
}

type Mode = 'tunnel' | 'routed';

function ip(netns: string, ...args: string[]): void {
  execFileSync('ip', ['-n', netns, '-6', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** One iperf3 client run MN -> CN; Gbit/s received. Retries while the server is not listening yet. */
function iperf(mnNs: string, seconds: number): number {
  for (let attempt = 0; ; attempt++) {
    const r = spawnSync('ip', ['netns', 'exec', mnNs, 'iperf3', '-c', CN, '-t', String(seconds), '-O', '1', '-J'], {
      encoding: 'utf8',
      timeout: (seconds + 15) * 1000,
    });
    if (r.status === 0) {
      const j = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } } };
      const bps = j.end?.sum_received?.bits_per_second;
      if (typeof bps === 'number') return bps / 1e9;
    }
    if (attempt >= 30) throw new Error(`iperf3 failed: ${r.stdout.slice(0, 300)} ${r.stderr}`);
    spawnSync('sleep', ['0.1']);
  }
}

export async function benchTunnel(opts: TunnelBenchOptions = {}): Promise<TunnelBenchResult> {
  const rounds = opts.rounds ?? Number(process.env.BENCH_TUNNEL_ROUNDS ?? 8);
  const seconds = opts.seconds ?? Number(process.env.BENCH_TUNNEL_SECONDS ?? 3);
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const lab = await labUp(path.join(repo, 'topologies', 'handover-basic.yaml'), { id: opts.runId ?? 'btun', networkOnly: true, progress: silentProgress });
  const ns = (node: string) => lab.plan.nodes.find((n) => n.name === node)?.netns ?? `pl${lab.runId}-${node}`;
  const log = pino({ level: 'silent' });
  let lma: DataPlane | undefined;
  let mag: DataPlane | undefined;
  let server: ChildProcess | undefined;
  try {
    // the MN's address as SLAAC would make it (the RA path is tested in test/integration/dataplane.test.ts)
    ip(ns('mn1'), 'addr', 'add', `${MN}/64`, 'dev', 'wlan0', 'nodad');
    ip(ns('mn1'), 'route', 'replace', 'default', 'via', 'fe80::1', 'dev', 'wlan0');
    lma = await openDataPlane({ role: 'lma', local: LMAA, backhaulIf: 'eth1', log, netns: ns('lma1') });
    mag = await openDataPlane({ role: 'mag', local: PCOA, backhaulIf: 'eth0', log, netns: ns('mag1') });
    // inside a namespace of the run: pmiplab cleanup finds it there if this process dies
    server = spawn('ip', ['netns', 'exec', ns('cn1'), 'iperf3', '-s', '-B', CN], { stdio: 'ignore' });

    const use = async (mode: Mode) => {
      if (mode === 'tunnel') {
        await lma!.lmaBind(HNP, PCOA, 'eth1'); // replaces the plain route
        await mag!.magAttach(HNP, 'acc0', LMAA[0]!);
      } else {
        await mag!.magDetach(HNP, 'acc0');
        ip(ns('mag1'), 'route', 'replace', HNP, 'dev', 'acc0');
        ip(ns('lma1'), 'route', 'replace', HNP, 'via', PCOA, 'dev', 'eth1');
      }
    };
    const samples: Record<Mode, number[]> = { tunnel: [], routed: [] };
    for (let r = 0; r < rounds; r++) {
      const order: Mode[] = r % 2 === 0 ? ['tunnel', 'routed'] : ['routed', 'tunnel'];
      for (const mode of order) {
        await use(mode);
        const g = iperf(ns('mn1'), seconds);
        samples[mode].push(g);
        process.stderr.write(`tunnel bench round ${r + 1}/${rounds} ${mode}: ${fmt(g, 2)} Gbit/s\n`);
      }
    }
    const mt = median(samples.tunnel);
    const mr = median(samples.routed);
    return {
      machine: { cpus: os.cpus().length, kernel: os.release(), node: process.version },
      backend: lma.backend,
      rounds,
      seconds,
      tunnelGbps: samples.tunnel,
      routedGbps: samples.routed,
      medianTunnelGbps: mt,
      medianRoutedGbps: mr,
      ratio: mt / mr,
      pairedRatios: samples.tunnel.map((t, i) => t / (samples.routed[i] ?? Number.NaN)),
      medianPairedRatio: median(samples.tunnel.map((t, i) => t / (samples.routed[i] ?? Number.NaN))),
      goal: 0.95,
      goalMet: mt / mr >= 0.95,
    };
  } finally {
    server?.kill();
    await Promise.all([lma?.close(), mag?.close()]);
    await lab.down();
  }
}

export function tunnelTable(r: TunnelBenchResult): string {
  return [
    `iperf3 TCP MN -> CN, ${r.rounds} rounds x ${r.seconds} s per side, alternating; backend ${r.backend}`,
    table([
      ['path', 'median Gbit/s', 'min', 'max'],
      ['routed, no tunnel', fmt(r.medianRoutedGbps, 2), fmt(Math.min(...r.routedGbps), 2), fmt(Math.max(...r.routedGbps), 2)],
      [`tunnel (${r.backend})`, fmt(r.medianTunnelGbps, 2), fmt(Math.min(...r.tunnelGbps), 2), fmt(Math.max(...r.tunnelGbps), 2)],
    ]),
    `ratio tunnel/routed ${fmt(r.ratio, 3)} (goal >= ${r.goal}: ${r.goalMet ? 'yes' : 'NO'}); median of per-round ratios ${fmt(r.medianPairedRatio, 3)}`,
  ].join('\n');
}

async function main(): Promise<void> {
  if (!isRoot()) {
    process.stderr.write('bench:tunnel needs root (network namespaces)\n');
    process.exit(1);
  }
  const r = await benchTunnel();
  process.stdout.write(`\n${tunnelTable(r)}\n`);
  process.stdout.write(`results: ${writeResults('tunnel', r)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
