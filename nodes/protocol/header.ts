// The 6-octet fixed part of every Mobility Header (RFC 6275 6.1.1):
// Payload Proto u8 | Header Len u8 (8-octet units, excluding the first 8) |
// MH Type u8 | Reserved u8 | Checksum u16.

import { put16, put8 } from './bytes.js';
import { IPPROTO_NONE } from './numbers.js';
import { fail, ok } from './result.js';
import type { Decoded } from './types.js';

export const HEADER_LENGTH = 6;
/** Header Len is one octet: at most (255 + 1) * 8 octets. */
export const MAX_MH_LENGTH = 2048;

export interface FixedHeader {
  payloadProto: number;
  hdrLen: number;
  type: number;
  reserved: number;
  checksum: number;
}

/** Throws (programmer error) unless the MH length is a multiple of 8 in 8..MAX_MH_LENGTH. */
export function checkMhLength(totalLength: number): void {
  if (totalLength % 8 !== 0 || totalLength < 8 || totalLength > MAX_MH_LENGTH) {
    throw new RangeError(`MobilityHeader: length ${totalLength} is not a multiple of 8 in 8..${MAX_MH_LENGTH}`);
  }
}

export function writeHeader(
  buf: Uint8Array,
  offset: number,
  totalLength: number,
  type: number,
  h: { payloadProto?: number | undefined; mhReserved?: number | undefined; checksum?: number | undefined },
): void {
  checkMhLength(totalLength);
  put8(buf, offset, h.payloadProto ?? IPPROTO_NONE, 'MobilityHeader.payloadProto');
  buf[offset + 1] = totalLength / 8 - 1;
  buf[offset + 2] = type;
  put8(buf, offset + 3, h.mhReserved ?? 0, 'MobilityHeader.reserved');
  put16(buf, offset + 4, h.checksum ?? 0, 'MobilityHeader.checksum');
}

/** Reads and checks the fixed header against the buffer length n (the MH is the whole buffer). */
export function readHeader(buf: Uint8Array, n: number): Decoded<FixedHeader> {
  if (n < HEADER_LENGTH) return fail('truncated', 'MobilityHeader', n, `${n} octets, the fixed header needs 6`);
  const hdrLen = buf[1]!;
  const declared = (hdrLen + 1) * 8;
  if (declared > n) {
    return fail('truncated', 'MobilityHeader.hdrLen', 1, `Header Len ${hdrLen} declares ${declared} octets, buffer has ${n}`);
  }
  if (n % 8 !== 0) return fail('bad-length', 'MobilityHeader.length', n, `MH of ${n} octets is not a multiple of 8`);
  if (declared < n) {
    return fail('bad-length', 'MobilityHeader.hdrLen', 1, `Header Len ${hdrLen} declares ${declared} octets, buffer has ${n}`);
  }
  return ok(
    { payloadProto: buf[0]!, hdrLen, type: buf[2]!, reserved: buf[3]!, checksum: (buf[4]! << 8) | buf[5]! },
    HEADER_LENGTH,
  );
}
