import dgram from 'node:dgram';
import ipaddr from 'ipaddr.js';
import type { Logger } from 'pino';
import {
  BE_STATUS,
  IPPROTO_MH,
  IPPROTO_NONE,
  PMIP6_UDP_PORT,
  decodeMessage,
  encodeMessage,
  parseIpv6Into,
  withChecksum,
  type Decoded,
  type Message,
} from '../protocol/index.js';
import { IPPROTO_ICMPV6, RawSocket } from './raw-socket.js';

/** The fixed part of every MH (RFC 6275 6.1.1). */
const HEADER_LENGTH = 6;
import type { RoleContext } from './role.js';

// Mobility Header messages between MAGs and LMAs, over UDP port 5436 (the
// default; RFC 5844's port, used here over IPv6 too) or raw IPv6 next header
// 135 (RFC 6275 carriage; the kernel fills in and checks the MH checksum).
// The border of every MH-speaking node: what fails to decode is counted,
// logged (rate-limited), answered where RFC 6275 9.2 says so (unknown MH type:
// Binding Error; Payload Proto not 59 or Header Len too short: ICMPv6
// Parameter Problem, over raw only, see parameterProblemFor) and dropped; only
// valid messages reach the role. Every inbound message carries the address
// it was sent to, so a node answers from that address (RFC 5213 5.3.6): over
// raw from the packet info of the one socket, over UDP by the socket bound to
// that address.
// Signaling delay and loss for experiments are applied here, on send, in user
// space, because this kernel has no netem (and so that data traffic is not
// affected: the report says so).

export type TransportMode = 'udp' | 'raw';

export interface Impairment {
  delayMs: number;
  lossPct: number;
  /** only these kinds; default all */
  messages?: readonly string[];
}

export interface TransportOptions {
  mode: TransportMode;
  /** local address to bind (UDP) and to sign checksums with; '::' = any */
  bind: string;
  port?: number;
  /** UDP port of the peers (default: port; differs only when tests share one address) */
  peerPort?: number;
  impair?: (peer: string, msg: Message) => Impairment | undefined;
  log: Logger;
  /** UDP socket receive buffer, bytes (default 4 MiB) */
  recvBufferSize?: number;
  /** for tests: the loss coin */
  random?: () => number;
}

export interface Inbound {
  msg: Message;
  src: string;
  /** the local address it was sent to; '' when unknown (a UDP socket bound to '::') */
  dst: string;
  /** UDP source port (undefined for raw): answers go back to it */
  port?: number;
  rxNs: bigint;
  bytes: number;
}

export interface TransportCounters {
  rx: number;
  tx: number;
  malformed: number;
  bindingErrorsSent: number;
  /** decoded but Payload Proto not IPPROTO_NONE (RFC 6275 9.2): discarded, also counted in malformed */
  badPayloadProto: number;
  /** ICMPv6 Parameter Problems sent (raw only, rate-limited) */
  paramProblemsSent: number;
  impairDropped: number;
  impairDelayed: number;
  sendErrors: number;
}

export function emptyTransportCounters(): TransportCounters {
  return { rx: 0, tx: 0, malformed: 0, bindingErrorsSent: 0, badPayloadProto: 0, paramProblemsSent: 0, impairDropped: 0, impairDelayed: 0, sendErrors: 0 };
}

const DEFAULT_RECV_BUFFER = 4 * 1024 * 1024;

/** RFC 6275 9.2 asks for rate-limited Binding Errors: at most this many per second. */
const BE_PER_SECOND = 10;
/** RFC 4443 2.4(f): ICMPv6 errors rate-limited by a token bucket of this size, refilled at this rate per second. */
const PP_BUCKET = 10;
const PP_PER_SECOND = 10;
/** RFC 4443 2.4(c): the error carries as much of the invoking packet as fits in the minimum MTU (1280). */
const ICMP_ERROR_MAX = 1280 - 40;
const IPV6_HEADER = 40;
/** The first malformed packets are logged in full, then one in LOG_EVERY. */
const LOG_FIRST = 20;
const LOG_EVERY = 1000;

interface Carrier {
  /** source: the local address to send from ('' = the route's choice; ignored by a bound UDP socket) */
  send(data: Uint8Array, dst: string, port: number | undefined, source: string): Promise<void>;
  /** raw only: an ICMPv6 error message (type, code, 4-octet parameter, invoking packet) to dst from source */
  icmpError?(icmp: Uint8Array, dst: string, source: string): Promise<void>;
  close(): void;
}

