import { LinkType } from './capture.js';
import { fail, ok, type Parsed } from './result.js';

// Strips the link-layer header of a frame and says what network protocol
// follows. Only IPv6 matters to pmiplab; anything else is reported as 'other'
// so the caller can skip it without treating it as an error.

export type NetworkPayload = { proto: 'ipv6' | 'other'; offset: number };

const ETHERTYPE_IPV6 = 0x86dd;
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);

function byEthertype(ethertype: number, offset: number): NetworkPayload {
  return { proto: ethertype === ETHERTYPE_IPV6 ? 'ipv6' : 'other', offset };
}

export function networkPayload(linktype: number, frame: Uint8Array): Parsed<NetworkPayload> {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  switch (linktype) {
    case LinkType.ethernet: {
      let p = 12;
      // Skip stacked VLAN tags (802.1Q / 802.1ad); each adds 4 bytes. Bounded by the frame length.
      while (true) {
        if (frame.length < p + 2) return fail('truncated', 'ethernet.ethertype', p);
        const et = dv.getUint16(p, false);
        if (!VLAN_TAGS.has(et)) return ok(byEthertype(et, p + 2));
        p += 4;
      }
    }
    case LinkType.raw:
      if (frame.length < 1) return fail('truncated', 'raw.version', 0);
      return ok({ proto: frame[0]! >> 4 === 6 ? 'ipv6' : 'other', offset: 0 });
    case LinkType.ipv6:
      return ok({ proto: 'ipv6', offset: 0 });
    case LinkType.ipv4:
      return ok({ proto: 'other', offset: 0 });
    case LinkType.linuxSll:
      if (frame.length < 16) return fail('truncated', 'sll.header', 0);
      return ok(byEthertype(dv.getUint16(14, false), 16));
    case LinkType.linuxSll2:
      if (frame.length < 20) return fail('truncated', 'sll2.header', 0);
      return ok(byEthertype(dv.getUint16(0, false), 20));
    default:
      return fail('unsupported', 'linktype', 0, `linktype ${linktype}`);
  }
}
