import { describe, expect, it } from 'vitest';
import { BindingCache, bceKey } from '../../../nodes/lma/binding-cache.js';
import type { LmaConfig } from '../../../nodes/lma/config.js';
import { HnpPool } from '../../../nodes/lma/hnp-pool.js';
import { buildUpdateNotification, DORMANT_OPTION } from '../../../nodes/lma/messages.js';
import { expire, type MnPolicy, type PbuOutcome, processPbu, processPbuMessage } from '../../../nodes/lma/pbu-processing.js';
import {
  decodeMessage,
  encodeMessage,
  HANDOFF_INDICATOR as HI,
  PBA_STATUS as S,
  type MessageOf,
  type MobilityOption,
} from '../../../nodes/protocol/index.js';

// Seed 001 at the LMA, as pure decisions (docs/seed001.md): sessions per
// interface and per BID, HI 2 handover between interfaces and prefix
// transfer with the old MAG told, shared prefixes routed to several MAGs,
// dormant bindings activated in the same step as the first session goes,
// and the bad inputs refused with no state change.

const MAG1 = '2001:db8:b:1::1';
const MAG2 = '2001:db8:b:2::1';
const NAI = 'mn1@pmiplab.example';
const WLAN = { iface: 'wlan0', llId: '02:70:6c:00:03:ee', hex: '02706c0003ee', att: 4 };
const LTE = { iface: 'lte0', llId: '02:70:6c:00:03:ef', hex: '02706c0003ef', att: 5 };
const P1 = '2001:db8:a:1::/64';
const P2 = '2001:db8:a:2::/64';
const P3 = '2001:db8:a:3::/64';
const magPolicy: Record<string, { name: string }> = { [MAG1]: { name: 'mag1' }, [MAG2]: { name: 'mag2' } };

type If = typeof WLAN;
interface Spec {
  seq: number;
  via: If;
  hi?: number;
  hnps?: string[];
  lifetime?: number;
  bid?: number;
  dormant?: boolean;
}

function pbu(s: Spec): MessageOf<'pbu'> {
  const options: MobilityOption[] = [{ kind: 'mnId', nai: NAI }];
  for (const h of s.hnps ?? ['::/0']) {
    const [prefix, len] = h.split('/');
    options.push({ kind: 'hnp', prefix: prefix!, prefixLength: Number(len) });
  }
  options.push({ kind: 'handoffIndicator', value: s.hi ?? HI.newInterface });
  options.push({ kind: 'accessTechnologyType', value: s.via.att });
  options.push({ kind: 'mnLinkLayerId', identifier: s.via.hex });
  if (s.bid !== undefined) options.push({ kind: 'bindingId', bid: s.bid, status: 0, flags: { H: false }, bidPri: 0 });
  if (s.dormant) options.push({ kind: 'unknown', type: DORMANT_OPTION.type, data: DORMANT_OPTION.data });
  return { kind: 'pbu', sequence: s.seq, flags: { A: true, H: true, L: false, K: false, M: false, R: false, P: true }, lifetime: s.lifetime ?? 100, options };
}

class Lma {
  cache = new BindingCache();
  pool = new HnpPool('2001:db8:f::/48');
  nowMs = 1_000_000;
  cfg: LmaConfig = { name: 'lma1', timestamps: false, timestampWindowMs: 300, minDelayBeforeBceDeleteMs: 1000, maxLifetimeS: 3600, refreshAdviceS: 0 };
  constructor(readonly mn: MnPolicy) {}

  send(src: string, s: Spec): PbuOutcome {
    const out = processPbu(this.cache, this.pool, this.cfg, { pbu: pbu(s), src, mag: magPolicy[src] ?? null, mn: this.mn, nowMs: this.nowMs, wallMs: 0 });
    const wire = decodeMessage(encodeMessage(out.pba)); // every PBA survives the codec
    expect(wire.ok).toBe(true);
    return out;
  }

  /** The cache as comparable text: key -> state, pCoA, prefixes. */
  snapshot(): Record<string, string> {
    const o: Record<string, string> = {};
    for (const b of this.cache.values()) o[bceKey(b.mnId, b.llId, b.att, b.bid ?? 0)] = `${b.state} ${b.pCoA} ${b.hnps.join(',')}`;
    return o;
  }

