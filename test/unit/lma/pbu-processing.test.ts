import { describe, expect, it } from 'vitest';
import { BindingCache, bceKey } from '../../../nodes/lma/binding-cache.js';
import type { LmaConfig } from '../../../nodes/lma/config.js';
import { HnpPool } from '../../../nodes/lma/hnp-pool.js';
import {
  expire,
  type MnPolicy,
  type PbuOutcome,
  processPbu,
  seqNewer,
  timestampAt,
} from '../../../nodes/lma/pbu-processing.js';
import { decodeMessage, encodeMessage, PBA_STATUS as S, type MessageOf, type MobilityOption } from '../../../nodes/protocol/index.js';

const MAG1 = '2001:db8:b:1::1';
const MAG2 = '2001:db8:b:2::1';
const ROGUE = '2001:db8:b:99::1';
const POOL = '2001:db8:a::/48';
const LLID = '02706c0003ee';
const NAI = 'mn1@pmiplab.example';
const WALL0 = 1_750_000_000_000;

const magPolicy: Record<string, { name: string }> = { [MAG1]: { name: 'mag1' }, [MAG2]: { name: 'mag2' } };

interface PbuSpec {
  seq: number;
  lifetime?: number; // 4 s units
  hi?: number | null;
  mnId?: string | null;
  hnps?: string[] | null; // CIDR; '::/0' = ALL_ZERO
  att?: number | null;
  llId?: string | null;
  ts?: { seconds: number; fraction: number };
  lla?: string;
  P?: boolean;
}

function pbu(s: PbuSpec): MessageOf<'pbu'> {
  const options: MobilityOption[] = [];
  if (s.mnId !== null) options.push({ kind: 'mnId', nai: s.mnId ?? NAI });
  for (const h of s.hnps === null ? [] : (s.hnps ?? ['::/0'])) {
    const [prefix, len] = h.split('/');
    options.push({ kind: 'hnp', prefix: prefix!, prefixLength: Number(len) });
  }
  if (s.hi !== null) options.push({ kind: 'handoffIndicator', value: s.hi ?? 4 });
  if (s.att !== null) options.push({ kind: 'accessTechnologyType', value: s.att ?? 4 });
  if (s.llId !== null) options.push({ kind: 'mnLinkLayerId', identifier: s.llId ?? LLID });
  if (s.ts) options.push({ kind: 'timestamp', ...s.ts });
  if (s.lla) options.push({ kind: 'linkLocalAddress', address: s.lla });
  return {
    kind: 'pbu',
    sequence: s.seq,
    flags: { A: true, H: true, L: false, K: false, M: false, R: false, P: s.P ?? true },
    lifetime: s.lifetime ?? 100,
    options,
  };
}

/** A profile whose one interface (the PBUs' default MN-LL-ID) has these fixed prefixes. */
function mnPolicy(o: Partial<MnPolicy> & { prefixes?: string[] }): MnPolicy {
  const { prefixes = [], ...rest } = o;
  return { mnId: NAI, lma: 'lma1', mags: ['*'], interfaces: [{ iface: 'wlan0', llId: '02:70:6c:00:03:ee', att: 4, prefixes }], ...rest };
}

/** One LMA's pure state, driven the way the role drives it. */
class Lma {
  cache = new BindingCache();
  pool: HnpPool;
  cfg: LmaConfig;
  nowMs = 1_000_000;
  wallMs = WALL0;
  mn: MnPolicy | null;

  constructor(opts: { cfg?: Partial<LmaConfig>; mn?: (Partial<MnPolicy> & { prefixes?: string[] }) | null; pool?: string } = {}) {
    this.cfg = {
      name: 'lma1',
      timestamps: false,
      timestampWindowMs: 300,
      minDelayBeforeBceDeleteMs: 1000,
      maxLifetimeS: 3600,
      refreshAdviceS: 0,
      ...opts.cfg,
    };
    this.pool = new HnpPool(opts.pool ?? POOL);
    this.mn = opts.mn === null ? null : mnPolicy(opts.mn ?? {});
  }

