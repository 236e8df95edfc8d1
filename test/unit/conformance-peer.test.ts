import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The conformance peer itself (test/conformance/pmip_peer.py, scapy): a PBU it
// builds against octets assembled by hand from the RFC layouts, and its
// decoder on a PBA written the same way. If the second implementation were
// wrong, the conformance suite would judge pmiplab by a wrong yardstick.

const PYTHON = '/usr/bin/python3';
const dir = path.resolve(import.meta.dirname, '..', 'conformance');
const scapy = spawnSync(PYTHON, ['-c', 'import scapy.layers.inet6'], { encoding: 'utf8' }).status === 0;
if (!scapy) console.warn(`test/unit/conformance-peer.test.ts skipped: ${PYTHON} cannot import scapy (python3-scapy)`);

function py(code: string): string {
  const r = spawnSync(PYTHON, ['-c', `import sys, json; sys.path.insert(0, ${JSON.stringify(dir)}); import pmip_peer as pp\n${code}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

/** RFC 6275 6.1.1: ones' complement sum over the pseudo-header (next header 135) and the MH with a zero checksum. */
function checksum(mh: Buffer, src: string, dst: string): number {
  const addr = (a: string) => {
    const [head = '', tail = ''] = a.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return Buffer.from(groups.map((g) => g.padStart(4, '0')).join(''), 'hex');
  };
  const len = Buffer.alloc(4);
  len.writeUInt32BE(mh.length);
  const data = Buffer.concat([addr(src), addr(dst), len, Buffer.from([0, 0, 0, 135]), mh]);
  data[40 + 4] = 0;
  data[40 + 5] = 0;
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum += (data[i]! << 8) | (data[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const SRC = '2001:db8:b:1::1';
const DST = '2001:db8:b:1::2';

// A PBU, every option of RFC 5213 section 8, each at its alignment (counted from the MH start):
const PBU = [
  '3b0c0500', 'cccc', // Payload Proto 59, Header Len 12 (104 octets), type 5, reserved, checksum
  '1234', '8200', '0019', // sequence, A (0x8000) | P (0x0200), lifetime 25 x 4 s
  '080c01', Buffer.from('a@b.example').toString('hex'), // MN-ID (RFC 4283): len 12, subtype 1 NAI; ends at 26
  '0100', // PadN 0: HNP wants 8n+4 -> 28
  '16120000', '00'.repeat(16), // HNP: reserved, prefix length 0, :: (RFC 5213 8.3)
  '17020001', // HI 1 (8.4)
  '18020004', // ATT 4, 802.11 (8.5)
  '19080000', '0270aa000001', // MN-LL-ID: reserved u16, identifier (8.6); ends at 66
  '01020000', // PadN 2: Link-local Address wants 8n+6 -> 70
  '1a10', 'fe80' + '00'.repeat(13) + '01', // Link-local Address (8.7); ends at 88
  '0100', // PadN 0: Timestamp wants 8n+2 -> 90
  '1b08', '00006553f100', '0005', // Timestamp: 48-bit seconds, 16-bit fraction (8.8); ends at 100
  '01020000', // PadN 2: the MH ends on 8 octets
].join('');

describe.skipIf(!scapy)('conformance peer (scapy)', () => {
  it('builds a PBU octet for octet as the RFC layouts say, with the RFC 6275 checksum', () => {
    const spec = {
      seq: 0x1234, lifetime: 100,
      options: [
        { type: 'mnId', nai: 'a@b.example' }, { type: 'hnp', prefix: '::/0' }, { type: 'hi', value: 1 }, { type: 'att', value: 4 },
        { type: 'mnLlId', hex: '0270aa000001' }, { type: 'lla', address: 'fe80::1' }, { type: 'timestamp', seconds: 1700000000, fraction: 5 },
      ],
    };
    const hex = py(`print(pp.build_pbu(json.loads(${JSON.stringify(JSON.stringify(spec))}), ${JSON.stringify(SRC)}, ${JSON.stringify(DST)}).hex())`);
    const expected = Buffer.from(PBU, 'hex');
    expected.writeUInt16BE(checksum(expected, SRC, DST), 4);
    expect(hex).toBe(expected.toString('hex'));
  });

  it('decodes a hand-made PBA: status, K/R/P flags, sequence, lifetime, options, checksum', () => {
    const pba = Buffer.from(
      [
        '3b040600', '0000', // type 6
        '87', '20', '7ff2', '0019', // status 135, P (0x20), sequence, lifetime 25
        '16120040', '20010db8000a00010000000000000000', // HNP 2001:db8:a:1::/64 at 12 (8n+4: no pad)
        '17020003', '01020000', // HI 3, PadN 2
      ].join(''),
      'hex',
    );
    pba.writeUInt16BE(checksum(pba, DST, SRC), 4);
    const d = JSON.parse(py(`print(json.dumps(pp.decode_mh(bytes.fromhex(${JSON.stringify(pba.toString('hex'))}), ${JSON.stringify(DST)}, ${JSON.stringify(SRC)})))`)) as Record<string, unknown>;
    expect(d).toMatchObject({
      kind: 'pba', payloadProto: 59, headerLen: 4, status: 135, seq: 0x7ff2, lifetime: 100, checksumOk: true,
      flags: { P: true, R: false, K: false },
      options: [{ type: 'hnp', prefix: '2001:db8:a:1::/64', reserved: 0 }, { type: 'hi', value: 3 }, { type: 'padN', len: 2 }],
    });
    expect(d.error).toBeUndefined();
    // one flipped octet: the checksum no longer holds
    pba[7] = 0x20 | 0x80; // the flags octet: K set too
    const bad = JSON.parse(py(`print(json.dumps(pp.decode_mh(bytes.fromhex(${JSON.stringify(pba.toString('hex'))}), ${JSON.stringify(DST)}, ${JSON.stringify(SRC)})))`)) as Record<string, unknown>;
    expect(bad.checksumOk).toBe(false);
    expect(bad.flags).toEqual({ P: true, R: false, K: true });
  });

  it('sequence numbers compare modulo 2^16 (RFC 6275 9.5.1)', () => {
    expect(py('print([pp.seq_newer(3, 0xfffe), pp.seq_newer(0xfffe, 3), pp.seq_newer(5, 5), pp.seq_newer(0x8000, 0)])')).toBe('[True, False, False, False]');
  });
});
