import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BindingUpdateList } from '../../../nodes/mag/bul-list.js';
import { type AttachInfo, type BulEntry, type BulEvent, DEFAULT_TIMINGS, type Effect, seqNewer, type StepEnv, step } from '../../../nodes/mag/bul.js';

// The BUL state machine with fake timers: what goes on the wire when, what
// the kernel is told, and when an entry leaves the list.

const MN: AttachInfo = { mnId: 'mn1@x', llId: '02:00:00:00:00:aa', att: 4, iface: 'acc0', requestedHnps: [], hi: 1 };
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
    { timings, seqStart: () => 101 },
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
    expect(h.sends()).toEqual([{ kind: 'send', seq: 101, lifetimeS: 60, hi: 1, hnps: [], attempt: 1, dormant: false, atMs: 0 }]);
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
    expect(h.bul.pba({ seq: 102, status: 0, lifetimeS: 40, hnps: [HNP] })).toBe(true);
    const pba = h.kinds('pba');
    expect(pba).toEqual([{ kind: 'pba', seq: 102, status: 0, lifetimeS: 40, hnps: [HNP], rttUs: 150_000, atMs: 200 }]);
    expect(h.kinds('program')).toEqual([{ kind: 'program', hnp: HNP, iface: 'acc0', atMs: 200 }]);
    expect(h.kinds('advertise')).toEqual([{ kind: 'advertise', hnps: [HNP], withdrawn: [], iface: 'acc0', reason: 'attach', atMs: 200 }]);
    expect(h.bul.get(KEY)).toMatchObject({ state: 'bound', hnps: [HNP], lifetimeS: 40, routes: true });
    // no more retransmissions; a duplicate PBA is not an event
    vi.advanceTimersByTime(5000);
    expect(h.sends()).toHaveLength(3);
    expect(h.bul.pba({ seq: 103, status: 0, lifetimeS: 40, hnps: [HNP] })).toBe(false);
  });

  it('a PBA matching no outstanding PBU changes nothing', () => {
    const h = harness();
    h.bul.attach(MN);
    expect(h.bul.pba({ seq: 7, status: 0, lifetimeS: 40, hnps: [HNP] })).toBe(false);
    expect(h.bul.get(KEY)?.state).toBe('registering');
    expect(h.kinds('program')).toHaveLength(0);
  });

  it('a refusal ends the registration: registration-failed with the status, no routes, no RA', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 154, lifetimeS: 0, hnps: [] });
    expect(h.kinds('failed')).toEqual([{ kind: 'failed', reason: 'refused by the LMA (status 154)', status: 154, atMs: 0 }]);
    expect(h.kinds('program')).toHaveLength(0);
    expect(h.kinds('advertise')).toHaveLength(0);
    expect(h.bul.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('status 135 (sequence out of window): continues above the echoed number and resends at once', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 5000, status: 135, lifetimeS: 0, mnId: MN.mnId, llId: MN.llId, att: MN.att, hnps: [] });
    const s = h.sends();
    expect(s.map((x) => x.seq)).toEqual([101, 5001]);
    h.bul.pba({ seq: 5001, status: 0, lifetimeS: 60, hnps: [HNP] });
    expect(h.bul.get(KEY)?.state).toBe('bound');
  });

  it('135 echoing our own number (the old MAG de-registered with the same one) and 157 are answered by sending again at once', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 135, lifetimeS: 0, hnps: [] });
    expect(h.sends().map((x) => [x.seq, x.attempt, x.atMs])).toEqual([
      [101, 1, 0],
      [102, 2, 0],
    ]);
    h.bul.pba({ seq: 102, status: 157, lifetimeS: 0, hnps: [] });
    expect(h.sends().map((x) => x.seq)).toEqual([101, 102, 103]);
    expect(h.kinds('failed')).toHaveLength(0);
    // the retransmission timer starts over from the initial interval
    vi.advanceTimersByTime(49);
    expect(h.sends()).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(h.sends()).toHaveLength(4);
    h.bul.pba({ seq: 104, status: 0, lifetimeS: 60, hnps: [HNP] });
    expect(h.bul.get(KEY)?.state).toBe('bound');
    expect(h.kinds('pba').map((x) => (x as { status: number }).status)).toEqual([135, 157, 0]);
  });

  it('a 157 for no outstanding number is ignored', () => {
    const h = harness();
    h.bul.attach(MN);
    expect(h.bul.pba({ seq: 99, status: 157, lifetimeS: 0, hnps: [] })).toBe(false);
    expect(h.sends()).toHaveLength(1);
  });

  it('an accepted PBA without any prefix is a failure when the MAG asked for allocation', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [] });
    expect(h.kinds('failed')).toMatchObject([{ reason: 'PBA accepted without a home network prefix' }]);
    expect(h.bul.size).toBe(0);
  });

  it('a fixed prefix from the profile is sent as asked and used when the PBA omits it', () => {
    const h = harness();
    h.bul.attach({ ...MN, requestedHnps: [HNP] });
    expect(h.sends()[0]?.hnps).toEqual([HNP]);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [] });
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
    h.bul.pba({ seq: 101, status: 0, lifetimeS, hnps: [HNP] });
  }

  it('refreshes at 80% of the granted lifetime with HI 5 and the granted prefix; the accepted refresh re-advertises', () => {
    const h = harness();
    bound(h, 10);
    vi.advanceTimersByTime(7999);
    expect(h.sends()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(h.sends()[1]).toMatchObject({ seq: 102, hi: 5, hnps: [HNP], lifetimeS: 60, attempt: 1, atMs: 8000 });
    expect(h.bul.get(KEY)?.state).toBe('renewing');
    vi.advanceTimersByTime(10);
    h.bul.pba({ seq: 102, status: 0, lifetimeS: 10, hnps: [HNP] });
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
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 100, hnps: [HNP], refreshS: 3 });
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
    h.bul.pba({ seq: last.seq, status: 0, lifetimeS: 20, hnps: [HNP] });
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
    h.bul.pba({ seq: 102, status: 128, lifetimeS: 0, hnps: [] });
    expect(h.kinds('unprogram')).toHaveLength(1);
    expect(h.kinds('advertise').at(-1)).toMatchObject({ reason: 'deregistration' });
    expect(h.bul.size).toBe(0);
  });
});