  send(src: string, spec: PbuSpec): PbuOutcome {
    const out = processPbu(this.cache, this.pool, this.cfg, {
      pbu: pbu(spec),
      src,
      mag: magPolicy[src] ?? null,
      mn: this.mn,
      nowMs: this.nowMs,
      wallMs: this.wallMs,
    });
    // every PBA must survive the real codec unchanged
    const wire = decodeMessage(encodeMessage(out.pba));
    expect(wire.ok).toBe(true);
    if (wire.ok) expect(wire.value).toMatchObject({ kind: 'pba', status: out.status, sequence: out.pba.sequence, lifetime: out.pba.lifetime });
    return out;
  }

  get only() {
    const all = [...this.cache.values()];
    expect(all).toHaveLength(1);
    return all[0]!;
  }
}

const opt = <K extends MobilityOption['kind']>(m: MessageOf<'pba'>, kind: K) =>
  m.options.filter((o): o is Extract<MobilityOption, { kind: K }> => o.kind === kind);
const hnpsOf = (m: MessageOf<'pba'>) => opt(m, 'hnp').map((h) => `${h.prefix}/${h.prefixLength}`);

function expectRefused(out: PbuOutcome, status: number, lma: Lma, cacheSize = 0) {
  expect(out.status).toBe(status);
  expect(out.pba.lifetime).toBe(0);
  expect(out.actions).toEqual([]);
  expect(out.events).toEqual([]);
  expect(out.changes).toEqual({ put: [], del: [], owners: [] });
  expect(lma.cache.size).toBe(cacheSize);
}

