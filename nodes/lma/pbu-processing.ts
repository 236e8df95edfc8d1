import { HANDOFF_INDICATOR, PBA_STATUS, type MessageOf } from '../protocol/index.js';
import type { BindingEvent } from '../runtime/events.js';
import { allPrefixes, interfaceByLlId, sessionPrefixes, type MnProfile } from '../runtime/policy-store.js';
import { type Bce, type BindingCache, bceKey, keyOf } from './binding-cache.js';
import type { LmaConfig } from './config.js';
import type { HnpPool } from './hnp-pool.js';
import { buildPba, combinePbas, llIdText, type PbaContent, type PbuOptions, pbuOptions, type SessionNotice, splitCombinedPbu, timestampAt } from './messages.js';
import { isAllZero, normalizePrefix, prefixOf } from './prefix.js';

export { llIdText, timestampAt };

// RFC 5213 section 5.3 (PBU processing at the LMA) as a pure function: a
// decoded PBU, its source, the policy of its MAG and MN and the clocks go in;
// the PBA, the binding cache changes to persist, the data plane actions and
// the binding events come out. The cache and pool are updated in place, only
// once every check has passed (a refused PBU changes nothing).
//
// Choices where RFC 5213 leaves room (README/report say the same):
// - Order of checks: P flag (129), MN-ID (160), MAG known (154), MN known
//   (152 PROXY_REG_NOT_ENABLED: "cannot identify the mobile node"), MN served
//   by another LMA (153), MAG not allowed for this MN (154), HNP (158), HI
//   (161), ATT (162), timestamp window (156), then the cache lookup of 5.4.1
//   (155, 159) and ordering against the entry found (157 or 135).
// - Sequence numbers (timestamps off): a PBU whose sequence number is not
//   greater (modulo 2^16) than the entry's last accepted one is 135 with that
//   number, the last accepted one repeated included (RFC 6275 9.5.1: "not
//   greater than ... MUST send back ... 135"; a MAG's retransmission is a new
//   PBU with a new sequence number, RFC 6275 11.7.1 / RFC 5213 6.9.4, and on
//   135 it resends with a newer one, RFC 5213 6.9.1.2). Timestamps on: only a
//   timestamp lower than the last accepted is refused (157, RFC 5213 5.5).
// - PBA options (5.3.6): the Link-local Address option only when the PBU had
//   one; its value the PBU's, or, for the ALL_ZERO query, the one the entry
//   keeps (RFC 5213 6.8), else the ALL_ZERO value back.
// - Sessions (seed 001): key = MN-ID + ATT + MN-LL-ID + BID (0 without a BID
//   option), so two interfaces, on one MAG or two, are two sessions, never a
//   refresh of one another. A BID (non-zero) another session of the MN holds
//   is 128, nothing changes. A further session on an interface (another
//   BID, all-zero HNP) gets a prefix from the pool (the profile's fixed
//   prefixes are the interface's first session's).
// - HI 2 (5.4.1.2, seed 001 2.2): all-zero HNP: every prefix of the MN's
//   session on another interface, active or waiting for deletion (the
//   active, then the most recently updated, first) moves to this interface's
//   session; none is 128. Named HNPs: a prefix
//   transfer: the named prefixes of other sessions of the MN move, this
//   session keeps its own, the sources keep the rest (a source left with
//   nothing is deleted); a named prefix the MN does not hold is 155. Every
//   source MAG is told (`notices`: an Update Notification, messages.ts).
// - Shared prefix (seed 001 section 3): an interface whose profile has
//   `shareWith` holds that interface's prefixes too; the route of a prefix
//   goes to every MAG of its active holders (a multipath route).
// - Dormant (seed 001 appendix D): a PBU with the dormant option holds the
//   prefixes of an active session of the MN with no route; when the last
//   active holder of a prefix goes (de-registration or expiry) the dormant
//   holder is activated in the same step.
// - Routes: after each decision the next hops of every prefix it touched
//   are recomputed from the cache (active holders' pCoAs) and only changes
//   become actions.
// - All-zero HNP (5.4.1.2), per Handoff Indicator, key = MN-ID + ATT + MN-LL-ID (+ BID):
//   1 new attachment: a new session; an entry with the same key is replaced
//     (the same interface cannot hold two sessions); new prefix from the pool
//     unless the profile has fixed prefixes. Except when that entry is active
//     and bound to this very MAG: then it is the MAG's retransmission of the
//     same registration (new sequence number) and the entry is updated.
//   2, 3, 4, 5: the entry with the same key is updated (handover when the
//     pCoA changed, refresh otherwise); none: a new session. For 4 we do not
//     wait MaxDelayBeforeNewBCEAssign: a matching MN-LL-ID identifies the
//     interface, so it is a handover.
//   Other values: 128.
// - Non-zero HNPs (5.4.1.1), HI other than 2: the entry holding them (this
//   key's first) is updated; a partial match is 159; prefixes of another MN, or not in the
//   profile (fixed) / not given to this MN before (pool) are 155.
// - De-registration (lifetime 0): accepted. Only when it comes from the pCoA
//   the entry is bound to does the entry change: its routes go at once (no
//   traffic to a MAG that said the MN left) and the entry is kept for
//   minDelayBeforeBceDeleteMs, in case the MN shows up at another MAG. A late
//   de-registration from the old MAG after a handover changes nothing and is
//   accepted whatever its sequence number or timestamp. With no entry it is
//   accepted too.
// - Timestamps on: a PBU without a Timestamp option is 156; the PBA of a 156
//   carries the LMA's current time (RFC 5213 5.3.6), others echo the PBU's.
//   Timestamps off: a Timestamp option in the PBU is ignored and not echoed.

