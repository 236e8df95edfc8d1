import { describe, expect, it } from 'vitest';
import {
  buildIpv6, buildMhPacket, extractMobilityHeaders, fragmentHeader, ipv6Bytes, ipv6PseudoChecksum, LinkType, NH,
  paddedOptionsHeader, parseIpv6, routingHeader, writePcap,
} from '../../../orchestrator/pcap/index.js';

// A Heartbeat MH written by hand (checksum 0): the codec is not needed to test packet plumbing.
const HB = Uint8Array.from(Buffer.from('3b010d00000000020000002a01020000', 'hex'));
const A = '2001:db8::1';
const B = '2001:db8::2';

function ethernet(ipPacket: Uint8Array, vlan = false): Uint8Array {
  const hdr = vlan
    ? Uint8Array.from([...new Array(12).fill(2), 0x81, 0x00, 0x00, 0x07, 0x86, 0xdd])
    : Uint8Array.from([...new Array(12).fill(2), 0x86, 0xdd]);
  return Uint8Array.from([...hdr, ...ipPacket]);
}
const sll = (p: Uint8Array) => Uint8Array.from([0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x86, 0xdd, ...p]);
const sll2 = (p: Uint8Array) => Uint8Array.from([0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, ...p]);

describe('IPv6 builder and parser', () => {
  it('UDP checksum verifies to zero over the pseudo-header', () => {
    const pkt = buildMhPacket({ src: A, dst: B, mh: HB, transport: 'udp' });
    const udp = pkt.subarray(40);
    expect(ipv6PseudoChecksum(ipv6Bytes(A)!, ipv6Bytes(B)!, NH.udp, udp)).toBe(0);
    expect(udp[0]! * 256 + udp[1]!).toBe(5436);
  });

  it('walks hop-by-hop, routing, destination options and a first fragment to the MH', () => {
    const extensions = [paddedOptionsHeader(NH.hopByHop), routingHeader(), paddedOptionsHeader(NH.destOptions, 16), fragmentHeader(0, false, 7)];
    for (const transport of ['raw', 'udp'] as const) {
      const pkt = buildMhPacket({ src: A, dst: B, mh: HB, transport, extensions });
      const ip = parseIpv6(pkt);
      expect(ip).toMatchObject({ ok: true, value: { src: A, dst: B, extensions: [0, 43, 60, 44], nextHeader: transport === 'raw' ? 135 : 17 } });
      const x = extractMobilityHeaders(writePcap([{ timestampNs: 0n, data: pkt }], { linktype: LinkType.ipv6 }));
      expect(x.ok && x.value.map((m) => [m.transport, Buffer.from(m.mh).toString('hex')])).toEqual([[transport, Buffer.from(HB).toString('hex')]]);
    }
  });

  it('skips later fragments, other protocols and other UDP ports', () => {
    const later = buildIpv6({ src: A, dst: B, nextHeader: NH.mobility, payload: HB, extensions: [fragmentHeader(2, false, 7)] });
    const udpOther = buildMhPacket({ src: A, dst: B, mh: HB, transport: 'udp', srcPort: 1000, dstPort: 2000 });
    const icmp = buildIpv6({ src: A, dst: B, nextHeader: 58, payload: new Uint8Array(8) });
    const x = extractMobilityHeaders(writePcap([later, udpOther, icmp].map((data) => ({ timestampNs: 0n, data })), { linktype: LinkType.raw }));
    expect(x).toMatchObject({ ok: true, value: [], problems: [] });
  });

  it('finds UDP from port 5436 too, on every link type', () => {
    const pkt = buildMhPacket({ src: A, dst: B, mh: HB, transport: 'udp', srcPort: 5436, dstPort: 40000 });
    const cases: Array<[number, Uint8Array]> = [
      [LinkType.ethernet, ethernet(pkt)],
      [LinkType.ethernet, ethernet(pkt, true)],
      [LinkType.raw, pkt],
      [LinkType.ipv6, pkt],
      [LinkType.linuxSll, sll(pkt)],
      [LinkType.linuxSll2, sll2(pkt)],
    ];
    for (const [linktype, data] of cases) {
      const x = extractMobilityHeaders(writePcap([{ timestampNs: 42n, data }], { linktype, precision: 'ns' }));
      expect(x).toMatchObject({ ok: true, value: [{ index: 0, timestampNs: 42n, src: A, dst: B, transport: 'udp', truncated: false }] });
    }
  });

  it('a malformed packet is a per-packet problem with its offset; the other packets still come out', () => {
    const good = buildMhPacket({ src: A, dst: B, mh: HB, transport: 'raw' });
    const badExt = buildMhPacket({ src: A, dst: B, mh: HB, transport: 'raw', extensions: [paddedOptionsHeader(NH.destOptions)] });
    badExt[41] = 200; // destination options header now claims 1608 bytes
    const badUdp = buildMhPacket({ src: A, dst: B, mh: HB, transport: 'udp' });
    badUdp[44] = 0;
    badUdp[45] = 3; // UDP length 3 < 8
    const y = extractMobilityHeaders(writePcap([badExt, good, badUdp, good.subarray(0, 20)].map((data) => ({ timestampNs: 0n, data })), { linktype: LinkType.ipv6 }));
    expect(y).toMatchObject({
      ok: true,
      value: [{ index: 1 }],
      problems: [
        { index: 0, error: { code: 'truncated', field: 'ipv6.ext[0].length', offset: 41 } },
        { index: 2, error: { code: 'bad-length', field: 'udp.length', offset: 44 } },
        { index: 3, error: { code: 'truncated', field: 'ipv6.header', offset: 0 } },
      ],
    });
  });

  it('a snapped capture is marked truncated', () => {
    const pkt = buildMhPacket({ src: A, dst: B, mh: HB, transport: 'udp' });
    const x = extractMobilityHeaders(writePcap([{ timestampNs: 0n, data: pkt.subarray(0, pkt.length - 4), originalLength: pkt.length }], { linktype: LinkType.ipv6 }));
    expect(x).toMatchObject({ ok: true, value: [{ truncated: true }] });
    expect(x.ok && x.value[0]?.mh.length).toBe(HB.length - 4);
  });

  it('a broken file is one error, not a throw', () => {
    expect(extractMobilityHeaders(Uint8Array.from([0xd4, 0xc3, 0xb2, 0xa1, 1]))).toMatchObject({ ok: false, error: { code: 'truncated' } });
    expect(extractMobilityHeaders(writePcap([], { linktype: 147 }))).toMatchObject({ ok: true, value: [] });
    expect(extractMobilityHeaders(writePcap([{ timestampNs: 0n, data: HB }], { linktype: 147 }))).toMatchObject({
      ok: true,
      problems: [{ index: 0, error: { code: 'unsupported', field: 'linktype' } }],
    });
  });

  it('any bytes as an IPv6 packet never throw', () => {
    const pkt = buildMhPacket({ src: A, dst: B, mh: HB, transport: 'udp', extensions: [paddedOptionsHeader(NH.hopByHop)] });
    for (let n = 0; n <= pkt.length; n++) {
      for (const flip of [0, 6, 40, 41, 48, 52]) {
        const p = pkt.slice(0, n);
        if (flip < p.length) p[flip] = p[flip]! ^ 0xff;
        expect(() => extractMobilityHeaders(writePcap([{ timestampNs: 0n, data: p }], { linktype: LinkType.ipv6 }))).not.toThrow();
      }
    }
  });
});
