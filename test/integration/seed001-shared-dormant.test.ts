import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentProgress } from '../../orchestrator/cli/progress.js';
import { writeReport } from '../../orchestrator/report/index.js';
import type { FlowMetrics } from '../../orchestrator/report/schema.js';
import { runExperiment } from '../../orchestrator/scenario/experiment.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { readEvents, repoRoot, writeTopology } from '../support/experiments.js';

// Seed 001 section 3 (shared prefix) and appendix D (dormant binding) through
// the real runner: the topologies of topologies/seed001-shared-prefix.yaml and
// seed001-dormant.yaml with a shorter scenario. What is asserted is where the
// downlink probes arrive (the report's per-interface breakdown, from the MN's
// captures): a probe for wlan0's address that the LMA sends to mag2 must reach
// the MN over lte0 (the MAG routes the prefix via the MN's link-local there).

const root = isRoot();
if (!root) console.warn('test/integration/seed001-shared-dormant.test.ts skipped: needs root (namespaces, node processes)');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The repository's topology with the test's own scenario (and nodes/links when given) in place of its own. */
function topology(file: string, scenario: string, edit: (head: string) => string = (h) => h): string {
  const text = readFileSync(path.join(repoRoot, 'topologies', file), 'utf8');
  const cut = text.indexOf('\nscenario:');
  if (cut < 0) throw new Error(`${file}: no scenario`);
  return `${edit(text.slice(0, cut))}\nscenario:\n${scenario}`;
}

async function experiment(yaml: string, id: string) {
  const { lab, dir } = await runExperiment(writeTopology(yaml), { id, progress: silentProgress });
  await lab.down();
  dirs.push(dir);
  const { metrics } = await writeReport(dir);
  return { dir, metrics };
}

const on = (f: FlowMetrics, iface: string) => f.interfaces.find((i) => i.node === 'mn1' && i.iface === iface && i.direction === 'in');

