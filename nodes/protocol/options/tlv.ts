// Shared Type/Length handling of option records, and a factory for the many
// options whose data has one fixed length.

import { fail, ok } from '../result.js';
import type { Failure, MobilityOption, OptionRecord } from '../types.js';

/**
 * Read an option's Length octet and check its data fits before `end`.
 * Returns the data length, or a failed result. `fixed` (when given) is the only
 * acceptable length; `min` a lower bound.
 */
export function readTlv(
  buf: Uint8Array,
  offset: number,
  end: number,
  name: string,
  accept?: (len: number) => boolean,
  expect?: string,
): number | Failure {
  if (offset + 2 > end) return fail('truncated', `${name}.length`, Math.min(offset + 1, end), 'option header cut off');
  const len = buf[offset + 1]!;
  if (accept !== undefined && !accept(len)) {
    return fail('bad-length', `${name}.length`, offset + 1, `length ${len}, expected ${expect ?? 'another value'}`);
  }
  if (offset + 2 + len > end) {
    return fail('truncated', name, offset + 2, `option data of ${len} octets runs past the end (${end - offset - 2} left)`);
  }
  return len;
}

/** Write Type and Length; returns 2. Throws if the data is too long for one octet of length. */
export function writeTlv(buf: Uint8Array, offset: number, type: number, len: number, name: string): number {
  if (len > 255) throw new RangeError(`${name}: option data of ${len} octets exceeds 255`);
  buf[offset] = type;
  buf[offset + 1] = len;
  return 2;
}

export interface FixedSpec<T extends MobilityOption> {
  name: string;
  kind: T['kind'];
  type: () => number;
  dataLength: number;
  align?: { x: number; y: number };
  /** Write the data (after Type/Length) at offset. */
  write(value: T, buf: Uint8Array, offset: number): void;
  /** Read the data at offset (dataLength octets are there); a value or a failed result. */
  read(buf: Uint8Array, offset: number): T | Failure;
}

export function isFailure<T extends object>(x: T | Failure): x is Failure {
  return 'ok' in x;
}

export function fixedOption<T extends MobilityOption>(spec: FixedSpec<T>): OptionRecord<T> {
  const total = 2 + spec.dataLength;
  const accept = (len: number) => len === spec.dataLength;
  const expect = String(spec.dataLength);
  return {
    name: spec.name,
    kinds: [spec.kind],
    ...(spec.align ? { align: spec.align } : {}),
    get type() {
      return spec.type();
    },
    length: () => total,
    encode(value, buf, offset) {
      writeTlv(buf, offset, spec.type(), spec.dataLength, spec.name);
      spec.write(value, buf, offset + 2);
      return total;
    },
    decode(buf, offset, end) {
      const len = readTlv(buf, offset, end, spec.name, accept, expect);
      if (typeof len !== 'number') return len;
      const v = spec.read(buf, offset + 2);
      if (isFailure(v)) return v;
      return ok(v, total);
    },
  };
}