export interface MagPolicy {
  name: string;
}
/** What the LMA reads of an MN's policy profile (nodes/runtime/policy-store.ts). */
export type MnPolicy = Pick<MnProfile, 'mnId' | 'lma' | 'mags' | 'interfaces'>;

export interface PbuInput {
  pbu: MessageOf<'pbu'>;
  /** source address: the MAG's proxy care-of address */
  src: string;
  mag: MagPolicy | null;
  mn: MnPolicy | null;
  /** CLOCK_MONOTONIC ms (lifetimes, deadlines) */
  nowMs: number;
  /** wall clock ms since 1970 (Timestamp option, RFC 5213 8.8) */
  wallMs: number;
}

/**
 * Kernel changes of one prefix: its route to these MAGs (one: a plain route;
 * several: a multipath route, seed 001 section 3), or none.
 */
export type DataPlaneAction =
  | { op: 'bind'; hnp: string; pCoA: string; mnId: string; pCoAs?: string[] }
  | { op: 'unbind'; hnp: string; mnId: string };

export type BindingEventName = 'binding-created' | 'binding-updated' | 'binding-deleted';
export interface LmaBindingEvent {
  type: BindingEventName;
  data: BindingEvent;
}

export interface CacheChanges {
  put: Bce[];
  /** keys of deleted entries */
  del: string[];
  /** pool: prefixes newly given to an owner, and the cursor when it moved */
  owners: Array<[string, string]>;
  cursor?: number;
}

export interface PbuOutcome {
  status: number;
  pba: MessageOf<'pba'>;
  /** from the MN-ID option, when present */
  mnId: string | null;
  hi: number | null;
  changes: CacheChanges;
  actions: DataPlaneAction[];
  events: LmaBindingEvent[];
  /** MAGs to tell that their session lost prefixes (Update Notification) */
  notices: SessionNotice[];
  /** why, for the log: the refusal reason or a note on what was done */
  note: string;
}

/** Sequence numbers modulo 2^16 (RFC 6275 9.5.1): a is newer than b when it is 1..32767 ahead. */
export function seqNewer(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}

const tsMs = (t: { seconds: number; fraction: number }) => t.seconds * 1000 + (t.fraction / 65536) * 1000;
const tsLower = (a: { seconds: number; fraction: number }, b: { seconds: number; fraction: number }) =>
  a.seconds < b.seconds || (a.seconds === b.seconds && a.fraction < b.fraction);

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

export function bindingEvent(b: Bce): BindingEvent {
  const e: BindingEvent = { mnId: b.mnId, att: b.att, llId: b.llId, hnp: b.hnps[0] ?? '', hnps: [...b.hnps], pCoA: b.pCoA, lifetime: b.lifetimeS, state: b.state };
  if (b.bid !== undefined && b.bid !== 0) e.bid = b.bid;
  return e;
}

const emptyChanges = (): CacheChanges => ({ put: [], del: [], owners: [] });

/** Next hops of a prefix: the pCoAs of its active holders, sorted, once each. */
export function nextHops(cache: BindingCache, prefix: string): string[] {
  return [...new Set(cache.holders(prefix).filter((b) => b.state === 'active').map((b) => b.pCoA))].sort();
}

/**
 * One decision's effects on the cache, recorded as it goes: entries put and
 * deleted, events, and the routes of every prefix touched (their next hops
 * before, to emit only what changed).
 */
