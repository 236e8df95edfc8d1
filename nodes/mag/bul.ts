// The MAG's Binding Update List (RFC 5213 6.1), one entry per MN attachment
// (MN-ID + MN-LL-ID + ATT), as a pure state machine: step(entry, event)
// returns the entry's next state and the effects to perform (send a PBU, arm
// or cancel a timer, program the kernel, advertise, report), as data. The
// role performs them; tests drive it with fake clocks and no I/O.
//
// An entry is one mobility session: its own access interface, sequence
// counter (RFC 6275 11.7.1), prefixes (one HNP option each), routes and RAs.
//
// States: registering (first PBU outstanding), bound, renewing (refresh or
// re-registration PBU outstanding, routes stay), deregistering (lifetime-0
// PBU outstanding, routes already gone), waiting (no PBA came at all: the
// retry timer registers again while the MN stays). An entry leaves the list
// with a `removed` effect. Periodic RAs (timer ra) and retries (timer retry)
// are timers of the entry like retransmissions.
//
// Retransmission (RFC 6275 11.8 as used by RFC 5213 6.9.4): every
// retransmission carries a new sequence number, the interval doubles from
// retransmitInitialMs up to retransmitMaxMs. A first registration gives up
// after registrationAttempts transmissions; a refresh keeps trying until the
// granted lifetime runs out (the binding is still valid until then, e.g.
// while an LMA restarts); a de-registration is sent deregistrationAttempts
// times at most and the entry goes whether or not a PBA came.

import { HANDOFF_INDICATOR, PBA_STATUS } from '../protocol/numbers.js';

export interface BulTimings {
  /** first retransmission timeout (RFC 6275's InitialBindackTimeoutFirstReg is 1 s: far above emulated round trips) */
  retransmitInitialMs: number;
  /** cap of the doubling interval (RFC 6275 MAX_BINDACK_TIMEOUT is 32 s) */
  retransmitMaxMs: number;
  /** transmissions of a first registration before registration-failed */
  registrationAttempts: number;
  /** transmissions of a de-registration before the entry goes anyway */
  deregistrationAttempts: number;
  /** lifetime asked for in every registration and refresh, seconds */
  lifetimeS: number;
  /** refresh when this share of the granted lifetime has passed (or earlier on a Binding Refresh Advice) */
  refreshAt: number;
}

export const DEFAULT_TIMINGS: BulTimings = {
  retransmitInitialMs: 50,
  retransmitMaxMs: 3000,
  registrationAttempts: 8, // 50+100+...+3000: gives up after about 9 s
  deregistrationAttempts: 3,
  lifetimeS: 60,
  refreshAt: 0.8,
};

export type BulState = 'registering' | 'bound' | 'renewing' | 'deregistering' | 'waiting';
/**
 * retransmit, refresh and expire run the binding; ra is the next unsolicited
 * RA while the entry holds routes (RFC 4861 6.2.4, every MinRtrAdvInterval..
 * MaxRtrAdvInterval); retry is the next registration of an entry that got no
 * PBA at all (state waiting) while its MN stays attached.
 */
export type TimerName = 'retransmit' | 'refresh' | 'expire' | 'ra' | 'retry';

/** One outstanding PBU and its retransmissions. */
export interface Pending {
  lifetimeS: number; // 0 = de-registration
  hi: number;
  /** CIDRs sent in HNP options ([] = one all-zero option: the LMA allocates or, with HI 2, moves the other interface's) */
  hnps: string[];
  attempt: number; // transmissions so far
  backoffMs: number; // wait after the last transmission
  tx: Array<{ seq: number; ns: bigint }>; // the sequence numbers sent for this request (newest last)
}

