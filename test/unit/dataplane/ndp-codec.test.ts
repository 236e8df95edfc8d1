import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRa, decodeRs, encodeRa, encodeRs, type RouterAdvertisement } from '../../../nodes/runtime/ndp-codec.js';
import { buildRa } from '../../../nodes/runtime/ndp.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

describe('RA/RS codec (RFC 4861)', () => {
  it('encodes the MAG RA octet for octet (layout as tcpdump decoded it from the kernel)', () => {
    const ra = buildRa({ mac: '02:00:00:00:00:01' }, [{ hnp: '2001:db8:a:1::/64', validLifetime: 3600, preferredLifetime: 1800 }]);
    expect(hex(encodeRa(ra))).toBe(
      '86000000' + '40' + '00' + '0708' + '00000000' + '00000000' + // type, code, checksum 0, hop limit 64, M=O=0, lifetime 1800
        '0101020000000001' + // SLLAO
        '0304' + '40' + 'c0' + '00000e10' + '00000708' + '00000000' + '20010db8000a00010000000000000000', // PIO L=A=1
    );
  });

  it('MTU option and deprecating lifetimes', () => {
    const ra: RouterAdvertisement = { ...buildRa({ mac: '02:00:00:00:00:01', mtu: 1460, routerLifetime: 0 }, [{ hnp: '2001:db8:a:2::/64', validLifetime: 0, preferredLifetime: 0 }]) };
    const b = encodeRa(ra);
    expect(hex(b.subarray(24, 32))).toBe('05010000000005b4');
    const d = decodeRa(b);
    expect(d.ok && d.value).toEqual(ra);
    expect(d.ok && d.value.routerLifetime).toBe(0);
  });

  it('round trip of arbitrary RAs', () => {
    const prefix = fc
      .tuple(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 64 }))
      .map(([b, len]) => {
        const full = new Uint8Array(16);
        full.set(b);
        const groups = Array.from({ length: 8 }, (_, i) => ((full[2 * i]! << 8) | full[2 * i + 1]!).toString(16));
        return `${groups.join(':')}/${len}`;
      });
    fc.assert(
      fc.property(
        fc.record({
          curHopLimit: fc.integer({ min: 0, max: 255 }),
          managed: fc.boolean(),
          other: fc.boolean(),
          routerLifetime: fc.integer({ min: 0, max: 65535 }),
          reachableTime: fc.nat(),
          retransTimer: fc.nat(),
          prefixes: fc.array(
            fc.record({ prefix, onLink: fc.boolean(), autonomous: fc.boolean(), validLifetime: fc.nat(), preferredLifetime: fc.nat() }),
            { maxLength: 3 },
          ),
        }),
        (ra) => {
          const d = decodeRa(encodeRa(ra));
          expect(d.ok).toBe(true);
          if (!d.ok) return;
          expect(encodeRa(d.value)).toEqual(encodeRa(ra)); // canonical text may differ, the octets may not
          expect(d.value.prefixes.map((p) => p.validLifetime)).toEqual(ra.prefixes.map((p) => p.validLifetime));
        },
      ),
    );
  });

  it('decodes the RS a Linux MN sent (captured), with its SLLAO', () => {
    const d = decodeRs(bytes('85 00 1234 00000000 0101 02706c0003ee'));
    expect(d).toEqual({ ok: true, value: { sourceLinkLayer: '02:70:6c:00:03:ee' }, bytes: 16 });
    expect(decodeRs(encodeRs({}))).toEqual({ ok: true, value: {}, bytes: 8 });
    // unknown options are skipped
    expect(decodeRs(bytes('85000000 00000000 2001 000000000000 0101 aabbccddeeff'))).toMatchObject({ ok: true, value: { sourceLinkLayer: 'aa:bb:cc:dd:ee:ff' } });
  });

  it('refuses malformed RSs with the field and offset', () => {
    expect(decodeRs(bytes('850000'))).toMatchObject({ ok: false, error: { code: 'truncated' } });
    expect(decodeRs(bytes('86000000 00000000'))).toMatchObject({ ok: false, error: { code: 'unknown-type', offset: 0 } });
    expect(decodeRs(bytes('85010000 00000000'))).toMatchObject({ ok: false, error: { code: 'bad-value', field: 'RouterSolicitation.code' } });
    expect(decodeRs(bytes('85000000 00000000 0100 000000000000'))).toMatchObject({ ok: false, error: { code: 'bad-length', offset: 9 } });
    expect(decodeRs(bytes('85000000 00000000 0102 000000000000'))).toMatchObject({ ok: false, error: { code: 'truncated', offset: 8 } });
    expect(decodeRs(bytes('85000000 00000000 01'))).toMatchObject({ ok: false, error: { code: 'truncated' } });
  });

  it('never throws on arbitrary or mutated input', () => {
    const rs = encodeRs({ sourceLinkLayer: '02:00:00:00:00:02' });
    const ra = encodeRa(buildRa({ mac: '02:00:00:00:00:01', mtu: 1500 }, [{ hnp: '2001:db8:a:1::/64', validLifetime: 1, preferredLifetime: 1 }]));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (random, at, v) => {
        for (const base of [rs, ra]) {
          const m = Uint8Array.from(base);
          m[at % m.length] = v;
          for (const b of [random, m, m.subarray(0, at % (m.length + 1))]) {
            expect(() => decodeRs(b)).not.toThrow();
            expect(() => decodeRa(b)).not.toThrow();
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('encode refuses what cannot be sent (programmer errors)', () => {
    const base = buildRa({ mac: '02:00:00:00:00:01' }, []);
    expect(() => encodeRa({ ...base, routerLifetime: 70000 })).toThrow(/routerLifetime/);
    expect(() => encodeRa({ ...base, sourceLinkLayer: '02:00' })).toThrow(/MAC/);
    expect(() => encodeRa({ ...base, prefixes: [{ prefix: '2001:db8::', onLink: true, autonomous: true, validLifetime: 1, preferredLifetime: 1 }] })).toThrow(/CIDR/);
  });
});