class Step {
  readonly changes = emptyChanges();
  readonly events: LmaBindingEvent[] = [];
  readonly notices: SessionNotice[] = [];
  private readonly before = new Map<string, string[]>();
  private readonly owner = new Map<string, string>();

  constructor(readonly cache: BindingCache) {}

  private touch(b: Bce): void {
    for (const p of b.hnps) {
      if (!this.before.has(p)) this.before.set(p, nextHops(this.cache, p));
      this.owner.set(p, b.mnId);
    }
  }

  put(b: Bce, event: BindingEventName): void {
    const old = this.cache.get(keyOf(b));
    if (old) this.touch(old);
    this.touch(b);
    this.cache.put(b);
    const i = this.changes.put.findIndex((x) => keyOf(x) === keyOf(b));
    if (i >= 0) this.changes.put.splice(i, 1);
    this.changes.put.push(b);
    this.changes.del = this.changes.del.filter((k) => k !== keyOf(b));
    this.events.push({ type: event, data: bindingEvent(b) });
  }

  delete(b: Bce): void {
    const key = keyOf(b);
    this.touch(b);
    this.cache.delete(key);
    this.changes.put = this.changes.put.filter((x) => keyOf(x) !== key);
    if (!this.changes.del.includes(key)) this.changes.del.push(key);
    this.events.push({ type: 'binding-deleted', data: bindingEvent({ ...b, lifetimeS: 0 }) });
  }

  /** Appendix D: a prefix left with no active holder activates its dormant holder, in this step. */
  activateDormant(nowMs: number): void {
    for (const p of [...this.before.keys()]) {
      const holders = this.cache.holders(p);
      if (holders.some((b) => b.state === 'active')) continue;
      const dormant = holders.find((b) => b.state === 'dormant');
      if (dormant) this.put({ ...dormant, state: 'active', updatedMs: nowMs }, 'binding-updated');
    }
  }

  actions(): DataPlaneAction[] {
    const out: DataPlaneAction[] = [];
    for (const [p, was] of this.before) {
      const now = nextHops(this.cache, p);
      if (sameSet(was, now)) continue;
      const mnId = this.owner.get(p) ?? '';
      if (now.length === 0) out.push({ op: 'unbind', hnp: p, mnId });
      else if (now.length === 1) out.push({ op: 'bind', hnp: p, pCoA: now[0]!, mnId });
      else out.push({ op: 'bind', hnp: p, pCoA: now[0]!, mnId, pCoAs: now });
    }
    return out;
  }
}

class Reply {
  constructor(
    readonly input: PbuInput,
    readonly opts: PbuOptions,
    readonly cfg: LmaConfig,
  ) {}

  pba(c: PbaContent): MessageOf<'pba'> {
    return buildPba(this.opts, c, this.cfg, this.input.wallMs);
  }

  refuse(status: number, note: string, extra: { sequence?: number; tsNow?: boolean } = {}): PbuOutcome {
    const { opts, input } = this;
    const c: PbaContent = { status, lifetimeUnits: 0, sequence: extra.sequence ?? input.pbu.sequence };
    if (extra.tsNow !== undefined) c.tsNow = extra.tsNow;
    return {
      status,
      pba: this.pba(c),
      mnId: opts.mnId ?? null,
      hi: opts.hi ?? null,
      changes: emptyChanges(),
      actions: [],
      events: [],
      notices: [],
      note,
    };
  }
}

interface Ctx {
  cache: BindingCache;
  pool: HnpPool;
  cfg: LmaConfig;
  input: PbuInput;
  o: PbuOptions;
  r: Reply;
  mn: MnPolicy;
  mnId: string;
  llId: string;
  att: number;
  bid: number;
  key: string;
}

/**
 * Process one PBU. Mutates cache and pool only when the PBU is accepted and
 * changes state; everything to persist is in the outcome's `changes`.
 */