export interface BulEntry {
  readonly key: string;
  readonly mnId: string;
  readonly llId: string; // hex octets with ':'
  readonly att: number;
  iface: string; // access interface the MN is on
  state: BulState;
  /** what a first registration asks for: the interface's fixed (or shared) prefixes; [] = all-zero */
  requestedHnps: string[];
  /** granted by the LMA (CIDRs), once a PBA accepted them; [] before */
  hnps: string[];
  /** a dormant binding (seed 001 appendix D): every PBU carries the dormant Vendor-Specific option */
  dormant: boolean;
  /** RFC 5648 Binding Identifier (combinePbu) */
  bid?: number;
  /** granted lifetime, seconds (0 until accepted) */
  lifetimeS: number;
  /** when the granted lifetime runs out (CLOCK_MONOTONIC ns), when bound or renewing */
  expiresNs?: bigint;
  /** the kernel forwards the prefix (uplink + downlink installed) */
  routes: boolean;
  /** sequence number of the last PBU the LMA accepted for this entry */
  acceptedSeq?: number;
  /** the Handoff Indicator a retry registers with (state waiting) */
  retryHi?: number;
  /** sequence number of the last PBU sent for this entry (RFC 6275 11.7.1: the next one is greater, modulo 2^16) */
  seq: number;
  pending?: Pending;
}

export interface AttachInfo {
  mnId: string;
  llId: string;
  att: number;
  iface: string;
  requestedHnps: string[];
  hi: number;
  dormant?: boolean;
  /** RFC 5648 Binding Identifier of the session (combinePbu), carried by every PBU of it */
  bid?: number;
}

export type BulEvent =
  | { type: 'attach'; info: AttachInfo; nowNs: bigint }
  | { type: 'detach'; nowNs: bigint }
  | {
      type: 'pba';
      seq: number;
      status: number;
      lifetimeS: number;
      hnps: string[]; // CIDRs of the PBA's HNP options (all-zero ones left out)
      refreshS?: number; // Binding Refresh Advice
      nowNs: bigint;
    }
  | { type: 'timer'; timer: TimerName; nowNs: bigint }
  /**
   * Register the bound session again now: an Update Notification from the
   * LMA (RFC 7077: HI 5, the prefixes held), or a scenario command (HI 2
   * with the named or all-zero prefixes: seed 001 section 2.2)
   */
  | { type: 'reregister'; hi: number; hnps?: string[]; nowNs: bigint };

export type RaReason = 'attach' | 'periodic' | 'deregistration';

export type Effect =
  | { kind: 'send'; seq: number; lifetimeS: number; hi: number; hnps: string[]; attempt: number; dormant: boolean; bid?: number }
  | { kind: 'arm'; timer: TimerName; ms: number }
  | { kind: 'cancel'; timer: TimerName }
  | { kind: 'program'; hnp: string; iface: string }
  | { kind: 'unprogram'; hnp: string; iface: string }
  /** one RA with these prefixes (deregistration: at preferred lifetime 0), and those no longer the MN's at lifetime 0 */
  | { kind: 'advertise'; hnps: string[]; withdrawn: string[]; iface: string; reason: RaReason }
  /** a PBA matched an outstanding PBU (the pba-received event) */
  | { kind: 'pba'; seq: number; status: number; lifetimeS: number; hnps: string[]; rttUs: number }
  | { kind: 'failed'; reason: string; status?: number }
  | { kind: 'removed' }
  | { kind: 'ignored'; why: string };

export interface StepResult {
  entry: BulEntry | undefined; // undefined = the entry left the list
  effects: Effect[];
}

/**
 * Where a new entry's sequence numbers start (RFC 6275 11.7.1 leaves the
 * first value free; after it, each PBU for the binding is one more, modulo
 * 2^16, than the last one sent for it, whatever the time between them).
 * The role starts them from CLOCK_MONOTONIC in ms, so an entry created later
 * (a handover to this MAG, an MN coming back to a MAG that served it before,
 * a MAG restarted: the clock is the system's, not the process's) most likely
 * starts above what the LMA holds for a binding younger than 2^15 ms; when it
 * does not, the LMA answers 135 with the last number it accepted and the
 * entry continues from that one (RFC 5213 6.9.1.2), one round trip later.
 */
