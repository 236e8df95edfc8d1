import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinkType, readCapture, writePcap, type PcapRecord } from '../../../orchestrator/pcap/index.js';
import { concat, epb, idb, nrb, shb, spb } from './pcapng-builder.js';

const rec = (ns: bigint, bytes: number[]): PcapRecord => ({ timestampNs: ns, data: Uint8Array.from(bytes) });

describe('classic pcap', () => {
  for (const precision of ['us', 'ns'] as const) {
    for (const endian of ['le', 'be'] as const) {
      it(`round-trips frames (${precision}, ${endian})`, () => {
        const recs = [rec(1_700_000_000_123_456_789n, [0x60, 1, 2, 3]), rec(5n * 1_000_000_000n, []), rec(0n, [9, 9, 9])];
        const file = writePcap(recs, { linktype: LinkType.ipv6, precision, endian });
        const r = readCapture(file);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.value.format).toBe('pcap');
        expect(r.value.frames.map((f) => Array.from(f.data))).toEqual(recs.map((x) => Array.from(x.data)));
        const unit = precision === 'ns' ? 1n : 1000n;
        expect(r.value.frames.map((f) => f.timestampNs)).toEqual(recs.map((x) => (x.timestampNs / unit) * unit));
        expect(r.value.frames.every((f) => f.linktype === LinkType.ipv6)).toBe(true);
      });
    }
  }

  it('round-trips arbitrary frames (property)', () => {
    const arbRec = fc.record({
      timestampNs: fc.bigInt({ min: 0n, max: 0xffffffffn * 1_000_000_000n }),
      data: fc.uint8Array({ maxLength: 200 }),
    });
    fc.assert(
      fc.property(fc.array(arbRec, { maxLength: 8 }), fc.constantFrom('le' as const, 'be' as const), (recs, endian) => {
        const r = readCapture(writePcap(recs, { linktype: LinkType.raw, precision: 'ns', endian }));
        expect(r.ok && r.value.frames.map((f) => [f.timestampNs, Array.from(f.data)])).toEqual(
          recs.map((x) => [x.timestampNs, Array.from(x.data)]),
        );
      }),
    );
  });

  it('keeps the original length of a snapped record', () => {
    const r = readCapture(writePcap([{ timestampNs: 0n, data: new Uint8Array(4), originalLength: 1500 }], { linktype: 1 }));
    expect(r.ok && r.value.frames[0]?.originalLength).toBe(1500);
  });
});

describe('malformed captures give typed errors', () => {
  const good = writePcap([rec(1n, [1, 2, 3, 4, 5, 6, 7, 8])], { linktype: LinkType.ipv6 });

  it('empty and short files', () => {
    expect(readCapture(new Uint8Array(0))).toMatchObject({ ok: false, error: { code: 'truncated', offset: 0 } });
    expect(readCapture(good.subarray(0, 10))).toMatchObject({ ok: false, error: { code: 'truncated', field: 'pcap.header' } });
  });

  it('garbage magic', () => {
    expect(readCapture(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]))).toMatchObject({ ok: false, error: { code: 'bad-magic', offset: 0 } });
  });

  it('a record cut short names the record and offset', () => {
    expect(readCapture(good.subarray(0, good.length - 3))).toMatchObject({
      ok: false,
      error: { code: 'truncated', field: 'record[0].data', offset: 40 },
    });
    expect(readCapture(good.subarray(0, 30))).toMatchObject({ ok: false, error: { code: 'truncated', field: 'record[0].header', offset: 24 } });
  });

  it('an absurd record length', () => {
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(24 + 8, 0xfffffff0, true);
    expect(readCapture(bad)).toMatchObject({ ok: false, error: { code: 'bad-length', field: 'record[0].inclLen', offset: 32 } });
  });

  it('every truncation of a good file and random bytes never throw', () => {
    for (let n = 0; n < good.length; n++) expect(() => readCapture(good.subarray(0, n))).not.toThrow();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(0xa1b2c3d4, 0xd4c3b2a1, 0x0a0d0d0a), (tail, magic) => {
        const b = new Uint8Array(4 + tail.length);
        new DataView(b.buffer).setUint32(0, magic, false);
        b.set(tail, 4);
        const r = readCapture(b);
        expect(typeof r.ok).toBe('boolean');
      }),
    );
  });
});

