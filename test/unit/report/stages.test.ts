import { describe, expect, it } from 'vitest';
import { bindingCacheAt, bulAt, describeStep, stagesOf, type StageNames } from '../../../orchestrator/report/stages.js';
import type { TimedEvent } from '../../../orchestrator/report/timeline.js';

// An MN with wlan0 on mag1 and lte0 on mag2 (two sessions), then lte0 moves
// onto mag1 as well: two sessions on one MAG (seed 001 section 4).

const MN = 'mn1@pmiplab.example';
const WLAN = '02:00:00:00:01:01';
const LTE = '02:00:00:00:01:02';
const COA1 = '2001:db8:b:1::1';
const COA2 = '2001:db8:b:2::1';
const names: StageNames = {
  ifaceOfLlId: (mnId, llId) => (mnId !== MN ? null : llId.toLowerCase() === WLAN ? 'wlan0' : llId.toLowerCase() === LTE ? 'lte0' : null),
  magOfPcoa: (p) => (p === COA1 ? 'mag1' : p === COA2 ? 'mag2' : null),
};
const s = (x: number) => x * 1e9;
const ev = (t: number, node: string, type: string, data: Record<string, unknown>): TimedEvent => ({ t: s(t), node, type, data });

const events: TimedEvent[] = [
  ev(0.1, 'mag1', 'mn-attach', { iface: 'acc0', mnId: MN, llId: WLAN, trigger: 'carrier' }),
  ev(0.11, 'mag1', 'pbu-sent', { mnId: MN, seq: 1, lifetime: 60, hi: 1, attempt: 1, lma: '2001:db8:b:1::2' }),
  // today's LMA: one `hnp`; the mixed case of the MN-LL-ID must not matter
  ev(0.12, 'lma1', 'binding-created', { mnId: MN, att: 4, llId: WLAN.toUpperCase(), hnp: '2001:db8:a:1::/64', pCoA: COA1, lifetime: 60 }),
  ev(0.13, 'mag1', 'pba-received', { mnId: MN, seq: 1, status: 0, lifetime: 60, hnp: '2001:db8:a:1::/64', rttUs: 500 }),
  ev(0.2, 'mag2', 'mn-attach', { iface: 'acc0', mnId: MN, llId: LTE, trigger: 'carrier' }),
  ev(0.21, 'mag2', 'pbu-sent', { mnId: MN, llId: LTE, seq: 1, lifetime: 60, hi: 1, attempt: 1, lma: '2001:db8:b:2::2' }),
  // the seed 001 fields: several prefixes, a BID, a state
  ev(0.22, 'lma1', 'binding-created', { mnId: MN, att: 5, llId: LTE, hnps: ['2001:db8:a:2::/64', '2001:db8:a:3::/64'], bid: 1, state: 'active', pCoA: COA2, lifetime: 60 }),
  ev(0.23, 'mag2', 'pba-received', { mnId: MN, llId: LTE, seq: 1, status: 0, lifetime: 60, hnps: ['2001:db8:a:2::/64', '2001:db8:a:3::/64'], rttUs: 500 }),
  // another MN is refused at mag2
  ev(0.3, 'mag2', 'pbu-sent', { mnId: 'mn9@x', seq: 4, lifetime: 60, hi: 1, attempt: 1, lma: '2001:db8:b:2::2' }),
  ev(0.31, 'mag2', 'pba-received', { mnId: 'mn9@x', seq: 4, status: 129, lifetime: 0, rttUs: 500 }),
  // step at 3 s: lte0 moves to mag1's acc1
  ev(3.001, 'mag2', 'mn-detach', { iface: 'acc0', mnId: MN, trigger: 'carrier' }),
  ev(3.002, 'mag2', 'pbu-sent', { mnId: MN, seq: 2, lifetime: 0, hi: 1, attempt: 1, lma: '2001:db8:b:2::2' }),
  ev(3.003, 'mag1', 'mn-attach', { iface: 'acc1', mnId: MN, llId: LTE, trigger: 'carrier' }),
  // no llId on these (today's MAG): matched as the MN's not yet bound entry, then by sequence number
  ev(3.004, 'mag1', 'pbu-sent', { mnId: MN, seq: 7, lifetime: 60, hi: 3, attempt: 1, lma: '2001:db8:b:1::2' }),
  ev(3.005, 'lma1', 'binding-updated', { mnId: MN, att: 5, llId: LTE, hnps: ['2001:db8:a:2::/64', '2001:db8:a:3::/64'], bid: 1, state: 'active', pCoA: COA1, lifetime: 60 }),
  ev(3.006, 'mag1', 'pba-received', { mnId: MN, seq: 7, status: 0, lifetime: 60, hnp: '2001:db8:a:2::/64', rttUs: 500 }),
  ev(3.007, 'mag2', 'pba-received', { mnId: MN, seq: 2, status: 0, lifetime: 0, rttUs: 500 }),
  // step at 5 s: wlan0 leaves; the LMA keeps its entry a moment, then deletes it
  ev(5.001, 'mag1', 'mn-detach', { iface: 'acc0', mnId: MN, trigger: 'carrier' }),
  ev(5.002, 'lma1', 'binding-updated', { mnId: MN, att: 4, llId: WLAN, hnp: '2001:db8:a:1::/64', pCoA: COA1, lifetime: 0 }),
  ev(5.5, 'lma1', 'binding-deleted', { mnId: MN, att: 4, llId: WLAN, hnp: '2001:db8:a:1::/64', pCoA: COA1, lifetime: 0 }),
];

