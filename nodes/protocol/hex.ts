// Lowercase hex <-> bytes for opaque fields, table-driven (this is on the
// decode path of every PadN and unknown option).

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

export function toHex(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX[buf[i]!];
  return s;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return -1;
}

/** Octets in a hex string; throws when it is not lowercase whole-octet hex. */
export function hexLength(hex: string, field: string): number {
  if ((hex.length & 1) !== 0) throw new RangeError(`${field}: hex string of odd length`);
  return hex.length >>> 1;
}

export function writeHex(hex: string, buf: Uint8Array, offset: number, field: string): number {
  const n = hexLength(hex, field);
  for (let i = 0; i < n; i++) {
    const hi = nibble(hex.charCodeAt(2 * i));
    const lo = nibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new RangeError(`${field}: not lowercase hex: ${JSON.stringify(hex)}`);
    buf[offset + i] = (hi << 4) | lo;
  }
  return n;
}