export type SeqStart = () => number;

/** RFC 6275 9.5.1: a is newer than b when less than 2^15 ahead, modulo 2^16. */
export function seqNewer(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}

export function entryKey(mnId: string, llId: string, att: number): string {
  return `${mnId}|${llId.toLowerCase()}|${att}`;
}

export interface StepEnv {
  timings: BulTimings;
  /** the sequence number of a new entry's first PBU */
  seqStart: SeqStart;
  /** the wait before the next unsolicited RA (jittered by the caller); absent or 0 = none */
  raIntervalMs?: () => number;
  /** a registration that got no PBA is tried again after this long while the MN stays (state waiting); absent or 0 = the entry goes */
  retryAfterMs?: number;
}

const MAX_TX_KEPT = 16; // sequence numbers remembered per request (a late PBA for an older one still matches)
const NS_PER_MS = 1_000_000n;

/** Advance one entry by one event. Never throws on any event in any state; what it ignores, it says. */
export function step(entry: BulEntry | undefined, ev: BulEvent, env: StepEnv): StepResult {
  if (entry === undefined) {
    if (ev.type !== 'attach') return { entry, effects: [{ kind: 'ignored', why: `${ev.type} for no entry` }] };
    const e: BulEntry = {
      key: entryKey(ev.info.mnId, ev.info.llId, ev.info.att),
      mnId: ev.info.mnId,
      llId: ev.info.llId.toLowerCase(),
      att: ev.info.att,
      iface: ev.info.iface,
      state: 'registering',
      requestedHnps: [...ev.info.requestedHnps],
      hnps: [],
      dormant: ev.info.dormant === true,
      ...(ev.info.bid !== undefined ? { bid: ev.info.bid } : {}),
      lifetimeS: 0,
      routes: false,
      seq: (env.seqStart() - 1) & 0xffff,
    };
    return register(e, ev.info.hi, ev.nowNs, env);
  }
  switch (ev.type) {
    case 'attach':
      return onAttach(entry, ev.info, ev.nowNs, env);
    case 'detach':
      return onDetach(entry, ev.nowNs, env);
    case 'pba':
      return onPba(entry, ev, env);
    case 'timer':
      return onTimer(entry, ev.timer, ev.nowNs, env);
    case 'reregister':
      return onReregister(entry, ev, env);
  }
}

function register(e: BulEntry, hi: number, nowNs: bigint, env: StepEnv): StepResult {
  const effects: Effect[] = [{ kind: 'cancel', timer: 'refresh' }, { kind: 'cancel', timer: 'expire' }];
  e.state = 'registering';
  e.lifetimeS = 0;
  e.expiresNs = undefined;
  e.pending = newPending(env.timings.lifetimeS, hi, e.hnps.length ? e.hnps : e.requestedHnps, env);
  transmit(e, nowNs, env, effects);
  return { entry: e, effects };
}

function newPending(lifetimeS: number, hi: number, hnps: string[], env: StepEnv): Pending {
  return { lifetimeS, hi, hnps: [...hnps], attempt: 0, backoffMs: env.timings.retransmitInitialMs, tx: [] };
}

/** Send (or resend) the pending PBU with a fresh sequence number and arm its retransmission. */
function transmit(e: BulEntry, nowNs: bigint, env: StepEnv, effects: Effect[]): void {
  const p = e.pending as Pending;
  e.seq = (e.seq + 1) & 0xffff;
  const seq = e.seq;
  if (p.attempt > 0) p.backoffMs = Math.min(p.backoffMs * 2, env.timings.retransmitMaxMs);
  p.attempt += 1;
  p.tx.push({ seq, ns: nowNs });
  if (p.tx.length > MAX_TX_KEPT) p.tx.shift();
  effects.push({ kind: 'send', seq, lifetimeS: p.lifetimeS, hi: p.hi, hnps: [...p.hnps], attempt: p.attempt, dormant: e.dormant, ...(e.bid !== undefined ? { bid: e.bid } : {}) });
  effects.push({ kind: 'arm', timer: 'retransmit', ms: p.backoffMs });
}