describe('LMA PBU processing: new attachment', () => {
  it('accepts a new MN with a /64 from the top of the pool, mirrors the options, binds the prefix', () => {
    const lma = new Lma();
    const out = lma.send(MAG1, { seq: 7, hi: 1, lifetime: 100 });
    expect(out.status).toBe(S.accepted);
    expect(out.pba).toMatchObject({ sequence: 7, lifetime: 100, flags: { P: true } });
    expect(hnpsOf(out.pba)).toEqual(['2001:db8:a:ffff::/64']);
    expect(opt(out.pba, 'mnId')).toEqual([{ kind: 'mnId', nai: NAI }]);
    expect(opt(out.pba, 'handoffIndicator')[0]?.value).toBe(1);
    expect(opt(out.pba, 'accessTechnologyType')[0]?.value).toBe(4);
    expect(opt(out.pba, 'mnLinkLayerId')[0]?.identifier).toBe(LLID);
    expect(opt(out.pba, 'timestamp')).toEqual([]);
    expect(opt(out.pba, 'bindingRefreshAdvice')).toEqual([]);
    expect(out.actions).toEqual([{ op: 'bind', hnp: '2001:db8:a:ffff::/64', pCoA: MAG1, mnId: NAI }]);
    expect(out.events).toEqual([
      {
        type: 'binding-created',
        data: { mnId: NAI, att: 4, llId: '02:70:6c:00:03:ee', hnp: '2001:db8:a:ffff::/64', hnps: ['2001:db8:a:ffff::/64'], pCoA: MAG1, lifetime: 400, state: 'active' },
      },
    ]);
    const b = lma.only;
    expect(b).toMatchObject({ pCoA: MAG1, seq: 7, state: 'active', lifetimeS: 400, deadlineMs: lma.nowMs + 400_000 });
    expect(out.changes.put).toEqual([b]);
    expect(out.changes.owners).toEqual([['2001:db8:a:ffff::/64', NAI]]);
    expect(out.changes.cursor).toBe(1);
    expect(lma.cache.get(bceKey(NAI, '02:70:6c:00:03:ee', 4))).toBe(b);
  });

  it('gives the profile its fixed prefix (normalised) instead of one from the pool', () => {
    const lma = new Lma({ mn: { prefixes: ['2001:DB8:a:1:0::5/64'] } });
    const out = lma.send(MAG1, { seq: 1, hi: 1 });
    expect(out.status).toBe(S.accepted);
    expect(hnpsOf(out.pba)).toEqual(['2001:db8:a:1::/64']);
    expect(out.changes.cursor).toBeUndefined();
    expect(lma.pool.ownerOf('2001:db8:a:1::/64')).toBe(NAI);
  });

  it('clamps the lifetime to maxLifetimeS', () => {
    const lma = new Lma({ cfg: { maxLifetimeS: 60 } });
    const out = lma.send(MAG1, { seq: 1, lifetime: 0xffff });
    expect(out.pba.lifetime).toBe(15);
    expect(lma.only.lifetimeS).toBe(60);
  });

  it('adds a Binding Refresh Advice when configured (never above the lifetime)', () => {
    const lma = new Lma({ cfg: { refreshAdviceS: 300 } });
    expect(opt(lma.send(MAG1, { seq: 1, lifetime: 100 }).pba, 'bindingRefreshAdvice')).toEqual([{ kind: 'bindingRefreshAdvice', interval: 75 }]);
    expect(opt(lma.send(MAG1, { seq: 2, lifetime: 10 }).pba, 'bindingRefreshAdvice')).toEqual([{ kind: 'bindingRefreshAdvice', interval: 10 }]);
  });

  it('keeps the first MAG link-local address and returns it to a MAG asking with ALL_ZERO', () => {
    const lma = new Lma();
    const a = lma.send(MAG1, { seq: 1, lla: 'fe80::1' });
    expect(opt(a.pba, 'linkLocalAddress')).toEqual([{ kind: 'linkLocalAddress', address: 'fe80::1' }]);
    const b = lma.send(MAG2, { seq: 2, hi: 3, lla: '::' });
    expect(opt(b.pba, 'linkLocalAddress')).toEqual([{ kind: 'linkLocalAddress', address: 'fe80::1' }]);
    expect(lma.only.lla).toBe('fe80::1');
  });

  it('puts a Link-local Address option in the PBA only when the PBU had one (RFC 5213 5.3.6), on handover and refresh too', () => {
    const lma = new Lma();
    lma.send(MAG1, { seq: 1, hi: 1, lla: 'fe80::1' }); // the entry keeps fe80::1
    const handover = lma.send(MAG2, { seq: 2, hi: 3 });
    expect(handover.status).toBe(S.accepted);
    expect(handover.note).toMatch(/handover/);
    expect(opt(handover.pba, 'linkLocalAddress')).toEqual([]);
    expect(opt(lma.send(MAG2, { seq: 3, hi: 5 }).pba, 'linkLocalAddress')).toEqual([]);
    expect(opt(lma.send(MAG2, { seq: 4, lifetime: 0 }).pba, 'linkLocalAddress')).toEqual([]);
    // a non-zero value is answered with the PBU's own value, not the kept one
    expect(opt(lma.send(MAG1, { seq: 5, hi: 3, lla: 'fe80::2' }).pba, 'linkLocalAddress')).toEqual([{ kind: 'linkLocalAddress', address: 'fe80::2' }]);
    expect(lma.only.lla).toBe('fe80::1');
  });

  it('ALL_ZERO with no address kept is answered with ALL_ZERO', () => {
    const lma = new Lma();
    expect(opt(lma.send(MAG1, { seq: 1, hi: 1, lla: '::' }).pba, 'linkLocalAddress')).toEqual([{ kind: 'linkLocalAddress', address: '::' }]);
  });
});

