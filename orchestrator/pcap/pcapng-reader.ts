import type { Capture, CapturedFrame } from './capture.js';
import { fail, ok, type Parsed } from './result.js';

// pcapng (RFC draft-ietf-opsawg-pcapng): a sequence of blocks, each
// `type u32, totalLength u32, body, totalLength u32`. Sections start with an
// SHB that fixes the byte order; interfaces (IDB) are numbered per section.
// Packet blocks read: EPB, SPB and the obsolete PB; all other blocks are skipped.

const BLOCK = { shb: 0x0a0d0d0a, idb: 1, pb: 2, spb: 3, epb: 6 } as const;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const MAX_BLOCK = 0x4000000;
const OPT_END = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

interface Iface {
  linktype: number;
  snaplen: number;
  toNs: (ticks: bigint) => bigint;
  offsetNs: bigint;
}

function tsConverter(resol: number): (ticks: bigint) => bigint {
  // High bit set: power of two; else power of ten (default 6: microseconds).
  if (resol & 0x80) {
    const shift = BigInt(resol & 0x7f);
    return (t) => (t * 1_000_000_000n) >> shift;
  }
  const per = 10n ** BigInt(resol);
  return (t) => (t * 1_000_000_000n) / per;
}

/** Walks an IDB's options; returns the interface or an error. */
function readIdb(dv: DataView, off: number, end: number, le: boolean): Parsed<Iface> {
  if (end - off < 16) return fail('bad-length', 'idb.length', off + 4);
  let resol = 6;
  let offsetNs = 0n;
  let p = off + 16;
  while (p + 4 <= end) {
    const code = dv.getUint16(p, le);
    const len = dv.getUint16(p + 2, le);
    if (code === OPT_END) break;
    if (p + 4 + len > end) return fail('truncated', `idb.option[${code}]`, p, `length ${len}`);
    if (code === OPT_IF_TSRESOL) {
      if (len !== 1) return fail('bad-length', 'idb.if_tsresol', p + 2, `${len}`);
      resol = dv.getUint8(p + 4);
      if ((resol & 0x7f) > 64) return fail('bad-value', 'idb.if_tsresol', p + 4, `${resol}`);
    } else if (code === OPT_IF_TSOFFSET) {
      if (len !== 8) return fail('bad-length', 'idb.if_tsoffset', p + 2, `${len}`);
      offsetNs = dv.getBigInt64(p + 4, le) * 1_000_000_000n;
    }
    p += 4 + ((len + 3) & ~3);
  }
  return { ok: true, value: { linktype: dv.getUint16(off + 8, le), snaplen: dv.getUint32(off + 12, le), toNs: tsConverter(resol), offsetNs } };
}

export function readPcapng(bytes: Uint8Array): Parsed<Capture> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: CapturedFrame[] = [];
  let ifaces: Iface[] = [];
  let le = true;
  let seenShb = false;
  let off = 0;
  while (off < bytes.length) {
    if (bytes.length - off < 12) return fail('truncated', 'block.header', off, `${bytes.length - off} bytes left`);
    const type = dv.getUint32(off, le);
    if (type === BLOCK.shb) {
      // The SHB's own byte-order magic decides how to read its length.
      if (bytes.length - off < 28) return fail('truncated', 'shb', off);
      const bom = dv.getUint32(off + 8, false);
      if (bom === BYTE_ORDER_MAGIC) le = false;
      else if (dv.getUint32(off + 8, true) === BYTE_ORDER_MAGIC) le = true;
      else return fail('bad-magic', 'shb.byteOrderMagic', off + 8, `0x${bom.toString(16)}`);
      const major = dv.getUint16(off + 12, le);
      if (major !== 1) return fail('unsupported', 'shb.versionMajor', off + 12, `${major}`);
      ifaces = [];
      seenShb = true;
    } else if (!seenShb) {
      return fail('bad-magic', 'shb', 0, 'a pcapng file must start with a Section Header Block');
    }
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0) return fail('bad-length', 'block.totalLength', off + 4, `${len}`);
    // SHB: byte-order magic, versions and section length (16 octets) lie inside the block
    if (type === BLOCK.shb && len < 28) return fail('bad-length', 'shb.totalLength', off + 4, `${len}, at least 28`);
    if (len > MAX_BLOCK) return fail('bad-length', 'block.totalLength', off + 4, `${len} exceeds ${MAX_BLOCK}`);
    if (off + len > bytes.length) return fail('truncated', 'block.body', off, `totalLength ${len}, ${bytes.length - off} bytes left`);
    if (dv.getUint32(off + len - 4, le) !== len) return fail('bad-length', 'block.trailingLength', off + len - 4, 'differs from the leading totalLength');
    const end = off + len - 4;

    if (type === BLOCK.idb) {
      const r = readIdb(dv, off, end, le);
      if (!r.ok) return r;
      ifaces.push(r.value);
    } else if (type === BLOCK.epb || type === BLOCK.pb || type === BLOCK.spb) {
      const f = readPacketBlock(dv, bytes, type, off, end, le, ifaces, frames.length);
      if (!f.ok) return f;
      frames.push(f.value);
    }
    off += len;
  }
  if (!seenShb) return fail('bad-magic', 'shb', 0);
  return ok({ format: 'pcapng', frames });
}

function readPacketBlock(
  dv: DataView, bytes: Uint8Array, type: number, off: number, end: number, le: boolean, ifaces: Iface[], index: number,
): Parsed<CapturedFrame> {
  const name = type === BLOCK.spb ? 'spb' : type === BLOCK.epb ? 'epb' : 'pb';
  let ifId: number;
  let ticks = 0n;
  let caplen: number;
  let orig: number;
  let dataStart: number;
  if (type === BLOCK.spb) {
    if (end - off < 12) return fail('bad-length', 'spb.length', off + 4);
    ifId = 0;
    orig = dv.getUint32(off + 8, le);
    dataStart = off + 12;
    const iface = ifaces[0];
    // SPB has no captured length: the smaller of the original length, the snaplen and the block body.
    caplen = Math.min(orig, end - dataStart, iface && iface.snaplen > 0 ? iface.snaplen : Infinity);
  } else {
    if (end - off < 28) return fail('bad-length', `${name}.length`, off + 4);
    ifId = type === BLOCK.epb ? dv.getUint32(off + 8, le) : dv.getUint16(off + 8, le);
    ticks = (BigInt(dv.getUint32(off + 12, le)) << 32n) | BigInt(dv.getUint32(off + 16, le));
    caplen = dv.getUint32(off + 20, le);
    orig = dv.getUint32(off + 24, le);
    dataStart = off + 28;
    if (dataStart + caplen > end) return fail('bad-length', `${name}.capturedLength`, off + 20, `${caplen} exceeds the block`);
  }
  const iface = ifaces[ifId];
  if (!iface) return fail('bad-value', `${name}.interfaceId`, off + 8, `interface ${ifId} not described by an IDB in this section`);
  return ok({
    index,
    timestampNs: iface.toNs(ticks) + iface.offsetNs,
    linktype: iface.linktype,
    data: bytes.subarray(dataStart, dataStart + caplen),
    originalLength: orig,
    fileOffset: off,
  });
}
