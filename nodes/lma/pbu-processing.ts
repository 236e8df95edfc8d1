import { HANDOFF_INDICATOR, PBA_STATUS, type MessageOf, type MobilityOption, type OptionOf } from '../protocol/index.js';
import type { BindingEvent } from '../runtime/events.js';
import { type Bce, type BindingCache, bceKey, keyOf } from './binding-cache.js';
import type { LmaConfig } from './config.js';
import type { HnpPool } from './hnp-pool.js';
import { isAllZero, normalizePrefix, prefixOf, splitPrefix } from './prefix.js';
import { allPrefixes, sessionPrefixes, type MnProfile } from '../runtime/policy-store.js';

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
// - All-zero HNP (5.4.1.2), per Handoff Indicator, key = MN-ID + ATT + MN-LL-ID:
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
// - Non-zero HNPs (5.4.1.1): the entry holding them is updated whatever the
//   HI; a partial match is 159; prefixes of another MN, or not in the
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

export type DataPlaneAction = { op: 'bind'; hnp: string; pCoA: string; mnId: string } | { op: 'unbind'; hnp: string; mnId: string };

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
  /** why, for the log: the refusal reason or a note on what was done */
  note: string;
}

interface Parsed {
  mnId?: string;
  hnps: Array<OptionOf<'hnp'>>;
  hi?: number;
  att?: number;
  llIdHex?: string;
  ts?: OptionOf<'timestamp'>;
  lla?: string;
}

function parseOptions(options: MobilityOption[]): Parsed {
  const p: Parsed = { hnps: [] };
  for (const o of options) {
    switch (o.kind) {
      case 'mnId':
        p.mnId ??= o.nai;
        break;
      case 'hnp':
        p.hnps.push(o);
        break;
      case 'handoffIndicator':
        p.hi ??= o.value;
        break;
      case 'accessTechnologyType':
        p.att ??= o.value;
        break;
      case 'mnLinkLayerId':
      case 'mnLinkLayerIdExt':
        p.llIdHex ??= o.identifier;
        break;
      case 'timestamp':
        p.ts ??= o;
        break;
      case 'linkLocalAddress':
        p.lla ??= o.address;
        break;
      default:
        break;
    }
  }
  return p;
}

/** MN-LL-ID octets as the events and policy write them: lowercase hex with ':'. */
export function llIdText(hex: string): string {
  return hex.replace(/(..)(?!$)/g, '$1:');
}

/** Sequence numbers modulo 2^16 (RFC 6275 9.5.1): a is newer than b when it is 1..32767 ahead. */
export function seqNewer(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}

/** RFC 5213 8.8 Timestamp: 48-bit seconds since 1970 and 1/65536 fractions. */
export function timestampAt(wallMs: number): { seconds: number; fraction: number } {
  const seconds = Math.floor(wallMs / 1000);
  return { seconds, fraction: Math.min(0xffff, Math.floor(((wallMs - seconds * 1000) / 1000) * 65536)) };
}
const tsMs = (t: { seconds: number; fraction: number }) => t.seconds * 1000 + (t.fraction / 65536) * 1000;
const tsLower = (a: { seconds: number; fraction: number }, b: { seconds: number; fraction: number }) =>
  a.seconds < b.seconds || (a.seconds === b.seconds && a.fraction < b.fraction);

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

export function bindingEvent(b: Bce): BindingEvent {
  return { mnId: b.mnId, att: b.att, llId: b.llId, hnp: b.hnps[0] ?? '', hnps: [...b.hnps], pCoA: b.pCoA, lifetime: b.lifetimeS, state: b.state };
}

const emptyChanges = (): CacheChanges => ({ put: [], del: [], owners: [] });

class Reply {
  constructor(
    readonly input: PbuInput,
    readonly opts: Parsed,
    readonly cfg: LmaConfig,
  ) {}

  /** The PBA (RFC 5213 5.3.6): options of the PBU mirrored, prefixes as given. */
  pba(status: number, lifetimeUnits: number, sequence: number, extra: { hnps?: string[]; lla?: string; tsNow?: boolean } = {}): MessageOf<'pba'> {
    const { opts, input, cfg } = this;
    const options: MobilityOption[] = [];
    if (opts.mnId !== undefined) options.push({ kind: 'mnId', nai: opts.mnId });
    if (extra.hnps) for (const h of extra.hnps) options.push({ kind: 'hnp', ...splitPrefix(h) });
    else for (const h of opts.hnps) options.push({ kind: 'hnp', prefix: h.prefix, prefixLength: h.prefixLength });
    if (opts.hi !== undefined) options.push({ kind: 'handoffIndicator', value: opts.hi });
    if (opts.att !== undefined) options.push({ kind: 'accessTechnologyType', value: opts.att });
    if (opts.llIdHex !== undefined) options.push({ kind: 'mnLinkLayerId', identifier: opts.llIdHex });
    // only answering a PBU that had one (RFC 5213 5.3.6)
    if (opts.lla !== undefined) options.push({ kind: 'linkLocalAddress', address: extra.lla ?? opts.lla });
    if (cfg.timestamps) {
      if (extra.tsNow) options.push({ kind: 'timestamp', ...timestampAt(input.wallMs) });
      else if (opts.ts) options.push({ kind: 'timestamp', seconds: opts.ts.seconds, fraction: opts.ts.fraction });
    }
    if (status < 128 && lifetimeUnits > 0 && cfg.refreshAdviceS > 0) {
      options.push({ kind: 'bindingRefreshAdvice', interval: Math.max(1, Math.min(lifetimeUnits, Math.floor(cfg.refreshAdviceS / 4))) });
    }
    return { kind: 'pba', status, flags: { K: false, R: false, P: true }, sequence, lifetime: lifetimeUnits, options };
  }