describe('bindingCacheAt', () => {
  it('keeps one entry per interface, with the new fields or the old single hnp', () => {
    const bc = bindingCacheAt(events, s(1), names);
    expect(bc.map((b) => [b.iface, b.mag, b.hnps, b.bid, b.state])).toEqual([
      ['lte0', 'mag2', ['2001:db8:a:2::/64', '2001:db8:a:3::/64'], 1, 'active'],
      ['wlan0', 'mag1', ['2001:db8:a:1::/64'], null, 'active'],
    ]);
    // after the move both sessions point at mag1; neither replaced the other
    expect(bindingCacheAt(events, s(4), names).map((b) => [b.iface, b.mag])).toEqual([['lte0', 'mag1'], ['wlan0', 'mag1']]);
    expect(bindingCacheAt(events, s(5.1), names).find((b) => b.iface === 'wlan0')).toMatchObject({ state: 'deleting', lifetimeS: 0 });
    expect(bindingCacheAt(events, s(6), names).map((b) => b.iface)).toEqual(['lte0']);
  });

  it('moves an entry to the interface an update names when that interface had none (the LMA re-keyed it)', () => {
    const P = '2001:db8:a:31::/64';
    const shared = [
      ev(0.1, 'lma1', 'binding-created', { mnId: MN, att: 5, llId: LTE, hnps: [P], pCoA: COA2, lifetime: 60 }),
      // today's LMA, a second interface naming the same prefix: the entry moves to it (its stats: 1 binding)
      ev(0.2, 'lma1', 'binding-updated', { mnId: MN, att: 4, llId: WLAN, hnps: [P], pCoA: COA1, lifetime: 60 }),
      // another MN's entry with another prefix is not touched
      ev(0.05, 'lma1', 'binding-created', { mnId: 'mn2@x', att: 4, llId: WLAN, hnps: ['2001:db8:a:99::/64'], pCoA: COA1, lifetime: 60 }),
    ].sort((a, b) => a.t - b.t);
    expect(bindingCacheAt(shared, s(1), names).map((b) => [b.mnId, b.iface ?? b.llId, b.mag])).toEqual([
      [MN, 'wlan0', 'mag1'],
      ['mn2@x', WLAN, 'mag1'],
    ]);
  });
});