function onAttach(e: BulEntry, info: AttachInfo, nowNs: bigint, env: StepEnv): StepResult {
  if (e.state === 'waiting') {
    // seen again (an RS, a carrier flap) while waiting to retry: register now
    e.iface = info.iface;
    const r = register(e, info.hi, nowNs, env);
    r.effects.unshift({ kind: 'cancel', timer: 'retry' });
    return r;
  }
  if (e.state === 'deregistering') {
    // back before the de-registration completed (a flap): register afresh
    e.iface = info.iface;
    return register(e, info.hi, nowNs, env);
  }
  if (info.iface === e.iface) return { entry: e, effects: [{ kind: 'ignored', why: `already ${e.state} on ${e.iface}` }] };
  // the MN moved to another access interface of this MAG: same binding, routes follow it
  const effects: Effect[] = [];
  const old = e.iface;
  e.iface = info.iface;
  if (e.routes && e.hnps.length) {
    for (const hnp of e.hnps) effects.push({ kind: 'unprogram', hnp, iface: old });
    for (const hnp of e.hnps) effects.push({ kind: 'program', hnp, iface: e.iface });
    effects.push({ kind: 'advertise', hnps: [...e.hnps], withdrawn: [], iface: e.iface, reason: 'attach' });
    armRa(effects, env);
  }
  return { entry: e, effects };
}

function onDetach(e: BulEntry, nowNs: bigint, env: StepEnv): StepResult {
  if (e.state === 'deregistering') return { entry: e, effects: [{ kind: 'ignored', why: 'detach while deregistering' }] };
  // no binding to take down: the LMA never answered
  if (e.state === 'waiting') return { entry: undefined, effects: [{ kind: 'cancel', timer: 'retry' }, { kind: 'removed' }] };
  // no deprecating RA: the MN is gone from this link, and on a handover it
  // keeps its prefix at the next MAG
  const effects: Effect[] = [{ kind: 'cancel', timer: 'refresh' }, { kind: 'cancel', timer: 'expire' }, { kind: 'cancel', timer: 'ra' }];
  if (e.routes) for (const hnp of e.hnps) effects.push({ kind: 'unprogram', hnp, iface: e.iface });
  e.routes = false;
  e.state = 'deregistering';
  // HI 4 (unknown): the MAG cannot tell a handover from a switch-off
  e.pending = newPending(0, HANDOFF_INDICATOR.unknown, e.hnps.length ? e.hnps : e.requestedHnps, env);
  transmit(e, nowNs, env, effects);
  return { entry: e, effects };
}

function matchTx(p: Pending, seq: number): { seq: number; ns: bigint } | undefined {
  for (let i = p.tx.length - 1; i >= 0; i--) if (p.tx[i]?.seq === seq) return p.tx[i];
  return undefined;
}

function rttUs(nowNs: bigint, txNs: bigint): number {
  return Number(nowNs - txNs) / 1000;
}