  refuse(status: number, note: string, extra: { sequence?: number; tsNow?: boolean } = {}): PbuOutcome {
    const { opts, input } = this;
    const tsOpt = extra.tsNow === undefined ? {} : { tsNow: extra.tsNow };
    return {
      status,
      pba: this.pba(status, 0, extra.sequence ?? input.pbu.sequence, tsOpt),
      mnId: opts.mnId ?? null,
      hi: opts.hi ?? null,
      changes: emptyChanges(),
      actions: [],
      events: [],
      note,
    };
  }
}

/**
 * Process one PBU. Mutates cache and pool only when the PBU is accepted and
 * changes state; everything to persist is in the outcome's `changes`.
 */
export function processPbu(cache: BindingCache, pool: HnpPool, cfg: LmaConfig, input: PbuInput): PbuOutcome {
  const { pbu, src, mag, mn, nowMs } = input;
  const o = parseOptions(pbu.options);
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
  const key = bceKey(mnId, llId, att);
  const dereg = pbu.lifetime === 0;

  // RFC 5213 5.4.1: which entry, if any, this PBU is about
  const requested: string[] = [];
  for (const h of o.hnps) {
    if (isAllZero(h.prefix)) continue;
    const p = prefixOf(h.prefix, h.prefixLength);
    if (p === null) return r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `HNP ${h.prefix}/${h.prefixLength} is not a prefix`);
    if (!requested.includes(p)) requested.push(p);
  }
  let target: Bce | undefined; // entry to update (or de-register)
  let replaced: Bce | undefined; // entry a new session replaces (same key)
  if (requested.length > 0) {
    const holders = new Set<Bce>();
    for (const p of requested) {
      const b = cache.byPrefix(p);
      if (b) holders.add(b);
    }
    for (const b of holders) if (b.mnId !== mnId) return r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `HNP bound to another MN`);
    if (holders.size > 1) return r.refuse(S.BCE_PBU_PREFIX_SET_DO_NOT_MATCH, 'HNPs of several bindings');
    const [holder] = holders;
    if (holder) {
      if (!sameSet(holder.hnps, requested)) {
        return r.refuse(S.BCE_PBU_PREFIX_SET_DO_NOT_MATCH, `HNPs ${requested.join(',')} vs binding ${holder.hnps.join(',')}`);
      }
      target = holder;
    } else {
      for (const p of requested) {
        // a fixed prefix of any of the MN's interfaces, or one the pool gave this MN
        const ok = allPrefixes(mn).some((f) => normalizePrefix(f) === p) || pool.ownerOf(p) === mnId;
        if (!ok) return r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `HNP ${p} not authorised for ${mnId}`);
      }
      replaced = cache.get(key);
    }
  } else if (dereg) {
    target = cache.get(key);
  } else {
    const existing = cache.get(key);
    switch (o.hi) {
      case HANDOFF_INDICATOR.newInterface:
        // the MAG the interface's active session is bound to, registering it
        // again (its first PBU's retransmission carries a new sequence number,
        // RFC 6275 11.7.1, so a lost or late PBA looks like this): the same
        // session, prefixes kept, not a second prefix for one interface
        if (existing && existing.state === 'active' && existing.pCoA === src) target = existing;
        else replaced = existing;
        break;
      case HANDOFF_INDICATOR.differentInterface:
      case HANDOFF_INDICATOR.sameInterface:
      case HANDOFF_INDICATOR.unknown:
      case HANDOFF_INDICATOR.notChanged:
        target = existing;
        break;
      default:
        return r.refuse(S.reasonUnspecified, `Handoff Indicator ${o.hi} not supported`);
    }
  }

  // message ordering against the entry this PBU would change (RFC 5213 5.5);
  // a de-registration from a MAG the entry is no longer bound to changes
  // nothing, so there is nothing to order: it is accepted as it comes (a 135
  // would only send the old MAG on a resynchronisation race with the new one)
  const ctx = { cache, pool, cfg, input, o, r, mnId, llId, att, key };
  if (dereg && target && target.pCoA !== src) return deregister(ctx, target);
  const against = target ?? replaced;
  if (against) {
    if (cfg.timestamps) {
      if (o.ts && against.ts && tsLower(o.ts, against.ts)) {
        return r.refuse(S.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED, 'timestamp older than the last accepted');
      }
    } else if (!seqNewer(pbu.sequence, against.seq)) {
      return r.refuse(S.sequenceOutOfWindow, `sequence ${pbu.sequence} not after ${against.seq}`, { sequence: against.seq });
    }
  }

  if (dereg) return deregister(ctx, target);
  if (target) return update(ctx, target);
  return create(ctx, mn, requested, replaced);
}