describe('detach', () => {
  it('takes the routes out at once, de-registers (lifetime 0, HI 4) without an RA, and the entry goes on the PBA', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [HNP] });
    h.bul.detach(KEY);
    expect(h.log.at(-1)?.effects.filter((e) => e.kind === 'unprogram' || e.kind === 'send')).toEqual([
      { kind: 'unprogram', hnp: HNP, iface: 'acc0' },
      { kind: 'send', seq: 102, lifetimeS: 0, hi: 4, hnps: [HNP], attempt: 1, dormant: false },
    ]);
    expect(h.kinds('advertise')).toHaveLength(1); // only the attach one
    h.bul.pba({ seq: 102, status: 0, lifetimeS: 0, hnps: [] });
    expect(h.bul.size).toBe(0);
    expect(h.kinds('failed')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a de-registration answered 135 (the new MAG\'s PBU was newer) goes again above the echoed number', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [HNP] });
    h.bul.detach(KEY);
    h.bul.pba({ seq: 900, status: 135, lifetimeS: 0, mnId: MN.mnId, llId: MN.llId, att: MN.att, hnps: [] });
    expect(h.sends().map((x) => [x.seq, x.lifetimeS])).toEqual([
      [101, 60],
      [102, 0],
      [901, 0],
    ]);
    h.bul.pba({ seq: 901, status: 0, lifetimeS: 0, hnps: [] });
    expect(h.bul.size).toBe(0);
  });

  it('a de-registration nobody answers is sent 3 times, then the entry goes quietly', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [HNP] });
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
    expect(h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [HNP] })).toBe(false);
    expect(h.kinds('program')).toHaveLength(0);
  });

  it('an attach while de-registering (a flap) registers again with the granted prefix', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [HNP] });
    h.bul.detach(KEY);
    h.bul.attach({ ...MN, hi: 4 });
    expect(h.sends().at(-1)).toMatchObject({ lifetimeS: 60, hi: 4, hnps: [HNP], attempt: 1 });
    h.bul.pba({ seq: h.sends().at(-1)?.seq as number, status: 0, lifetimeS: 60, hnps: [HNP] });
    expect(h.bul.get(KEY)).toMatchObject({ state: 'bound', routes: true });
    expect(h.kinds('program')).toHaveLength(2);
  });

  it('moving to another access interface of the same MAG moves the routes without signaling', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [HNP] });
    h.bul.attach({ ...MN, iface: 'acc1' });
    expect(h.log.at(-1)?.effects).toEqual([
      { kind: 'unprogram', hnp: HNP, iface: 'acc0' },
      { kind: 'program', hnp: HNP, iface: 'acc1' },
      { kind: 'advertise', hnps: [HNP], withdrawn: [], iface: 'acc1', reason: 'attach' },
    ]);
    expect(h.sends()).toHaveLength(1);
  });
});