export function processPbu(cache: BindingCache, pool: HnpPool, cfg: LmaConfig, input: PbuInput): PbuOutcome {
  const { pbu, src, mag, mn } = input;
  const o = pbuOptions(pbu.options);
  const r = new Reply(input, o, cfg);
  const S = PBA_STATUS;

  if (!pbu.flags.P) return r.refuse(S.administrativelyProhibited, 'not a proxy registration (P flag clear)');
  const mnId = o.mnId;
  if (mnId === undefined) return r.refuse(S.MISSING_MN_IDENTIFIER_OPTION, 'no MN-ID option');
  if (!mag) return r.refuse(S.MAG_NOT_AUTHORIZED_FOR_PROXY_REG, `no MAG with address ${src} in the policy store`);
  if (!mn || mn.mnId !== mnId) return r.refuse(S.PROXY_REG_NOT_ENABLED, `MN ${mnId} is not in the policy store`);
  if (mn.lma !== cfg.name) return r.refuse(S.NOT_LMA_FOR_THIS_MOBILE_NODE, `MN ${mnId} is served by LMA ${mn.lma}`);
  if (!mn.mags.includes('*') && !mn.mags.includes(mag.name)) {
    return r.refuse(S.MAG_NOT_AUTHORIZED_FOR_PROXY_REG, `MAG ${mag.name} may not register ${mnId}`);
  }
  if (o.hnps.length === 0) return r.refuse(S.MISSING_HOME_NETWORK_PREFIX_OPTION, 'no HNP option');
  if (o.hi === undefined) return r.refuse(S.MISSING_HANDOFF_INDICATOR_OPTION, 'no Handoff Indicator option');
  if (o.att === undefined) return r.refuse(S.MISSING_ACCESS_TECH_TYPE_OPTION, 'no Access Technology Type option');
  if (cfg.timestamps) {
    if (!o.ts) return r.refuse(S.TIMESTAMP_MISMATCH, 'no Timestamp option (timestamps in use)', { tsNow: true });
    const skew = tsMs(o.ts) - input.wallMs;
    if (Math.abs(skew) > cfg.timestampWindowMs) {
      return r.refuse(S.TIMESTAMP_MISMATCH, `timestamp ${Math.round(skew)} ms off the LMA clock`, { tsNow: true });
    }
  }

  const llId = o.llIdHex === undefined ? '' : llIdText(o.llIdHex);
  const att = o.att;
  const bid = o.bid?.bid ?? 0;
  const key = bceKey(mnId, llId, att, bid);
  const dereg = pbu.lifetime === 0;
  const c: Ctx = { cache, pool, cfg, input, o, r, mn, mnId, llId, att, bid, key };

  const requested: string[] = [];
  for (const h of o.hnps) {
    if (isAllZero(h.prefix)) continue;
    const p = prefixOf(h.prefix, h.prefixLength);
    if (p === null) return r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `HNP ${h.prefix}/${h.prefixLength} is not a prefix`);
    if (!requested.includes(p)) requested.push(p);
  }
  for (const p of requested) {
    if (cache.holders(p).some((b) => b.mnId !== mnId)) return r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `HNP ${p} bound to another MN`);
  }
  // a BID is the MN's: another session (another interface) holding it refuses (RFC 5648 BIDs name one binding)
  if (bid !== 0 && cache.ofMn(mnId).some((b) => (b.bid ?? 0) === bid && keyOf(b) !== key)) {
    return r.refuse(S.reasonUnspecified, `BID ${bid} is held by another session of ${mnId}`);
  }

  if (dereg) return deregister(c, requested);
  if (o.hi === HANDOFF_INDICATOR.differentInterface) return interfaceHandover(c, requested);
  if (o.dormant) return dormant(c, requested);

  // RFC 5213 5.4.1: which entry, if any, this PBU is about
  let target: Bce | undefined; // entry to update
  let replaced: Bce | undefined; // entry a new session replaces (same key)
  const own = cache.get(key);
  if (requested.length > 0) {
    const holders = new Set<Bce>();
    for (const p of requested) for (const b of cache.holders(p)) holders.add(b);
    const foreign = [...holders].filter((b) => keyOf(b) !== key);
    const sharing = foreign.length > 0 && foreign.every((b) => shares(mn, llId, b.llId));
    if (own && own.hnps.some((p) => requested.includes(p))) {
      // this key's session: the named set must be its set
      if (!sameSet(own.hnps, requested)) return r.refuse(S.BCE_PBU_PREFIX_SET_DO_NOT_MATCH, `HNPs ${requested.join(',')} vs binding ${own.hnps.join(',')}`);
      target = own;
    } else if (holders.size === 0 || sharing) {
      for (const p of requested) {
        // a fixed prefix of any of the MN's interfaces, or one the pool gave this MN
        const ok = allPrefixes(mn).some((f) => normalizePrefix(f) === p) || pool.ownerOf(p) === mnId;
        if (!ok) return r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `HNP ${p} not authorised for ${mnId}`);
      }
      replaced = own;
    } else if (holders.size > 1) {
      return r.refuse(S.BCE_PBU_PREFIX_SET_DO_NOT_MATCH, 'HNPs of several bindings');
    } else {
      const [holder] = holders as Set<Bce> & { size: 1 };
      if (!holder || !sameSet(holder.hnps, requested)) {
        return r.refuse(S.BCE_PBU_PREFIX_SET_DO_NOT_MATCH, `HNPs ${requested.join(',')} vs binding ${holder?.hnps.join(',') ?? ''}`);
      }
      target = holder;
    }
  } else {
    switch (o.hi) {
      case HANDOFF_INDICATOR.newInterface:
        // the MAG the interface's active session is bound to, registering it
        // again (its first PBU's retransmission carries a new sequence number,
        // RFC 6275 11.7.1, so a lost or late PBA looks like this): the same
        // session, prefixes kept, not a second prefix for one interface
        if (own && own.state === 'active' && own.pCoA === src) target = own;
        else replaced = own;
        break;
      case HANDOFF_INDICATOR.sameInterface:
      case HANDOFF_INDICATOR.unknown:
      case HANDOFF_INDICATOR.notChanged:
        target = own;
        break;
      default:
        return r.refuse(S.reasonUnspecified, `Handoff Indicator ${o.hi} not supported`);
    }
  }

  const against = target ?? replaced;
  const bad = against ? misordered(c, against) : null;
  if (bad) return bad;
  if (target) return update(c, target);
  return create(c, requested, replaced);
}

