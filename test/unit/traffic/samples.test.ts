import { describe, expect, it } from 'vitest';
import { Column, RECEIVER_COLUMNS, SENDER_COLUMNS, asSamples, decodeSamples, encodeSamples, type SamplesHeader } from '../../../nodes/traffic/samples.js';

const header = (role: 'sender' | 'receiver', count: number): SamplesHeader => ({
  flow: 'down',
  role,
  node: 'cn1',
  count,
  columns: (role === 'sender' ? SENDER_COLUMNS : RECEIVER_COLUMNS).map((c) => ({ ...c })),
  port: 9000,
  startNs: '1000',
  stopNs: '2000',
});

describe('sample columns and files', () => {
  it('a column grows past its initial size and keeps every row', () => {
    const c = new Column('u64', 2);
    for (let i = 0; i < 1000; i++) c.array[c.grow()] = BigInt(i) * 1_000_000_007n;
    expect(c.length).toBe(1000);
    expect(c.view()[999]).toBe(999n * 1_000_000_007n);
    expect(c.view().length).toBe(1000);
  });

  it('round-trips sender and receiver files with odd row counts (column padding)', () => {
    const n = 7;
    const seq = Uint32Array.from({ length: n }, (_, i) => i);
    const tx = BigUint64Array.from({ length: n }, (_, i) => 10n ** 12n + BigInt(i) * 1_000_000n);
    const status = Uint8Array.from({ length: n }, (_, i) => (i === 3 ? 1 : 0));
    const s = asSamples(decodeSamples(encodeSamples(header('sender', n), [seq, tx, status])));
    expect(s.ok && s.sender).toBeTruthy();
    if (!s.ok || !s.sender) return;
    expect([...s.sender.seq]).toEqual([...seq]);
    expect([...s.sender.txNs]).toEqual([...tx]);
    expect([...s.sender.status]).toEqual([...status]);
    const rx = tx.map((t) => t + 150_000n);
    const r = asSamples(decodeSamples(encodeSamples(header('receiver', n), [seq, tx, rx])));
    if (!r.ok || !r.receiver) throw new Error('receiver samples expected');
    expect([...r.receiver.rxNs]).toEqual([...rx]);
    expect(r.receiver.header.flow).toBe('down');
  });

  it('60,000 rows x 3 columns encode and decode in well under a second', () => {
    const n = 60_000;
    const seq = Uint32Array.from({ length: n }, (_, i) => i);
    const tx = BigUint64Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_000n);
    const t0 = performance.now();
    const buf = encodeSamples(header('receiver', n), [seq, tx, tx]);
    const d = decodeSamples(buf);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(d.ok && d.header.count).toBe(n);
    expect(buf.length).toBeLessThan(n * 20 + 1024);
  });

  it('refuses bad files with a reason instead of throwing', () => {
    expect(decodeSamples(Buffer.from('nope'))).toMatchObject({ ok: false, error: 'not a pmiplab samples file' });
    const good = encodeSamples(header('sender', 3), [new Uint32Array(3), new BigUint64Array(3), new Uint8Array(3)]);
    expect(decodeSamples(good.subarray(0, good.length - 30))).toMatchObject({ ok: false, error: expect.stringMatching(/truncated/) });
    const badJson = Buffer.from(good);
    badJson.write('{', 12);
    badJson.write('x', 13);
    expect(decodeSamples(badJson).ok).toBe(false);
    expect(() => encodeSamples(header('sender', 4), [new Uint32Array(3), new BigUint64Array(3), new Uint8Array(3)])).toThrow(/3 rows/);
  });
});
