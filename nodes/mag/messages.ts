import type { Message, MessageOf, MobilityOption, OptionOf } from '../protocol/index.js';
import type { PbaInput } from './bul-list.js';

// Translation between the BUL's view of a request and the Mobility Header
// messages on the wire (OPMIP's mp_sender / mp_receiver layer): the role never
// touches option lists itself.

export interface PbuFields {
  seq: number;
  lifetimeS: number; // seconds; sent in 4 s units, rounded up
  hi: number;
  /** CIDRs, one HNP option each; [] = one all-zero option (allocate, or with HI 2 all of the other interface's) */
  hnps: string[];
  /** seed 001 appendix D: the dormant Vendor-Specific Mobility Option (docs/seed001.md) */
  dormant?: boolean;
  /** RFC 5648 Binding Identifier of the session (combinePbu: every PBU of such a session carries it) */
  bid?: number;
  mnId: string;
  llId: string; // hex octets with ':'
  att: number;
  /** the MAG's access link-local address (RFC 5213 6.8), sent with registrations */
  linkLocal?: string;
  timestamp?: { seconds: number; fraction: number };
}

/** Octets of "02:70:6c:..." as the option's lowercase hex. */
export function llIdHex(llId: string): string {
  return llId.replace(/[:\-.]/g, '').toLowerCase();
}

/** Back from option hex to colon-separated octets. */
export function llIdText(hex: string): string {
  return (hex.match(/../g) ?? []).join(':');
}

export function splitCidr(cidr: string): { prefix: string; prefixLength: number } {
  const i = cidr.lastIndexOf('/');
  return i < 0 ? { prefix: cidr, prefixLength: 128 } : { prefix: cidr.slice(0, i), prefixLength: Number(cidr.slice(i + 1)) };
}

/** RFC 5213 6.9.1.1: P and A set, with MN-ID, HNP, HI, ATT, MN-LL-ID, [LLA], [Timestamp]. */
export function buildPbu(f: PbuFields): MessageOf<'pbu'> {
  const options: MobilityOption[] = [
    { kind: 'mnId', nai: f.mnId },
    ...(f.hnps.length ? f.hnps : ['::/0']).map((h): MobilityOption => ({ kind: 'hnp', ...splitCidr(h) })),
    { kind: 'handoffIndicator', value: f.hi },
    { kind: 'accessTechnologyType', value: f.att },
    { kind: 'mnLinkLayerId', identifier: llIdHex(f.llId) },
  ];
  if (f.linkLocal !== undefined) options.push({ kind: 'linkLocalAddress', address: f.linkLocal });
  if (f.timestamp !== undefined) options.push({ kind: 'timestamp', ...f.timestamp });
  if (f.dormant) options.push(dormantOption());
  if (f.bid !== undefined) options.push(bidOption(f.bid));
  return {
    kind: 'pbu',
    sequence: f.seq,
    flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true },
    lifetime: Math.min(0xffff, Math.ceil(f.lifetimeS / 4)),
    options,
  };
}

function opt<K extends MobilityOption['kind']>(m: Message, kind: K): OptionOf<K> | undefined {
  return m.options.find((o): o is OptionOf<K> => o.kind === kind);
}

/** The session a message names: MN-ID, MN-LL-ID and ATT, where present. */
function sessionIds(m: Message): { mnId?: string; llId?: string; att?: number } {
  const ids: { mnId?: string; llId?: string; att?: number } = {};
  const id = opt(m, 'mnId');
  if (id) ids.mnId = id.nai;
  const ll = opt(m, 'mnLinkLayerId');
  if (ll) ids.llId = llIdText(ll.identifier);
  const att = opt(m, 'accessTechnologyType');
  if (att) ids.att = att.value;
  return ids;
}