describe('sequence numbers (one counter per entry, RFC 6275 11.7.1)', () => {
  it('wrap at 2^16 and compare modulo 2^16', () => {
    const log: Effect[] = [];
    const bul = new BindingUpdateList({ timings: DEFAULT_TIMINGS, seqStart: () => 0xffff }, (_e, effects) => log.push(...effects), () => BigInt(Date.now()) * 1_000_000n);
    bul.attach(MN);
    vi.advanceTimersByTime(160);
    expect(log.filter((e) => e.kind === 'send').map((e) => (e as { seq: number }).seq)).toEqual([0xffff, 0, 1]);
    expect(seqNewer(1, 0xffff)).toBe(true);
    expect(seqNewer(0xffff, 1)).toBe(false);
  });

  it('a refresh 48 s after the previous PBU is one more than it (the clock-derived numbers of old read as older after 32 s)', () => {
    const h = harness();
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [HNP] });
    let prev = 101;
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(48_000);
      const r = h.sends().at(-1) as { seq: number; hi: number };
      expect(r.seq).toBe(prev + 1);
      expect(seqNewer(r.seq, prev)).toBe(true);
      expect(r.hi).toBe(5);
      h.bul.pba({ seq: r.seq, status: 0, lifetimeS: 60, hnps: [HNP] });
      expect(h.bul.get(KEY)?.state).toBe('bound');
      prev = r.seq;
    }
    expect(h.kinds('failed')).toHaveLength(0);
  });

  it('each entry counts on its own: another MN attaching in between does not take numbers from this binding', () => {
    let start = 1000;
    const log: Array<{ key: string; seq: number }> = [];
    const bul = new BindingUpdateList(
      { timings: DEFAULT_TIMINGS, seqStart: () => (start += 500) },
      (e, effects) => effects.forEach((x) => x.kind === 'send' && log.push({ key: e.key, seq: x.seq })),
      () => BigInt(Date.now()) * 1_000_000n,
    );
    bul.attach(MN);
    bul.attach({ ...MN, mnId: 'mn2@x', llId: '02:00:00:00:00:bb' });
    vi.advanceTimersByTime(60);
    expect(log.filter((l) => l.key === KEY).map((l) => l.seq)).toEqual([1500, 1501]);
    expect(log.filter((l) => l.key !== KEY).map((l) => l.seq)).toEqual([2000, 2001]);
  });

  it("a de-registration counts on from the entry's last number; a new entry (the MN back later) starts where seqStart says", () => {
    let start = 5000;
    const log: Effect[] = [];
    const bul = new BindingUpdateList({ timings: DEFAULT_TIMINGS, seqStart: () => start }, (_e, effects) => log.push(...effects), () => BigInt(Date.now()) * 1_000_000n);
    bul.attach(MN);
    bul.pba({ seq: 5000, status: 0, lifetimeS: 60, hnps: [HNP] });
    start = 7000;
    bul.detach(KEY);
    vi.advanceTimersByTime(60);
    bul.pba({ seq: 5002, status: 0, lifetimeS: 0, hnps: [] });
    expect(bul.size).toBe(0);
    bul.attach({ ...MN, hi: 3 });
    const sends = log.filter((e): e is Extract<Effect, { kind: 'send' }> => e.kind === 'send');
    expect(sends.map((x) => [x.seq, x.lifetimeS])).toEqual([
      [5000, 60],
      [5001, 0],
      [5002, 0],
      [7000, 60],
    ]);
  });

  it('a MAG restarted with a counter behind the LMA: 135 echoes the LMA\'s last number and the PBU goes again above it', () => {
    // a new process whose counter starts at 1 while the LMA holds 20000 for this binding
    const log: Effect[] = [];
    const bul = new BindingUpdateList({ timings: DEFAULT_TIMINGS, seqStart: () => 1 }, (_e, effects) => log.push(...effects), () => BigInt(Date.now()) * 1_000_000n);
    bul.attach({ ...MN, hi: 5 });
    expect(seqNewer(1, 20_000)).toBe(false);
    bul.pba({ seq: 20_000, status: 135, lifetimeS: 0, mnId: MN.mnId, llId: MN.llId, att: MN.att, hnps: [] });
    bul.pba({ seq: 20_001, status: 0, lifetimeS: 60, hnps: [HNP] });
    expect(log.filter((e) => e.kind === 'send').map((e) => (e as { seq: number }).seq)).toEqual([1, 20_001]);
    expect(bul.get(KEY)).toMatchObject({ state: 'bound', seq: 20_001, acceptedSeq: 20_001 });
    vi.advanceTimersByTime(48_000);
    expect((log.filter((e) => e.kind === 'send').at(-1) as { seq: number }).seq).toBe(20_002);
  });
});