describe('LMA PBU processing: refusals change nothing', () => {
  it.each([
    ['129 without the P flag', { P: false }, S.administrativelyProhibited],
    ['160 without MN-ID', { mnId: null }, S.MISSING_MN_IDENTIFIER_OPTION],
    ['158 without HNP', { hnps: null }, S.MISSING_HOME_NETWORK_PREFIX_OPTION],
    ['161 without HI', { hi: null }, S.MISSING_HANDOFF_INDICATOR_OPTION],
    ['162 without ATT', { att: null }, S.MISSING_ACCESS_TECH_TYPE_OPTION],
    ['128 for an HI value of no meaning', { hi: 9 }, S.reasonUnspecified],
    ['152 for an MN-ID that is not the profile found', { mnId: 'other@x' }, S.PROXY_REG_NOT_ENABLED],
  ] as const)('%s', (_name, spec, status) => {
    const lma = new Lma();
    const out = lma.send(MAG1, { seq: 1, ...spec });
    expectRefused(out, status, lma);
    expect(out.pba.sequence).toBe(1);
  });

  it('154 for a MAG not in the policy store (a rogue MAG), with the options mirrored', () => {
    const lma = new Lma();
    const out = lma.send(ROGUE, { seq: 5, hi: 1 });
    expectRefused(out, S.MAG_NOT_AUTHORIZED_FOR_PROXY_REG, lma);
    expect(opt(out.pba, 'mnId')[0]?.nai).toBe(NAI);
    expect(hnpsOf(out.pba)).toEqual(['::/0']);
  });

  it('154 for a known MAG that the MN profile does not allow', () => {
    const lma = new Lma({ mn: { mags: ['mag2'] } });
    expectRefused(lma.send(MAG1, { seq: 1 }), S.MAG_NOT_AUTHORIZED_FOR_PROXY_REG, lma);
    expect(lma.send(MAG2, { seq: 1 }).status).toBe(S.accepted);
  });

  it('152 for an MN not in the policy store', () => {
    const lma = new Lma({ mn: null });
    expectRefused(lma.send(MAG1, { seq: 1 }), S.PROXY_REG_NOT_ENABLED, lma);
  });

  it('153 for an MN served by another LMA', () => {
    const lma = new Lma({ mn: { lma: 'lma2' } });
    expectRefused(lma.send(MAG1, { seq: 1 }), S.NOT_LMA_FOR_THIS_MOBILE_NODE, lma);
  });

  it('155 for a prefix outside the fixed profile, or never given to this MN from the pool', () => {
    const fixed = new Lma({ mn: { prefixes: ['2001:db8:a:1::/64'] } });
    expectRefused(fixed.send(MAG1, { seq: 1, hnps: ['2001:db8:a:2::/64'] }), S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, fixed);
    expect(fixed.send(MAG1, { seq: 1, hnps: ['2001:db8:a:1::/64'] }).status).toBe(S.accepted);
    const pooled = new Lma();
    expectRefused(pooled.send(MAG1, { seq: 1, hnps: ['2001:db8:a:ffff::/64'] }), S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, pooled);
  });

  it("155 for a prefix bound to another MN's session", () => {
    const lma = new Lma({ mn: { prefixes: ['2001:db8:a:1::/64'] } });
    expect(lma.send(MAG1, { seq: 1 }).status).toBe(S.accepted);
    lma.mn = mnPolicy({ mnId: 'mn2@x', prefixes: ['2001:db8:a:1::/64'] });
    expectRefused(lma.send(MAG2, { seq: 1, mnId: 'mn2@x', hnps: ['2001:db8:a:1::/64'] }), S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, lma, 1);
    // all-zero HNP: the interface's fixed prefix is another MN's binding
    expectRefused(lma.send(MAG2, { seq: 1, mnId: 'mn2@x' }), S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, lma, 1);
  });

  it('159 when the PBU prefixes are not the set the binding holds', () => {
    const lma = new Lma({ mn: { prefixes: ['2001:db8:a:1::/64', '2001:db8:a:2::/64'] } });
    const first = lma.send(MAG1, { seq: 1, hi: 1 });
    expect(hnpsOf(first.pba)).toEqual(['2001:db8:a:1::/64', '2001:db8:a:2::/64']);
    expectRefused(lma.send(MAG1, { seq: 2, hi: 5, hnps: ['2001:db8:a:1::/64'] }), S.BCE_PBU_PREFIX_SET_DO_NOT_MATCH, lma, 1);
    const again = lma.send(MAG1, { seq: 3, hi: 5, hnps: ['2001:db8:a:2::/64', '2001:db8:a:1::/64'] });
    expect(again.status).toBe(S.accepted);
    expect(again.note).toBe('refresh');
  });

  it('130 when the pool is used up', () => {
    const lma = new Lma({ pool: '2001:db8:a::/64' });
    expect(lma.send(MAG1, { seq: 1, hi: 1 }).status).toBe(S.accepted);
    expectRefused(lma.send(MAG1, { seq: 2, hi: 1, llId: 'bb' }), S.insufficientResources, lma, 1);
  });
});