/** A PBA as the BUL takes it; null when it is not a proxy binding acknowledgement (P flag clear). */
export function readPba(m: MessageOf<'pba'>): PbaInput | null {
  if (!m.flags.P) return null;
  const out: PbaInput = { seq: m.sequence, status: m.status, lifetimeS: m.lifetime * 4, hnps: [] };
  // every HNP option is one prefix of the session; ::/0 is none (a refusal echoes what was asked)
  for (const o of m.options) if (o.kind === 'hnp' && !(o.prefixLength === 0 && o.prefix === '::')) out.hnps.push(`${o.prefix}/${o.prefixLength}`);
  const bra = opt(m, 'bindingRefreshAdvice');
  if (bra) out.refreshS = bra.interval * 4; // RFC 6275 6.2.4: 4 s units
  return { ...out, ...sessionIds(m) };
}

function bidOption(bid: number): MobilityOption {
  return { kind: 'bindingId', bid, status: 0, flags: { H: false }, bidPri: 0 };
}

/**
 * Seed 001 section 4 (docs/seed001.md, RFC 5648 bulk-registration layout):
 * one PBU for several interfaces of one MN. Common options first (MN-ID, HI
 * of the first part, Link-local Address, Timestamp), then per interface its
 * BID option, MN-LL-ID, ATT, HNP(s) and, when it differs, its own HI. The
 * header (sequence, lifetime) is the first part's.
 */
export function buildCombinedPbu(parts: Array<PbuFields & { bid: number }>): MessageOf<'pbu'> {
  const first = parts[0];
  if (!first || parts.length < 2) throw new RangeError('a combined PBU needs two parts or more');
  const { bid: _bid, ...head } = first;
  const single = buildPbu({ ...head, hnps: [] });
  const common = single.options.filter((o) => o.kind === 'mnId' || o.kind === 'handoffIndicator' || o.kind === 'linkLocalAddress' || o.kind === 'timestamp');
  const options: MobilityOption[] = [...common];
  for (const p of parts) {
    options.push(bidOption(p.bid), { kind: 'mnLinkLayerId', identifier: llIdHex(p.llId) }, { kind: 'accessTechnologyType', value: p.att });
    for (const h of p.hnps.length ? p.hnps : ['::/0']) options.push({ kind: 'hnp', ...splitCidr(h) });
    if (p.hi !== first.hi) options.push({ kind: 'handoffIndicator', value: p.hi });
    if (p.dormant) options.push(dormantOption());
  }
  return { ...single, options };
}

/** RFC 5648 6.2: a bulk acknowledgement whose bindings did not all succeed; each BID option's status says how each did. */
export const MCOA_NOTCOMPLETE = 4;

/**
 * The per-interface PBAs in a combined PBA (two BID options or more: common
 * options, then per interface its BID option, HNP(s), ATT, MN-LL-ID), or
 * null when it is not one. A group's status is its BID option's when the
 * message says MCOA NOTCOMPLETE, else the message's.
 */
export function splitCombinedPba(m: MessageOf<'pba'>): Array<PbaInput & { bid: number }> | null {
  if (!m.flags.P) return null;
  const first = m.options.findIndex((o) => o.kind === 'bindingId');
  if (first < 0 || m.options.filter((o) => o.kind === 'bindingId').length < 2) return null;
  const common = readPba({ ...m, options: m.options.slice(0, first) }) as PbaInput;
  const out: Array<PbaInput & { bid: number }> = [];
  for (const o of m.options.slice(first)) {
    if (o.kind === 'bindingId') {
      const status = m.status === MCOA_NOTCOMPLETE ? o.status : m.status;
      const g: PbaInput & { bid: number } = { seq: m.sequence, status, lifetimeS: status < 128 ? m.lifetime * 4 : 0, hnps: [], bid: o.bid };
      if (common.mnId !== undefined) g.mnId = common.mnId;
      if (common.refreshS !== undefined) g.refreshS = common.refreshS;
      out.push(g);
      continue;
    }
    const g = out[out.length - 1];
    if (!g) continue;
    if (o.kind === 'hnp' && !(o.prefixLength === 0 && o.prefix === '::')) g.hnps.push(`${o.prefix}/${o.prefixLength}`);
    else if (o.kind === 'mnLinkLayerId') g.llId = llIdText(o.identifier);
    else if (o.kind === 'accessTechnologyType') g.att = o.value;
  }
  return out.every((g) => g.llId !== undefined) ? out : null;
}