  entry(i: If, bid = 0) {
    return this.cache.get(bceKey(NAI, i.llId, i.att, bid));
  }
}

const profile = (wlan: string[], lte: Partial<{ prefixes: string[]; shareWith: string; dormant: boolean }> = {}): MnPolicy => ({
  mnId: NAI,
  lma: 'lma1',
  mags: ['*'],
  interfaces: [
    { iface: WLAN.iface, llId: WLAN.llId, att: WLAN.att, prefixes: wlan },
    { iface: LTE.iface, llId: LTE.llId, att: LTE.att, prefixes: [], ...lte },
  ],
});
const hnpsOf = (m: MessageOf<'pba'>) => m.options.flatMap((o) => (o.kind === 'hnp' ? [`${o.prefix}/${o.prefixLength}`] : []));

function expectNoChange(out: PbuOutcome, status: number, lma: Lma, before: Record<string, string>) {
  expect(out.status).toBe(status);
  expect(out.actions).toEqual([]);
  expect(out.changes).toEqual({ put: [], del: [], owners: [] });
  expect(out.notices).toEqual([]);
  expect(lma.snapshot()).toEqual(before);
}

describe('LMA sessions per interface (seed 001 section 4)', () => {
  it('two interfaces on one MAG are two sessions: the second HI 1 is no refresh of the first', () => {
    const lma = new Lma(profile([P1], { prefixes: [P2] }));
    expect(lma.send(MAG1, { seq: 1, via: WLAN }).status).toBe(S.accepted);
    const lte = lma.send(MAG1, { seq: 2, via: LTE });
    expect(lte.status).toBe(S.accepted);
    expect(lte.note).toBe('new session');
    expect(hnpsOf(lte.pba)).toEqual([P2]);
    expect(lma.snapshot()).toEqual({
      [bceKey(NAI, WLAN.llId, WLAN.att)]: `active ${MAG1} ${P1}`,
      [bceKey(NAI, LTE.llId, LTE.att)]: `active ${MAG1} ${P2}`,
    });
    // a refresh of one (HI 5, same MAG) leaves the other alone
    const refresh = lma.send(MAG1, { seq: 3, via: WLAN, hi: HI.notChanged });
    expect(refresh.note).toBe('refresh');
    expect(refresh.actions).toEqual([]);
    expect(lma.entry(LTE)?.seq).toBe(2);
  });
});

describe('LMA: dynamic sessions on one interface, told apart by BID (seed 001 2.1)', () => {
  it('a second session (BID 2) on an active interface gets a pool prefix and its own lifetime; the PBA echoes the BID', () => {
    const lma = new Lma(profile([P1]));
    lma.send(MAG1, { seq: 1, via: WLAN });
    const second = lma.send(MAG1, { seq: 2, via: WLAN, bid: 2, lifetime: 10 });
    expect(second.status).toBe(S.accepted);
    const [hnp] = hnpsOf(second.pba);
    expect(hnp).not.toBe(P1);
    expect(second.pba.options.find((o) => o.kind === 'bindingId')).toMatchObject({ bid: 2, status: 0 });
    expect(lma.entry(WLAN, 2)).toMatchObject({ bid: 2, lifetimeS: 40, hnps: [hnp] });
    expect(lma.entry(WLAN)).toMatchObject({ hnps: [P1], lifetimeS: 400 });
    expect(second.actions).toEqual([{ op: 'bind', hnp, pCoA: MAG1, mnId: NAI }]);
  });

  it('a BID held by another session of the MN is refused (128), nothing changes', () => {
    const lma = new Lma(profile([P1], { prefixes: [P2] }));
    lma.send(MAG1, { seq: 1, via: WLAN, bid: 7 });
    const before = lma.snapshot();
    const out = lma.send(MAG2, { seq: 1, via: LTE, bid: 7 });
    expectNoChange(out, S.reasonUnspecified, lma, before);
    expect(out.pba.options.find((o) => o.kind === 'bindingId')).toMatchObject({ bid: 7, status: S.reasonUnspecified });
  });
});

