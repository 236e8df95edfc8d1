import { decodeMessage, encodeMessage, type MessageOf } from '../protocol/index.js';
import { BindingCache } from './binding-cache.js';
import type { LmaConfig } from './config.js';
import { HnpPool } from './hnp-pool.js';
import { processPbu } from './pbu-processing.js';

// An LMA in an experiment sees a PBU or two per handover, so V8 would run its
// PBU path in the interpreter at every handover (a few hundred microseconds
// each, on the critical path). Running the pure part (decode, processing with
// new/handover/de-registration outcomes, PBA encode) on a scratch cache at
// start gets it compiled first. No I/O; the real cache and pool are untouched.

const pbu = (seq: number, hi: number, lifetime: number, llId: string): MessageOf<'pbu'> => ({
  kind: 'pbu',
  sequence: seq,
  flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true },
  lifetime,
  options: [
    { kind: 'mnId', nai: 'warmup@pmiplab.invalid' },
    { kind: 'hnp', prefix: '::', prefixLength: 0 },
    { kind: 'handoffIndicator', value: hi },
    { kind: 'accessTechnologyType', value: 4 },
    { kind: 'mnLinkLayerId', identifier: llId },
  ],
});

/** Returns the time it took, ms. */
export function warmUp(cfg: LmaConfig, rounds = 300): number {
  const t0 = performance.now();
  const cache = new BindingCache();
  const pool = new HnpPool('fd00:ffff::/48'); // 65,536 prefixes: far more than the rounds take
  const c = { ...cfg, name: 'warmup' };
  const mn = { mnId: 'warmup@pmiplab.invalid', lma: 'warmup', mags: ['*'], interfaces: [] };
  const mags = ['fd00::1', 'fd00::2'];
  for (let i = 0; i < rounds; i++) {
    const llId = (0x020000000000 + (i % 200)).toString(16).padStart(12, '0');
    // the paths of a run: a new session; a break-before-make handover (the old
    // MAG de-registers first, the new one registers the entry being deleted);
    // a refresh; a late de-registration from the MAG the binding left
    const steps = [[1, 15, 0], [4, 0, 0], [3, 15, 1], [5, 15, 1], [3, 15, 0], [4, 0, 1]] as const;
    for (const [k, [hi, life, src]] of steps.entries()) {
      const bytes = encodeMessage(pbu((i * steps.length + k) & 0xffff, hi, life, llId));
      const d = decodeMessage(bytes);
      if (!d.ok || d.value.kind !== 'pbu') continue;
      const out = processPbu(cache, pool, c, { pbu: d.value, src: mags[src]!, mag: { name: `m${src}` }, mn, nowMs: i, wallMs: Date.now() });
      encodeMessage(out.pba);
    }
  }
  return performance.now() - t0;
}