describe('bulAt', () => {
  it('follows each MAG entry from attach to bound, refused and gone', () => {
    const early = bulAt(events, s(0.115), names);
    expect(early).toEqual([{ mag: 'mag1', mnId: MN, llId: WLAN, iface: 'wlan0', magIface: 'acc0', bid: null, hnps: [], state: 'registering', lifetimeS: null }]);
    const one = bulAt(events, s(1), names);
    expect(one.map((b) => [b.mag, b.mnId, b.iface, b.state, b.hnps.length])).toEqual([
      ['mag1', MN, 'wlan0', 'bound', 1],
      ['mag2', MN, 'lte0', 'bound', 2],
      ['mag2', 'mn9@x', null, 'refused (129)', 0],
    ]);
    const moved = bulAt(events, s(4), names).filter((b) => b.mnId === MN);
    expect(moved.map((b) => [b.mag, b.iface, b.magIface, b.state])).toEqual([
      ['mag1', 'lte0', 'acc1', 'bound'],
      ['mag1', 'wlan0', 'acc0', 'bound'],
    ]);
    // the detach names only the access interface: wlan0's entry, not lte0's
    expect(bulAt(events, s(6), names).filter((b) => b.mnId === MN).map((b) => [b.iface, b.state])).toEqual([['lte0', 'bound'], ['wlan0', 'deregistering']]);
  });

  it('empties a killed MAG', () => {
    const killed = [...events, ev(7, 'orchestrator', 'node-killed', { node: 'mag1' })];
    expect(bulAt(killed, s(8), names).filter((b) => b.mag === 'mag1')).toEqual([]);
  });
});

describe('stagesOf', () => {
  it('reads the tables before each step and at the end, steps of one instant together', () => {
    const steps = [
      { atMs: 1000, source: 'scenario[0]', action: { type: 'traffic-start', flow: 'up', from: 'mn1', to: 'cn1' } },
      { atMs: 1000, source: 'scenario[1]', action: { type: 'traffic-start', flow: 'down', from: 'cn1', to: 'mn1', toIface: 'lte0' } },
      { atMs: 3000, source: 'scenario[2]', action: { type: 'move', iface: 'mn1:lte0', to: 'mag1' } },
      { atMs: 5000, source: 'scenario[3]', action: { type: 'detach', iface: 'mn1:wlan0' } },
    ];
    const st = stagesOf(events, steps, 0, s(6), names);
    expect(st.map((x) => [x.index, x.t, x.steps.length])).toEqual([[0, s(1) - 1, 0], [1, s(3) - 1, 2], [2, s(5) - 1, 1], [3, s(6), 1]]);
    expect(st[1]!.label).toBe('after traffic-start up mn1 → cn1; traffic-start down cn1 → mn1:lte0');
    expect(st[2]!.label).toBe('after move mn1:lte0 → mag1');
    expect(st[3]!.label).toBe('after detach iface mn1:wlan0');
    expect(st[0]!.bul.filter((b) => b.state === 'bound')).toHaveLength(2);
    expect(st[2]!.bindingCache.map((b) => b.mag)).toEqual(['mag1', 'mag1']);
    expect(st[3]!.bindingCache.map((b) => b.iface)).toEqual(['lte0']);
  });

  it('has one stage at the end without steps', () => {
    const st = stagesOf(events, [], 0, s(2), names);
    expect(st).toHaveLength(1);
    expect(st[0]!.bindingCache).toHaveLength(2);
  });

  it('describes steps it does not know by what they name', () => {
    expect(describeStep({ type: 'transfer-prefixes', iface: 'mn1:lte0', from: 'mn1:wlan0', prefixes: ['2001:db8:a:1::/64'] })).toBe('transfer-prefixes iface mn1:lte0 from mn1:wlan0 prefixes 2001:db8:a:1::/64');
  });
});