describe('LMA: handover between interfaces, HI 2 (RFC 5213 5.4.1.2, seed 001 2.2)', () => {
  it('moves every prefix of the other interface to the new one, reroutes, and tells the old MAG to de-register', () => {
    const lma = new Lma(profile([P1, P2], { prefixes: [P3] }));
    lma.send(MAG1, { seq: 1, via: WLAN });
    const out = lma.send(MAG2, { seq: 1, via: LTE, hi: HI.differentInterface });
    expect(out.status).toBe(S.accepted);
    expect(hnpsOf(out.pba)).toEqual([P1, P2]);
    expect(lma.snapshot()).toEqual({ [bceKey(NAI, LTE.llId, LTE.att)]: `active ${MAG2} ${P1},${P2}` });
    expect(out.actions).toEqual([
      { op: 'bind', hnp: P1, pCoA: MAG2, mnId: NAI },
      { op: 'bind', hnp: P2, pCoA: MAG2, mnId: NAI },
    ]);
    expect(out.changes.del).toEqual([bceKey(NAI, WLAN.llId, WLAN.att)]);
    expect(out.notices).toEqual([{ pCoA: MAG1, mnId: NAI, llId: WLAN.llId, att: WLAN.att, keeps: [] }]);
    const upn = buildUpdateNotification(out.notices[0]!, 1);
    expect(upn).toMatchObject({ reason: 1, flags: { A: true, D: true } }); // FORCE-REREGISTRATION, force de-registration
    expect(decodeMessage(encodeMessage(upn)).ok).toBe(true);
  });

  it('a prefix transfer moves only the named prefixes; the old session keeps the rest and its MAG is told what it keeps', () => {
    const lma = new Lma(profile([P1, P2], { prefixes: [P3] }));
    lma.send(MAG1, { seq: 1, via: WLAN });
    lma.send(MAG2, { seq: 1, via: LTE });
    const out = lma.send(MAG2, { seq: 2, via: LTE, hi: HI.differentInterface, hnps: [P3, P2] });
    expect(out.status).toBe(S.accepted);
    expect(hnpsOf(out.pba)).toEqual([P3, P2]);
    expect(lma.snapshot()).toEqual({
      [bceKey(NAI, WLAN.llId, WLAN.att)]: `active ${MAG1} ${P1}`,
      [bceKey(NAI, LTE.llId, LTE.att)]: `active ${MAG2} ${P3},${P2}`,
    });
    expect(out.actions).toEqual([{ op: 'bind', hnp: P2, pCoA: MAG2, mnId: NAI }]);
    expect(out.notices).toEqual([{ pCoA: MAG1, mnId: NAI, llId: WLAN.llId, att: WLAN.att, keeps: [P1] }]);
    const upn = buildUpdateNotification(out.notices[0]!, 9);
    expect(upn.flags).toEqual({ A: true, D: false });
    expect(upn.options.filter((o) => o.kind === 'hnp')).toEqual([{ kind: 'hnp', prefix: '2001:db8:a:1::', prefixLength: 64 }]);
    // the old MAG re-registers (all-zero HNP) and learns what is left
    const again = lma.send(MAG1, { seq: 2, via: WLAN, hi: HI.notChanged });
    expect(hnpsOf(again.pba)).toEqual([P1]);
  });

  it('HI 2 takes the prefixes of a session waiting for deletion (RFC 5213 5.3.5): route re-programmed to the new MAG, no Update Notification', () => {
    const lma = new Lma(profile([P1], { prefixes: [P3] }));
    lma.send(MAG1, { seq: 1, via: WLAN });
    // wlan0 loses its link: mag1 de-registers first, the entry waits minDelayBeforeBceDeleteMs with no route
    const dereg = lma.send(MAG1, { seq: 2, via: WLAN, lifetime: 0 });
    expect(dereg.actions).toEqual([{ op: 'unbind', hnp: P1, mnId: NAI }]);
    expect(lma.entry(WLAN)?.state).toBe('deleting');
    lma.nowMs += 200;
    const out = lma.send(MAG2, { seq: 1, via: LTE, hi: HI.differentInterface });
    expect(out.status).toBe(S.accepted);
    expect(hnpsOf(out.pba)).toEqual([P1]);
    expect(lma.snapshot()).toEqual({ [bceKey(NAI, LTE.llId, LTE.att)]: `active ${MAG2} ${P1}` });
    expect(out.actions).toEqual([{ op: 'bind', hnp: P1, pCoA: MAG2, mnId: NAI }]);
    expect(out.changes.del).toEqual([bceKey(NAI, WLAN.llId, WLAN.att)]);
    expect(out.notices).toEqual([]); // mag1 has de-registered already
    // the deletion timer of the old entry finds nothing
    lma.nowMs += 2000;
    expect(expire(lma.cache, bceKey(NAI, WLAN.llId, WLAN.att), lma.nowMs)).toBeNull();
  });

  it('HI 2 prefers the active session over one waiting for deletion; after the deletion delay it is 128', () => {
    const lma = new Lma(profile([P1], { prefixes: [P3] }));
    lma.send(MAG1, { seq: 1, via: WLAN });
    lma.send(MAG1, { seq: 2, via: WLAN, lifetime: 0 });
    lma.nowMs += 1001;
    expect(expire(lma.cache, bceKey(NAI, WLAN.llId, WLAN.att), lma.nowMs)?.reason).toBe('de-registered');
    expectNoChange(lma.send(MAG2, { seq: 1, via: LTE, hi: HI.differentInterface }), S.reasonUnspecified, lma, {});

    const two = new Lma(profile([P1], { prefixes: [P3] }));
    const THIRD = { iface: 'eth9', llId: '02:70:6c:00:03:f0', hex: '02706c0003f0', att: 3 };
    two.mn.interfaces.push({ iface: THIRD.iface, llId: THIRD.llId, att: THIRD.att, prefixes: [P2] });
    two.send(MAG1, { seq: 1, via: THIRD });
    two.nowMs += 10;
    two.send(MAG1, { seq: 1, via: WLAN });
    two.send(MAG1, { seq: 2, via: WLAN, lifetime: 0 }); // wlan0 deleting, updated later than eth9
    const out = two.send(MAG2, { seq: 1, via: LTE, hi: HI.differentInterface });
    expect(hnpsOf(out.pba)).toEqual([P2]);
    expect(two.entry(WLAN)?.state).toBe('deleting');
    expect(out.notices).toEqual([{ pCoA: MAG1, mnId: NAI, llId: THIRD.llId, att: THIRD.att, keeps: [] }]);
  });

  it('after an HI 2 between two interfaces on one MAG, the old interface\'s de-registration naming the moved prefix leaves the new session alone', () => {
    const lma = new Lma(profile([P1], { prefixes: [P3] }));
    lma.send(MAG1, { seq: 1, via: WLAN });
    lma.send(MAG1, { seq: 1, via: LTE });
    expect(lma.send(MAG1, { seq: 2, via: LTE, hi: HI.differentInterface, hnps: [P1] }).status).toBe(S.accepted);
    const before = lma.snapshot();
    expect(before).toEqual({ [bceKey(NAI, LTE.llId, LTE.att)]: `active ${MAG1} ${P3},${P1}` });
    const late = lma.send(MAG1, { seq: 2, via: WLAN, lifetime: 0, hnps: [P1] });
    expect(late.status).toBe(S.accepted);
    expect(late.actions).toEqual([]);
    expect(lma.snapshot()).toEqual(before);
  });

  it('HI 2 for an MN with no session on another interface: 128, nothing changes', () => {
    const lma = new Lma(profile([P1]));
    const alone = lma.send(MAG1, { seq: 1, via: LTE, hi: HI.differentInterface });
    expectNoChange(alone, S.reasonUnspecified, lma, {});
    lma.send(MAG1, { seq: 2, via: WLAN });
    const before = lma.snapshot();
    // its own interface is no other interface
    expectNoChange(lma.send(MAG2, { seq: 3, via: WLAN, hi: HI.differentInterface }), S.reasonUnspecified, lma, before);
  });

  it('a prefix transfer naming a prefix the MN does not hold: 155, nothing changes', () => {
    const lma = new Lma(profile([P1, P2], { prefixes: [P3] }));
    lma.send(MAG1, { seq: 1, via: WLAN });
    lma.send(MAG2, { seq: 1, via: LTE });
    const before = lma.snapshot();
    const out = lma.send(MAG2, { seq: 2, via: LTE, hi: HI.differentInterface, hnps: [P3, '2001:db8:a:99::/64'] });
    expectNoChange(out, S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, lma, before);
  });
});