/** An Update Notification (RFC 7077 4.1) as the MAG takes it: which sessions it names and what it asks. */
export interface UpnInput {
  seq: number;
  reason: number;
  /** A: the LMA wants an Update Notification Acknowledgement */
  ackRequested: boolean;
  /** D: de-register the named sessions */
  deregister: boolean;
  mnId?: string;
  llId?: string;
  att?: number;
  /** the prefixes the session keeps, when the LMA lists them */
  hnps: string[];
}

export function readUpn(m: MessageOf<'updateNotification'>): UpnInput {
  const out: UpnInput = { seq: m.sequence, reason: m.reason, ackRequested: m.flags.A, deregister: m.flags.D, hnps: [] };
  for (const o of m.options) if (o.kind === 'hnp' && o.prefixLength > 0) out.hnps.push(`${o.prefix}/${o.prefixLength}`);
  return { ...out, ...sessionIds(m) };
}

/** RFC 7077 4.2: the acknowledgement, same sequence number, with the identifiers the notification named. */
export function buildUpa(u: UpnInput, status: number): MessageOf<'updateNotificationAck'> {
  const options: MobilityOption[] = [];
  if (u.mnId !== undefined) options.push({ kind: 'mnId', nai: u.mnId });
  if (u.llId !== undefined) options.push({ kind: 'mnLinkLayerId', identifier: llIdHex(u.llId) });
  if (u.att !== undefined) options.push({ kind: 'accessTechnologyType', value: u.att });
  return { kind: 'updateNotificationAck', sequence: u.seq, status, options };
}

/** RFC 5094 Vendor-Specific Mobility Option (type 19) of docs/seed001.md: enterprise 32473 (RFC 5612), sub-type 1 "dormant". */
export const VSMO_TYPE = 19;
export const DOCUMENTATION_ENTERPRISE = 32473;
export const VSMO_DORMANT = 1;
export function dormantOption(): MobilityOption {
  const data = DOCUMENTATION_ENTERPRISE.toString(16).padStart(8, '0') + VSMO_DORMANT.toString(16).padStart(2, '0');
  return { kind: 'unknown', type: VSMO_TYPE, data };
}

/** Whether a message carries the dormant Vendor-Specific option. */
export function isDormant(m: Message): boolean {
  const want = dormantOption() as { data: string };
  return m.options.some((o) => o.kind === 'unknown' && o.type === VSMO_TYPE && o.data.toLowerCase() === want.data);
}

/** RFC 5213 8.8: 48-bit seconds since 1970 and 16-bit 1/65536 fractions, strictly increasing per MAG. */
export class TimestampClock {
  private last = 0; // in 1/65536 s
  constructor(private readonly nowMs: () => number = () => performance.timeOrigin + performance.now()) {}
  next(): { seconds: number; fraction: number } {
    let t = Math.floor((this.nowMs() * 65536) / 1000);
    if (t <= this.last) t = this.last + 1;
    this.last = t;
    return { seconds: Math.floor(t / 65536), fraction: t % 65536 };
  }
}

/** RFC 5847: a Heartbeat Response (R set) to a request, same sequence number. */
export function heartbeatResponse(req: MessageOf<'heartbeat'>): MessageOf<'heartbeat'> {
  return { kind: 'heartbeat', flags: { U: false, R: true }, sequence: req.sequence, options: [] };
}

export function heartbeatRequest(sequence: number): MessageOf<'heartbeat'> {
  return { kind: 'heartbeat', flags: { U: false, R: false }, sequence: sequence >>> 0, options: [] };
}
