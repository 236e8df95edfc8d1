import { describe, expect, it } from 'vitest';
import { Pacer, defaultBurst, timerDelayMs } from '../../../nodes/traffic/pacer.js';
import { ProbeReceiver } from '../../../nodes/traffic/receiver.js';
import { ProbeSender } from '../../../nodes/traffic/sender.js';
import { asSamples, decodeSamples } from '../../../nodes/traffic/samples.js';

const MS = 1e6;

describe('pacer schedule', () => {
  it('hands out probe i at i/rate exactly, whatever the tick times', () => {
    const p = new Pacer(1000, 1000);
    let sent = 0;
    // ticks at irregular times: the count due is what the schedule says
    for (const t of [0, 0.3, 1.7, 1.9, 5.2, 5.25, 9.99, 10]) {
      sent += p.take(t * MS);
      expect(sent).toBe(Math.floor(t) + 1);
    }
    expect(p.untilNext(10 * MS)).toBeCloseTo(1 * MS, 3);
  });

  it('after a stall catches up at most maxBurst per tick, and records the lag', () => {
    const p = new Pacer(1000, 4);
    expect(p.take(0)).toBe(1);
    expect(p.take(50 * MS)).toBe(4); // 50 due
    expect(p.stats.burstLimited).toBe(1);
    expect(p.stats.maxLagNs).toBeCloseTo(49 * MS, 3);
    let t = 50;
    let total = 5;
    while (p.untilNext(t * MS) <= 0) {
      t += 1;
      const n = p.take(t * MS);
      expect(n).toBeLessThanOrEqual(4);
      total += n;
    }
    // caught up in about 50/(4-1) ticks, and nothing was skipped
    expect(t).toBeLessThan(70);
    expect(total).toBe(Math.floor(t) + 1);
  });

  it('burst bound and timer delays', () => {
    expect(defaultBurst(100)).toBe(4);
    expect(defaultBurst(1000)).toBe(5);
    expect(defaultBurst(20_000)).toBe(100);
    expect(timerDelayMs(0)).toBe(1);
    expect(timerDelayMs(-5e6)).toBe(1);
    expect(timerDelayMs(7.9e6)).toBe(7);
  });
});

describe('sender and receiver over loopback', () => {
  for (const rate of [1000, 10_000]) {
    it(`sends at ${rate} pps within 3% over 1.5 s, every probe arrives in order, and the files say so`, async () => {
      const rx = await ProbeReceiver.listen({ flow: 'lo', node: 't', port: 0 });
      const tx = new ProbeSender({ flow: 'lo', node: 't', dst: '::1', port: rx.port, rate, size: 64 });
      const t0 = process.hrtime.bigint();
      tx.start();
      await new Promise((r) => setTimeout(r, 1500));
      await tx.stop();
      const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
      await new Promise((r) => setTimeout(r, 50));
      await rx.stop();
      const expected = rate * elapsed;
      expect(Math.abs(tx.sent - expected) / expected).toBeLessThan(0.03);
      const s = asSamples(decodeSamples(tx.samples()));
      const r = asSamples(decodeSamples(rx.samples()));
      if (!s.ok || !s.sender || !r.ok || !r.receiver) throw new Error('samples expected');
      expect(s.sender.header.count).toBe(tx.sent);
      expect(r.receiver.header.count).toBe(tx.sent);
      expect(r.receiver.seq.every((q, i) => q === i)).toBe(true);
      // send times follow the schedule: most probes within 2 ms of t0 + i/rate
      // (a loaded host may stall this process now and then: the sender catches up)
      const start = s.sender.txNs[0]!;
      const late = Array.from(s.sender.txNs, (t, i) => Math.abs(Number(t - start) / 1e6 - (i * 1000) / rate)).sort((a, b) => a - b);
      expect(late[Math.floor(late.length / 2)]).toBeLessThan(2);
      expect(late[Math.floor(late.length * 0.9)]).toBeLessThan(10);
      // one-way delay on loopback is positive and small
      const delays = [...r.receiver.rxNs].map((x, i) => Number(x - r.receiver!.txNs[i]!) / 1e6);
      expect(Math.min(...delays)).toBeGreaterThan(0);
      expect(delays.sort((a, b) => a - b)[Math.floor(delays.length / 2)]).toBeLessThan(5);
    });
  }

  it('counts datagrams that are not probes of the flow as strays', async () => {
    const rx = await ProbeReceiver.listen({ flow: 'mine', node: 't', port: 0 });
    const other = new ProbeSender({ flow: 'other', node: 't', dst: '::1', port: rx.port, rate: 1000, size: 16 });
    other.start();
    await new Promise((r) => setTimeout(r, 30));
    await other.stop();
    const { createSocket } = await import('node:dgram');
    const s = createSocket('udp6');
    await new Promise<void>((res) => s.send(Buffer.from('junk'), rx.port, '::1', () => res()));
    s.close();
    await new Promise((r) => setTimeout(r, 30));
    await rx.stop();
    expect(rx.received).toBe(0);
    expect(rx.strays.flow).toBe(other.sent);
    expect(rx.strays.short).toBe(1);
    expect(rx.header().strays).toBe(other.sent + 1);
  });
});