describe('LMA: shared prefix across interfaces (seed 001 section 3)', () => {
  it('routes the shared prefix to both MAGs at once (multipath), and back to one when a session goes', () => {
    const lma = new Lma(profile([P1], { shareWith: WLAN.iface }));
    lma.send(MAG1, { seq: 1, via: WLAN });
    const lte = lma.send(MAG2, { seq: 1, via: LTE, hnps: [P1] });
    expect(lte.status).toBe(S.accepted);
    expect(lte.note).toBe('new session (shared prefix)');
    expect(lte.actions).toEqual([{ op: 'bind', hnp: P1, pCoA: MAG1, mnId: NAI, pCoAs: [MAG1, MAG2] }]);
    expect(lma.cache.holders(P1).map((b) => b.llId)).toEqual([WLAN.llId, LTE.llId]);
    // a refresh of one holder changes no route
    expect(lma.send(MAG1, { seq: 2, via: WLAN, hi: HI.notChanged, hnps: [P1] }).actions).toEqual([]);
    // all-zero HNP from the sharing interface gets the shared prefix too
    const dereg = lma.send(MAG2, { seq: 2, via: LTE, lifetime: 0 });
    expect(dereg.actions).toEqual([{ op: 'bind', hnp: P1, pCoA: MAG1, mnId: NAI }]);
  });

  it('all-zero HNP from the sharing interface gets the prefixes of the interface it shares with', () => {
    const lma = new Lma(profile([P1], { shareWith: WLAN.iface }));
    lma.send(MAG1, { seq: 1, via: WLAN });
    const lte = lma.send(MAG2, { seq: 1, via: LTE });
    expect(hnpsOf(lte.pba)).toEqual([P1]);
    expect(lma.cache.size).toBe(2);
  });
});

