import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { writeIpv6 } from '../protocol/ipv6text.js';
import { decodeRs, encodeRa, ICMP6_RS, type PrefixInfo, type RouterAdvertisement } from './ndp-codec.js';
import { RsHopLimitGuard } from './ndp-guard.js';
import { RawSocket, SOL_IPV6 } from './raw-socket.js';

// The router side of Neighbor Discovery for a MAG: Router Solicitations in,
// Router Advertisements out, per access interface. The raw-socket addon reads
// with recvfrom (no ancillary data), so the ingress interface comes from one
// socket per access interface bound to it (SO_BINDTODEVICE), which also makes
// it the outgoing interface. The kernel computes the ICMPv6 checksum, and
// hands RSs (to ff02::2) to the socket only where forwarding=1 (a router).
// RFC 4861 6.1.1's checks of an RS: hop limit 255 by the nftables rule of
// ndp-guard.ts (the IPv6 header never reaches a raw ICMPv6 socket), the
// checksum by the kernel, ICMP length >= 8, code 0, option lengths > 0 and
// no SLLAO from the unspecified address here. RAs go with hop limit 255
// (IPV6_UNICAST_HOPS / IPV6_MULTICAST_HOPS of the socket).

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const IPPROTO_ICMPV6 = 58;
const ICMP6_FILTER = 1;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_PKTINFO = 50; // sticky: source address of everything this socket sends

export type SolicitHandler = (iface: string, src: string, sourceLinkLayer: string | undefined, rxNs: bigint) => void;

export interface NdpRouterOptions {
  log: Logger;
  /** SLLAO of every RA: the access MAC (the same on every MAG, like the link-local) */
  mac: string;
  /** source of every RA (fe80::1 on every MAG: RFC 5213 6.8) */
  linkLocal?: string;
  routerLifetime?: number; // seconds, default 1800
  curHopLimit?: number; // default 64
  mtu?: number; // MTU option when set
}

export interface RaPrefix {
  hnp: string; // CIDR
  validLifetime: number; // seconds
  preferredLifetime: number; // seconds
}

export interface NdpCounters {
  rsReceived: number;
  rsMalformed: number; // dropped
  /** dropped by the kernel for a hop limit other than 255 (ndp-guard.ts), as of the last refreshCounters(); null = not checked */
  rsBadHopLimit: number | null;
  raSent: number;
  sendErrors: number;
}

/** The RA the MAG sends for one MN: M=O=0, one on-link autonomous prefix per HNP. */
export function buildRa(o: Pick<NdpRouterOptions, 'mac' | 'routerLifetime' | 'curHopLimit' | 'mtu'>, prefixes: RaPrefix[], routerLifetime?: number): RouterAdvertisement {
  const pios: PrefixInfo[] = prefixes.map((p) => ({
    prefix: p.hnp,
    onLink: true,
    autonomous: true,
    validLifetime: p.validLifetime,
    preferredLifetime: p.preferredLifetime,
  }));
  return {
    curHopLimit: o.curHopLimit ?? 64,
    managed: false,
    other: false,
    routerLifetime: routerLifetime ?? o.routerLifetime ?? 1800,
    reachableTime: 0,
    retransTimer: 0,
    sourceLinkLayer: o.mac,
    ...(o.mtu !== undefined ? { mtu: o.mtu } : {}),
    prefixes: pios,
  };
}

/** ICMP6_FILTER value passing only type (RFC 3542 3.2: a set bit blocks; 8 host-order words). */
function passOnly(type: number): Uint8Array {
  const words = new Uint32Array(8).fill(0xffffffff);
  const w = type >> 5;
  words[w] = ((words[w] ?? 0) & ~(1 << (type & 31))) >>> 0;
  return new Uint8Array(words.buffer);
}

