import { describe, expect, it } from 'vitest';
import { pbuSendDelayNs } from '../../../orchestrator/study/ladder.js';

// The ladder's clock offset (capture time of a PBU minus its pbu-sent event)
// must not count the signaling delay the PBU waited in user space before the
// send, or every arrow of an impaired run sits that much too early.
describe('ladder clock offset', () => {
  const link = (node: string, signaling?: { delayMs: number; messages?: string[] }) => ({ endpoints: [{ node }, { node: 'lma1' }], ...(signaling ? { signaling } : {}) });
  const plan = (links: ReturnType<typeof link>[]) => ({ nodes: [], links });

  it('takes the delay of the link a MAG sends its PBUs on, when it applies to PBUs', () => {
    expect(pbuSendDelayNs(plan([link('mag1', { delayMs: 50, messages: ['pbu', 'pba'] }), link('mag2')]), 'mag1')).toBe(50_000_000n);
    expect(pbuSendDelayNs(plan([link('mag1', { delayMs: 20 })]), 'mag1')).toBe(20_000_000n);
    expect(pbuSendDelayNs(plan([link('mag1', { delayMs: 50, messages: ['pba'] })]), 'mag1')).toBe(0n);
    expect(pbuSendDelayNs(plan([link('mag1', { delayMs: 50 }), link('mag2')]), 'mag2')).toBe(0n);
    expect(pbuSendDelayNs({ nodes: [] }, 'mag1')).toBe(0n);
  });
});