describe('LMA: dormant binding (seed 001 appendix D)', () => {
  it('is held with no route, and takes over the route in the same step as the first session de-registers', () => {
    const lma = new Lma(profile([P1], { shareWith: WLAN.iface, dormant: true }));
    lma.send(MAG1, { seq: 1, via: WLAN });
    const d = lma.send(MAG2, { seq: 1, via: LTE, dormant: true });
    expect(d.status).toBe(S.accepted);
    expect(d.actions).toEqual([]);
    expect(lma.entry(LTE)?.state).toBe('dormant');
    expect(d.pba.options.some((o) => o.kind === 'unknown' && o.type === DORMANT_OPTION.type)).toBe(true);
    const gone = lma.send(MAG1, { seq: 2, via: WLAN, lifetime: 0 });
    expect(gone.actions).toEqual([{ op: 'bind', hnp: P1, pCoA: MAG2, mnId: NAI }]);
    expect(lma.entry(LTE)?.state).toBe('active');
    expect(gone.events.map((e) => [e.type, e.data.llId, e.data.state])).toEqual([
      ['binding-updated', WLAN.llId, 'deleting'],
      ['binding-updated', LTE.llId, 'active'],
    ]);
  });

  it('is activated when the first session expires, too', () => {
    const lma = new Lma(profile([P1], { shareWith: WLAN.iface, dormant: true }));
    lma.send(MAG1, { seq: 1, via: WLAN, lifetime: 1 });
    lma.send(MAG2, { seq: 1, via: LTE, dormant: true });
    const out = expire(lma.cache, bceKey(NAI, WLAN.llId, WLAN.att), lma.nowMs + 5000);
    expect(out?.actions).toEqual([{ op: 'bind', hnp: P1, pCoA: MAG2, mnId: NAI }]);
    expect(lma.entry(LTE)?.state).toBe('active');
  });

  it('for a prefix no active session holds: 155, nothing changes', () => {
    const lma = new Lma(profile([P1], { shareWith: WLAN.iface, dormant: true }));
    expectNoChange(lma.send(MAG2, { seq: 1, via: LTE, dormant: true }), S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, lma, {});
  });
});