/** Where RFC 6275 9.2 wants a Parameter Problem (code 0): the octet of the MH at fault, or null. */
export interface HeaderProblem {
  /** offset in the MH: 0 Payload Proto, 1 Header Len */
  field: 0 | 1;
  reason: string;
}

/**
 * RFC 6275 9.2, for a Mobility Header whose type is known: Payload Proto not
 * IPPROTO_NONE, or Header Len less than the type's length (the message data
 * does not fit in the declared length) or not matching the packet, is
 * discarded with a Parameter Problem pointing at the field.
 */
export function parameterProblemFor(data: Uint8Array, decoded: Decoded<Message>): HeaderProblem | null {
  if (decoded.ok) {
    return decoded.value.payloadProto !== undefined && decoded.value.payloadProto !== IPPROTO_NONE
      ? { field: 0, reason: `Payload Proto ${decoded.value.payloadProto}, not ${IPPROTO_NONE}` }
      : null;
  }
  const e = decoded.error;
  if (data.length < 2) return null;
  if (e.field === 'MobilityHeader.hdrLen') return { field: 1, reason: e.detail ?? 'Header Len does not match the packet' };
  // the fixed message data of a known type runs past the declared length
  if (e.code === 'truncated' && e.offset === HEADER_LENGTH && !e.field.includes('.')) {
    return { field: 1, reason: `Header Len ${data[1]} is less than the length of ${e.field}` };
  }
  return null;
}

/**
 * ICMPv6 Parameter Problem (RFC 4443 3.4) for an MH that arrived in a packet
 * from src to dst with hopLimit: the invoking packet is rebuilt as IPv6
 * header + MH (the socket does not hand out the header; extension headers
 * before the MH, which our peers do not send, are not reproduced, so the
 * pointer counts from a bare header), cut to fit 1280 octets.
 */
export function parameterProblemMessage(mh: Uint8Array, src: Uint8Array, dst: Uint8Array, hopLimit: number, field: number): Uint8Array {
  const invoking = new Uint8Array(IPV6_HEADER + mh.length);
  const v = new DataView(invoking.buffer);
  v.setUint32(0, 0x60000000);
  v.setUint16(4, mh.length);
  invoking[6] = IPPROTO_MH;
  invoking[7] = hopLimit < 0 ? 0 : hopLimit;
  invoking.set(src, 8);
  invoking.set(dst, 24);
  invoking.set(mh, IPV6_HEADER);
  const quoted = invoking.subarray(0, Math.min(invoking.length, ICMP_ERROR_MAX - 8));
  const out = new Uint8Array(8 + quoted.length);
  out[0] = 4; // Parameter Problem
  out[1] = 0; // erroneous header field encountered
  new DataView(out.buffer).setUint32(4, IPV6_HEADER + field);
  out.set(quoted, 8);
  return out; // checksum 0: the kernel computes ICMPv6 checksums of raw sockets
}

export class MhTransport {
  readonly counters: TransportCounters = emptyTransportCounters();
  private handler: (m: Inbound) => void = () => undefined;
  private readonly pending = new Set<NodeJS.Timeout>();
  private beWindow = { start: 0, sent: 0 };
  private ppTokens = { tokens: PP_BUCKET, atMs: 0 };
  private readonly bindBytes: Uint8Array | null;
  private readonly peers = new Map<string, Uint8Array>();
  private closed = false;

  private constructor(
    private readonly opts: TransportOptions,
    private readonly carrier: Carrier,
  ) {
    this.bindBytes = opts.bind === '::' ? null : addressBytes(opts.bind);
  }

  /** Open the socket; throws (e.g. EADDRNOTAVAIL, EPERM) when it cannot. */
  static async open(opts: TransportOptions): Promise<MhTransport> {
    let t: MhTransport | undefined;
    const deliver = (data: Uint8Array, src: string, dst: string, port?: number, hopLimit?: number) => t?.receive(data, src, dst, port, hopLimit);
    const carrier = opts.mode === 'udp' ? await openUdp(opts, deliver) : openRaw(opts, deliver);
    t = new MhTransport(opts, carrier);
    return t;
  }

  get mode(): TransportMode {
    return this.opts.mode;
  }

  onMessage(cb: (m: Inbound) => void): void {
    this.handler = cb;
  }