describe('LMA PBU processing: handoff indicator', () => {
  it('3: a handover between MAGs keeps the binding and prefix and re-points it', () => {
    const lma = new Lma();
    const hnp = hnpsOf(lma.send(MAG1, { seq: 10, hi: 1 }).pba)[0];
    const out = lma.send(MAG2, { seq: 11, hi: 3 });
    expect(out.status).toBe(S.accepted);
    expect(hnpsOf(out.pba)).toEqual([hnp]);
    expect(out.actions).toEqual([{ op: 'bind', hnp, pCoA: MAG2, mnId: NAI }]);
    expect(out.events.map((e) => e.type)).toEqual(['binding-updated']);
    expect(out.note).toBe(`handover ${MAG1} -> ${MAG2}`);
    expect(lma.only).toMatchObject({ pCoA: MAG2, seq: 11, hnps: [hnp] });
  });

  it("1 again from the MAG the interface's session is bound to (a retransmission with a new sequence number) is that session, same prefix", () => {
    // a PBA slower than the first retransmission timeout: the MAG sends its HI 1 PBU again, one sequence number up
    const lma = new Lma();
    const first = lma.send(MAG1, { seq: 29088, hi: 1 });
    const again = lma.send(MAG1, { seq: 29089, hi: 1 });
    expect(again.status).toBe(S.accepted);
    expect(hnpsOf(again.pba)).toEqual(hnpsOf(first.pba));
    expect(again.actions).toEqual([]);
    expect(again.events.map((e) => e.type)).toEqual(['binding-updated']);
    expect(lma.only).toMatchObject({ pCoA: MAG1, seq: 29089, hnps: hnpsOf(first.pba) });
    // from another MAG, HI 1 for that interface is still a new session replacing it
    const elsewhere = lma.send(MAG2, { seq: 29090, hi: 1 });
    expect(elsewhere.events.map((e) => e.type)).toEqual(['binding-deleted', 'binding-created']);
    expect(lma.only.pCoA).toBe(MAG2);
  });

  it('4: unknown with a matching MN-LL-ID is a handover; without a match a new session', () => {
    const lma = new Lma();
    const hnp = hnpsOf(lma.send(MAG1, { seq: 1, hi: 4 }).pba)[0];
    expect(lma.only.pCoA).toBe(MAG1);
    const ho = lma.send(MAG2, { seq: 2, hi: 4 });
    expect(hnpsOf(ho.pba)).toEqual([hnp]);
    expect(lma.only.pCoA).toBe(MAG2);
    const other = lma.send(MAG1, { seq: 3, hi: 4, llId: '0270aa' });
    expect(other.events.map((e) => e.type)).toEqual(['binding-created']);
    expect(hnpsOf(other.pba)).not.toEqual([hnp]);
    expect(lma.cache.size).toBe(2);
  });

  it('5: re-registration refreshes the lifetime, no kernel change', () => {
    const lma = new Lma();
    lma.send(MAG1, { seq: 1, hi: 1, lifetime: 10 });
    lma.nowMs += 30_000;
    const out = lma.send(MAG1, { seq: 2, hi: 5, lifetime: 10 });
    expect(out.status).toBe(S.accepted);
    expect(out.actions).toEqual([]);
    expect(out.note).toBe('refresh');
    expect(lma.only.deadlineMs).toBe(lma.nowMs + 40_000);
  });

  it('5 with the prefix given back (non-zero HNP) finds the binding by prefix', () => {
    const lma = new Lma();
    const hnp = hnpsOf(lma.send(MAG1, { seq: 1, hi: 1 }).pba)[0]!;
    const out = lma.send(MAG1, { seq: 2, hi: 5, hnps: [hnp] });
    expect(out.status).toBe(S.accepted);
    expect(out.note).toBe('refresh');
  });

  it('1 again on the same interface after its de-registration: a new session with a new pool prefix; the old prefix is never reused', () => {
    const lma = new Lma();
    const first = hnpsOf(lma.send(MAG1, { seq: 1, hi: 1 }).pba)[0];
    expect(lma.send(MAG1, { seq: 2, hi: 1, lifetime: 0 }).status).toBe(S.accepted);
    const out = lma.send(MAG1, { seq: 3, hi: 1 });
    const second = hnpsOf(out.pba)[0];
    expect(second).toBe('2001:db8:a:fffe::/64');
    expect(second).not.toBe(first);
    expect(out.events.map((e) => e.type)).toEqual(['binding-deleted', 'binding-created']);
    // the de-registration already took the old prefix's route
    expect(out.actions).toEqual([{ op: 'bind', hnp: second, pCoA: MAG1, mnId: NAI }]);
    expect(lma.only.hnps).toEqual([second]);
    expect(lma.pool.ownerOf(first!)).toBe(NAI);
  });

  it('a handover to a MAG while the old binding waits for deletion revives it there', () => {
    const lma = new Lma();
    const hnp = hnpsOf(lma.send(MAG1, { seq: 1, hi: 1 }).pba)[0];
    const dereg = lma.send(MAG1, { seq: 2, lifetime: 0 });
    expect(dereg.actions).toEqual([{ op: 'unbind', hnp, mnId: NAI }]);
    lma.nowMs += 500;
    const out = lma.send(MAG2, { seq: 3, hi: 4 });
    expect(out.note).toBe(`handover ${MAG1} -> ${MAG2}`);
    expect(out.actions).toEqual([{ op: 'bind', hnp, pCoA: MAG2, mnId: NAI }]);
    expect(lma.only).toMatchObject({ state: 'active', pCoA: MAG2 });
    lma.nowMs += 1000;
    expect(expire(lma.cache, bceKey(NAI, '02:70:6c:00:03:ee', 4), lma.nowMs)).toBeNull();
  });
});

