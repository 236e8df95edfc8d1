import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BindingUpdateList } from '../../../nodes/mag/bul-list.js';
import { type AttachInfo, type BulEntry, type BulEvent, DEFAULT_TIMINGS, type Effect, SeqCounter, seqNewer, step } from '../../../nodes/mag/bul.js';

// The BUL state machine with fake timers: what goes on the wire when, what
// the kernel is told, and when an entry leaves the list.

const MN: AttachInfo = { mnId: 'mn1@x', llId: '02:00:00:00:00:aa', att: 4, iface: 'acc0', requestedHnp: '::/0', hi: 1 };
const KEY = 'mn1@x|02:00:00:00:00:aa|4';
const HNP = '2001:db8:a:1::/64';

interface Logged {
  atMs: number;
  state: string | undefined;
  effects: Effect[];
}

function harness(timings = DEFAULT_TIMINGS) {
  const log: Logged[] = [];
  const t0 = Date.now();
  const bul = new BindingUpdateList(
    { timings, seq: new SeqCounter(100) },
    (entry, effects) => log.push({ atMs: Date.now() - t0, state: bul.get(entry.key)?.state, effects }),
    () => BigInt(Date.now()) * 1_000_000n,
  );
  const all = () => log.flatMap((l) => l.effects.map((e) => ({ ...e, atMs: l.atMs })));
  const sends = () => all().filter((e): e is Extract<Effect, { kind: 'send' }> & { atMs: number } => e.kind === 'send');
  const kinds = (k: Effect['kind']) => all().filter((e) => e.kind === k);
  return { bul, log, all, sends, kinds };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('first registration', () => {
  it('sends a PBU at once and retransmits with doubling intervals, a new sequence number each time, then gives up', () => {
    const h = harness();
    h.bul.attach(MN);
    expect(h.sends()).toEqual([{ kind: 'send', seq: 101, lifetimeS: 60, hi: 1, hnp: '::/0', attempt: 1, atMs: 0 }]);
    vi.advanceTimersByTime(20_000);
    const s = h.sends();
    expect(s.map((x) => x.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(s.map((x) => x.atMs)).toEqual([0, 50, 150, 350, 750, 1550, 3150, 6150]);
    expect(s.map((x) => x.seq)).toEqual([101, 102, 103, 104, 105, 106, 107, 108]);
    const failed = h.kinds('failed');
    expect(failed).toEqual([{ kind: 'failed', reason: 'no PBA after 8 transmissions', atMs: 9150 }]);
    expect(h.kinds('removed')).toHaveLength(1);
    expect(h.kinds('program')).toHaveLength(0);
    expect(h.bul.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('accepts a late PBA for an earlier transmission, programs the kernel, advertises, reports the RTT of that transmission', () => {
    const h = harness();
    h.bul.attach(MN);
    vi.advanceTimersByTime(160); // three transmissions: seq 101 at 0, 102 at 50, 103 at 150
    vi.advanceTimersByTime(40);
    expect(h.bul.pba({ seq: 102, status: 0, lifetimeS: 40, hnp: HNP })).toBe(true);
    const pba = h.kinds('pba');
    expect(pba).toEqual([{ kind: 'pba', seq: 102, status: 0, lifetimeS: 40, hnp: HNP, rttUs: 150_000, atMs: 200 }]);
    expect(h.kinds('program')).toEqual([{ kind: 'program', hnp: HNP, iface: 'acc0', atMs: 200 }]);
    expect(h.kinds('advertise')).toEqual([{ kind: 'advertise', hnp: HNP, iface: 'acc0', reason: 'attach', atMs: 200 }]);
    expect(h.bul.get(KEY)).toMatchObject({ state: 'bound', hnp: HNP, lifetimeS: 40, routes: true });
    // no more retransmissions; a duplicate PBA is not an event
    vi.advanceTimersByTime(5000);
    expect(h.sends()).toHaveLength(3);
    expect(h.bul.pba({ seq: 103, status: 0, lifetimeS: 40, hnp: HNP })).toBe(false);
  });

  it('a PBA matching no outstanding PBU changes nothing', () => {
    const h = harness();
    h.bul.attach(MN);
    expect(h.bul.pba({ seq: 7, status: 0, lifetimeS: 40, hnp: HNP })).toBe(false);
    expect(h.bul.get(KEY)?.state).toBe('registering');
    expect(h.kinds('program')).toHaveLength(0);
  });

  it('a refusal ends the registration: registration-failed with the status, no routes, no RA', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 154, lifetimeS: 0 });
    expect(h.kinds('failed')).toEqual([{ kind: 'failed', reason: 'refused by the LMA (status 154)', status: 154, atMs: 0 }]);
    expect(h.kinds('program')).toHaveLength(0);
    expect(h.kinds('advertise')).toHaveLength(0);
    expect(h.bul.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('status 135 (sequence out of window): continues above the echoed number and resends at once', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 5000, status: 135, lifetimeS: 0, mnId: MN.mnId, llId: MN.llId, att: MN.att });
    const s = h.sends();
    expect(s.map((x) => x.seq)).toEqual([101, 5001]);
    h.bul.pba({ seq: 5001, status: 0, lifetimeS: 60, hnp: HNP });
    expect(h.bul.get(KEY)?.state).toBe('bound');
  });

  it('135 echoing our own number (the old MAG de-registered with the same one) and 157 are answered by sending again at once', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 135, lifetimeS: 0 });
    expect(h.sends().map((x) => [x.seq, x.attempt, x.atMs])).toEqual([
      [101, 1, 0],
      [102, 2, 0],
    ]);
    h.bul.pba({ seq: 102, status: 157, lifetimeS: 0 });
    expect(h.sends().map((x) => x.seq)).toEqual([101, 102, 103]);
    expect(h.kinds('failed')).toHaveLength(0);
    // the retransmission timer starts over from the initial interval
    vi.advanceTimersByTime(49);
    expect(h.sends()).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(h.sends()).toHaveLength(4);
    h.bul.pba({ seq: 104, status: 0, lifetimeS: 60, hnp: HNP });
    expect(h.bul.get(KEY)?.state).toBe('bound');
    expect(h.kinds('pba').map((x) => (x as { status: number }).status)).toEqual([135, 157, 0]);
  });

  it('a 157 for no outstanding number is ignored', () => {
    const h = harness();
    h.bul.attach(MN);
    expect(h.bul.pba({ seq: 99, status: 157, lifetimeS: 0 })).toBe(false);
    expect(h.sends()).toHaveLength(1);
  });

  it('an accepted PBA without any prefix is a failure when the MAG asked for allocation', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60 });
    expect(h.kinds('failed')).toMatchObject([{ reason: 'PBA accepted without a home network prefix' }]);
    expect(h.bul.size).toBe(0);
  });

  it('a fixed prefix from the profile is sent as asked and used when the PBA omits it', () => {
    const h = harness();
    h.bul.attach({ ...MN, requestedHnp: HNP });
    expect(h.sends()[0]?.hnp).toBe(HNP);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60 });
    expect(h.kinds('program')).toMatchObject([{ hnp: HNP }]);
  });

  it('a second attach while registering sends nothing more', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.attach({ ...MN, hi: 4 });
    expect(h.sends()).toHaveLength(1);
    expect(h.kinds('ignored')).toHaveLength(1);
  });
});

