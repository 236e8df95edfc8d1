import { UPN_REASON, type MessageOf, type MobilityOption, type OptionOf } from '../protocol/index.js';
import { splitPrefix } from './prefix.js';

// The LMA's translation between Mobility Header messages and what its
// decisions (pbu-processing.ts) work on, as mag/messages.ts is for the MAG:
// the options of a PBU read once into a plain record, the PBA built from a
// decision, the Update Notification to a MAG whose session changed under it
// (RFC 7077). No state, no I/O.

/** The options of a PBU the LMA acts on (the first of each kind counts; HNPs all). */
export interface PbuOptions {
  mnId?: string;
  hnps: Array<OptionOf<'hnp'>>;
  hi?: number;
  att?: number;
  llIdHex?: string;
  ts?: OptionOf<'timestamp'>;
  lla?: string;
  /** RFC 5648 Binding Identifier option (seed 001 2.1: several sessions on one interface) */
  bid?: OptionOf<'bindingId'>;
  /** seed 001 appendix D: the Vendor-Specific Mobility Option "dormant" (see DORMANT_OPTION) */
  dormant: boolean;
}

/**
 * Seed 001 appendix D, on the wire (docs/seed001.md): a Vendor-Specific
 * Mobility Option (RFC 5094, type 19) with the documentation enterprise
 * number 32473 (RFC 5612) and sub-type 1, no data. The codec has no record
 * for type 19, so it arrives as an unknown option with its data.
 */
export const DORMANT_OPTION = { type: 19, data: '00007ed901' } as const;

export function isDormantOption(o: MobilityOption): boolean {
  return o.kind === 'unknown' && o.type === DORMANT_OPTION.type && o.data.toLowerCase() === DORMANT_OPTION.data;
}

export function pbuOptions(options: readonly MobilityOption[]): PbuOptions {
  const p: PbuOptions = { hnps: [], dormant: false };
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
      case 'bindingId':
        p.bid ??= o;
        break;
      default:
        if (isDormantOption(o)) p.dormant = true;
        break;
    }
  }
  return p;
}

/** MN-LL-ID octets as the events and policy write them: lowercase hex with ':'. */
export function llIdText(hex: string): string {
  return hex.replace(/(..)(?!$)/g, '$1:');
}

/** RFC 5213 8.8 Timestamp: 48-bit seconds since 1970 and 1/65536 fractions. */
export function timestampAt(wallMs: number): { seconds: number; fraction: number } {
  const seconds = Math.floor(wallMs / 1000);
  return { seconds, fraction: Math.min(0xffff, Math.floor(((wallMs - seconds * 1000) / 1000) * 65536)) };
}

export interface PbaSettings {
  timestamps: boolean;
  refreshAdviceS: number;
}

export interface PbaContent {
  status: number;
  /** granted lifetime, 4 s units */
  lifetimeUnits: number;
  sequence: number;
  /** the entry's prefixes (acceptance); default the PBU's own HNP options */
  hnps?: string[];
  /** the Link-local Address to answer with (only used when the PBU had the option) */
  lla?: string;
  /** Timestamp option with the LMA's clock (a 156) instead of the PBU's */
  tsNow?: boolean;
  /** status of the BID option (RFC 5648 6.1), when the PBU had one; default the PBA status */
  bidStatus?: number;
}

/**
 * The PBA (RFC 5213 5.3.6): the PBU's options mirrored (MN-ID, HNPs or the
 * entry's, HI, ATT, MN-LL-ID), the Link-local Address only when the PBU had
 * one, Timestamp when in use, Binding Refresh Advice when configured, the
 * BID option (RFC 5648 6.1.1: the BA carries the BID option of the BU, its
 * Status field set) and the dormant option echoed (seed 001 appendix D).
 */
export function buildPba(opts: PbuOptions, c: PbaContent, s: PbaSettings, wallMs: number): MessageOf<'pba'> {
  const options: MobilityOption[] = [];
  if (opts.mnId !== undefined) options.push({ kind: 'mnId', nai: opts.mnId });
  if (c.hnps) for (const h of c.hnps) options.push({ kind: 'hnp', ...splitPrefix(h) });
  else for (const h of opts.hnps) options.push({ kind: 'hnp', prefix: h.prefix, prefixLength: h.prefixLength });
  if (opts.hi !== undefined) options.push({ kind: 'handoffIndicator', value: opts.hi });
  if (opts.att !== undefined) options.push({ kind: 'accessTechnologyType', value: opts.att });
  if (opts.llIdHex !== undefined) options.push({ kind: 'mnLinkLayerId', identifier: opts.llIdHex });
  // only answering a PBU that had one (RFC 5213 5.3.6)
  if (opts.lla !== undefined) options.push({ kind: 'linkLocalAddress', address: c.lla ?? opts.lla });
  if (s.timestamps) {
    if (c.tsNow) options.push({ kind: 'timestamp', ...timestampAt(wallMs) });
    else if (opts.ts) options.push({ kind: 'timestamp', seconds: opts.ts.seconds, fraction: opts.ts.fraction });
  }
  if (opts.bid) {
    const st = c.bidStatus ?? c.status;
    options.push({ kind: 'bindingId', bid: opts.bid.bid, status: Math.min(255, st), flags: { H: false }, bidPri: opts.bid.bidPri });
  }
  if (opts.dormant) options.push({ kind: 'unknown', type: DORMANT_OPTION.type, data: DORMANT_OPTION.data });
  if (c.status < 128 && c.lifetimeUnits > 0 && s.refreshAdviceS > 0) {
    options.push({ kind: 'bindingRefreshAdvice', interval: Math.max(1, Math.min(c.lifetimeUnits, Math.floor(s.refreshAdviceS / 4))) });
  }
  return { kind: 'pba', status: c.status, flags: { K: false, R: false, P: true }, sequence: c.sequence, lifetime: c.lifetimeUnits, options };
}