interface Ctx {
  cache: BindingCache;
  pool: HnpPool;
  cfg: LmaConfig;
  input: PbuInput;
  o: Parsed;
  r: Reply;
  mnId: string;
  llId: string;
  att: number;
  key: string;
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

function accepted(c: Ctx, b: Bce, changes: CacheChanges, actions: DataPlaneAction[], events: LmaBindingEvent[], note: string): PbuOutcome {
  const lla = pbaLinkLocal(c.o.lla, b.lla);
  const extra = lla === undefined ? { hnps: b.hnps } : { hnps: b.hnps, lla };
  return {
    status: PBA_STATUS.accepted,
    pba: c.r.pba(PBA_STATUS.accepted, b.lifetimeS / 4, c.input.pbu.sequence, extra),
    mnId: c.mnId,
    hi: c.o.hi ?? null,
    changes,
    actions,
    events,
    note,
  };
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

function update(c: Ctx, old: Bce): PbuOutcome {
  const { nowMs, src } = c.input;
  const units = grantedUnits(c.cfg, c.input.pbu.lifetime);
  const b: Bce = {
    ...old,
    ...ordering(c),
    mnId: c.mnId,
    llId: c.llId,
    att: c.att,
    pCoA: src,
    lifetimeS: units * 4,
    state: 'active',
    updatedMs: nowMs,
    deadlineMs: nowMs + units * 4000,
  };
  const lla = keptLla(old.lla, c.o.lla);
  if (lla === undefined) delete b.lla;
  else b.lla = lla;
  const changes = emptyChanges();
  const actions: DataPlaneAction[] = [];
  const events: LmaBindingEvent[] = [];
  const oldKey = keyOf(old);
  if (oldKey !== c.key) {
    // same prefixes under another attachment key (an HNP match across
    // interfaces): the entry moves to the new key, replacing any entry there
    c.cache.delete(oldKey);
    changes.del.push(oldKey);
    const there = c.cache.delete(c.key);
    if (there) {
      events.push({ type: 'binding-deleted', data: bindingEvent({ ...there, lifetimeS: 0 }) });
      if (there.state === 'active') for (const hnp of there.hnps) actions.push({ op: 'unbind', hnp, mnId: there.mnId });
    }
  }
  c.cache.put(b);
  changes.put.push(b);
  if (old.pCoA !== src || old.state === 'deleting') for (const hnp of b.hnps) actions.push({ op: 'bind', hnp, pCoA: src, mnId: c.mnId });
  events.push({ type: 'binding-updated', data: bindingEvent(b) });
  const note = old.pCoA !== src ? `handover ${old.pCoA} -> ${src}` : old.state === 'deleting' ? 'registered again before deletion' : 'refresh';
  return accepted(c, b, changes, actions, events, note);
}

function create(c: Ctx, mn: MnPolicy, requested: string[], replaced: Bce | undefined): PbuOutcome {
  const { nowMs, src } = c.input;
  const S = PBA_STATUS;
  const changes = emptyChanges();
  let prefixes: string[];
  let allocate = false;
  const fixed = sessionPrefixes(mn, c.llId);
  if (requested.length > 0) prefixes = requested;
  else if (fixed.length > 0) {
    prefixes = [];
    for (const f of fixed) {
      const p = normalizePrefix(f);
      if (p === null) return c.r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `profile prefix ${f} is not a prefix`);
      if (!prefixes.includes(p)) prefixes.push(p);
    }
  } else {
    prefixes = [];
    allocate = true;
  }
  // prefixes held elsewhere: another MN's entry or pool record refuses; this MN's other entries are replaced
  const displaced = new Map<string, Bce>();
  if (replaced) displaced.set(keyOf(replaced), replaced);
  for (const p of prefixes) {
    const holder = c.cache.byPrefix(p);
    if (holder && holder.mnId !== c.mnId) return c.r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `HNP ${p} bound to another MN`);
    if (holder) displaced.set(keyOf(holder), holder);
    const owner = c.pool.ownerOf(p);
    if (owner !== undefined && owner !== c.mnId) return c.r.refuse(S.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, `HNP ${p} was given to another MN`);
  }
  if (allocate) {
    const before = c.pool.cursor;
    const p = c.pool.allocate(c.mnId);
    if (p === null) return c.r.refuse(S.insufficientResources, 'home network prefix pool used up');
    prefixes = [p];
    changes.owners.push([p, c.mnId]);
    if (c.pool.cursor !== before) changes.cursor = c.pool.cursor;
  } else {
    for (const p of prefixes) if (c.pool.ownerOf(p) === undefined && c.pool.claim(p, c.mnId)) changes.owners.push([p, c.mnId]);
  }