/**
 * A PBU as it arrives: a combined PBU for several interfaces (seed 001
 * section 4) is processed as one PBU per interface, in order, each its own
 * session decision; the answer is one PBA with a group per interface.
 */
export function processPbuMessage(cache: BindingCache, pool: HnpPool, cfg: LmaConfig, input: PbuInput): PbuOutcome {
  const parts = splitCombinedPbu(input.pbu);
  if (!parts) return processPbu(cache, pool, cfg, input);
  const outs = parts.map((pbu) => processPbu(cache, pool, cfg, { ...input, pbu }));
  const pba = combinePbas(outs.map((o) => o.pba));
  const changes: CacheChanges = { put: [], del: [], owners: [] };
  for (const o of outs) {
    for (const b of o.changes.put) {
      changes.put = changes.put.filter((x) => keyOf(x) !== keyOf(b));
      changes.put.push(b);
    }
    changes.del.push(...o.changes.del.filter((k) => !changes.del.includes(k)));
    changes.owners.push(...o.changes.owners);
    if (o.changes.cursor !== undefined) changes.cursor = o.changes.cursor;
  }
  return {
    status: pba.status,
    pba,
    mnId: outs[0]?.mnId ?? null,
    hi: outs[0]?.hi ?? null,
    changes,
    actions: outs.flatMap((o) => o.actions),
    events: outs.flatMap((o) => o.events),
    notices: outs.flatMap((o) => o.notices),
    note: `combined PBU: ${outs.map((o) => `${o.status} ${o.note}`).join('; ')}`,
  };
}

/** Seed 001 section 3: two interfaces share prefixes when one names the other in shareWith. */
export function shares(mn: MnPolicy, llIdA: string, llIdB: string): boolean {
  const a = interfaceByLlId(mn, llIdA);
  const b = interfaceByLlId(mn, llIdB);
  if (!a || !b || a === b) return false;
  return (a.shareWith === b.iface && !a.dormant) || (b.shareWith === a.iface && !b.dormant);
}

/** Message ordering against the entry this PBU would change (RFC 5213 5.5, RFC 6275 9.5.1). */
function misordered(c: Ctx, against: Bce): PbuOutcome | null {
  const { cfg, o, r, input } = c;
  const S = PBA_STATUS;
  if (cfg.timestamps) {
    if (o.ts && against.ts && tsLower(o.ts, against.ts)) return r.refuse(S.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED, 'timestamp older than the last accepted');
  } else if (!seqNewer(input.pbu.sequence, against.seq)) {
    return r.refuse(S.sequenceOutOfWindow, `sequence ${input.pbu.sequence} not after ${against.seq}`, { sequence: against.seq });
  }
  return null;
}

function grantedUnits(cfg: LmaConfig, requested: number): number {
  return Math.min(requested, Math.floor(cfg.maxLifetimeS / 4));
}

/**
 * The Link-local Address option of a PBA (RFC 5213 5.3.6): present only when
 * the PBU had one; the PBU's value, or for ALL_ZERO the one the entry keeps.
 */
export function pbaLinkLocal(given: string | undefined, kept: string | undefined): string | undefined {
  if (given === undefined) return undefined;
  return isAllZero(given) && kept !== undefined ? kept : given;
}