/**
 * Seed 001 section 4, the combined PBU of a MAG for several interfaces of one
 * MN (docs/seed001.md: RFC 5648 bulk-registration layout): options common to
 * all first (MN-ID, HI, Timestamp, ...), then per interface a Binding
 * Identifier option followed by that interface's MN-LL-ID, ATT and HNP
 * options (an HI there overrides the common one). Split into one PBU per
 * interface with the message's header; null when the PBU is not combined
 * (fewer than two BID options, or a group without MN-LL-ID).
 */
export function splitCombinedPbu(pbu: MessageOf<'pbu'>): Array<MessageOf<'pbu'>> | null {
  const first = pbu.options.findIndex((o) => o.kind === 'bindingId');
  if (first < 0 || pbu.options.filter((o) => o.kind === 'bindingId').length < 2) return null;
  const common = pbu.options.slice(0, first).filter((o) => o.kind !== 'pad1' && o.kind !== 'padN');
  const groups: MobilityOption[][] = [];
  for (const o of pbu.options.slice(first)) {
    if (o.kind === 'pad1' || o.kind === 'padN') continue;
    if (o.kind === 'bindingId') groups.push([o]);
    else groups[groups.length - 1]!.push(o);
  }
  if (!groups.every((g) => g.some((o) => o.kind === 'mnLinkLayerId' || o.kind === 'mnLinkLayerIdExt'))) return null;
  return groups.map((g) => {
    const own = new Set(g.map((o) => o.kind));
    return { ...pbu, options: [...common.filter((o) => !own.has(o.kind)), ...g] };
  });
}

/** Status of a combined PBA: the groups' one status when they agree, else MCOA NOTCOMPLETE (RFC 5648 6.2: see each BID option). */
export function combinedStatus(statuses: readonly number[]): number {
  const [s0] = statuses;
  return statuses.every((s) => s === s0) ? (s0 ?? 0) : MCOA_NOTCOMPLETE;
}
/** RFC 5648 Binding Acknowledgement status 4: some bindings of a bulk registration failed; each BID option's status says which. */
export const MCOA_NOTCOMPLETE = 4;

/**
 * One PBA for a combined PBU (seed 001 section 4): the common options of the
 * first interface's PBA, then per interface its BID option (with that
 * interface's status), MN-LL-ID, ATT and granted HNPs, in the PBU's order.
 */
export function combinePbas(parts: ReadonlyArray<MessageOf<'pba'>>): MessageOf<'pba'> {
  const perGroup = new Set(['bindingId', 'mnLinkLayerId', 'mnLinkLayerIdExt', 'accessTechnologyType', 'hnp']);
  const first = parts[0]!;
  const common = first.options.filter((o) => !perGroup.has(o.kind));
  const groups = parts.flatMap((p) => {
    const bid = p.options.find((o) => o.kind === 'bindingId');
    const rest = p.options.filter((o) => perGroup.has(o.kind) && o.kind !== 'bindingId');
    return bid ? [bid, ...rest] : rest;
  });
  const accepted = parts.filter((p) => p.status < 128);
  return {
    ...first,
    status: combinedStatus(parts.map((p) => p.status)),
    lifetime: accepted.length ? Math.min(...accepted.map((p) => p.lifetime)) : 0,
    options: [...common, ...groups],
  };
}

/** What the LMA tells a MAG whose session another interface's PBU changed (seed 001 2.2). */
export interface SessionNotice {
  /** the MAG's proxy CoA */
  pCoA: string;
  mnId: string;
  llId: string;
  att: number;
  bid?: number;
  /** prefixes the session keeps; [] = none left: the MAG de-registers it (D flag) */
  keeps: string[];
}

/**
 * Update Notification (RFC 7077 4.1) for a session that lost prefixes to
 * another interface: reason FORCE-REREGISTRATION, A set (the MAG answers with
 * an Update Notification Ack); D (force de-registration) when the session
 * keeps nothing. The MAG re-registers (all-zero HNP: the PBA names what the
 * session keeps) and stops advertising the rest, or de-registers.
 */
export function buildUpdateNotification(n: SessionNotice, sequence: number): MessageOf<'updateNotification'> {
  const options: MobilityOption[] = [{ kind: 'mnId', nai: n.mnId }];
  for (const h of n.keeps) options.push({ kind: 'hnp', ...splitPrefix(h) });
  options.push({ kind: 'accessTechnologyType', value: n.att });
  if (n.llId !== '') options.push({ kind: 'mnLinkLayerId', identifier: n.llId.replace(/:/g, '') });
  if (n.bid !== undefined && n.bid !== 0) options.push({ kind: 'bindingId', bid: n.bid, status: 0, flags: { H: false }, bidPri: 0 });
  return {
    kind: 'updateNotification',
    sequence,
    reason: UPN_REASON.forceReregistration,
    flags: { A: true, D: n.keeps.length === 0 },
    options,
  };
}
