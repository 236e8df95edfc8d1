// Test helper: writes small pcapng files block by block, in either byte order,
// so the reader is checked without depending on tshark.

export interface NgPacket {
  iface?: number;
  ticks: bigint; // in the interface's resolution
  data: Uint8Array;
  originalLength?: number;
}

const pad4 = (n: number) => (n + 3) & ~3;

function block(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const len = 12 + pad4(body.length);
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, len, le);
  out.set(body, 8);
  dv.setUint32(len - 4, len, le);
  return out;
}

export function shb(le: boolean): Uint8Array {
  const body = new Uint8Array(16);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, 0x1a2b3c4d, le);
  dv.setUint16(4, 1, le);
  dv.setUint16(6, 0, le);
  dv.setBigInt64(8, -1n, le);
  return block(0x0a0d0d0a, body, le);
}

export function idb(linktype: number, le: boolean, tsresol?: number, snaplen = 0): Uint8Array {
  const opts = tsresol === undefined ? new Uint8Array(0) : new Uint8Array(12);
  if (tsresol !== undefined) {
    const o = new DataView(opts.buffer);
    o.setUint16(0, 9, le);
    o.setUint16(2, 1, le);
    opts[4] = tsresol;
    // then opt_endofopt (4 zero bytes)
  }
  const body = new Uint8Array(8 + opts.length);
  const dv = new DataView(body.buffer);
  dv.setUint16(0, linktype, le);
  dv.setUint32(4, snaplen, le);
  body.set(opts, 8);
  return block(1, body, le);
}

export function epb(p: NgPacket, le: boolean): Uint8Array {
  const body = new Uint8Array(20 + pad4(p.data.length));
  const dv = new DataView(body.buffer);
  dv.setUint32(0, p.iface ?? 0, le);
  dv.setUint32(4, Number(p.ticks >> 32n), le);
  dv.setUint32(8, Number(p.ticks & 0xffffffffn), le);
  dv.setUint32(12, p.data.length, le);
  dv.setUint32(16, p.originalLength ?? p.data.length, le);
  body.set(p.data, 20);
  return block(6, body, le);
}

export function spb(data: Uint8Array, le: boolean): Uint8Array {
  const body = new Uint8Array(4 + pad4(data.length));
  new DataView(body.buffer).setUint32(0, data.length, le);
  body.set(data, 4);
  return block(3, body, le);
}

/** A block type the reader must skip (a Name Resolution Block with only the end record). */
export function nrb(le: boolean): Uint8Array {
  return block(4, new Uint8Array(4), le);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