describe('LMA PBU processing: sequence numbers (timestamps off)', () => {
  it('compares modulo 2^16', () => {
    expect(seqNewer(1, 0)).toBe(true);
    expect(seqNewer(0, 65535)).toBe(true);
    expect(seqNewer(32767, 0)).toBe(true);
    expect(seqNewer(32768, 0)).toBe(false);
    expect(seqNewer(65535, 0)).toBe(false);
    expect(seqNewer(5, 5)).toBe(false);
  });

  it('135 with the last accepted sequence number for an old one; wraps from 65535 to 0', () => {
    const lma = new Lma();
    lma.send(MAG1, { seq: 65535, hi: 1 });
    const old = lma.send(MAG1, { seq: 65000, hi: 5 });
    expectRefused(old, S.sequenceOutOfWindow, lma, 1);
    expect(old.pba.sequence).toBe(65535);
    expect(lma.send(MAG1, { seq: 0, hi: 5 }).status).toBe(S.accepted);
    expect(lma.only.seq).toBe(0);
  });

  it('the last accepted sequence number again (RFC 6275 9.5.1: not greater) is 135 with that number, and changes nothing', () => {
    const lma = new Lma();
    const first = lma.send(MAG1, { seq: 9, hi: 1 });
    const hnp = hnpsOf(first.pba)[0];
    const before = structuredClone(lma.only);
    for (const hi of [1, 5]) {
      const again = lma.send(MAG1, { seq: 9, hi });
      expectRefused(again, S.sequenceOutOfWindow, lma, 1);
      expect(again.pba.sequence).toBe(9);
      expect(again.actions).toEqual([]);
      expect(again.events).toEqual([]);
    }
    expect(lma.only).toEqual(before);
    expect(lma.pool.cursor).toBe(1);
    // the MAG resends with a newer number (RFC 5213 6.9.1.2): the same session, refreshed
    const re = lma.send(MAG1, { seq: 10, hi: 5 });
    expect(re.status).toBe(S.accepted);
    expect(hnpsOf(re.pba)).toEqual([hnp]);
    expect(re.actions).toEqual([]);
  });

  it('the same sequence number from another MAG is out of window', () => {
    const lma = new Lma();
    lma.send(MAG1, { seq: 9, hi: 1 });
    const out = lma.send(MAG2, { seq: 9, hi: 3 });
    expectRefused(out, S.sequenceOutOfWindow, lma, 1);
    expect(lma.only.pCoA).toBe(MAG1);
  });

  it('a delayed duplicate of an old HI=1 PBU cannot replace the current session', () => {
    const lma = new Lma();
    lma.send(MAG1, { seq: 10, hi: 1 });
    lma.send(MAG2, { seq: 11, hi: 3 });
    expectRefused(lma.send(MAG1, { seq: 10, hi: 1 }), S.sequenceOutOfWindow, lma, 1);
    expect(lma.only.pCoA).toBe(MAG2);
  });

  it('ignores a Timestamp option and does not echo it', () => {
    const lma = new Lma();
    const out = lma.send(MAG1, { seq: 1, ts: timestampAt(WALL0 - 3_600_000) });
    expect(out.status).toBe(S.accepted);
    expect(opt(out.pba, 'timestamp')).toEqual([]);
  });
});

