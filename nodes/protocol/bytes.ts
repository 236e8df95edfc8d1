// Big-endian field writers that refuse out-of-range values. Encode throws only
// here, for programmer errors (a value the schema would have refused).

export function checkInt(value: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${field}: ${String(value)} is not an integer in 0..${max}`);
  }
  return value;
}

export function put8(buf: Uint8Array, offset: number, value: number, field: string): void {
  buf[offset] = checkInt(value, 0xff, field);
}

export function put16(buf: Uint8Array, offset: number, value: number, field: string): void {
  checkInt(value, 0xffff, field);
  buf[offset] = value >>> 8;
  buf[offset + 1] = value & 0xff;
}

export function put32(buf: Uint8Array, offset: number, value: number, field: string): void {
  checkInt(value, 0xffffffff, field);
  buf[offset] = value >>> 24;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}

// Readers: callers have already checked the bounds, so `!` on index reads is
// safe; `?? 0` would cost a branch per octet on the hot path.
export function get16(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 8) | buf[offset + 1]!;
}

export function get32(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) >>> 0) + ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!);
}

/** Bit set helper for flag words. */
export function bit(on: boolean | undefined, mask: number): number {
  return on === true ? mask : 0;
}
