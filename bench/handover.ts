// Handover gap benchmark (root): the handover-basic domain, MN interface moved
// between the two MAGs HANDOVERS times with no injected delay, probes at
// 1,000/s each way; per handover and direction the gap (longest time without
// arrivals around the L2 event, as the report defines it), then medians.
// Goal: median gap at most 5 ms over 20 handovers (judged on the whole gap;
// the part after the L2 attach, new MAG sees the MN -> first packet, is shown next to it).
// Run: npm run bench (or node dist/bench/handover.js); prints a table, writes bench/results/handover.json

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentProgress, table, terminalProgress } from '../orchestrator/cli/progress.js';
import { writeReport } from '../orchestrator/report/index.js';
import { composeExperiment } from '../orchestrator/scenario/compose.js';
import { runExperiment } from '../orchestrator/scenario/experiment.js';
import { isRoot } from '../orchestrator/system/tools.js';
import { fmt, median, quantile, writeResults } from './stats.js';

const HANDOVERS = Number(process.env.BENCH_HANDOVERS ?? 20);
const EVERY_MS = Number(process.env.BENCH_HANDOVER_EVERY_MS ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const GOAL_MS = 5;
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/** topologies/handover-basic.yaml with n moves every everyMs and probes at `rate` both ways, no other delay. */
export function handoverTopology(n: number, everyMs: number, rate: number, transport: 'udp' | 'raw' = 'udp'): string {
  const end = 1000 + n * everyMs + 1000;
  const flow = (name: string, from: string, to: string) => ({ at: '0s', action: { type: 'traffic-start', flow: name, from, to, rate, size: 64 } });
  return composeExperiment(path.join(repoRoot, 'topologies', 'handover-basic.yaml'), {
    name: 'bench-handover',
    settings: { transport },
    scenario: [
      flow('up', 'mn1', 'cn1'),
      flow('down', 'cn1', 'mn1'),
      { at: '1000ms', repeat: { count: n, every: `${everyMs}ms` }, action: { type: 'move', iface: 'mn1:wlan0', to: ['mag2', 'mag1'] } },
      { at: `${end}ms`, action: { type: 'traffic-stop', flow: 'up' } },
      { at: `${end}ms`, action: { type: 'traffic-stop', flow: 'down' } },
    ],
  });
}

async function main(): Promise<void> {
  if (!isRoot()) {
    process.stderr.write('bench:handover needs root (network namespaces)\n');
    process.exit(1);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-bench-'));
  const file = path.join(dir, 'handover.yaml');
  writeFileSync(file, handoverTopology(HANDOVERS, EVERY_MS, RATE));
  const verbose = process.env.BENCH_VERBOSE ? terminalProgress() : silentProgress;
  try {
    const { lab, dir: runDir } = await runExperiment(file, { id: 'bho', capture: false, progress: verbose });
    await lab.down();
    const { metrics } = await writeReport(runDir);
    const rows: string[][] = [['flow', 'handovers', 'gap p50 ms', 'gap p90 ms', 'gap max ms', 'after attach p50 ms', 'lost', 'dup', 'reord', 'goal']];
    // the part of the outage after the L2 attach: from the new MAG seeing the MN (mn-attach) to the flow's first packet
    const afterAttach = (flow: string) =>
      metrics.handovers.flatMap((h) => {
        const a = h.timeline.mnAttach;
        const f = h.timeline.firstPacket[flow];
        return a !== null && f !== null && f !== undefined ? [f - a] : [];
      });
    const perFlow: Record<string, unknown> = {};
    const all: number[] = [];
    for (const f of metrics.flows) {
      const gaps = f.handovers.map((h) => h.gapMs).filter((g): g is number => g !== null);
      all.push(...gaps);
      const lost = f.handovers.reduce((s, h) => s + (h.lost ?? 0), 0);
      const dup = f.handovers.reduce((s, h) => s + h.duplicated, 0);
      const reord = f.handovers.reduce((s, h) => s + h.reordered, 0);
      const after = afterAttach(f.flow);
      perFlow[f.flow] = { handovers: f.handovers.length, gapMs: { p50: median(gaps), p90: quantile(gaps, 0.9), max: Math.max(...gaps) }, afterAttachMs: { p50: median(after) }, lost, duplicated: dup, reordered: reord };
      rows.push([f.flow, String(gaps.length), fmt(median(gaps), 2), fmt(quantile(gaps, 0.9), 2), fmt(Math.max(...gaps), 2), fmt(median(after), 2), String(lost), String(dup), String(reord), median(gaps) <= GOAL_MS ? 'met' : 'MISSED']);
    }
    const steps = metrics.handovers.map((h) => h.timeline);
    const step = (k: 'pbuSent' | 'pbaReceived' | 'routesProgrammed') => median(steps.map((t) => t[k]).filter((x): x is number => x !== null));
    process.stdout.write(`${table(rows)}\n`);
    process.stdout.write(`signaling after the L2 event (medians): PBU sent ${fmt(step('pbuSent'), 2)} ms, PBA received ${fmt(step('pbaReceived'), 2)} ms, routes set ${fmt(step('routesProgrammed'), 2)} ms; data plane ${metrics.run.dataPlane}, transport ${metrics.run.transport}\n`);
    const out = writeResults('handover', {
      machine: { cpus: os.cpus().length, kernel: os.release(), node: process.version },
      config: { handovers: HANDOVERS, everyMs: EVERY_MS, ratePps: RATE },
      goalMs: GOAL_MS,
      medianGapMs: median(all),
      met: median(all) <= GOAL_MS,
      flows: perFlow,
      signalingMedianMs: { pbuSent: step('pbuSent'), pbaReceived: step('pbaReceived'), routesProgrammed: step('routesProgrammed') },
      report: path.join(runDir, 'report.html'),
    });
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