describe('LMA PBU processing: timestamps (RFC 5213 5.5)', () => {
  const on = { cfg: { timestamps: true } };

  it('accepts a timestamp within the window and echoes it; sequence numbers are not compared', () => {
    const lma = new Lma(on);
    const ts = timestampAt(WALL0 - 100);
    const out = lma.send(MAG1, { seq: 500, ts });
    expect(out.status).toBe(S.accepted);
    expect(opt(out.pba, 'timestamp')).toEqual([{ kind: 'timestamp', ...ts }]);
    lma.wallMs += 10;
    expect(lma.send(MAG1, { seq: 1, hi: 5, ts: timestampAt(lma.wallMs) }).status).toBe(S.accepted);
  });

  it('156 without a Timestamp option, or off the clock by more than the window; the PBA carries the LMA time', () => {
    const lma = new Lma(on);
    const none = lma.send(MAG1, { seq: 1 });
    expectRefused(none, S.TIMESTAMP_MISMATCH, lma);
    expect(opt(none.pba, 'timestamp')).toEqual([{ kind: 'timestamp', ...timestampAt(WALL0) }]);
    expectRefused(lma.send(MAG1, { seq: 1, ts: timestampAt(WALL0 - 301) }), S.TIMESTAMP_MISMATCH, lma);
    expectRefused(lma.send(MAG1, { seq: 1, ts: timestampAt(WALL0 + 400) }), S.TIMESTAMP_MISMATCH, lma);
  });

  it('157 for a timestamp lower than the last accepted; equal is a retransmission', () => {
    const lma = new Lma(on);
    const t1 = timestampAt(WALL0);
    lma.send(MAG1, { seq: 1, ts: t1 });
    const older = lma.send(MAG2, { seq: 2, hi: 3, ts: timestampAt(WALL0 - 50) });
    expectRefused(older, S.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED, lma, 1);
    expect(opt(older.pba, 'timestamp')).toEqual([{ kind: 'timestamp', ...timestampAt(WALL0 - 50) }]);
    expect(lma.send(MAG1, { seq: 1, hi: 5, ts: t1 }).status).toBe(S.accepted);
    const newer = lma.send(MAG2, { seq: 0, hi: 3, ts: timestampAt(WALL0 + 1) });
    expect(newer.status).toBe(S.accepted);
    expect(lma.only.pCoA).toBe(MAG2);
  });
});

