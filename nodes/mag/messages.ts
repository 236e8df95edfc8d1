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

/** A PBA as the BUL takes it; null when it is not a proxy binding acknowledgement (P flag clear). */
export function readPba(m: MessageOf<'pba'>): PbaInput | null {
  if (!m.flags.P) return null;
  const out: PbaInput = { seq: m.sequence, status: m.status, lifetimeS: m.lifetime * 4, hnps: [] };
  // every HNP option is one prefix of the session; ::/0 is none (a refusal echoes what was asked)
  for (const o of m.options) if (o.kind === 'hnp' && !(o.prefixLength === 0 && o.prefix === '::')) out.hnps.push(`${o.prefix}/${o.prefixLength}`);
  const bra = opt(m, 'bindingRefreshAdvice');
  if (bra) out.refreshS = bra.interval * 4; // RFC 6275 6.2.4: 4 s units
  const id = opt(m, 'mnId');
  if (id) out.mnId = id.nai;
  const ll = opt(m, 'mnLinkLayerId');
  if (ll) out.llId = llIdText(ll.identifier);
  const att = opt(m, 'accessTechnologyType');
  if (att) out.att = att.value;
  return out;
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
  const id = opt(m, 'mnId');
  if (id) out.mnId = id.nai;
  const ll = opt(m, 'mnLinkLayerId');
  if (ll) out.llId = llIdText(ll.identifier);
  const att = opt(m, 'accessTechnologyType');
  if (att) out.att = att.value;
  return out;
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