  /**
   * Fire and forget: impairment, encoding, checksum (UDP; the kernel does it
   * for raw), send. `port`: an answer's UDP destination (the request's source
   * port); default the peers' port. `from`: the local address to send from
   * (an answer: the address the request was sent to); over raw it defaults
   * to the bound address (the route's choice when '::'), a UDP socket always
   * sends from the address it is bound to.
   */
  send(msg: Message, dst: string, port?: number, from?: string): void {
    if (this.closed) return;
    const imp = this.opts.impair?.(dst, msg);
    const applies = imp && (!imp.messages || imp.messages.includes(msg.kind));
    if (applies && imp.lossPct > 0 && (this.opts.random ?? Math.random)() * 100 < imp.lossPct) {
      this.counters.impairDropped++;
      return;
    }
    // encodeMessage returns a view into a shared slab: copy before any delay
    let bytes: Uint8Array = Uint8Array.from(encodeMessage(msg));
    if (this.opts.mode === 'udp' && this.bindBytes) bytes = withChecksum(bytes, this.bindBytes, this.peerBytes(dst));
    const source = from !== undefined && from !== '' && from !== '::' ? from : this.opts.bind === '::' ? '' : this.opts.bind;
    if (applies && imp.delayMs > 0) {
      this.counters.impairDelayed++;
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        this.transmit(bytes, dst, port, source);
      }, imp.delayMs);
      this.pending.add(timer);
      return;
    }
    this.transmit(bytes, dst, port, source);
  }

  /** A peer's address as octets, parsed once (a node has few peers; a flood of spoofed ones only refills the cache). */
  private peerBytes(dst: string): Uint8Array {
    let b = this.peers.get(dst);
    if (!b) {
      if (this.peers.size >= 1024) this.peers.clear();
      b = addressBytes(dst);
      this.peers.set(dst, b);
    }
    return b;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    this.carrier.close();
  }

  private transmit(bytes: Uint8Array, dst: string, port: number | undefined, source: string): void {
    this.counters.tx++;
    this.carrier.send(bytes, dst, port, source).catch((err: unknown) => {
      this.counters.sendErrors++;
      this.opts.log.warn({ dst, err: (err as Error).message }, 'MH send failed');
    });
  }

  private receive(data: Uint8Array, src: string, dst: string, port?: number, hopLimit = -1): void {
    const rxNs = process.hrtime.bigint();
    const r = decodeMessage(data);
    const problem = parameterProblemFor(data, r);
    if (!r.ok || problem) {
      this.counters.malformed++;
      if (r.ok) this.counters.badPayloadProto++;
      const n = this.counters.malformed;
      if (n <= LOG_FIRST || n % LOG_EVERY === 0) {
        const error = r.ok ? { code: 'bad-value', field: 'MobilityHeader.payloadProto', detail: problem?.reason } : r.error;
        this.opts.log.warn({ src, dst, bytes: data.length, error, malformed: n }, 'malformed Mobility Header dropped');
      }
      // RFC 6275 9.2: an unrecognised MH type is answered with Binding Error status 2
      if (!r.ok && r.error.code === 'unknown-type' && r.error.field === 'MobilityHeader.type' && data.length >= 6) this.bindingError(src, port);
      else if (problem) this.parameterProblem(data, src, dst, hopLimit, problem);
      return;
    }
    this.counters.rx++;
    try {
      this.handler({ msg: r.value, src, dst, ...(port !== undefined ? { port } : {}), rxNs, bytes: data.length });
    } catch (err) {
      // a role bug must not take the socket down with it
      this.opts.log.error({ err, src, kind: r.value.kind }, 'handler failed on a Mobility Header message');
    }
  }

  /**
   * RFC 6275 9.2 SHOULD: Parameter Problem code 0 to the packet's source,
   * from the address it was sent to (RFC 4443 2.2), rate-limited (2.4(f)).
   * Over raw only: a UDP-carried MH is UDP payload, not an IPv6 extension
   * header, so there is no header field for an ICMPv6 error to point at (the
   * LMA README says more); it is discarded and counted.
   */
  private parameterProblem(mh: Uint8Array, src: string, dst: string, hopLimit: number, problem: HeaderProblem): void {
    if (!this.carrier.icmpError || dst === '' || src === '::') return;
    const now = Date.now();
    const b = this.ppTokens;
    b.tokens = Math.min(PP_BUCKET, b.tokens + ((now - b.atMs) / 1000) * PP_PER_SECOND);
    b.atMs = now;
    if (b.tokens < 1) return;
    b.tokens -= 1;
    let msg: Uint8Array;
    try {
      msg = parameterProblemMessage(mh, addressBytes(src), addressBytes(dst), hopLimit, problem.field);
    } catch {
      return; // a scoped or odd address text: nothing sensible to quote
    }
    this.counters.paramProblemsSent++;
    this.carrier.icmpError(msg, src, dst).catch((err: unknown) => {
      this.counters.sendErrors++;
      this.opts.log.warn({ dst: src, err: (err as Error).message }, 'ICMPv6 Parameter Problem send failed');
    });
  }

  private bindingError(dst: string, port?: number): void {
    const now = Date.now();
    if (now - this.beWindow.start >= 1000) this.beWindow = { start: now, sent: 0 };
    if (this.beWindow.sent >= BE_PER_SECOND) return;
    this.beWindow.sent++;
    this.counters.bindingErrorsSent++;
    this.send({ kind: 'bindingError', status: BE_STATUS.unrecognizedMhType, homeAddress: '::', options: [] }, dst, port);
  }
}