describe('LMA PBU processing: de-registration, expiry', () => {
  it('lifetime 0 from the bound MAG: accepted, routes removed, entry kept minDelay then deleted', () => {
    const lma = new Lma();
    const hnp = hnpsOf(lma.send(MAG1, { seq: 1, hi: 1 }).pba)[0]!;
    const out = lma.send(MAG1, { seq: 2, lifetime: 0, hnps: [hnp] });
    expect(out.status).toBe(S.accepted);
    expect(out.pba.lifetime).toBe(0);
    expect(hnpsOf(out.pba)).toEqual([hnp]);
    expect(out.actions).toEqual([{ op: 'unbind', hnp, mnId: NAI }]);
    expect(out.events.map((e) => [e.type, e.data.lifetime])).toEqual([['binding-updated', 0]]);
    const b = lma.only;
    expect(b).toMatchObject({ state: 'deleting', deadlineMs: lma.nowMs + 1000 });
    const key = bceKey(NAI, '02:70:6c:00:03:ee', 4);
    expect(expire(lma.cache, key, lma.nowMs + 999)).toBeNull();
    const gone = expire(lma.cache, key, lma.nowMs + 1000);
    expect(gone).toMatchObject({ reason: 'de-registered', actions: [], changes: { del: [key] } });
    expect(gone?.events.map((e) => e.type)).toEqual(['binding-deleted']);
    expect(lma.cache.size).toBe(0);
  });

  it('a repeated de-registration changes nothing', () => {
    const lma = new Lma();
    lma.send(MAG1, { seq: 1, hi: 1 });
    lma.send(MAG1, { seq: 2, lifetime: 0 });
    const again = lma.send(MAG1, { seq: 3, lifetime: 0 });
    expect(again.status).toBe(S.accepted);
    expect(again.actions).toEqual([]);
    expect(again.changes.put).toEqual([]);
    // the accepted de-registration's own sequence number again is no newer: 135, nothing changes
    const same = lma.send(MAG1, { seq: 2, lifetime: 0 });
    expect(same.status).toBe(S.sequenceOutOfWindow);
    expect(same.actions).toEqual([]);
    expect(same.changes.put).toEqual([]);
  });

  it('deletes at once with minDelayBeforeBceDeleteMs 0', () => {
    const lma = new Lma({ cfg: { minDelayBeforeBceDeleteMs: 0 } });
    lma.send(MAG1, { seq: 1, hi: 1 });
    const out = lma.send(MAG1, { seq: 2, lifetime: 0 });
    expect(out.events.map((e) => e.type)).toEqual(['binding-deleted']);
    expect(out.changes.del).toHaveLength(1);
    expect(lma.cache.size).toBe(0);
  });

  it('a de-registration without a binding is accepted', () => {
    const lma = new Lma();
    const out = lma.send(MAG1, { seq: 1, lifetime: 0 });
    expect(out.status).toBe(S.accepted);
    expect(out.note).toBe('de-registration without a binding');
  });

  it('race: a late de-registration from the old MAG after a handover leaves the new binding alone', () => {
    const lma = new Lma();
    const hnp = hnpsOf(lma.send(MAG1, { seq: 100, hi: 1 }).pba)[0]!;
    lma.send(MAG2, { seq: 200, hi: 3 });
    // the old MAG's de-registration, its sequence behind the entry's: accepted, and it changes nothing
    const stale = lma.send(MAG1, { seq: 101, lifetime: 0, hnps: [hnp] });
    expect(stale.status).toBe(S.accepted);
    expect(stale.actions).toEqual([]);
    expect(stale.changes.put).toEqual([]);
    // the same with a sequence ahead of the entry's
    const late = lma.send(MAG1, { seq: 201, lifetime: 0, hnps: [hnp] });
    expect(late.status).toBe(S.accepted);
    expect(late.actions).toEqual([]);
    expect(late.events).toEqual([]);
    expect(late.changes.put).toEqual([]);
    expect(late.note).toContain('late de-registration');
    expect(lma.only).toMatchObject({ state: 'active', pCoA: MAG2, seq: 200 });
    // the new MAG's next refresh is still in window
    expect(lma.send(MAG2, { seq: 201, hi: 5 }).status).toBe(S.accepted);
  });

  it('race with timestamps: the old MAG de-registering with an older timestamp is accepted, nothing changes', () => {
    const lma = new Lma({ cfg: { timestamps: true } });
    const hnp = hnpsOf(lma.send(MAG1, { seq: 1, hi: 1, ts: timestampAt(WALL0 - 20) }).pba)[0]!;
    lma.send(MAG2, { seq: 1, hi: 3, ts: timestampAt(WALL0) });
    const late = lma.send(MAG1, { seq: 2, lifetime: 0, hnps: [hnp], ts: timestampAt(WALL0 - 10) });
    expect(late.status).toBe(S.accepted);
    expect(late.actions).toEqual([]);
    expect(lma.only).toMatchObject({ state: 'active', pCoA: MAG2 });
  });

  it('an entry whose lifetime ends is deleted and its routes removed', () => {
    const lma = new Lma();
    const hnp = hnpsOf(lma.send(MAG1, { seq: 1, hi: 1, lifetime: 2 }).pba)[0];
    const key = bceKey(NAI, '02:70:6c:00:03:ee', 4);
    expect(expire(lma.cache, key, lma.nowMs + 7999)).toBeNull();
    const out = expire(lma.cache, key, lma.nowMs + 8000);
    expect(out?.reason).toBe('lifetime expired');
    expect(out?.actions).toEqual([{ op: 'unbind', hnp, mnId: NAI }]);
    expect(expire(lma.cache, key, lma.nowMs + 9000)).toBeNull();
  });
});
