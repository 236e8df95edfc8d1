// roundTrip(record, value), after dns-packet's testEncoder: declared length =
// bytes written, decode inverts encode, re-encoding is stable, writing at
// offset 10 of a bigger buffer works and touches nothing else, and every
// truncation 0..n-1 is a 'truncated' error, not an exception.

import { expect } from 'vitest';
import type { WireRecord } from '../../../nodes/protocol/index.js';

export function roundTrip<T>(record: WireRecord<T>, value: T): Uint8Array {
  const n = record.length(value);
  const buf = new Uint8Array(n);
  expect(record.encode(value, buf, 0)).toBe(n);

  const d = record.decode(buf, 0, n);
  expect(d).toEqual({ ok: true, value, bytes: n });
  if (!d.ok) return buf;

  const again = new Uint8Array(record.length(d.value));
  record.encode(d.value, again, 0);
  expect(again).toEqual(buf);

  const big = new Uint8Array(n + 20).fill(0xee);
  expect(record.encode(value, big, 10)).toBe(n);
  expect(big.subarray(10, 10 + n)).toEqual(buf);
  expect(big.subarray(0, 10).every((b) => b === 0xee)).toBe(true);
  expect(big.subarray(10 + n).every((b) => b === 0xee)).toBe(true);
  expect(record.decode(big, 10, 10 + n)).toEqual({ ok: true, value, bytes: n });

  for (let k = 0; k < n; k++) {
    const t = record.decode(buf, 0, k);
    expect(t.ok, `truncated to ${k} of ${n}`).toBe(false);
    if (!t.ok) expect(t.error.code).toBe('truncated');
  }
  return buf;
}