function onPba(e: BulEntry, ev: Extract<BulEvent, { type: 'pba' }>, env: StepEnv): StepResult {
  const p = e.pending;
  if (!p) return { entry: e, effects: [{ kind: 'ignored', why: `PBA seq ${ev.seq} with nothing outstanding (${e.state})` }] };
  const tx = matchTx(p, ev.seq);
  // Ordering refusals are answered by sending again at once, newer: 135 echoes
  // the last sequence number the LMA accepted (RFC 6275 11.7.1; the echo need
  // not match what we sent), 157 says our timestamp is older than one it
  // accepted (another MAG's, a moment ago, in a handover: a fresh one is newer).
  const reorder =
    ev.status === PBA_STATUS.sequenceOutOfWindow || (tx !== undefined && ev.status === PBA_STATUS.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED);
  if (reorder) {
    const sent = tx ?? (p.tx[p.tx.length - 1] as { seq: number; ns: bigint });
    const effects: Effect[] = [
      { kind: 'cancel', timer: 'retransmit' },
      { kind: 'pba', seq: ev.seq, status: ev.status, lifetimeS: ev.lifetimeS, hnps: [...ev.hnps], rttUs: rttUs(ev.nowNs, sent.ns) },
    ];
    // RFC 5213 6.9.1.2: take the number the LMA echoed as the last one sent; the PBU goes again above it
    if (ev.status === PBA_STATUS.sequenceOutOfWindow) e.seq = ev.seq & 0xffff;
    if (p.attempt >= attemptLimit(e, env)) return giveUp(e, effects, `refused by the LMA (status ${ev.status}) after the last attempt`, ev.status);
    p.backoffMs = env.timings.retransmitInitialMs / 2; // transmit() doubles it: the next wait is the initial one again
    transmit(e, ev.nowNs, env, effects);
    return { entry: e, effects };
  }
  if (!tx) return { entry: e, effects: [{ kind: 'ignored', why: `PBA seq ${ev.seq} matches no outstanding PBU` }] };

  const effects: Effect[] = [{ kind: 'cancel', timer: 'retransmit' }];
  effects.push({
    kind: 'pba',
    seq: ev.seq,
    status: ev.status,
    lifetimeS: ev.lifetimeS,
    hnps: [...ev.hnps],
    rttUs: rttUs(ev.nowNs, tx.ns),
  });
  e.pending = undefined;

  if (e.state === 'deregistering') {
    effects.push({ kind: 'removed' });
    return { entry: undefined, effects };
  }
  // a refused interface handover or prefix transfer (HI 2 of a bound session:
  // 128 no other interface, 155 a prefix the MN does not hold) changed nothing
  // at the LMA (a refused PBU changes nothing, RFC 5213 5.3.1): the session
  // stays bound as it was, lifetime and timers untouched (the pba effect, the
  // pba-received event, carries the status; no registration failed)
  if (ev.status >= 128 && e.state === 'renewing' && e.routes && p.hi === HANDOFF_INDICATOR.differentInterface) {
    e.state = 'bound';
    return { entry: e, effects };
  }
  if (ev.status >= 128) return lose(e, effects, `refused by the LMA (status ${ev.status})`, ev.status);
  // the prefixes of the session: what the PBA lists; a PBA that lists none keeps what we hold or asked for
  const hnps = ev.hnps.length ? [...new Set(ev.hnps)] : e.hnps.length ? e.hnps : p.hnps.length ? p.hnps : e.requestedHnps;
  if (hnps.length === 0) return lose(e, effects, 'PBA accepted without a home network prefix');
  if (ev.lifetimeS <= 0) return lose(e, effects, 'PBA accepted with lifetime 0');

  const renewing = e.state === 'renewing';
  // prefixes the session no longer has (an Update Notification's re-registration, a transfer to another
  // interface) go from the kernel and are withdrawn in the RA; new ones are programmed
  const gone = e.routes ? e.hnps.filter((h) => !hnps.includes(h)) : [];
  const added = e.routes ? hnps.filter((h) => !e.hnps.includes(h)) : hnps;
  for (const hnp of gone) effects.push({ kind: 'unprogram', hnp, iface: e.iface });
  e.hnps = [...hnps];
  e.lifetimeS = ev.lifetimeS;
  e.acceptedSeq = tx.seq;
  e.state = 'bound';
  // the lifetime runs from when this PBU was sent (RFC 6275 11.7.3)
  const lifetimeMs = ev.lifetimeS * 1000;
  e.expiresNs = tx.ns + BigInt(lifetimeMs) * NS_PER_MS;
  const left = Math.max(0, Number(e.expiresNs - ev.nowNs) / 1e6);
  let refreshMs = lifetimeMs * env.timings.refreshAt - Number(ev.nowNs - tx.ns) / 1e6;
  if (ev.refreshS !== undefined && ev.refreshS > 0) refreshMs = Math.min(refreshMs, ev.refreshS * 1000);
  effects.push({ kind: 'arm', timer: 'refresh', ms: Math.max(0, Math.min(refreshMs, left)) });
  effects.push({ kind: 'arm', timer: 'expire', ms: left });
  for (const hnp of added) effects.push({ kind: 'program', hnp, iface: e.iface });
  e.routes = true;
  const changed = gone.length > 0 || (added.length > 0 && renewing);
  effects.push({ kind: 'advertise', hnps: [...hnps], withdrawn: gone, iface: e.iface, reason: renewing && !changed ? 'periodic' : 'attach' });
  armRa(effects, env);
  return { entry: e, effects };
}