/** ifindex of a device of this namespace: the scope id of its link-local address, else sysfs. */
function ifIndex(iface: string): number {
  const scoped = networkInterfaces()[iface]?.find((a) => a.family === 'IPv6' && a.scopeid)?.scopeid;
  if (scoped) return scoped;
  try {
    return Number(readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8').trim());
  } catch {
    throw new Error(`no interface ${iface}`);
  }
}

export class NdpRouter {
  readonly counters: NdpCounters = { rsReceived: 0, rsMalformed: 0, rsBadHopLimit: null, raSent: 0, sendErrors: 0 };
  private guard: RsHopLimitGuard | null = null;
  private readonly sockets = new Map<string, RawSocket>();
  private readonly handlers: SolicitHandler[] = [];
  private readonly linkLocal: string;

  constructor(private readonly opts: NdpRouterOptions) {
    this.linkLocal = opts.linkLocal ?? 'fe80::1';
  }

  /**
   * Have the kernel drop (and count) RSs whose hop limit is not 255 in this
   * namespace. False, logged, when nft is missing or refuses: RSs are then
   * taken whatever their hop limit.
   */
  async guardHopLimit(): Promise<boolean> {
    const g = await RsHopLimitGuard.install();
    if (!(g instanceof RsHopLimitGuard)) {
      this.opts.log.warn({ err: g.error }, 'ndp: cannot install the RS hop limit check (nftables): RSs are not checked for hop limit 255');
      return false;
    }
    this.guard = g;
    this.counters.rsBadHopLimit = 0;
    return true;
  }

  /** Read the kernel's count of RSs dropped for their hop limit into counters (logged when it grew). */
  async refreshCounters(): Promise<NdpCounters> {
    const n = await this.guard?.dropped();
    if (n !== undefined && n !== null) {
      if (n > (this.counters.rsBadHopLimit ?? 0)) this.opts.log.info({ dropped: n }, 'ndp: RSs with a hop limit other than 255 dropped');
      this.counters.rsBadHopLimit = n;
    }
    return this.counters;
  }

  onSolicit(cb: SolicitHandler): void {
    this.handlers.push(cb);
  }

  interfaces(): string[] {
    return [...this.sockets.keys()];
  }

  /** Listen and advertise on an access interface. Throws when it does not exist (ENODEV) or without CAP_NET_RAW. */
  addInterface(iface: string): void {
    if (this.sockets.has(iface)) return;
    const sock = new RawSocket({ protocol: IPPROTO_ICMPV6, bufferSize: 2048 });
    try {
      sock.setBufferOption(SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${iface}\0`));
      sock.setBufferOption(IPPROTO_ICMPV6, ICMP6_FILTER, passOnly(ICMP6_RS));
      sock.setIntOption(SOL_IPV6, IPV6_UNICAST_HOPS, 255); // RFC 4861: ND packets carry hop limit 255
      sock.setIntOption(SOL_IPV6, IPV6_MULTICAST_HOPS, 255);
      sock.setIntOption(SOL_IPV6, IPV6_MULTICAST_LOOP, 0);
      // struct in6_pktinfo { in6_addr; int ifindex }: the index must be the bound device's
      const pktinfo = new Uint8Array(20);
      writeIpv6(this.linkLocal, pktinfo, 0, 'linkLocal');
      new DataView(pktinfo.buffer).setUint32(16, ifIndex(iface), true);
      sock.setBufferOption(SOL_IPV6, IPV6_PKTINFO, pktinfo);
    } catch (e) {
      sock.close();
      throw new Error(`ndp: cannot listen on ${iface}: ${(e as Error).message}`);
    }
    sock.onMessage((d) => this.receive(iface, d.data, d.source));
    sock.onError((err) => {
      this.opts.log.warn({ iface, err: err.message }, 'ndp: socket error, interface dropped');
      this.sockets.delete(iface);
    });
    this.sockets.set(iface, sock);
  }

  removeInterface(iface: string): void {
    this.sockets.get(iface)?.close();
    this.sockets.delete(iface);
  }

  /**
   * Send an RA with the given prefixes out of iface, to dst (an MN's unicast
   * link-local) or to all nodes (ff02::1). Resolves when the kernel took it.
   */
  async sendRa(iface: string, prefixes: RaPrefix[], dst?: string, routerLifetime?: number): Promise<void> {
    const sock = this.sockets.get(iface);
    if (!sock) throw new Error(`ndp: not advertising on ${iface}`);
    const bytes = encodeRa(buildRa(this.opts, prefixes, routerLifetime));
    const to = `${dst && dst !== '::' ? dst : 'ff02::1'}%${iface}`;
    try {
      await sock.send(bytes, to);
      this.counters.raSent++;
    } catch (e) {
      this.counters.sendErrors++;
      throw new Error(`ndp: RA to ${to} failed: ${(e as Error).message}`);
    }
  }

  /** Tell the MN its prefix is no longer preferred (de-registration): preferred lifetime 0. */
  sendDeprecatingRa(iface: string, hnp: string, dst?: string, routerLifetime?: number): Promise<void> {
    // RFC 4862 5.5.3 e): a host keeps at least 2 h (or what is left) of valid lifetime whatever we say; preferred 0 deprecates at once
    return this.sendRa(iface, [{ hnp, validLifetime: 0, preferredLifetime: 0 }], dst, routerLifetime);
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  private receive(iface: string, data: Uint8Array, src: string): void {
    const rxNs = process.hrtime.bigint();
    const rs = decodeRs(data);
    if (!rs.ok) {
      this.counters.rsMalformed++;
      this.opts.log.debug({ iface, src, error: rs.error }, 'ndp: malformed RS dropped');
      return;
    }
    // RFC 4861 6.1.1: no SLLAO when the source is unspecified
    if (src === '::' && rs.value.sourceLinkLayer !== undefined) {
      this.counters.rsMalformed++;
      return;
    }
    this.counters.rsReceived++;
    for (const h of this.handlers) {
      try {
        h(iface, src, rs.value.sourceLinkLayer, rxNs);
      } catch (e) {
        this.opts.log.error({ iface, err: (e as Error).message }, 'ndp: solicit handler threw');
      }
    }
  }
}

/** The name the shared plan gave this: the RA side of the MAG. */
export { NdpRouter as RouterAdvertiser };