describe('pcapng', () => {
  const ip = Uint8Array.from([0x60, 0, 0, 0, 0, 0, 59, 64]);
  for (const le of [true, false]) {
    it(`reads SHB, IDB, EPB, SPB and skips other blocks (${le ? 'le' : 'be'})`, () => {
      const file = concat(
        shb(le),
        idb(LinkType.ipv6, le),
        idb(LinkType.ethernet, le, 9), // nanosecond interface
        nrb(le),
        epb({ ticks: 1_700_000_000_000_001n, data: ip }, le),
        epb({ iface: 1, ticks: 1_700_000_000_000_000_007n, data: Uint8Array.from([1, 2, 3]), originalLength: 60 }, le),
        spb(ip.subarray(0, 5), le),
      );
      const r = readCapture(file);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.value.format).toBe('pcapng');
      const [a, b, c] = r.value.frames;
      expect(a).toMatchObject({ index: 0, linktype: LinkType.ipv6, timestampNs: 1_700_000_000_000_001_000n });
      expect(Array.from(a!.data)).toEqual(Array.from(ip));
      expect(b).toMatchObject({ index: 1, linktype: LinkType.ethernet, timestampNs: 1_700_000_000_000_000_007n, originalLength: 60 });
      expect(c).toMatchObject({ index: 2, linktype: LinkType.ipv6, timestampNs: 0n });
      expect(c!.data.length).toBe(5);
    });
  }

  it('a second section resets the interfaces and may switch byte order', () => {
    const file = concat(shb(true), idb(LinkType.ipv6, true), shb(false), idb(LinkType.raw, false), epb({ ticks: 0n, data: ip }, false));
    const r = readCapture(file);
    expect(r.ok && r.value.frames[0]?.linktype).toBe(LinkType.raw);
  });

  it('errors: packet before its IDB, bad lengths, truncation', () => {
    const le = true;
    expect(readCapture(concat(shb(le), epb({ ticks: 0n, data: ip }, le)))).toMatchObject({
      ok: false,
      error: { code: 'bad-value', field: 'epb.interfaceId', offset: 28 + 8 },
    });
    const file = concat(shb(le), idb(LinkType.ipv6, le), epb({ ticks: 0n, data: ip }, le));
    const cut = file.subarray(0, file.length - 2);
    expect(readCapture(cut)).toMatchObject({ ok: false, error: { code: 'truncated', field: 'block.body', offset: 48 } });
    const odd = file.slice();
    new DataView(odd.buffer).setUint32(48 + 4, 13, le);
    expect(readCapture(odd)).toMatchObject({ ok: false, error: { code: 'bad-length', field: 'block.totalLength', offset: 52 } });
    const trailer = file.slice();
    new DataView(trailer.buffer).setUint32(trailer.length - 4, 8, le);
    expect(readCapture(trailer)).toMatchObject({ ok: false, error: { code: 'bad-length', field: 'block.trailingLength' } });
    const bom = file.slice();
    bom[8] = 0;
    expect(readCapture(bom)).toMatchObject({ ok: false, error: { code: 'bad-magic', field: 'shb.byteOrderMagic', offset: 8 } });
    for (let n = 0; n < file.length; n++) expect(() => readCapture(file.subarray(0, n))).not.toThrow();
  });

  it('an SHB whose totalLength leaves out its own fields is bad-length', () => {
    // totalLength 20: version and section length would be read from the next block
    for (const le of [true, false]) {
      const s = shb(le).slice(0, 20);
      new DataView(s.buffer).setUint32(4, 20, le);
      new DataView(s.buffer).setUint32(16, 20, le);
      expect(readCapture(concat(s, idb(LinkType.ipv6, le)))).toMatchObject({ ok: false, error: { code: 'bad-length', field: 'shb.totalLength', offset: 4 } });
    }
  });
});
