// The probe: one UDP payload of a measurement flow. Network byte order:
//   0  u16  magic 0x504c ("PL"): not ours otherwise (a stray)
//   2  u16  flow tag (flowTag(name)): a probe of another flow is a stray too
//   4  u32  sequence number, 0 for the first probe of the flow
//   8  u64  send time, CLOCK_MONOTONIC ns (process.hrtime.bigint(); one clock
//           for every namespace, so rx - tx is the one-way delay)
//  16  ...  zero padding up to the configured size
// 16 octets is the smallest probe (the topology schema's minimum size).

export const PROBE_MAGIC = 0x504c;
export const PROBE_HEADER = 16;
export const PROBE_MAX = 65507; // largest UDP payload over IPv4 (IPv6 jumbograms aside)

/** 16-bit tag of a flow name: FNV-1a 32 folded (xor of the halves). */
export function flowTag(flow: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < flow.length; i++) {
    h ^= flow.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return ((h >>> 16) ^ (h & 0xffff)) & 0xffff;
}

/** Write a probe into buf (at least PROBE_HEADER long; the rest is left as is: zero it once). */
export function encodeProbe(buf: Buffer, tag: number, seq: number, txNs: bigint): void {
  buf.writeUInt16BE(PROBE_MAGIC, 0);
  buf.writeUInt16BE(tag, 2);
  buf.writeUInt32BE(seq >>> 0, 4);
  buf.writeBigUInt64BE(txNs, 8);
}

export type ProbeDecode = { ok: true; seq: number; txNs: bigint } | { ok: false; reason: 'short' | 'magic' | 'flow' };

/** Read a probe of flow `tag`; anything else is a stray with the reason. */
export function decodeProbe(buf: Buffer, tag: number): ProbeDecode {
  if (buf.length < PROBE_HEADER) return { ok: false, reason: 'short' };
  if (buf.readUInt16BE(0) !== PROBE_MAGIC) return { ok: false, reason: 'magic' };
  if (buf.readUInt16BE(2) !== tag) return { ok: false, reason: 'flow' };
  return { ok: true, seq: buf.readUInt32BE(4), txNs: buf.readBigUInt64BE(8) };
}