describe('refresh and expiry', () => {
  function bound(h: ReturnType<typeof harness>, lifetimeS = 10) {
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS, hnp: HNP });
  }

  it('refreshes at 80% of the granted lifetime with HI 5 and the granted prefix; the accepted refresh re-advertises', () => {
    const h = harness();
    bound(h, 10);
    vi.advanceTimersByTime(7999);
    expect(h.sends()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(h.sends()[1]).toMatchObject({ seq: 102, hi: 5, hnp: HNP, lifetimeS: 60, attempt: 1, atMs: 8000 });
    expect(h.bul.get(KEY)?.state).toBe('renewing');
    vi.advanceTimersByTime(10);
    h.bul.pba({ seq: 102, status: 0, lifetimeS: 10, hnp: HNP });
    expect(h.bul.get(KEY)?.state).toBe('bound');
    expect(h.kinds('program')).toHaveLength(1); // routes stayed
    expect(h.kinds('advertise').map((a) => (a as { reason: string }).reason)).toEqual(['attach', 'periodic']);
    // next refresh 8 s after the refresh was sent
    vi.advanceTimersByTime(7989);
    expect(h.sends()).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(h.sends()).toHaveLength(3);
  });

  it('refreshes earlier on a Binding Refresh Advice', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 100, hnp: HNP, refreshS: 3 });
    vi.advanceTimersByTime(3000);
    expect(h.sends()).toHaveLength(2);
  });

  it('keeps retransmitting a refresh past the registration limit (LMA restarting) until the lifetime runs out, then loses the binding', () => {
    const h = harness();
    bound(h, 20); // refresh at 16 s, expiry at 20 s
    vi.advanceTimersByTime(16_000 + 3_999);
    const refreshes = h.sends().slice(1);
    expect(refreshes.map((s) => s.atMs - 16_000)).toEqual([0, 50, 150, 350, 750, 1550, 3150]);
    expect(h.bul.get(KEY)?.state).toBe('renewing');
    // an LMA that comes back in time: nothing visible beyond the refresh
    const last = refreshes[refreshes.length - 1] as { seq: number };
    h.bul.pba({ seq: last.seq, status: 0, lifetimeS: 20, hnp: HNP });
    expect(h.bul.get(KEY)?.state).toBe('bound');
    expect(h.kinds('failed')).toHaveLength(0);
    expect(h.kinds('unprogram')).toHaveLength(0);
  });

  it('an expired binding takes its routes out, deprecates the prefix and leaves the list', () => {
    const h = harness();
    bound(h, 20);
    vi.advanceTimersByTime(20_000);
    expect(h.kinds('unprogram')).toEqual([{ kind: 'unprogram', hnp: HNP, iface: 'acc0', atMs: 20_000 }]);
    expect(h.kinds('advertise').at(-1)).toMatchObject({ reason: 'deregistration', atMs: 20_000 });
    expect(h.kinds('failed')).toMatchObject([{ reason: 'binding lifetime ran out without an accepted refresh' }]);
    expect(h.bul.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a refused refresh loses the binding at once', () => {
    const h = harness();
    bound(h, 10);
    vi.advanceTimersByTime(8000);
    h.bul.pba({ seq: 102, status: 128, lifetimeS: 0 });
    expect(h.kinds('unprogram')).toHaveLength(1);
    expect(h.kinds('advertise').at(-1)).toMatchObject({ reason: 'deregistration' });
    expect(h.bul.size).toBe(0);
  });
});

