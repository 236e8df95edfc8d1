import { fail, type Parsed } from './result.js';
import { readPcap } from './pcap-reader.js';
import { readPcapng } from './pcapng-reader.js';

// What both readers return: the frames, each with its own linktype (pcapng
// can mix interfaces), a nanosecond timestamp and the captured bytes.

export const LinkType = {
  ethernet: 1,
  raw: 101,
  linuxSll: 113,
  ipv4: 228,
  ipv6: 229,
  linuxSll2: 276,
} as const;

export interface CapturedFrame {
  index: number; // 0-based position in the file, counting packet records only
  timestampNs: bigint; // since the Unix epoch; bigint because ns since 1970 exceed 2^53
  linktype: number;
  data: Uint8Array; // captured bytes (may be shorter than originalLength when snapped)
  originalLength: number;
  fileOffset: number; // where the record starts, for error messages
}

export interface Capture {
  format: 'pcap' | 'pcapng';
  frames: CapturedFrame[];
}

const PCAPNG_SHB = 0x0a0d0d0a;

/** Reads classic pcap (any magic) or pcapng, chosen by the first four bytes. */
export function readCapture(bytes: Uint8Array): Parsed<Capture> {
  if (bytes.length < 4) return fail('truncated', 'file.magic', 0, `${bytes.length} bytes`);
  const magic = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
  if (magic === PCAPNG_SHB) return readPcapng(bytes);
  return readPcap(bytes);
}

/** True when the bytes start like a pcap or pcapng file (for the CLI's argument sniffing). */
export function looksLikeCapture(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const m = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
  return [PCAPNG_SHB, 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(m);
}
