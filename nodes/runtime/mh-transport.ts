import dgram from 'node:dgram';
import ipaddr from 'ipaddr.js';
import type { Logger } from 'pino';
import {
  BE_STATUS,
  IPPROTO_MH,
  PMIP6_UDP_PORT,
  decodeMessage,
  encodeMessage,
  parseIpv6Into,
  withChecksum,
  type Message,
} from '../protocol/index.js';
import { RawSocket } from './raw-socket.js';
import type { RoleContext } from './role.js';

// Mobility Header messages between MAGs and LMAs, over UDP port 5436 (the
// default; RFC 5844's port, used here over IPv6 too) or raw IPv6 next header
// 135 (RFC 6275 carriage; the kernel fills in and checks the MH checksum).
// The border of every MH-speaking node: what fails to decode is counted,
// logged (rate-limited), answered with a Binding Error where RFC 6275 9.2
// says so (unknown MH type), and dropped; only valid messages reach the role.
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
  impairDropped: number;
  impairDelayed: number;
  sendErrors: number;
}

const DEFAULT_RECV_BUFFER = 4 * 1024 * 1024;

/** RFC 6275 9.2 asks for rate-limited Binding Errors: at most this many per second. */
const BE_PER_SECOND = 10;
/** The first malformed packets are logged in full, then one in LOG_EVERY. */
const LOG_FIRST = 20;
const LOG_EVERY = 1000;

interface Carrier {
  send(data: Uint8Array, dst: string, port?: number): Promise<void>;
  close(): void;
}

export class MhTransport {
  readonly counters: TransportCounters = { rx: 0, tx: 0, malformed: 0, bindingErrorsSent: 0, impairDropped: 0, impairDelayed: 0, sendErrors: 0 };
  private handler: (m: Inbound) => void = () => undefined;
  private readonly pending = new Set<NodeJS.Timeout>();
  private beWindow = { start: 0, sent: 0 };
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
    const deliver = (data: Uint8Array, src: string, port?: number) => t?.receive(data, src, port);
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
   * port); default the peers' port.
   */
  send(msg: Message, dst: string, port?: number): void {
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
    if (applies && imp.delayMs > 0) {
      this.counters.impairDelayed++;
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        this.transmit(bytes, dst, port);
      }, imp.delayMs);
      this.pending.add(timer);
      return;
    }
    this.transmit(bytes, dst, port);
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

  private transmit(bytes: Uint8Array, dst: string, port?: number): void {
    this.counters.tx++;
    this.carrier.send(bytes, dst, port).catch((err: unknown) => {
      this.counters.sendErrors++;
      this.opts.log.warn({ dst, err: (err as Error).message }, 'MH send failed');
    });
  }

  private receive(data: Uint8Array, src: string, port?: number): void {
    const rxNs = process.hrtime.bigint();
    const r = decodeMessage(data);
    if (!r.ok) {
      this.counters.malformed++;
      const n = this.counters.malformed;
      if (n <= LOG_FIRST || n % LOG_EVERY === 0) {
        this.opts.log.warn({ src, bytes: data.length, error: r.error, malformed: n }, 'malformed Mobility Header dropped');
      }
      // RFC 6275 9.2: an unrecognised MH type is answered with Binding Error status 2
      if (r.error.code === 'unknown-type' && r.error.field === 'MobilityHeader.type' && data.length >= 6) this.bindingError(src, port);
      return;
    }
    this.counters.rx++;
    try {
      this.handler({ msg: r.value, src, ...(port !== undefined ? { port } : {}), rxNs, bytes: data.length });
    } catch (err) {
      // a role bug must not take the socket down with it
      this.opts.log.error({ err, src, kind: r.value.kind }, 'handler failed on a Mobility Header message');
    }
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

async function openUdp(opts: TransportOptions, deliver: (d: Uint8Array, src: string, port: number) => void): Promise<Carrier> {
  // a deep receive queue: a burst of PBUs (or a flood of junk) waits for the
  // event loop instead of being dropped by the kernel (capped by net.core.rmem_max)
  const sock = dgram.createSocket({ type: 'udp6', ipv6Only: true, recvBufferSize: opts.recvBufferSize ?? DEFAULT_RECV_BUFFER });
  sock.on('message', (buf, rinfo) => deliver(buf, rinfo.address, rinfo.port));
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

function openRaw(opts: TransportOptions, deliver: (d: Uint8Array, src: string) => void): Carrier {
  const sock = new RawSocket({ protocol: IPPROTO_MH });
  sock.onMessage((d) => deliver(d.data, d.source));
  sock.onError((err) => opts.log.error({ err: err.message }, 'MH raw socket error'));
  return {
    send: async (data, dst) => {
      await sock.send(data, dst);
    },
    close: () => sock.close(),
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