describe('detach', () => {
  it('takes the routes out at once, de-registers (lifetime 0, HI 4) without an RA, and the entry goes on the PBA', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnp: HNP });
    h.bul.detach(KEY);
    expect(h.log.at(-1)?.effects.filter((e) => e.kind === 'unprogram' || e.kind === 'send')).toEqual([
      { kind: 'unprogram', hnp: HNP, iface: 'acc0' },
      { kind: 'send', seq: 102, lifetimeS: 0, hi: 4, hnp: HNP, attempt: 1 },
    ]);
    expect(h.kinds('advertise')).toHaveLength(1); // only the attach one
    h.bul.pba({ seq: 102, status: 0, lifetimeS: 0 });
    expect(h.bul.size).toBe(0);
    expect(h.kinds('failed')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a de-registration answered 135 (the new MAG\'s PBU was newer) goes again above the echoed number', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnp: HNP });
    h.bul.detach(KEY);
    h.bul.pba({ seq: 900, status: 135, lifetimeS: 0, mnId: MN.mnId, llId: MN.llId, att: MN.att });
    expect(h.sends().map((x) => [x.seq, x.lifetimeS])).toEqual([
      [101, 60],
      [102, 0],
      [901, 0],
    ]);
    h.bul.pba({ seq: 901, status: 0, lifetimeS: 0 });
    expect(h.bul.size).toBe(0);
  });

  it('a de-registration nobody answers is sent 3 times, then the entry goes quietly', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnp: HNP });
    h.bul.detach(KEY);
    vi.advanceTimersByTime(10_000);
    expect(h.sends().filter((s) => s.lifetimeS === 0).map((s) => s.atMs)).toEqual([0, 50, 150]);
    expect(h.bul.size).toBe(0);
    expect(h.kinds('failed')).toHaveLength(0);
  });

  it('a detach while registering de-registers too (the LMA may have bound it already)', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.detach(KEY);
    expect(h.sends().map((s) => s.lifetimeS)).toEqual([60, 0]);
    // the PBA of the registration arriving late does not program anything
    expect(h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnp: HNP })).toBe(false);
    expect(h.kinds('program')).toHaveLength(0);
  });

  it('an attach while de-registering (a flap) registers again with the granted prefix', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnp: HNP });
    h.bul.detach(KEY);
    h.bul.attach({ ...MN, hi: 4 });
    expect(h.sends().at(-1)).toMatchObject({ lifetimeS: 60, hi: 4, hnp: HNP, attempt: 1 });
    h.bul.pba({ seq: h.sends().at(-1)?.seq as number, status: 0, lifetimeS: 60, hnp: HNP });
    expect(h.bul.get(KEY)).toMatchObject({ state: 'bound', routes: true });
    expect(h.kinds('program')).toHaveLength(2);
  });

  it('moving to another access interface of the same MAG moves the routes without signaling', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnp: HNP });
    h.bul.attach({ ...MN, iface: 'acc1' });
    expect(h.log.at(-1)?.effects).toEqual([
      { kind: 'unprogram', hnp: HNP, iface: 'acc0' },
      { kind: 'program', hnp: HNP, iface: 'acc1' },
      { kind: 'advertise', hnp: HNP, iface: 'acc1', reason: 'attach' },
    ]);
    expect(h.sends()).toHaveLength(1);
  });
});