  const events: LmaBindingEvent[] = [];
  const actions: DataPlaneAction[] = [];
  for (const [k, old] of displaced) {
    c.cache.delete(k);
    if (k !== c.key) changes.del.push(k);
    events.push({ type: 'binding-deleted', data: bindingEvent({ ...old, lifetimeS: 0 }) });
    for (const hnp of old.hnps) if (!prefixes.includes(hnp) && old.state === 'active') actions.push({ op: 'unbind', hnp, mnId: old.mnId });
  }
  const units = grantedUnits(c.cfg, c.input.pbu.lifetime);
  const b: Bce = {
    mnId: c.mnId,
    llId: c.llId,
    att: c.att,
    hnps: prefixes,
    pCoA: src,
    lifetimeS: units * 4,
    ...ordering(c),
    state: 'active',
    createdMs: nowMs,
    updatedMs: nowMs,
    deadlineMs: nowMs + units * 4000,
  };
  const lla = keptLla(undefined, c.o.lla);
  if (lla !== undefined) b.lla = lla;
  c.cache.put(b);
  changes.put.push(b);
  for (const hnp of prefixes) actions.push({ op: 'bind', hnp, pCoA: src, mnId: c.mnId });
  events.push({ type: 'binding-created', data: bindingEvent(b) });
  return accepted(c, b, changes, actions, events, displaced.size ? 'new session (replaces the previous one)' : 'new session');
}

function deregExtra(c: Ctx, target: Bce | undefined): { hnps?: string[]; lla?: string } {
  if (!target) return {};
  const lla = pbaLinkLocal(c.o.lla, target.lla);
  return lla === undefined ? { hnps: target.hnps } : { hnps: target.hnps, lla };
}

function deregister(c: Ctx, target: Bce | undefined): PbuOutcome {
  const { nowMs, src } = c.input;
  const done = (note: string, more: Partial<Pick<PbuOutcome, 'changes' | 'actions' | 'events'>> = {}): PbuOutcome => ({
    status: PBA_STATUS.accepted,
    pba: c.r.pba(PBA_STATUS.accepted, 0, c.input.pbu.sequence, deregExtra(c, target)),
    mnId: c.mnId,
    hi: c.o.hi ?? null,
    changes: more.changes ?? emptyChanges(),
    actions: more.actions ?? [],
    events: more.events ?? [],
    note,
  });
  if (!target) return done('de-registration without a binding');
  if (target.pCoA !== src) return done(`late de-registration from ${src} ignored: bound to ${target.pCoA}`);
  if (target.state === 'deleting') return done('de-registration repeated');

  const changes = emptyChanges();
  const actions: DataPlaneAction[] = target.hnps.map((hnp) => ({ op: 'unbind' as const, hnp, mnId: c.mnId }));
  const key = keyOf(target);
  if (c.cfg.minDelayBeforeBceDeleteMs <= 0) {
    c.cache.delete(key);
    changes.del.push(key);
    return done('de-registered, deleted', { changes, actions, events: [{ type: 'binding-deleted', data: bindingEvent({ ...target, lifetimeS: 0 }) }] });
  }
  const b: Bce = { ...target, ...ordering(c), lifetimeS: 0, state: 'deleting', updatedMs: nowMs, deadlineMs: nowMs + c.cfg.minDelayBeforeBceDeleteMs };
  c.cache.put(b);
  changes.put.push(b);
  return done(`de-registered, deletion in ${c.cfg.minDelayBeforeBceDeleteMs} ms`, { changes, actions, events: [{ type: 'binding-updated', data: bindingEvent(b) }] });
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
  cache.delete(key);
  const actions: DataPlaneAction[] = b.state === 'active' ? b.hnps.map((hnp) => ({ op: 'unbind' as const, hnp, mnId: b.mnId })) : [];
  return {
    bce: b,
    changes: { put: [], del: [key], owners: [] },
    actions,
    events: [{ type: 'binding-deleted', data: bindingEvent({ ...b, lifetimeS: 0 }) }],
    reason: b.state === 'active' ? 'lifetime expired' : 'de-registered',
  };
}