function addressBytes(a: string): Uint8Array {
  const out = new Uint8Array(16);
  if (!parseIpv6Into(a, out, 0)) throw new RangeError(`not an IPv6 address: ${a}`);
  return out;
}

type Deliver = (data: Uint8Array, src: string, dst: string, port?: number, hopLimit?: number) => void;

async function openUdp(opts: TransportOptions, deliver: Deliver): Promise<Carrier> {
  // a deep receive queue: a burst of PBUs (or a flood of junk) waits for the
  // event loop instead of being dropped by the kernel (capped by net.core.rmem_max)
  const sock = dgram.createSocket({ type: 'udp6', ipv6Only: true, recvBufferSize: opts.recvBufferSize ?? DEFAULT_RECV_BUFFER });
  // bound to one address, every datagram was sent to it (dgram gives no packet info for '::')
  const local = opts.bind === '::' ? '' : opts.bind;
  sock.on('message', (buf, rinfo) => deliver(buf, rinfo.address, local, rinfo.port));
  sock.on('error', (err) => opts.log.error({ err: err.message }, 'MH UDP socket error'));
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: opts.bind, port: opts.port ?? PMIP6_UDP_PORT, exclusive: true }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  const port = opts.peerPort ?? opts.port ?? PMIP6_UDP_PORT;
  return {
    send: (data, dst, to) =>
      new Promise((resolve, reject) => sock.send(data, to ?? port, dst, (err) => (err ? reject(err) : resolve()))),
    close: () => {
      try {
        sock.close();
      } catch {
        // already closed
      }
    },
  };
}

/** ICMP6_FILTER with every type blocked: the error socket only sends. */
const ICMP6_FILTER = 1;
const BLOCK_ALL = new Uint8Array(32).fill(0xff);

function openRaw(opts: TransportOptions, deliver: Deliver): Carrier {
  const sock = new RawSocket({ protocol: IPPROTO_MH });
  sock.onMessage((d) => deliver(d.data, d.source, d.destination, undefined, d.hopLimit));
  sock.onError((err) => opts.log.error({ err: err.message }, 'MH raw socket error'));
  let icmp: RawSocket | undefined; // opened on the first error to send
  return {
    send: async (data, dst, _port, source) => {
      await sock.send(data, dst, source ? { source } : {});
    },
    icmpError: async (msg, dst, source) => {
      if (!icmp) {
        icmp = new RawSocket({ protocol: IPPROTO_ICMPV6, bufferSize: 64 });
        icmp.setBufferOption(IPPROTO_ICMPV6, ICMP6_FILTER, BLOCK_ALL);
      }
      await icmp.send(msg, dst, { source });
    },
    close: () => {
      sock.close();
      icmp?.close();
    },
  };
}

/**
 * Transport settings for a role from its plan: the run's transport mode and
 * the signaling impairment of the link each peer is reached over (the link
 * whose subnet holds the peer's address).
 */
export function transportOptionsFor(ctx: Pick<RoleContext, 'plan' | 'node'>): Pick<TransportOptions, 'mode' | 'impair'> {
  const mode = ctx.plan.settings?.transport ?? 'udp';
  const impaired = ctx.plan.links
    .filter((l) => l.signaling && l.subnet && l.endpoints.some((e) => e.node === ctx.node.name))
    .map((l) => ({ subnet: ipaddr.parseCIDR(l.subnet as string), signaling: l.signaling as Impairment }));
  if (!impaired.length) return { mode };
  const byPeer = new Map<string, Impairment | undefined>();
  const impair = (peer: string): Impairment | undefined => {
    if (!byPeer.has(peer)) {
      let found: Impairment | undefined;
      try {
        const addr = ipaddr.parse(peer);
        found = impaired.find((l) => addr.kind() === l.subnet[0].kind() && addr.match(l.subnet))?.signaling;
      } catch {
        found = undefined;
      }
      byPeer.set(peer, found);
    }
    return byPeer.get(peer);
  };
  return { mode, impair };
}