/** An accepted PBU's outcome: its PBA (with the entry's prefixes and link-local address, when there is one) and the step's changes. */
function acceptedOutcome(c: Ctx, lifetimeUnits: number, b: Bce | undefined, step: Step | undefined, note: string, notices: boolean): PbuOutcome {
  const content: PbaContent = { status: PBA_STATUS.accepted, lifetimeUnits, sequence: c.input.pbu.sequence };
  if (b) {
    content.hnps = b.hnps;
    const lla = pbaLinkLocal(c.o.lla, b.lla);
    if (lla !== undefined) content.lla = lla;
  }
  return {
    status: PBA_STATUS.accepted,
    pba: c.r.pba(content),
    mnId: c.mnId,
    hi: c.o.hi ?? null,
    changes: step?.changes ?? emptyChanges(),
    actions: step?.actions() ?? [],
    events: step?.events ?? [],
    notices: notices && step ? step.notices : [],
    note,
  };
}

function accepted(c: Ctx, b: Bce, step: Step, note: string): PbuOutcome {
  return acceptedOutcome(c, b.lifetimeS / 4, b, step, note, true);
}

/** The link-local address to keep: the first non-zero one a MAG gave (RFC 5213 6.8). */
function keptLla(old: string | undefined, given: string | undefined): string | undefined {
  if (old !== undefined) return old;
  return given !== undefined && !isAllZero(given) ? given : undefined;
}

function ordering(c: Ctx): Pick<Bce, 'seq' | 'ts'> {
  const ts = c.cfg.timestamps && c.o.ts ? { seconds: c.o.ts.seconds, fraction: c.o.ts.fraction } : undefined;
  return ts ? { seq: c.input.pbu.sequence, ts } : { seq: c.input.pbu.sequence };
}

/** The entry this PBU makes of `base` (or a fresh one): this key, this MAG, the granted lifetime. */
function registered(c: Ctx, base: Bce | undefined, hnps: string[], state: Bce['state']): Bce {
  const { nowMs, src } = c.input;
  const units = grantedUnits(c.cfg, c.input.pbu.lifetime);
  const b: Bce = {
    ...(base ?? { createdMs: nowMs }),
    mnId: c.mnId,
    llId: c.llId,
    att: c.att,
    hnps,
    pCoA: src,
    lifetimeS: units * 4,
    ...ordering(c),
    state,
    updatedMs: nowMs,
    deadlineMs: nowMs + units * 4000,
  } as Bce;
  if (c.bid !== 0) b.bid = c.bid;
  else delete b.bid;
  if (!c.cfg.timestamps || !c.o.ts) delete b.ts;
  const lla = keptLla(base?.lla, c.o.lla);
  if (lla === undefined) delete b.lla;
  else b.lla = lla;
  return b;
}

function update(c: Ctx, old: Bce): PbuOutcome {
  const { src } = c.input;
  const step = new Step(c.cache);
  const oldKey = keyOf(old);
  if (oldKey !== c.key) {
    // same prefixes under another attachment key (an HNP match across
    // interfaces): the entry moves to the new key, replacing any entry there
    step.delete(old);
    const there = c.cache.get(c.key);
    if (there) step.delete(there);
  }
  const b = registered(c, old, old.hnps, old.state === 'dormant' ? 'dormant' : 'active');
  step.put(b, 'binding-updated');
  const note = old.pCoA !== src ? `handover ${old.pCoA} -> ${src}` : old.state === 'deleting' ? 'registered again before deletion' : 'refresh';
  return accepted(c, b, step, note);
}

/** The prefixes a new session of this key gets: named, the profile's fixed ones, or none (allocate). */
function newPrefixes(c: Ctx, requested: string[]): { prefixes: string[]; allocate: boolean } | PbuOutcome {
  if (requested.length > 0) return { prefixes: requested, allocate: false };
  // a further session on an interface (another BID) gets its own prefix: the fixed ones are the interface's first session's
  const further = c.cache.ofMn(c.mnId).some((b) => b.llId === c.llId && b.att === c.att && keyOf(b) !== c.key);
  const fixed = further ? [] : sessionPrefixes(c.mn, c.llId);
  if (fixed.length === 0) return { prefixes: [], allocate: true };
  const prefixes: string[] = [];
  for (const f of fixed) {
    const p = normalizePrefix(f);
    if (p === null) return c.r.refuse(PBA_STATUS.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `profile prefix ${f} is not a prefix`);
    if (!prefixes.includes(p)) prefixes.push(p);
  }
  return { prefixes, allocate: false };
}

