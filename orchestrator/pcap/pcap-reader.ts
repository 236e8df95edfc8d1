import type { Capture, CapturedFrame } from './capture.js';
import { PCAP_HEADER_LEN, PCAP_MAGIC_NS, PCAP_MAGIC_US, PCAP_MAX_RECORD, PCAP_RECORD_HEADER_LEN } from './pcap-format.js';
import { fail, ok, type Parsed } from './result.js';

// Classic pcap: a 24-byte file header, then 16-byte record headers each
// followed by incl_len bytes. The magic gives both byte order and precision.

function byteOrderAndUnit(dv: DataView): { le: boolean; nsPerTick: bigint } | null {
  for (const le of [false, true]) {
    const m = dv.getUint32(0, le);
    if (m === PCAP_MAGIC_US) return { le, nsPerTick: 1000n };
    if (m === PCAP_MAGIC_NS) return { le, nsPerTick: 1n };
  }
  return null;
}

export function readPcap(bytes: Uint8Array): Parsed<Capture> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) return fail('truncated', 'pcap.magic', 0);
  const fmt = byteOrderAndUnit(dv);
  if (!fmt) return fail('bad-magic', 'pcap.magic', 0, `0x${dv.getUint32(0, false).toString(16).padStart(8, '0')}`);
  if (bytes.length < PCAP_HEADER_LEN) return fail('truncated', 'pcap.header', 0, `need ${PCAP_HEADER_LEN} bytes, have ${bytes.length}`);
  const { le, nsPerTick } = fmt;
  const major = dv.getUint16(4, le);
  if (major !== 2) return fail('unsupported', 'pcap.versionMajor', 4, `version ${major}`);
  // The upper bits of the linktype field carry FCS flags (pcap draft 4.1); the type is the low 16.
  const linktype = dv.getUint32(20, le) & 0xffff;
  const frames: CapturedFrame[] = [];
  let off = PCAP_HEADER_LEN;
  while (off < bytes.length) {
    if (bytes.length - off < PCAP_RECORD_HEADER_LEN) {
      return fail('truncated', `record[${frames.length}].header`, off, `${bytes.length - off} of ${PCAP_RECORD_HEADER_LEN} bytes`);
    }
    const sec = BigInt(dv.getUint32(off, le));
    const frac = BigInt(dv.getUint32(off + 4, le));
    const incl = dv.getUint32(off + 8, le);
    const orig = dv.getUint32(off + 12, le);
    if (frac * nsPerTick >= 1_000_000_000n) return fail('bad-value', `record[${frames.length}].tsFraction`, off + 4, `${frac}`);
    if (incl > PCAP_MAX_RECORD) return fail('bad-length', `record[${frames.length}].inclLen`, off + 8, `${incl}`);
    const start = off + PCAP_RECORD_HEADER_LEN;
    if (start + incl > bytes.length) {
      return fail('truncated', `record[${frames.length}].data`, start, `inclLen ${incl}, ${bytes.length - start} bytes left`);
    }
    frames.push({
      index: frames.length,
      timestampNs: sec * 1_000_000_000n + frac * nsPerTick,
      linktype,
      data: bytes.subarray(start, start + incl),
      originalLength: orig,
      fileOffset: off,
    });
    off = start + incl;
  }
  return ok({ format: 'pcap', frames });
}