describe('LMA: one combined PBU for two interfaces on one MAG (seed 001 section 4)', () => {
  const combined = (seq: number, groups: Array<{ via: If; bid: number; hnps?: string[] }>, hi = HI.newInterface): MessageOf<'pbu'> => {
    const options: MobilityOption[] = [{ kind: 'mnId', nai: NAI }, { kind: 'handoffIndicator', value: hi }];
    for (const g of groups) {
      options.push({ kind: 'bindingId', bid: g.bid, status: 0, flags: { H: false }, bidPri: 0 });
      options.push({ kind: 'mnLinkLayerId', identifier: g.via.hex });
      options.push({ kind: 'accessTechnologyType', value: g.via.att });
      for (const h of g.hnps ?? ['::/0']) {
        const [prefix, len] = h.split('/');
        options.push({ kind: 'hnp', prefix: prefix!, prefixLength: Number(len) });
      }
    }
    return { kind: 'pbu', sequence: seq, flags: { A: true, H: true, L: false, K: false, M: false, R: false, P: true }, lifetime: 100, options };
  };
  const run = (lma: Lma, msg: MessageOf<'pbu'>) => {
    // through the codec first: the layout must survive the wire
    const wire = decodeMessage(encodeMessage(msg));
    if (!wire.ok || wire.value.kind !== 'pbu') throw new Error('PBU did not survive the codec');
    return processPbuMessage(lma.cache, lma.pool, lma.cfg, { pbu: wire.value, src: MAG1, mag: { name: 'mag1' }, mn: lma.mn, nowMs: lma.nowMs, wallMs: 0 });
  };

  it('makes one session per interface and answers per interface: a BID group each with its status and prefixes', () => {
    const lma = new Lma(profile([P1], { prefixes: [P2] }));
    const out = run(lma, combined(1, [{ via: WLAN, bid: 1 }, { via: LTE, bid: 2 }]));
    expect(out.status).toBe(S.accepted);
    expect(lma.snapshot()).toEqual({
      [bceKey(NAI, WLAN.llId, WLAN.att, 1)]: `active ${MAG1} ${P1}`,
      [bceKey(NAI, LTE.llId, LTE.att, 2)]: `active ${MAG1} ${P2}`,
    });
    const kinds = out.pba.options.map((o) => (o.kind === 'hnp' ? `hnp ${o.prefix}` : o.kind === 'bindingId' ? `bid ${o.bid}/${o.status}` : o.kind));
    expect(kinds).toEqual(['mnId', 'handoffIndicator', 'bid 1/0', 'hnp 2001:db8:a:1::', 'accessTechnologyType', 'mnLinkLayerId', 'bid 2/0', 'hnp 2001:db8:a:2::', 'accessTechnologyType', 'mnLinkLayerId']);
    expect(decodeMessage(encodeMessage(out.pba)).ok).toBe(true);
    expect(out.actions.map((a) => a.hnp)).toEqual([P1, P2]);
  });

  it('answers MCOA NOTCOMPLETE (4) when one interface is refused, that group with its own status; the other is registered', () => {
    const lma = new Lma(profile([P1], { prefixes: [P2] }));
    const out = run(lma, combined(1, [{ via: WLAN, bid: 1 }, { via: LTE, bid: 2, hnps: ['2001:db8:a:99::/64'] }]));
    expect(out.status).toBe(4);
    expect(out.pba.options.filter((o) => o.kind === 'bindingId').map((o) => (o.kind === 'bindingId' ? o.status : -1))).toEqual([0, S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX]);
    expect(lma.cache.size).toBe(1);
  });
});
