import { createRequire } from 'node:module';

// A small typed wrapper over the untyped `raw-socket` addon (1.8): open a raw
// IP socket of one protocol, send to an address, receive payloads with their
// source, read or set integer socket options. MAG and LMA use it for MH over
// next header 135; on Linux the kernel fills in the MH checksum (IPV6_CHECKSUM,
// offset 4 by default for protocol 135), so senders write checksum 0.

/** Linux constants raw-socket does not export. */
export const SOL_IPV6 = 41; // IPPROTO_IPV6
export const IPV6_CHECKSUM = 7;
export const IPPROTO_MH = 135;

interface AddonSocket {
  on(event: 'message', cb: (buf: Buffer, source: string) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  on(event: 'close', cb: () => void): void;
  send(buf: Buffer, offset: number, length: number, address: string, cb: (err: Error | null, bytes: number) => void): void;
  getOption(level: number, option: number, value: Buffer, length: number): number;
  setOption(level: number, option: number, value: number): void;
  setOption(level: number, option: number, value: Buffer, length: number): void;
  close(): void;
}

interface AddonModule {
  createSocket(opts: { addressFamily: number; protocol: number; bufferSize?: number }): AddonSocket;
  AddressFamily: { IPv4: number; IPv6: number };
}

const addon = createRequire(import.meta.url)('raw-socket') as AddonModule;

export interface RawSocketOptions {
  protocol: number;
  family?: 'ipv6' | 'ipv4'; // default ipv6
  bufferSize?: number; // largest datagram received; default 65535
}

export interface RawDatagram {
  data: Uint8Array; // for IPv6: the upper-layer payload, without the IPv6 header
  source: string;
}

export class RawSocket {
  private readonly sock: AddonSocket;
  private closed = false;

  /** Throws (EPERM without CAP_NET_RAW) when the socket cannot be opened. */
  constructor(opts: RawSocketOptions) {
    this.sock = addon.createSocket({
      addressFamily: (opts.family ?? 'ipv6') === 'ipv6' ? addon.AddressFamily.IPv6 : addon.AddressFamily.IPv4,
      protocol: opts.protocol,
      bufferSize: opts.bufferSize ?? 65535,
    });
    // The addon closes the socket after an error; keep our flag in step.
    this.sock.on('close', () => {
      this.closed = true;
    });
  }

  onMessage(cb: (d: RawDatagram) => void): void {
    // The addon hands out a view of one receive buffer it reuses: copy before the next read overwrites it.
    this.sock.on('message', (buf, source) => cb({ data: Uint8Array.from(buf), source }));
  }

  onError(cb: (err: Error) => void): void {
    this.sock.on('error', cb);
  }

  send(data: Uint8Array, address: string): Promise<number> {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return new Promise((resolve, reject) => {
      this.sock.send(buf, 0, buf.length, address, (err, bytes) => (err ? reject(err) : resolve(bytes)));
    });
  }

  /** getsockopt of a 32-bit integer option (signed: IPV6_CHECKSUM reads -1 when off). */
  getIntOption(level: number, option: number): number {
    const b = Buffer.alloc(4);
    this.sock.getOption(level, option, b, b.length);
    return b.readInt32LE(0); // host order; Linux targets here are little-endian
  }

  setIntOption(level: number, option: number, value: number): void {
    this.sock.setOption(level, option, value);
  }

  /** setsockopt with a struct or string value (e.g. SO_BINDTODEVICE, ICMP6_FILTER); throws with errno text. */
  setBufferOption(level: number, option: number, value: Uint8Array): void {
    const b = Buffer.from(value);
    this.sock.setOption(level, option, b, b.length);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }
}