describe.skipIf(!root)('seed 001: downlink of a shared and a dormant prefix over the other interface', () => {
  it('shared prefix: flows load-shared over wlan0 and lte0 while both are attached, all on lte0 after wlan0 leaves', async () => {
    const flows = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8'];
    const scenario = [
      ...flows.map((f) => `  - { at: 500ms, action: { type: traffic-start, flow: ${f}, from: cn1, to: mn1, rate: 50, size: 128 } }`),
      '  - { at: 3s, action: { type: detach, iface: "mn1:wlan0" } }',
      ...flows.map((f) => `  - { at: 5s, action: { type: traffic-stop, flow: ${f} } }`),
    ].join('\n');
    const { metrics } = await experiment(topology('seed001-shared-prefix.yaml', scenario), 's1t');
    const detach = metrics.handovers.find((h) => h.kind === 'detach' && h.node === 'mn1' && h.iface === 'wlan0');
    expect(detach, 'the detach of mn1:wlan0 is in the report').toBeDefined();
    const atS = (detach as { atS: number }).atS;
    const rows = metrics.flows.map((f) => ({ flow: f.flow, sent: f.totals.sent, received: f.totals.received, wlan0: on(f, 'wlan0'), lte0: on(f, 'lte0') }));
    console.log(
      `shared prefix (detach at ${atS.toFixed(2)} s): ` +
        rows.map((r) => `${r.flow} sent ${r.sent} got ${r.received} wlan0 ${r.wlan0?.probes ?? 0} lte0 ${r.lte0?.probes ?? 0} (lte0 from ${r.lte0?.firstS.toFixed(2) ?? '-'} s)`).join('; '),
    );
    expect(rows.map((r) => r.flow).sort()).toEqual(flows);
    // while both were attached: some flows came over wlan0 (mag1), others over lte0 (mag2: the bug was 0 probes for those)
    const viaWlan = rows.filter((r) => (r.wlan0?.probes ?? 0) > 0);
    const viaLteBefore = rows.filter((r) => r.lte0 !== undefined && r.lte0.probes > 0 && r.lte0.firstS < atS - 0.5);
    expect(viaWlan.length, 'flows delivered over wlan0 while both were attached').toBeGreaterThan(0);
    expect(viaLteBefore.length, 'flows delivered over lte0 while both were attached').toBeGreaterThan(0);
    for (const r of viaLteBefore) expect(r.wlan0?.probes ?? 0, `${r.flow} is one path's (per-flow hash)`).toBe(0);
    // after wlan0 left: every flow goes on over lte0
    for (const r of rows) {
      expect(r.lte0, `${r.flow} reached lte0`).toBeDefined();
      expect(r.lte0!.lastS, `${r.flow} still arrives over lte0 after the detach`).toBeGreaterThan(atS + 1);
      if (r.wlan0) expect(r.wlan0.lastS).toBeLessThan(atS + 0.1);
      expect(r.received / r.sent, `${r.flow} lost little`).toBeGreaterThan(0.9);
    }
    for (const f of metrics.flows) for (const h of f.handovers) expect(h.recovered, `${f.flow} recovered`).toBe(true);
  }, 40_000);

  it('dormant binding: after wlan0 leaves, its prefix arrives over lte0 with no PBU from mag2, after a short gap', async () => {
    const scenario = [
      '  - { at: 500ms, action: { type: traffic-start, flow: dormant, from: cn1, to: "mn1:wlan0", rate: 1000, size: 128 } }',
      '  - { at: 2s, action: { type: detach, iface: "mn1:wlan0" } }',
      '  - { at: 3500ms, action: { type: traffic-stop, flow: dormant } }',
    ].join('\n');
    // mn1 alone (mn2 is the HI 2 side of the comparison, not the dormant binding's)
    const dropMn2 = (head: string) =>
      head
        .replace(/\n {4}mn2:\n(?: {6}.*\n)+/, '\n')
        .split('\n')
        .filter((l) => !/mn2:/.test(l))
        .join('\n');
    const { dir, metrics } = await experiment(topology('seed001-dormant.yaml', scenario, dropMn2), 'd1t');
    const events = readEvents(dir);
    const lteLl = '02:00:00:00:01:02';
    const down = events.find((e) => e.type === 'l2-down' && e.data?.node === 'mn1' && e.data?.iface === 'wlan0');
    expect(down, 'the detach of mn1:wlan0').toBeDefined();
    const tDown = BigInt((down as { tNs: string }).tNs);
    // the dormant binding was registered and is what the LMA activated
    const activated = events.find(
      (e) => e.node === 'lma1' && e.type === 'binding-updated' && e.data?.llId === lteLl && e.data?.state === 'active' && BigInt(e.tNs) > tDown,
    );
    expect(activated, 'the LMA activated lte0’s dormant binding after the detach').toBeDefined();
    expect(activated?.data?.hnps).toContain('2001:db8:a:41::/64');
    // activation needs no signaling from mag2
    const pbusAfter = events.filter((e) => e.node === 'mag2' && e.type === 'pbu-sent' && e.data?.llId === lteLl && BigInt(e.tNs) > tDown);
    expect(pbusAfter, 'no PBU from mag2 for lte0 after the detach').toEqual([]);

    const f = metrics.flows.find((x) => x.flow === 'dormant') as FlowMetrics;
    const wlan0 = on(f, 'wlan0');
    const lte0 = on(f, 'lte0');
    const h = f.handovers[0];
    console.log(
      `dormant: sent ${f.totals.sent} received ${f.totals.received} lost ${f.totals.lost}; wlan0 ${wlan0?.probes ?? 0}, lte0 ${lte0?.probes ?? 0} probes; gap ${h?.gapMs ?? 'none'} ms`,
    );
    expect(wlan0?.probes ?? 0).toBeGreaterThan(500);
    expect(lte0?.probes ?? 0, 'probes for wlan0’s address arrive over lte0').toBeGreaterThan(1000);
    expect(lte0!.firstS).toBeGreaterThanOrEqual(wlan0!.lastS - 0.01);
    expect(h?.recovered).toBe(true);
    expect(h?.gapMs ?? 0, 'the dormant switch is a short gap').toBeLessThan(100);
  }, 40_000);
});