describe('retries and RAs as timers of the state machine', () => {
  function harnessWith(env: Partial<StepEnv>) {
    const log: Array<{ atMs: number; effects: Effect[] }> = [];
    const t0 = Date.now();
    const bul = new BindingUpdateList(
      { timings: DEFAULT_TIMINGS, seqStart: () => 101, ...env },
      (_entry, effects) => log.push({ atMs: Date.now() - t0, effects }),
      () => BigInt(Date.now()) * 1_000_000n,
    );
    const all = () => log.flatMap((l) => l.effects.map((e) => ({ ...e, atMs: l.atMs })));
    const sends = () => all().filter((e): e is Extract<Effect, { kind: 'send' }> & { atMs: number } => e.kind === 'send');
    return { bul, all, sends };
  }

  it('a binding that ran out with no answer waits, then registers again with HI 5 (issue 18: it sent 3), the MN having never moved', () => {
    const h = harnessWith({ retryAfterMs: 5000 });
    h.bul.attach({ ...MN, hi: 3 });
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 20, hnps: [HNP] });
    vi.advanceTimersByTime(20_000); // refreshes unanswered, then expiry
    expect(h.bul.get(KEY)).toMatchObject({ state: 'waiting', routes: false, retryHi: 5 });
    expect(h.all().filter((e) => e.kind === 'failed')).toHaveLength(1);
    const before = h.sends().length;
    vi.advanceTimersByTime(5000);
    expect(h.sends().slice(before)[0]).toMatchObject({ hi: 5, lifetimeS: 60, attempt: 1, atMs: 25_000 });
    expect(h.bul.get(KEY)?.state).toBe('registering');
  });

  it('a first registration that never got a PBA retries with the indicator it was sent with; a detach while waiting just ends it', () => {
    const h = harnessWith({ retryAfterMs: 5000 });
    h.bul.attach(MN); // hi 1
    vi.advanceTimersByTime(9150);
    expect(h.bul.get(KEY)).toMatchObject({ state: 'waiting', retryHi: 1 });
    vi.advanceTimersByTime(5000);
    expect(h.sends().at(-1)).toMatchObject({ hi: 1, attempt: 1 });
    vi.advanceTimersByTime(9150);
    expect(h.bul.get(KEY)?.state).toBe('waiting');
    const n = h.sends().length;
    h.bul.detach(KEY);
    expect(h.bul.size).toBe(0);
    expect(h.sends()).toHaveLength(n); // nothing to de-register: the LMA never answered
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a refusal does not retry', () => {
    const h = harnessWith({ retryAfterMs: 5000 });
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 154, lifetimeS: 0, hnps: [] });
    expect(h.bul.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a bound entry advertises every raIntervalMs until its routes go', () => {
    const h = harnessWith({ raIntervalMs: () => 3000 });
    h.bul.attach(MN);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 600, hnps: [HNP] });
    vi.advanceTimersByTime(9000);
    const ras = () => h.all().filter((e) => e.kind === 'advertise') as Array<{ reason: string; atMs: number }>;
    expect(ras().map((r) => [r.reason, r.atMs])).toEqual([
      ['attach', 0],
      ['periodic', 3000],
      ['periodic', 6000],
      ['periodic', 9000],
    ]);
    h.bul.detach(KEY);
    vi.advanceTimersByTime(9000);
    expect(ras()).toHaveLength(4);
  });
});

