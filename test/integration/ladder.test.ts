import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentProgress } from '../../orchestrator/cli/progress.js';
import { ladderHtml } from '../../orchestrator/report/ladder-page.js';
import { writeReport } from '../../orchestrator/report/index.js';
import { runExperiment } from '../../orchestrator/scenario/experiment.js';
import { buildLadder, ladderRows } from '../../orchestrator/study/ladder.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { domain, movesScenario, writeTopology } from '../support/experiments.js';

// Ladder diagrams from a real run's pcaps, checked against tshark: every
// PBU/PBA arrow's two ends are frames tshark reads in the sender's and the
// receiver's capture, with the same MH type, sequence number and time; and
// tshark finds no PBU/PBA on those interfaces that the ladder lacks.

const root = isRoot();
if (!root) console.warn('test/integration/ladder.test.ts skipped: needs root (namespaces, node processes)');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Frame = { t: string; src: string; dst: string; type: number; seq: number };
function tshark(file: string): Frame[] {
  const out = execFileSync('tshark', ['-r', file, '-Y', 'mip6.mhtype == 5 || mip6.mhtype == 6', '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'mip6.mhtype', '-e', 'mip6.bu.seqnr', '-e', 'mip6.ba.seqnr'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [t, src, dst, type, bu, ba] = l.split('\t');
      return { t: t as string, src: src as string, dst: dst as string, type: Number(type), seq: Number(bu || ba) };
    });
}
// tshark prints epoch seconds with 9 decimals; the capture has microseconds
const ns = (epoch: string) => {
  const [s, f = ''] = epoch.split('.');
  return BigInt(s as string) * 1_000_000_000n + BigInt(f.padEnd(9, '0').slice(0, 9));
};

describe.skipIf(!root)('ladder diagrams', () => {
  it('draws every PBU/PBA of the run, as tshark reads the captures at both ends', async () => {
    const file = writeTopology(domain({ scenario: movesScenario(3, 500, 100) }));
    const { lab, dir } = await runExperiment(file, { id: 'lad1', progress: silentProgress });
    await lab.down();
    dirs.push(dir);
    await writeReport(dir);
    const l = buildLadder(dir);
    expect(l.problems).toEqual([]);
    expect(l.lanes).toEqual(['mag1', 'lma1', 'mag2']);
    const sig = l.arrows.filter((a) => a.kind === 'pbu' || a.kind === 'pba');
    // registration plus three handovers: at least a PBU and a PBA each
    expect(sig.filter((a) => a.kind === 'pbu').length).toBeGreaterThanOrEqual(4);
    expect(sig.filter((a) => a.kind === 'pba').length).toBeGreaterThanOrEqual(4);
    const frames = new Map<string, Frame[]>();
    const of = (f: string) => frames.get(f) ?? frames.set(f, tshark(path.join(dir, 'pcaps', f))).get(f)!;
    // the run's first registration can leave before every tcpdump has started (captures start
    // with the nodes, not before them): before the first L2 event an arrow may be seen at one end only
    const firstL2 = l.handovers.find((h) => h.index > 0)?.tNs ?? 0n;
    const mono = (a: (typeof sig)[number]) => (a.txNs ?? a.rxNs ?? 0n) - (l.clockOffsetNs ?? 0n);
    for (const a of sig) {
      if (a.txFile === null || a.rxFile === null) {
        expect(mono(a) < firstL2, `${a.label} seen at one end only, after the first L2 event`).toBe(true);
        continue;
      }
      expect(a.txFile, a.label).not.toBeNull();
      expect(a.rxFile, a.label).not.toBeNull();
      const type = a.kind === 'pbu' ? 5 : 6;
      for (const [f, t] of [[a.txFile!, a.txNs!], [a.rxFile!, a.rxNs!]] as const) {
        const hit = of(f).find((x) => x.type === type && x.seq === a.sequence && ns(x.t) === t);
        expect(hit, `${a.label} in ${f} at ${t}`).toBeDefined();
      }
      expect(a.rxNs! >= a.txNs!).toBe(true);
    }
    // and nothing tshark sees leaving an agent is missing from the ladder
    const txFiles = new Set(sig.flatMap((a) => (a.txFile === null ? [] : [a.txFile])));
    for (const f of txFiles) {
      const node = f.split('-')[0]!;
      const fromHere = sig.filter((a) => a.txFile === f).length;
      const plan = JSON.parse(readFileSync(path.join(dir, 'topology.json'), 'utf8')) as { nodes: Array<{ name: string; interfaces: Array<{ addresses: string[] }> }> };
      const mine = new Set(plan.nodes.find((n) => n.name === node)!.interfaces.flatMap((i) => i.addresses.map((x) => x.split('/')[0])));
      expect(of(f).filter((x) => mine.has(x.src)).length, f).toBe(fromHere);
    }
    // per handover, in ms after the L2 event: a PBU from the new MAG within the window
    expect(l.clockOffsetNs).not.toBeNull();
    const rows = ladderRows(l);
    for (const h of l.handovers) {
      const to = h.label.split('→')[1]!;
      expect(rows.some((r) => r.ho === h.label && r.kind === 'pbu' && l.lanes[r.from] === to && r.txMs >= 0 && r.txMs < 200), h.label).toBe(true);
    }
    const html = await ladderHtml(dir, l, 'lad1');
    expect(html).toContain('<svg');
  }, 90_000);
});
