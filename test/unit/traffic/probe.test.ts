import { describe, expect, it } from 'vitest';
import { PROBE_HEADER, PROBE_MAGIC, decodeProbe, encodeProbe, flowTag } from '../../../nodes/traffic/probe.js';

describe('probe codec', () => {
  it('round-trips sequence number and send time at the minimum and a padded size', () => {
    for (const size of [PROBE_HEADER, 200]) {
      const buf = Buffer.alloc(size);
      const tx = process.hrtime.bigint();
      encodeProbe(buf, flowTag('down'), 4_000_000_123, tx);
      expect(decodeProbe(buf, flowTag('down'))).toEqual({ ok: true, seq: 4_000_000_123, txNs: tx });
      expect(buf.subarray(PROBE_HEADER).every((b) => b === 0)).toBe(true);
    }
  });

  it('has the documented wire layout', () => {
    const buf = Buffer.alloc(16);
    encodeProbe(buf, 0xbeef, 0x01020304, 0x1122334455667788n);
    expect(buf.toString('hex')).toBe(`${PROBE_MAGIC.toString(16)}beef010203041122334455667788`);
  });

  it('rejects strays with a reason: short, foreign magic, another flow', () => {
    const tag = flowTag('up');
    expect(decodeProbe(Buffer.alloc(15), tag)).toEqual({ ok: false, reason: 'short' });
    expect(decodeProbe(Buffer.from('hello, this is not a probe'), tag)).toEqual({ ok: false, reason: 'magic' });
    const other = Buffer.alloc(16);
    encodeProbe(other, flowTag('down'), 1, 1n);
    expect(decodeProbe(other, tag)).toEqual({ ok: false, reason: 'flow' });
  });

  it('gives distinct tags to typical flow names', () => {
    const names = ['up', 'down', 'up2', 'down2', 'a', 'b', 'flow-1', 'flow-2', 'mn1-cn1', 'cn1-mn1'];
    expect(new Set(names.map(flowTag)).size).toBe(names.length);
    for (const n of names) expect(flowTag(n)).toBeLessThan(0x10000);
  });
});