function create(c: Ctx, requested: string[], replaced: Bce | undefined): PbuOutcome {
  const S = PBA_STATUS;
  const chosen = newPrefixes(c, requested);
  if ('status' in chosen) return chosen;
  let { prefixes } = chosen;
  // prefixes held elsewhere: another MN's entry or pool record refuses; a
  // session of this MN on another interface shares them (shareWith) or,
  // sharing nothing, is replaced (the MN-LL-ID of an interface changed)
  const displaced = new Map<string, Bce>();
  if (replaced) displaced.set(keyOf(replaced), replaced);
  for (const p of prefixes) {
    for (const holder of c.cache.holders(p)) {
      if (holder.mnId !== c.mnId) return c.r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `HNP ${p} bound to another MN`);
      if (!shares(c.mn, c.llId, holder.llId)) displaced.set(keyOf(holder), holder);
    }
    const owner = c.pool.ownerOf(p);
    if (owner !== undefined && owner !== c.mnId) return c.r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `HNP ${p} was given to another MN`);
  }
  const step = new Step(c.cache);
  if (chosen.allocate) {
    const before = c.pool.cursor;
    const p = c.pool.allocate(c.mnId);
    if (p === null) return c.r.refuse(S.insufficientResources, 'home network prefix pool used up');
    prefixes = [p];
    step.changes.owners.push([p, c.mnId]);
    if (c.pool.cursor !== before) step.changes.cursor = c.pool.cursor;
  } else {
    for (const p of prefixes) if (c.pool.ownerOf(p) === undefined && c.pool.claim(p, c.mnId)) step.changes.owners.push([p, c.mnId]);
  }
  for (const old of displaced.values()) step.delete(old);
  const b = registered(c, undefined, prefixes, 'active');
  step.put(b, 'binding-created');
  const shared = prefixes.some((p) => c.cache.holders(p).length > 1);
  return accepted(c, b, step, displaced.size ? 'new session (replaces the previous one)' : shared ? 'new session (shared prefix)' : 'new session');
}

/**
 * HI 2 (RFC 5213 5.4.1.2, seed 001 2.2): the prefixes of the MN's other
 * interface come to this interface's session; named HNPs: only those.
 */
function interfaceHandover(c: Ctx, requested: string[]): PbuOutcome {
  const S = PBA_STATUS;
  const { cache, mnId, key } = c;
  const own = cache.get(key);
  // a session waiting for deletion (de-registered, kept minDelayBeforeBceDeleteMs)
  // is one the MN may continue elsewhere (RFC 5213 5.3.5, MinDelayBeforeBCEDelete):
  // an interface that lost its link just before the HI 2 still hands its
  // prefixes over. Active sessions come first; a dormant one holds nothing of its own.
  const others = cache.ofMn(mnId).filter((b) => keyOf(b) !== key && b.llId !== c.llId && (b.state === 'active' || b.state === 'deleting'));
  const rank = (b: Bce) => (b.state === 'active' ? 1 : 0);
  let moving: Array<{ from: Bce; prefixes: string[] }>;
  if (requested.length === 0) {
    if (others.length === 0) return c.r.refuse(S.reasonUnspecified, `HI 2 but ${mnId} has no active or deleting session on another interface`);
    const from = others.reduce((a, b) => (rank(b) > rank(a) || (rank(b) === rank(a) && b.updatedMs > a.updatedMs) ? b : a));
    moving = [{ from, prefixes: [...from.hnps] }];
  } else {
    moving = [];
    for (const p of requested) {
      if (own?.hnps.includes(p)) continue;
      const from = others.find((b) => b.state === 'active' && b.hnps.includes(p)) ?? others.find((b) => b.hnps.includes(p));
      if (!from) return c.r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `prefix transfer names ${p}, which ${mnId} holds on no other interface`);
      const m = moving.find((x) => x.from === from);
      if (m) m.prefixes.push(p);
      else moving.push({ from, prefixes: [p] });
    }
  }
  if (own) {
    const bad = misordered(c, own);
    if (bad) return bad;
  }
  const step = new Step(cache);
  const gained = moving.flatMap((m) => m.prefixes);
  for (const m of moving) {
    const keeps = m.from.hnps.filter((p) => !m.prefixes.includes(p));
    if (keeps.length === 0) step.delete(m.from);
    else step.put({ ...m.from, hnps: keeps, updatedMs: c.input.nowMs }, 'binding-updated');
    // a deleting session's MAG has de-registered it already: nothing to tell
    // (it would answer 132, no such session)
    if (m.from.state === 'deleting') continue;
    const n: SessionNotice = { pCoA: m.from.pCoA, mnId, llId: m.from.llId, att: m.from.att, keeps };
    if (m.from.bid !== undefined) n.bid = m.from.bid;
    step.notices.push(n);
  }
  const hnps = [...(own?.hnps ?? []), ...gained.filter((p) => !own?.hnps.includes(p))];
  if (hnps.length === 0) return c.r.refuse(S.reasonUnspecified, 'HI 2 moves no prefix');
  const b = registered(c, own, hnps, 'active');
  step.put(b, own ? 'binding-updated' : 'binding-created');
  return accepted(c, b, step, `interface handover: ${gained.join(',') || 'nothing'} from ${moving.map((m) => m.from.llId).join(',') || '-'}`);
}

