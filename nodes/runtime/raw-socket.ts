import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// A small typed wrapper over the project's raw IPv6 socket addon
// (native/rawsock.cc, built by `npm run build` into dist/native/): open a raw
// socket of one protocol, send to an address (from a chosen source address),
// receive payloads with their source, destination, arrival interface and hop
// limit, read or set socket options. MAG and LMA use it for MH over next
// header 135 and for ICMPv6 (RS/RA, Parameter Problem). Sockets are
// close-on-exec: the `ip` children a node spawns hold none of them. On Linux
// the kernel fills in the MH checksum (IPV6_CHECKSUM, offset 4 by default for
// protocol 135) and the ICMPv6 one, so senders write checksum 0.

/** Linux constants. */
export const SOL_IPV6 = 41; // IPPROTO_IPV6
export const IPV6_CHECKSUM = 7;
export const IPPROTO_MH = 135;
export const IPPROTO_ICMPV6 = 58;

interface Handle {
  readonly __rawsock: unique symbol;
}

interface Addon {
  open(
    protocol: number,
    bufferSize: number,
    onMessage: (buf: Buffer, src: string, dst: string, ifindex: number, hopLimit: number) => void,
    onError: (err: Error) => void,
  ): Handle;
  send(h: Handle, buf: Buffer, dst: string, src: string, ifindex: number): number;
  setIntOption(h: Handle, level: number, option: number, value: number): void;
  setBufferOption(h: Handle, level: number, option: number, value: Buffer): void;
  getIntOption(h: Handle, level: number, option: number): number;
  fd(h: Handle): number;
  close(h: Handle): void;
}

let addon: Addon | undefined;

/** The built addon: dist/native/rawsock.node under the repository root (walked up to from this file, bundled or not). */
function load(): Addon {
  if (addon) return addon;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'dist', 'native', 'rawsock.node');
    if (existsSync(candidate)) {
      addon = createRequire(import.meta.url)(candidate) as Addon;
      return addon;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('raw sockets: dist/native/rawsock.node not found (run npm run build)');
    dir = up;
  }
}

export interface RawSocketOptions {
  protocol: number;
  bufferSize?: number; // largest datagram received; default 65535
}

export interface RawDatagram {
  data: Uint8Array; // the upper-layer payload, without the IPv6 header
  source: string;
  /** the address the packet was sent to (IPV6_PKTINFO) */
  destination: string;
  /** interface it arrived on */
  ifindex: number;
  /** hop limit it arrived with (-1 when the kernel gave none) */
  hopLimit: number;
}

export interface SendOptions {
  /** source address (must be local); default: the kernel's choice for the route */
  source?: string;
  /** outgoing interface index; default: the route's (or a sticky IPV6_PKTINFO's) */
  ifindex?: number;
}

export class RawSocket {
  private readonly h: Handle;
  private readonly a: Addon;
  private closed = false;
  private messageCb: (d: RawDatagram) => void = () => undefined;
  private errorCb: (err: Error) => void = () => undefined;

  /** Throws (EPERM without CAP_NET_RAW) when the socket cannot be opened. */
  constructor(opts: RawSocketOptions) {
    this.a = load();
    this.h = this.a.open(
      opts.protocol,
      opts.bufferSize ?? 65535,
      (buf, source, destination, ifindex, hopLimit) => this.messageCb({ data: buf, source, destination, ifindex, hopLimit }),
      (err) => {
        // a socket that failed to read is of no further use: close it, as the old addon did
        this.close();
        this.errorCb(err);
      },
    );
  }

  /** The file descriptor (tests check that children do not inherit it). */
  get fd(): number {
    return this.a.fd(this.h);
  }

  onMessage(cb: (d: RawDatagram) => void): void {
    // the addon hands out a fresh copy per datagram
    this.messageCb = cb;
  }

  onError(cb: (err: Error) => void): void {
    this.errorCb = cb;
  }

  send(data: Uint8Array, address: string, opts: SendOptions = {}): Promise<number> {
    try {
      if (this.closed) throw new Error('raw socket closed');
      const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      return Promise.resolve(this.a.send(this.h, buf, address, opts.source ?? '', opts.ifindex ?? 0));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** getsockopt of a 32-bit integer option (signed: IPV6_CHECKSUM reads -1 when off). */
  getIntOption(level: number, option: number): number {
    return this.a.getIntOption(this.h, level, option);
  }

  setIntOption(level: number, option: number, value: number): void {
    this.a.setIntOption(this.h, level, option, value);
  }

  /** setsockopt with a struct or string value (e.g. SO_BINDTODEVICE, ICMP6_FILTER); throws with errno text. */
  setBufferOption(level: number, option: number, value: Uint8Array): void {
    this.a.setBufferOption(this.h, level, option, Buffer.from(value));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.a.close(this.h);
  }
}