describe('sessions with several prefixes, re-registration, dormant (seed 001)', () => {
  const P2 = '2001:db8:a:2::/64';
  it('names every requested prefix, programs each granted one, and advertises them in one RA', () => {
    const h = harness();
    h.bul.attach({ ...MN, requestedHnps: [HNP, P2] });
    expect(h.sends()[0]).toMatchObject({ hnps: [HNP, P2] });
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [HNP, P2] });
    expect(h.kinds('program').map((x) => (x as { hnp: string }).hnp)).toEqual([HNP, P2]);
    expect(h.kinds('advertise')).toMatchObject([{ hnps: [HNP, P2], withdrawn: [], reason: 'attach' }]);
  });

  it('an Update Notification re-registers at once with HI 5 (all-zero: the PBA says what is kept); prefixes the PBA no longer lists are unprogrammed and withdrawn', () => {
    const h = harness();
    h.bul.attach({ ...MN, requestedHnps: [] });
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [HNP, P2] });
    expect(h.bul.reregister(KEY, 5, [])).toBe(true);
    expect(h.sends().at(-1)).toMatchObject({ seq: 102, hi: 5, hnps: [], lifetimeS: 60 });
    expect(h.bul.get(KEY)?.state).toBe('renewing');
    h.bul.pba({ seq: 102, status: 0, lifetimeS: 60, hnps: [HNP] });
    expect(h.kinds('unprogram')).toMatchObject([{ hnp: P2, iface: 'acc0' }]);
    expect(h.kinds('advertise').at(-1)).toMatchObject({ hnps: [HNP], withdrawn: [P2], reason: 'attach' });
    expect(h.bul.get(KEY)).toMatchObject({ state: 'bound', hnps: [HNP], routes: true });
    expect(h.bul.reregister('no|such|0', 5)).toBe(false);
  });

  it('an interface handover (HI 2) names the prefixes to take over and programs the ones the PBA grants', () => {
    const h = harness();
    h.bul.attach({ ...MN, requestedHnps: [] });
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [HNP] });
    h.bul.reregister(KEY, 2, [HNP, P2]);
    expect(h.sends().at(-1)).toMatchObject({ hi: 2, hnps: [HNP, P2] });
    h.bul.pba({ seq: 102, status: 0, lifetimeS: 60, hnps: [HNP, P2] });
    expect(h.kinds('program').map((x) => (x as { hnp: string }).hnp)).toEqual([HNP, P2]);
    expect(h.kinds('unprogram')).toEqual([]);
  });

  it('a refused interface handover (HI 2: 128 or 155) keeps the session bound as it was: no unprogram, no RA, timers kept', () => {
    const h = harness();
    h.bul.attach({ ...MN, requestedHnps: [] });
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [HNP] });
    const expires = h.bul.get(KEY)?.expiresNs;
    const advertised = h.kinds('advertise').length;
    h.bul.reregister(KEY, 2, [HNP, P2]);
    h.bul.pba({ seq: 102, status: 155, lifetimeS: 0, hnps: [] });
    expect(h.bul.get(KEY)).toMatchObject({ state: 'bound', hnps: [HNP], routes: true, expiresNs: expires });
    expect(h.kinds('unprogram')).toEqual([]);
    expect(h.kinds('advertise')).toHaveLength(advertised);
    expect(h.kinds('failed')).toEqual([]);
    expect(h.kinds('pba').at(-1)).toMatchObject({ seq: 102, status: 155 });
    // the refresh still comes, with the next sequence number
    vi.advanceTimersByTime(59_000);
    expect(h.sends().find((x) => x.seq === 103)).toMatchObject({ hi: 5, hnps: [HNP], attempt: 1 });
    // a refused refresh (not HI 2) still loses the binding
    h.bul.pba({ seq: 103, status: 128, lifetimeS: 0, hnps: [] });
    expect(h.kinds('unprogram')).toMatchObject([{ hnp: HNP }]);
  });

  it('two interfaces of one MN on one MAG are two entries with their own access interfaces and sequence numbers', () => {
    const h = harness();
    const other = { ...MN, llId: '02:00:00:00:00:bb', att: 3, iface: 'acc1' };
    h.bul.attach(MN);
    h.bul.attach(other);
    expect(h.bul.size).toBe(2);
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [HNP], mnId: MN.mnId, llId: MN.llId, att: MN.att });
    h.bul.pba({ seq: 101, status: 0, lifetimeS: 60, hnps: [P2], mnId: other.mnId, llId: other.llId, att: other.att });
    expect(h.kinds('program')).toMatchObject([
      { hnp: HNP, iface: 'acc0' },
      { hnp: P2, iface: 'acc1' },
    ]);
    expect(h.bul.get('mn1@x|02:00:00:00:00:bb|3')).toMatchObject({ state: 'bound', iface: 'acc1', hnps: [P2] });
  });

  it('a dormant binding says so in every PBU it sends', () => {
    const h = harness();
    h.bul.attach({ ...MN, requestedHnps: [HNP], dormant: true });
    vi.advanceTimersByTime(60);
    expect(h.sends().map((x) => x.dormant)).toEqual([true, true]);
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
      both: fc.boolean(),
    }),
    fc.record({ type: fc.constant('timer' as const), timer: fc.constantFrom('retransmit' as const, 'refresh' as const, 'expire' as const, 'ra' as const, 'retry' as const) }),
    fc.record({ type: fc.constant('reregister' as const), hi: fc.constantFrom(2, 5), hnps: fc.option(fc.subarray([HNP, '2001:db8:a:2::/64']), { nil: undefined }) }),
  );

  it('never throws, and the kernel is programmed exactly while an entry holds routes', () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 40 }), (events) => {
        const env = { timings: DEFAULT_TIMINGS, seqStart: () => 1, retryAfterMs: 5000, raIntervalMs: () => 3000 };
        let entry: BulEntry | undefined;
        const programmed = new Map<string, number>(); // hnp|iface -> count
        let now = 0n;
        for (const e of events) {
          now += 1_000_000n;
          let ev: BulEvent;
          if (e.type === 'attach') ev = { type: 'attach', info: { ...MN, iface: e.iface, hi: e.hi }, nowNs: now };
          else if (e.type === 'detach') ev = { type: 'detach', nowNs: now };
          else if (e.type === 'timer') ev = { type: 'timer', timer: e.timer, nowNs: now };
          else if (e.type === 'reregister') ev = e.hnps ? { type: 'reregister', hi: e.hi, hnps: e.hnps, nowNs: now } : { type: 'reregister', hi: e.hi, nowNs: now };
          else {
            const tx = entry?.pending?.tx ?? [];
            const seq = tx[Math.max(0, tx.length - 1 - e.back)]?.seq ?? 999;
            ev = { type: 'pba', seq, status: e.status, lifetimeS: e.lifetimeS, nowNs: now, hnps: e.hnp ? (e.both ? [e.hnp, '2001:db8:a:9::/64'] : [e.hnp]) : [] };
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
            expect(live.map(([k]) => k).sort()).toEqual(entry.hnps.map((h) => `${h}|${entry?.iface}`).sort());
            expect(['bound', 'renewing']).toContain(entry.state);
          } else {
            expect(live).toEqual([]);
          }
          if (entry && entry.state !== 'bound' && entry.state !== 'waiting') expect(entry.pending).toBeDefined();
          if (entry?.state === 'waiting') expect(entry.routes).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