describe('sequence numbers', () => {
  it('wrap at 2^16 and compare modulo 2^16', () => {
    const s = new SeqCounter(0xfffe);
    expect([s.next(), s.next(), s.next()]).toEqual([0xffff, 0, 1]);
    expect(seqNewer(1, 0xffff)).toBe(true);
    expect(seqNewer(0xffff, 1)).toBe(false);
    s.skipPast(0x7000);
    expect(s.next()).toBe(0x7001);
    s.skipPast(5); // what the LMA says it accepted last wins, even when it reads as older
    expect(s.next()).toBe(6);
  });

  it('follow a shared clock, count on within a tick, and let the clock win over a stale number', () => {
    let t = 1000;
    const s = new SeqCounter(0, () => t, 100);
    expect(s.next()).toBe(1000);
    expect(s.next()).toBe(1001); // same tick: count on
    expect(s.next()).toBe(1002);
    t = 1500;
    expect(s.next()).toBe(1500);
    t = 1500 + 40_000; // 2^15 ticks and more later: modulo 2^16 the clock reads as older, but our number is stale
    expect(s.next()).toBe((1500 + 40_000) & 0xffff);
    t = 70_000; // wraps
    expect(s.next()).toBe(70_000 & 0xffff);
    s.skipPast(70_000 + 20_000); // 135 echoing a number 'older' than the clock by 2^15+: still the one after it
    expect(s.next()).toBe((90_001) & 0xffff);
  });

  it("a de-registration counts on from the binding's last accepted number, not from the clock", () => {
    let t = 5000;
    const log: Effect[] = [];
    const bul = new BindingUpdateList({ timings: DEFAULT_TIMINGS, seq: new SeqCounter(0, () => t) }, (_e, effects) => log.push(...effects), () => BigInt(Date.now()) * 1_000_000n);
    bul.attach(MN);
    bul.pba({ seq: 5000, status: 0, lifetimeS: 60, hnp: HNP });
    t = 7000;
    bul.detach(KEY);
    vi.advanceTimersByTime(60);
    const sends = log.filter((e): e is Extract<Effect, { kind: 'send' }> => e.kind === 'send');
    expect(sends.map((x) => [x.seq, x.lifetimeS])).toEqual([
      [5000, 60],
      [5001, 0],
      [5002, 0],
    ]);
    // the new MAG's PBU of the same moment, from the clock, is newer than both
    expect(seqNewer(7000, 5002)).toBe(true);
  });
});

