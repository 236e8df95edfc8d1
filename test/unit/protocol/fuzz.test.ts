// Fuzz: >= 100,000 random and mutated buffers per run. decode must return ok
// or a typed error (never throw, never hang), and every ok result must
// re-encode to exactly the input bytes.

import fc from 'fast-check';
import { expect, test } from 'vitest';
import { decodeMessage, encodeMessage, messageRecords } from '../../../nodes/protocol/index.js';
import { message, paddedMessage } from '../../support/protocol-arbitraries.js';

const CODES = new Set(['truncated', 'bad-length', 'bad-value', 'unknown-type']);

// xorshift32: deterministic per seed, far cheaper than fast-check per buffer
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

test('fuzz decode with 100,000+ random and mutated buffers', () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  const r = rng(seed);
  const corpus = fc
    .sample(fc.oneof(message, paddedMessage), { numRuns: 400, seed })
    .map((m) => encodeMessage(m));
  const types = messageRecords.map((m) => m.type);
  const N = 120_000;
  const failures: string[] = []; // a throw or an untyped result, with the buffer that caused it
  let okCount = 0;
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    let b: Uint8Array;
    const mode = r(6);
    if (mode === 0) {
      // random bytes, half of them with a plausible header
      b = new Uint8Array(r(80));
      for (let k = 0; k < b.length; k++) b[k] = r(256);
      if (r(2) === 0 && b.length >= 8) {
        b = b.subarray(0, b.length - (b.length % 8));
        b[1] = b.length / 8 - 1;
        b[2] = types[r(types.length)]!;
      }
    } else {
      b = corpus[r(corpus.length)]!.slice();
      if (mode === 1) {
        const flips = 1 + r(4);
        for (let k = 0; k < flips; k++) b[r(b.length)]! ^= 1 << r(8);
      } else if (mode === 2) {
        b = b.subarray(0, r(b.length));
      } else if (mode === 3) {
        // length-byte edits: an option Length, or HdrLen
        const at = r(3) === 0 ? 1 : 12 + r(Math.max(1, b.length - 12));
        b[at] = r(4) === 0 ? r(256) : (b[at]! + (r(2) === 0 ? 1 : 255)) & 0xff;
      } else if (mode === 4) {
        b[r(b.length)] = r(256);
        b[r(b.length)] = r(256);
      }
      // mode 5: unmodified valid input
    }
    try {
      const d = decodeMessage(b);
      if (d.ok) {
        okCount++;
        // plain checks: expect() per buffer would dominate the run time
        if (!Buffer.from(encodeMessage(d.value)).equals(Buffer.from(b))) throw new Error('re-encode differs');
      } else {
        const e = d.error;
        if (!CODES.has(e.code) || typeof e.field !== 'string' || !Number.isInteger(e.offset) || e.offset < 0 || e.offset > b.length) {
          throw new Error(`untyped error ${JSON.stringify(e)}`);
        }
      }
    } catch (e) {
      failures.push(`buffer ${Buffer.from(b).toString('hex')}: ${String(e)}`);
    }
  }
  const ms = performance.now() - start;
  console.log(`fuzz: ${N} buffers, ${failures.length} exceptions, ${okCount} decoded ok (seed ${seed}, ${ms.toFixed(0)} ms)`);
  expect(failures.slice(0, 5), `seed ${seed}`).toEqual([]);
});
