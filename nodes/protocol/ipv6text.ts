// IPv6/IPv4 text <-> bytes, written for the codec: it parses straight into the
// output buffer and formats RFC 5952 canonical text without intermediate
// arrays, since every PBU/PBA carries addresses and the codec has a 500k ops/s
// budget. ipaddr.js is fine elsewhere but allocates objects per call.

const groups = new Uint16Array(8); // scratch, reused by every parse (single-threaded)

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parse dotted-quad IPv4 from s[start..end) into 4 octets at buf[offset]; false if malformed. */
function parseIpv4Into(s: string, start: number, end: number, buf: Uint8Array | null, offset: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : s.charCodeAt(i);
    if (c === 46) {
      // '.'
      if (digits === 0 || part > 3) return false;
      if (buf !== null) buf[offset + part] = value;
      part++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // no leading zeros (ambiguous octal)
      value = value * 10 + (c - 48);
      if (value > 255 || ++digits > 3) return false;
    } else return false;
  }
  return part === 4;
}

/**
 * Parse IPv6 text (RFC 4291 2.2 forms, incl. a trailing dotted IPv4) into 16
 * octets at buf[offset]. Returns false when malformed; buf may then be partly
 * written.
 */
export function parseIpv6Into(s: string, buf: Uint8Array | null, offset: number): boolean {
  const len = s.length;
  if (len < 2 || len > 45) return false;
  let n = 0; // groups seen
  let gap = -1; // group index where '::' sits
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === len) {
      if (buf !== null) buf.fill(0, offset, offset + 16);
      return true;
    }
  }
  while (i < len) {
    if (n === 8) return false;
    let value = 0;
    let digits = 0;
    const start = i;
    while (i < len) {
      const d = hexDigit(s.charCodeAt(i));
      if (d < 0) break;
      value = (value << 4) | d;
      if (++digits > 4) return false;
      i++;
    }
    if (i < len && s.charCodeAt(i) === 46) {
      // dotted IPv4 tail: takes two groups, must end the string
      if (n > 6) return false;
      const tmp = scratch4;
      if (!parseIpv4Into(s, start, len, tmp, 0)) return false;
      groups[n++] = (tmp[0]! << 8) | tmp[1]!;
      groups[n++] = (tmp[2]! << 8) | tmp[3]!;
      i = len;
      break;
    }
    if (digits === 0) return false;
    groups[n++] = value;
    if (i === len) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < len && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
      if (i === len) break;
    } else if (i === len) return false; // trailing single ':'
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  if (buf === null) return true;
  const zeros = 8 - n;
  let g = 0;
  for (let k = 0; k < 8; k++) {
    let v: number;
    if (gap >= 0 && k >= gap && k < gap + zeros) v = 0;
    else v = groups[g++]!;
    buf[offset + 2 * k] = v >>> 8;
    buf[offset + 2 * k + 1] = v & 0xff;
  }
  return true;
}
const scratch4 = new Uint8Array(4);

export function isIpv6Text(s: string): boolean {
  return parseIpv6Into(s, null, 0);
}

export function isIpv4Text(s: string): boolean {
  return parseIpv4Into(s, 0, s.length, null, 0);
}

export function parseIpv4Into4(s: string, buf: Uint8Array, offset: number): boolean {
  return parseIpv4Into(s, 0, s.length, buf, offset);
}

/** Write an IPv6 address at buf[offset]; throws (programmer error) on malformed text. */
export function writeIpv6(s: string, buf: Uint8Array, offset: number, field: string): void {
  if (typeof s !== 'string' || !parseIpv6Into(s, buf, offset)) {
    throw new RangeError(`${field}: not an IPv6 address: ${JSON.stringify(s)}`);
  }
}

const HEXGROUP: string[] = [];

function group(v: number): string {
  // cache the 64K group strings lazily: formatting is on every decode
  let t = HEXGROUP[v];
  if (t === undefined) {
    t = v.toString(16);
    HEXGROUP[v] = t;
  }
  return t;
}

/** RFC 5952 canonical text of the 16 octets at buf[offset] (lowercase, longest zero run >= 2 as '::'). */
export function formatIpv6(buf: Uint8Array, offset: number): string {
  // find the longest run of zero groups (first one on ties), length >= 2
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let k = 0; k < 8; k++) {
    const zero = buf[offset + 2 * k] === 0 && buf[offset + 2 * k + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = k;
      const runLen = k - runStart + 1;
      if (runLen > bestLen) {
        bestLen = runLen;
        bestStart = runStart;
      }
    } else runStart = -1;
  }
  let s = '';
  for (let k = 0; k < 8; k++) {
    if (k === bestStart) {
      s += '::';
      k += bestLen - 1;
      continue;
    }
    if (s.length > 0 && s.charCodeAt(s.length - 1) !== 58) s += ':';
    s += group((buf[offset + 2 * k]! << 8) | buf[offset + 2 * k + 1]!);
  }
  return s;
}

export function formatIpv4(buf: Uint8Array, offset: number): string {
  return `${buf[offset]!}.${buf[offset + 1]!}.${buf[offset + 2]!}.${buf[offset + 3]!}`;
}
