import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentProgress } from '../../orchestrator/cli/progress.js';
import { writeReport } from '../../orchestrator/report/index.js';
import { runExperiment } from '../../orchestrator/scenario/experiment.js';
import { composeExperiment } from '../../orchestrator/scenario/compose.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { type Ev, readEvents, repoRoot, writeTopology } from '../support/experiments.js';

// Seed 001 section 2.2 through the real runner (`pmiplab run`): the
// experiments of topologies/seed001-prefix-transfer.yaml and the plain HI 2
// half of seed001-dormant.yaml, on a shorter clock. Checked: the PBA status
// of every HI 2, the LMA's binding cache and the MAGs' BULs after each step
// (the report's stage tables, read with the LMA `bindings` and MAG `bul`
// commands), where the probes arrive (metrics.json per flow per MN
// interface), and the bad inputs of issue 10 (HI 2 with no other session:
// 128; a transfer naming a prefix the MN does not hold: 155) changing
// nothing at the LMA or the MAG.

const root = isRoot();
if (!root) console.warn('test/integration/seed001-transfer.test.ts skipped: needs root (namespaces, node processes)');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function run(base: string, scenario: string, id: string) {
  const yaml = composeExperiment(path.join(repoRoot, 'topologies', base), { name: id, scenario });
  const { lab, dir } = await runExperiment(writeTopology(yaml), { id, progress: silentProgress });
  await lab.down();
  dirs.push(dir);
  const { metrics } = await writeReport(dir);
  return { dir, metrics, events: readEvents(dir) };
}

type Metrics = Awaited<ReturnType<typeof run>>['metrics'];
type Stage = Metrics['stages'][number];

/** A stage's binding cache as "mn:iface" -> sorted prefixes (active entries), and its BULs as "mag mn:iface" -> prefixes. */
function tables(s: Stage) {
  const short = (mnId: string) => mnId.split('@')[0];
  const bce: Record<string, string> = {};
  for (const b of s.bindingCache) bce[`${short(b.mnId)}:${b.iface}`] = `${b.state} ${b.mag} ${[...b.hnps].sort().join(',')}`;
  const bul: Record<string, string> = {};
  for (const b of s.bul) bul[`${b.mag} ${short(b.mnId)}:${b.iface}`] = `${b.state} ${[...b.hnps].sort().join(',')}`;
  return { bce, bul };
}

/** The stage just after the step whose description starts with `what`. */
function after(m: Metrics, what: string): Stage {
  const s = m.stages.find((x) => x.steps.some((st) => st.what.startsWith(what)));
  if (!s) throw new Error(`no stage after "${what}": ${m.stages.map((x) => x.label).join(' | ')}`);
  return s;
}

/** Status of the LMA's PBA to every PBU with HI 2, in order. */
function hi2Statuses(events: Ev[]): number[] {
  // sequence numbers are per session: MAG, MN-LL-ID and sequence name one PBU
  const id = (e: Ev) => `${e.data?.mag} ${e.data?.llId} ${e.data?.seq}`;
  const hi2 = new Set(events.filter((e) => e.node === 'lma1' && e.type === 'pbu-received' && e.data?.hi === 2).map(id));
  return events.filter((e) => e.node === 'lma1' && e.type === 'pba-sent' && hi2.has(id(e))).map((e) => Number(e.data?.status));
}

function flow(m: Metrics, name: string) {
  const f = m.flows.find((x) => x.flow === name);
  if (!f) throw new Error(`no flow ${name}`);
  const on = (iface: string) => f.interfaces.find((i) => i.iface === iface && i.direction === 'in');
  return { f, on };
}

const P = {
  mn1wlan: '2001:db8:a:11::/64',
  mn2wlan: '2001:db8:a:21::/64',
  mn2wlan1: '2001:db8:a:22::/64',
  nobody: '2001:db8:a:99::/64',
};

