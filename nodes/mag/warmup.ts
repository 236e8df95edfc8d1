import { decodeMessage, encodeMessage, withChecksum } from '../protocol/index.js';
import { DEFAULT_TIMINGS, type BulEntry, step } from './bul.js';
import { buildPbu, readPba, TimestampClock } from './messages.js';

// A handover runs the MAG's code once every few seconds, so V8 would keep it
// in the interpreter: running the pure parts of the path (PBU build and
// encode, PBA decode and read, the BUL steps) a few thousand times at start
// gets them compiled before the first real handover needs them. No I/O.

const PBA_BYTES = encodeMessage({
  kind: 'pba',
  status: 0,
  flags: { K: false, R: false, P: true },
  sequence: 1,
  lifetime: 15,
  options: [
    { kind: 'mnId', nai: 'warmup@pmiplab.invalid' },
    { kind: 'hnp', prefix: '2001:db8:ffff::', prefixLength: 64 },
    { kind: 'handoffIndicator', value: 3 },
    { kind: 'accessTechnologyType', value: 4 },
    { kind: 'mnLinkLayerId', identifier: '020000000001' },
    { kind: 'timestamp', seconds: 1, fraction: 1 },
  ],
}).slice();

const SRC = new Uint8Array(16).fill(0x20);
const DST = new Uint8Array(16).fill(0x21);

/** Returns the time it took, ms. */
export function warmUp(rounds = 1500): number {
  const t0 = performance.now();
  const clock = new TimestampClock();
  const env = { timings: DEFAULT_TIMINGS, seqStart: () => 1 };
  let sink = 0;
  for (let i = 0; i < rounds; i++) {
    const msg = buildPbu({
      seq: i & 0xffff,
      lifetimeS: i & 1 ? 60 : 0,
      hi: 3,
      hnps: i & 2 ? [] : ['2001:db8:ffff::/64'],
      mnId: 'warmup@pmiplab.invalid',
      llId: '02:00:00:00:00:01',
      att: 4,
      linkLocal: 'fe80::1',
      timestamp: clock.next(),
    });
    sink += withChecksum(Uint8Array.from(encodeMessage(msg)), SRC, DST).length;
    const d = decodeMessage(PBA_BYTES);
    if (d.ok && d.value.kind === 'pba') sink += readPba(d.value)?.lifetimeS ?? 0;
    let e: BulEntry | undefined = step(undefined, { type: 'attach', info: { mnId: 'w', llId: '02:00:00:00:00:01', att: 4, iface: 'x', requestedHnps: [], hi: 3 }, nowNs: 1n }, env).entry;
    const seq = e?.pending?.tx[0]?.seq ?? 0;
    e = step(e, { type: 'pba', seq, status: 0, lifetimeS: 60, hnps: ['2001:db8:ffff::/64'], nowNs: 2n }, env).entry;
    e = step(e, { type: 'timer', timer: 'refresh', nowNs: 3n }, env).entry;
    e = step(e, { type: 'detach', nowNs: 4n }, env).entry;
    sink += step(e, { type: 'timer', timer: 'retransmit', nowNs: 5n }, env).effects.length;
  }
  if (sink < 0) throw new Error('unreachable'); // keeps the work observable
  return performance.now() - t0;
}
