// UTF-8 for NAI strings with an ASCII fast path (TextEncoder/TextDecoder cost
// more than a short NAI itself). Decoding is fatal: invalid UTF-8 would not
// survive a round trip through a JS string. ignoreBOM keeps a leading EF BB BF
// as U+FEFF; by default TextDecoder strips it, and the NAI would lose 3 octets.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

export function writeUtf8(s: string, buf: Uint8Array, offset: number): number {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      ascii = false;
      break;
    }
    buf[offset + i] = c;
  }
  if (ascii) return s.length;
  return encoder.encodeInto(s, buf.subarray(offset)).written;
}

/** The string, or undefined when the octets are not valid UTF-8. */
export function readUtf8(buf: Uint8Array, start: number, end: number): string | undefined {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x80) {
      try {
        return decoder.decode(buf.subarray(start, end));
      } catch {
        return undefined;
      }
    }
    s += String.fromCharCode(c);
  }
  return s;
}

/** True when the string has no lone surrogates (they would encode as U+FFFD and not round-trip). */
export function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = s.charCodeAt(i + 1);
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}