describe.skipIf(!root)('seed 001 2.2: handover between interfaces, whole and partial, through the runner', () => {
  it('HI 2 moves all prefixes, a named HI 2 and a transfer move only the named ones; refused ones change nothing; flows that stay lose nothing', async () => {
    const flows = ['mn1-wlan cn1 mn1:wlan0', 'mn1-lte cn1 mn1:lte0', 'mn2-wlan cn1 mn2:wlan0', 'mn2-wlan1 cn1 mn2:wlan1', 'mn2-lte cn1 mn2:lte0'].map((s) => s.split(' '));
    const scenario = [
      ...flows.map(([f, from, to]) => `- { at: 500ms, action: { type: traffic-start, flow: ${f}, from: ${from}, to: "${to}", rate: 100, size: 100 } }`),
      `- { at: 1500ms, action: { type: interface-handover, iface: "mn2:wlan0", from: "mn2:wlan1", prefixes: ["${P.mn2wlan1}"] } }`,
      '- { at: 2500ms, action: { type: interface-handover, iface: "mn1:lte0", from: "mn1:wlan0" } }',
      `- { at: 3500ms, action: { type: transfer-prefixes, iface: "mn2:lte0", from: "mn2:wlan0", prefixes: ["${P.mn2wlan}"] } }`,
      // issue 10: mn1 has no session on another interface any more (128); nobody holds 2001:db8:a:99::/64 (155)
      '- { at: 4000ms, action: { type: interface-handover, iface: "mn1:lte0", from: "mn1:wlan0" } }',
      `- { at: 4500ms, action: { type: transfer-prefixes, iface: "mn2:lte0", from: "mn2:wlan0", prefixes: ["${P.nobody}"] } }`,
      ...flows.map(([f]) => `- { at: 5500ms, action: { type: traffic-stop, flow: ${f} } }`),
    ].join('\n');
    const { metrics: m, events } = await run('seed001-prefix-transfer.yaml', scenario, 's1tt');

    expect(hi2Statuses(events)).toEqual([0, 0, 0, 128, 155]);

    const start = tables(m.stages[0]!);
    const own = (k: string) => (start.bce[k] ?? '').split(' ')[2] ?? '';
    const mn1lte = own('mn1:lte0');
    const mn2lte = own('mn2:lte0');
    expect(start.bce).toEqual({
      'mn1:wlan0': `active mag1 ${P.mn1wlan}`,
      'mn1:lte0': `active mag2 ${mn1lte}`,
      'mn2:wlan0': `active mag1 ${P.mn2wlan}`,
      'mn2:wlan1': `active mag1 ${P.mn2wlan1}`,
      'mn2:lte0': `active mag2 ${mn2lte}`,
    });

    // named HI 2 on one MAG: wlan1's prefix joins wlan0's session, wlan1's session goes (at the LMA and at mag1)
    const s1 = tables(after(m, 'interface-handover iface mn2:wlan0'));
    expect(s1.bce['mn2:wlan0']).toBe(`active mag1 ${[P.mn2wlan, P.mn2wlan1].sort().join(',')}`);
    expect(s1.bce['mn2:wlan1']).toBeUndefined();
    expect(s1.bul['mag1 mn2:wlan0']).toBe(`bound ${[P.mn2wlan, P.mn2wlan1].sort().join(',')}`);
    expect(s1.bul['mag1 mn2:wlan1']).toBeUndefined();
    expect(s1.bce['mn2:lte0']).toBe(`active mag2 ${mn2lte}`);

    // whole HI 2: every prefix of mn1's wlan0 onto lte0; mag1 told to de-register (Update Notification with D)
    const s2 = tables(after(m, 'interface-handover iface mn1:lte0'));
    expect(s2.bce['mn1:lte0']).toBe(`active mag2 ${[mn1lte, P.mn1wlan].sort().join(',')}`);
    expect(s2.bce['mn1:wlan0']).toBeUndefined();
    expect(s2.bul['mag2 mn1:lte0']).toBe(`bound ${[mn1lte, P.mn1wlan].sort().join(',')}`);
    expect(s2.bul['mag1 mn1:wlan0']).toBeUndefined();

    // partial transfer: only the named prefix moves; wlan0 keeps wlan1's, re-registered by mag1 after the Update Notification
    const s3 = tables(after(m, 'transfer-prefixes iface mn2:lte0 from mn2:wlan0 prefixes 2001:db8:a:21::/64'));
    expect(s3.bce['mn2:lte0']).toBe(`active mag2 ${[mn2lte, P.mn2wlan].sort().join(',')}`);
    expect(s3.bce['mn2:wlan0']).toBe(`active mag1 ${P.mn2wlan1}`);
    expect(s3.bul['mag2 mn2:lte0']).toBe(`bound ${[mn2lte, P.mn2wlan].sort().join(',')}`);
    expect(s3.bul['mag1 mn2:wlan0']).toBe(`bound ${P.mn2wlan1}`);
    // mag1 re-registered wlan0 with HI 5 on the LMA's Update Notification (nothing else sends HI 5 in 6 s)
    const rereg = events.filter((e) => e.node === 'lma1' && e.type === 'pbu-received' && e.data?.mag === '2001:db8:b:1::1' && e.data?.hi === 5);
    expect(rereg.map((e) => e.data?.llId)).toEqual(['02:00:00:00:02:01']);

    // the refused ones change nothing, at the LMA or at the MAGs
    const s4 = tables(after(m, 'transfer-prefixes iface mn2:lte0 from mn2:wlan0 prefixes 2001:db8:a:99::/64'));
    expect(s4).toEqual(s3);
    const refusedAt = m.stages.filter((s) => s.steps.some((st) => st.atMs === 4000));
    expect(refusedAt).toHaveLength(1);
    expect(tables(refusedAt[0]!)).toEqual(s3);

    // flows whose prefix stays where it was: nothing lost, all on their interface
    for (const [name, iface] of [
      ['mn1-lte', 'lte0'],
      ['mn2-lte', 'lte0'],
    ] as const) {
      const { f, on } = flow(m, name);
      expect(f.totals.sent).toBeGreaterThan(400);
      expect(f.totals.lost, name).toBeLessThanOrEqual(2);
      expect(on(iface)?.probes, name).toBe(f.totals.received);
    }
    // flows whose prefix moves: on the old interface until the move (s from the run's start), never after it
    for (const [name, iface, movedS, to] of [
      ['mn2-wlan1', 'wlan1', 1.5, 'wlan0'],
      ['mn1-wlan', 'wlan0', 2.5, 'lte0'],
      ['mn2-wlan', 'wlan0', 3.5, 'lte0'],
    ] as const) {
      const { f, on } = flow(m, name);
      const old = on(iface);
      expect(old?.probes, name).toBeGreaterThan(50);
      expect(old!.lastS, name).toBeLessThan(movedS + 0.2);
      // after the move they reach the MN only once the new MAG routes the prefix via the
      // MN's link-local (the destination is the old interface's address): any that do, arrive on the new interface
      for (const i of f.interfaces) if (i.iface !== iface) expect(i.firstS, `${name} on ${i.iface}`).toBeGreaterThan(movedS);
      // and they do: the new MAG routes the prefix via the MN's link-local, so the flow follows its prefix
      expect(on(to)?.probes, `${name} on ${to}`).toBeGreaterThan(0);
      expect(f.totals.lost, `${name} lost`).toBeLessThanOrEqual(3);
    }
  }, 60_000);

  it('HI 2 right after the old interface detached takes the prefixes of the session waiting for deletion, route toward the new MAG', async () => {
    const scenario = [
      '- { at: 500ms, action: { type: traffic-start, flow: hi2, from: cn1, to: "mn2:wlan0", rate: 200, size: 100 } }',
      '- { at: 1500ms, action: { type: detach, iface: "mn2:wlan0" } }',
      // 100 ms after the detach, so that mag1's de-registration is in first (at the same moment, as in
      // seed001-dormant.yaml, either may come first: the LMA now accepts both orders)
      '- { at: 1600ms, action: { type: interface-handover, iface: "mn2:lte0", from: "mn2:wlan0" } }',
      '- { at: 3000ms, action: { type: traffic-stop, flow: hi2 } }',
    ].join('\n');
    const { metrics: m, events } = await run('seed001-dormant.yaml', scenario, 's1th');
    const wlanP = '2001:db8:a:42::/64';

    expect(hi2Statuses(events)).toEqual([0]);
    // mag1 de-registered wlan0 first (the entry waited for deletion), then the HI 2 took its prefix
    const hi2 = events.find((e) => e.node === 'lma1' && e.type === 'pbu-received' && e.data?.hi === 2)!;
    const dereg = events.find((e) => e.node === 'lma1' && e.type === 'binding-updated' && e.data?.state === 'deleting' && e.data?.hnp === wlanP);
    expect(dereg, 'wlan0 de-registered before the HI 2').toBeDefined();
    expect(BigInt(dereg!.tNs)).toBeLessThan(BigInt(hi2.tNs));
    const route = events.find((e) => e.node === 'lma1' && e.type === 'routes-programmed' && e.data?.hnp === wlanP && BigInt(e.tNs) > BigInt(hi2.tNs));
    expect(route?.data?.peer).toBe('2001:db8:b:2::1'); // mag2's proxy CoA

    const start = tables(m.stages[0]!);
    const lteOwn = (start.bce['mn2:lte0'] ?? '').split(' ')[2] ?? '';
    const s = tables(after(m, 'interface-handover iface mn2:lte0'));
    expect(s.bce['mn2:lte0']).toBe(`active mag2 ${[lteOwn, wlanP].sort().join(',')}`);
    expect(s.bce['mn2:wlan0']).toBeUndefined();
    expect(s.bul['mag2 mn2:lte0']).toBe(`bound ${[lteOwn, wlanP].sort().join(',')}`);

    const { f, on } = flow(m, 'hi2');
    expect(on('wlan0')?.probes).toBeGreaterThan(150);
    expect(on('wlan0')!.lastS).toBeLessThan(1.7);
    for (const i of f.interfaces) if (i.iface !== 'wlan0') expect(i.firstS).toBeGreaterThan(1.6);
  }, 60_000);
});