/** Register the session again at once (Update Notification, interface handover, prefix transfer). */
function onReregister(e: BulEntry, ev: Extract<BulEvent, { type: 'reregister' }>, env: StepEnv): StepResult {
  if (e.state === 'deregistering') return { entry: e, effects: [{ kind: 'ignored', why: 're-registration while deregistering' }] };
  const effects: Effect[] = [{ kind: 'cancel', timer: 'retransmit' }];
  const hnps = ev.hnps ?? (e.hnps.length ? e.hnps : e.requestedHnps);
  if (e.state === 'waiting') effects.push({ kind: 'cancel', timer: 'retry' });
  if (e.state === 'bound' || e.state === 'renewing') e.state = 'renewing';
  else e.state = 'registering';
  e.pending = newPending(env.timings.lifetimeS, ev.hi, hnps, env);
  transmit(e, ev.nowNs, env, effects);
  return { entry: e, effects };
}

/** The next unsolicited RA, after each RA the entry sends. */
function armRa(effects: Effect[], env: StepEnv): void {
  const ms = env.raIntervalMs?.() ?? 0;
  if (ms > 0) effects.push({ kind: 'arm', timer: 'ra', ms });
}

/**
 * The binding is gone (refused, expired, or an unusable PBA): routes out,
 * deprecate the prefixes. With `retry` (no PBA came at all: the LMA may be
 * away) and a retry interval, the entry waits and registers again (timer
 * retry) while its MN stays; otherwise it goes.
 */
function lose(e: BulEntry, effects: Effect[], reason: string, status?: number, retry?: { env: StepEnv }): StepResult {
  effects.push(
    { kind: 'cancel', timer: 'retransmit' },
    { kind: 'cancel', timer: 'refresh' },
    { kind: 'cancel', timer: 'expire' },
    { kind: 'cancel', timer: 'ra' },
  );
  if (e.routes && e.hnps.length) {
    for (const hnp of e.hnps) effects.push({ kind: 'unprogram', hnp, iface: e.iface });
    effects.push({ kind: 'advertise', hnps: [...e.hnps], withdrawn: [], iface: e.iface, reason: 'deregistration' });
  }
  e.routes = false;
  effects.push(status === undefined ? { kind: 'failed', reason } : { kind: 'failed', reason, status });
  const after = retry?.env.retryAfterMs ?? 0;
  if (retry && after > 0) {
    // RFC 5213 6.9.1.1: the MN never moved, so no handoff: 5 after a binding the LMA had accepted, else the indicator sent
    e.retryHi = e.acceptedSeq !== undefined ? HANDOFF_INDICATOR.notChanged : (e.pending?.hi ?? HANDOFF_INDICATOR.unknown);
    e.state = 'waiting';
    e.pending = undefined;
    e.lifetimeS = 0;
    e.expiresNs = undefined;
    effects.push({ kind: 'arm', timer: 'retry', ms: after });
    return { entry: e, effects };
  }
  effects.push({ kind: 'removed' });
  return { entry: undefined, effects };
}

