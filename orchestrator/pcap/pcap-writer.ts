import { PCAP_HEADER_LEN, PCAP_MAGIC_NS, PCAP_MAGIC_US, PCAP_RECORD_HEADER_LEN } from './pcap-format.js';

// Writes classic pcap. Tests use every variant (precision, byte order) so the
// reader is checked against all four magics; tools only need the default.

export interface PcapRecord {
  timestampNs: bigint;
  data: Uint8Array;
  originalLength?: number; // defaults to data.length
}

export interface PcapWriteOptions {
  linktype: number;
  precision?: 'us' | 'ns'; // default 'us' (what tcpdump writes)
  endian?: 'le' | 'be'; // default 'le'
  snaplen?: number; // default 262144
}

export function writePcap(records: readonly PcapRecord[], opts: PcapWriteOptions): Uint8Array {
  const ns = opts.precision === 'ns';
  const le = (opts.endian ?? 'le') === 'le';
  const total = PCAP_HEADER_LEN + records.reduce((n, r) => n + PCAP_RECORD_HEADER_LEN + r.data.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, ns ? PCAP_MAGIC_NS : PCAP_MAGIC_US, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  dv.setUint32(8, 0, le); // thiszone
  dv.setUint32(12, 0, le); // sigfigs
  dv.setUint32(16, opts.snaplen ?? 262144, le);
  dv.setUint32(20, opts.linktype, le);
  let off = PCAP_HEADER_LEN;
  const unit = ns ? 1n : 1000n;
  for (const r of records) {
    if (r.timestampNs < 0n) throw new RangeError('pcap timestamps start at the epoch');
    const sec = r.timestampNs / 1_000_000_000n;
    const frac = (r.timestampNs % 1_000_000_000n) / unit;
    dv.setUint32(off, Number(sec & 0xffffffffn), le);
    dv.setUint32(off + 4, Number(frac), le);
    dv.setUint32(off + 8, r.data.length, le);
    dv.setUint32(off + 12, r.originalLength ?? r.data.length, le);
    out.set(r.data, off + PCAP_RECORD_HEADER_LEN);
    off += PCAP_RECORD_HEADER_LEN + r.data.length;
  }
  return out;
}