describe('any event in any order', () => {
  const arbEvent = fc.oneof(
    fc.record({ type: fc.constant('attach' as const), iface: fc.constantFrom('acc0', 'acc1'), hi: fc.constantFrom(1, 3, 4) }),
    fc.record({ type: fc.constant('detach' as const) }),
    fc.record({
      type: fc.constant('pba' as const),
      back: fc.nat(3),
      status: fc.constantFrom(0, 0, 0, 128, 135, 154),
      lifetimeS: fc.constantFrom(0, 4, 60),
      hnp: fc.option(fc.constantFrom(HNP, '2001:db8:a:2::/64'), { nil: undefined }),
    }),
    fc.record({ type: fc.constant('timer' as const), timer: fc.constantFrom('retransmit' as const, 'refresh' as const, 'expire' as const) }),
  );

  it('never throws, and the kernel is programmed exactly while an entry holds routes', () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 40 }), (events) => {
        const env = { timings: DEFAULT_TIMINGS, seq: new SeqCounter(0) };
        let entry: BulEntry | undefined;
        const programmed = new Map<string, number>(); // hnp|iface -> count
        let now = 0n;
        for (const e of events) {
          now += 1_000_000n;
          let ev: BulEvent;
          if (e.type === 'attach') ev = { type: 'attach', info: { ...MN, iface: e.iface, hi: e.hi }, nowNs: now };
          else if (e.type === 'detach') ev = { type: 'detach', nowNs: now };
          else if (e.type === 'timer') ev = { type: 'timer', timer: e.timer, nowNs: now };
          else {
            const tx = entry?.pending?.tx ?? [];
            const seq = tx[Math.max(0, tx.length - 1 - e.back)]?.seq ?? 999;
            ev = { type: 'pba', seq, status: e.status, lifetimeS: e.lifetimeS, nowNs: now, ...(e.hnp ? { hnp: e.hnp } : {}) };
          }
          const r = step(entry, ev, env);
          for (const eff of r.effects) {
            if (eff.kind === 'program') programmed.set(`${eff.hnp}|${eff.iface}`, (programmed.get(`${eff.hnp}|${eff.iface}`) ?? 0) + 1);
            if (eff.kind === 'unprogram') programmed.set(`${eff.hnp}|${eff.iface}`, (programmed.get(`${eff.hnp}|${eff.iface}`) ?? 0) - 1);
          }
          entry = r.entry;
          const live = [...programmed.entries()].filter(([, n]) => n !== 0);
          for (const [, n] of live) expect(n).toBe(1);
          if (entry?.routes) {
            expect(live.map(([k]) => k)).toEqual([`${entry.hnp}|${entry.iface}`]);
            expect(['bound', 'renewing']).toContain(entry.state);
          } else {
            expect(live).toEqual([]);
          }
          if (entry && entry.state !== 'bound') expect(entry.pending).toBeDefined();
        }
      }),
      { numRuns: 2000 },
    );
  });
});