/**
 * Appendix D: a dormant binding for this interface over the prefixes of an
 * active session of the MN (named, or the shareWith interface's fixed ones).
 */
function dormant(c: Ctx, requested: string[]): PbuOutcome {
  const S = PBA_STATUS;
  const prefixes = requested.length > 0 ? requested : sessionPrefixes(c.mn, c.llId).map((f) => normalizePrefix(f) ?? f);
  if (prefixes.length === 0) return c.r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, 'dormant binding without prefixes to back');
  for (const p of prefixes) {
    if (!c.cache.holders(p).some((b) => b.mnId === c.mnId && b.state === 'active' && keyOf(b) !== c.key)) {
      return c.r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `dormant binding for ${p}, which no active session of ${c.mnId} holds`);
    }
  }
  const own = c.cache.get(c.key);
  if (own) {
    const bad = misordered(c, own);
    if (bad) return bad;
  }
  const step = new Step(c.cache);
  const b = registered(c, own, prefixes, 'dormant');
  step.put(b, own ? 'binding-updated' : 'binding-created');
  return accepted(c, b, step, 'dormant binding');
}

function deregister(c: Ctx, requested: string[]): PbuOutcome {
  const { nowMs, src } = c.input;
  const own = c.cache.get(c.key);
  // named prefixes of another key of this MN (an old MN-LL-ID): that entry
  // but never another interface's session: after an HI 2 between two interfaces
  // on one MAG, the old interface's late de-registration names the prefix that
  // moved, and must not take the new interface's session down with it
  const otherIface = (b: Bce) => {
    const mine = interfaceByLlId(c.mn, c.llId);
    const its = interfaceByLlId(c.mn, b.llId);
    return mine !== undefined && its !== undefined && mine !== its;
  };
  const target =
    own ?? (requested.length > 0 ? c.cache.holders(requested[0]!).find((b) => b.mnId === c.mnId && b.pCoA === src && !otherIface(b)) : undefined);
  // a de-registration notifies no other MAG
  const done = (note: string, step?: Step): PbuOutcome => acceptedOutcome(c, 0, target, step, note, false);
  if (!target) return done('de-registration without a binding');
  // a de-registration from a MAG the entry is no longer bound to changes
  // nothing, so there is nothing to order: accepted as it comes
  if (target.pCoA !== src) return done(`late de-registration from ${src} ignored: bound to ${target.pCoA}`);
  const bad = misordered(c, target);
  if (bad) return bad;
  if (target.state === 'deleting') return done('de-registration repeated');
  const step = new Step(c.cache);
  if (c.cfg.minDelayBeforeBceDeleteMs <= 0 || target.state === 'dormant') {
    step.delete(target);
    step.activateDormant(nowMs);
    return done('de-registered, deleted', step);
  }
  const b: Bce = { ...target, ...ordering(c), lifetimeS: 0, state: 'deleting', updatedMs: nowMs, deadlineMs: nowMs + c.cfg.minDelayBeforeBceDeleteMs };
  step.put(b, 'binding-updated');
  step.activateDormant(nowMs);
  return done(`de-registered, deletion in ${c.cfg.minDelayBeforeBceDeleteMs} ms`, step);
}

export interface ExpiryOutcome {
  bce: Bce;
  changes: CacheChanges;
  actions: DataPlaneAction[];
  events: LmaBindingEvent[];
  reason: 'lifetime expired' | 'de-registered';
}

/** Delete the entry under key when its deadline has passed (a stale timer is a no-op: null). */
export function expire(cache: BindingCache, key: string, nowMs: number): ExpiryOutcome | null {
  const b = cache.get(key);
  if (!b || b.deadlineMs > nowMs) return null;
  const step = new Step(cache);
  step.delete(b);
  step.activateDormant(nowMs);
  return {
    bce: b,
    changes: step.changes,
    actions: step.actions(),
    events: step.events,
    reason: b.state === 'deleting' ? 'de-registered' : 'lifetime expired',
  };
}