function giveUp(e: BulEntry, effects: Effect[], reason: string, status?: number, env?: StepEnv): StepResult {
  if (e.state === 'deregistering') {
    effects.push({ kind: 'cancel', timer: 'retransmit' }, { kind: 'removed' });
    return { entry: undefined, effects };
  }
  return lose(e, effects, reason, status, status === undefined && env ? { env } : undefined);
}

function attemptLimit(e: BulEntry, env: StepEnv): number {
  if (e.state === 'registering') return env.timings.registrationAttempts;
  if (e.state === 'deregistering') return env.timings.deregistrationAttempts;
  return Number.POSITIVE_INFINITY; // renewing: until the lifetime runs out
}

function onTimer(e: BulEntry, timer: TimerName, nowNs: bigint, env: StepEnv): StepResult {
  switch (timer) {
    case 'retransmit': {
      if (!e.pending) return { entry: e, effects: [{ kind: 'ignored', why: 'retransmit timer with nothing outstanding' }] };
      if (e.pending.attempt >= attemptLimit(e, env)) {
        return giveUp(e, [], `no PBA after ${e.pending.attempt} transmissions`, undefined, env);
      }
      const effects: Effect[] = [];
      transmit(e, nowNs, env, effects);
      return { entry: e, effects };
    }
    case 'refresh': {
      if (e.state !== 'bound' || e.hnps.length === 0) return { entry: e, effects: [{ kind: 'ignored', why: `refresh timer while ${e.state}` }] };
      e.state = 'renewing';
      e.pending = newPending(env.timings.lifetimeS, HANDOFF_INDICATOR.notChanged, e.hnps, env);
      const effects: Effect[] = [];
      transmit(e, nowNs, env, effects);
      return { entry: e, effects };
    }
    case 'expire': {
      if (e.state !== 'bound' && e.state !== 'renewing') return { entry: e, effects: [{ kind: 'ignored', why: `expire timer while ${e.state}` }] };
      return lose(e, [], 'binding lifetime ran out without an accepted refresh', undefined, { env });
    }
    case 'ra': {
      if (!e.routes || !e.hnps.length) return { entry: e, effects: [{ kind: 'ignored', why: `RA timer while ${e.state} without routes` }] };
      const effects: Effect[] = [{ kind: 'advertise', hnps: [...e.hnps], withdrawn: [], iface: e.iface, reason: 'periodic' }];
      armRa(effects, env);
      return { entry: e, effects };
    }
    case 'retry': {
      if (e.state !== 'waiting') return { entry: e, effects: [{ kind: 'ignored', why: `retry timer while ${e.state}` }] };
      return register(e, e.retryHi ?? HANDOFF_INDICATOR.unknown, nowNs, env);
    }
  }
}

/** The entry as JSON for the `bul` command (bigints as decimal strings). */
export function entryJson(e: BulEntry, nowNs: bigint): Record<string, unknown> {
  return {
    key: e.key,
    mnId: e.mnId,
    llId: e.llId,
    att: e.att,
    iface: e.iface,
    state: e.state,
    requestedHnps: e.requestedHnps,
    hnps: e.hnps,
    dormant: e.dormant,
    lifetimeS: e.lifetimeS,
    remainingS: e.expiresNs === undefined ? null : Math.max(0, Number(e.expiresNs - nowNs) / 1e9),
    routes: e.routes,
    seq: e.seq,
    pending: e.pending
      ? {
          lifetimeS: e.pending.lifetimeS,
          hi: e.pending.hi,
          hnps: e.pending.hnps,
          attempt: e.pending.attempt,
          seq: e.pending.tx[e.pending.tx.length - 1]?.seq ?? null,
        }
      : null,
  };
}
