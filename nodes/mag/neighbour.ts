import { parseIpv6Into } from '../protocol/index.js';

// The MN's neighbour entry on the new MAG, before the first downlink packet
// needs it. A MAG knows the MN's link-layer address from the attachment (it
// is its MN-LL-ID); a Linux MN forms its SLAAC address from it (EUI-64, RFC
// 4291 2.5.1). Written as STALE, the entry sends at once and is confirmed by
// the kernel's own NUD afterwards; a wrong guess (privacy or stable-privacy
// addresses) costs nothing, the kernel resolves those by NS as usual. Without
// it the first packets wait for an NS/NA exchange, and a second when that NS
// is lost on a link still settling.

const MAC_RE = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i;

/** The modified EUI-64 interface identifier of a MAC, as four 16-bit hex groups; null if not a MAC. */
export function eui64(mac: string): string | null {
  const m = MAC_RE.exec(mac);
  if (!m) return null;
  const o = m.slice(1, 7).map((h) => Number.parseInt(h, 16)) as [number, number, number, number, number, number];
  const b = [o[0] ^ 0x02, o[1], o[2], 0xff, 0xfe, o[3], o[4], o[5]];
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push((((b[i] as number) << 8) | (b[i + 1] as number)).toString(16));
  return groups.join(':');
}

/** The SLAAC address of a MAC in a /64 (CIDR), or null. */
export function slaacAddress(hnp: string, mac: string): string | null {
  const iid = eui64(mac);
  const m = /^([0-9a-f:]+)::\/64$/i.exec(hnp);
  if (!iid || !m) return null;
  const head = (m[1] as string).split(':');
  if (head.length > 4) return null;
  while (head.length < 4) head.push('0');
  return `${head.join(':')}:${iid}`.toLowerCase();
}

/** The MAC a modified EUI-64 link-local (fe80::/64, ...ff:fe...) was formed from, or null. */
export function macFromLinkLocal(address: string): string | null {
  const b = new Uint8Array(16);
  if (!parseIpv6Into(address.split('%')[0] ?? '', b, 0)) return null;
  if (b[0] !== 0xfe || b[1] !== 0x80 || b.subarray(2, 8).some((x) => x !== 0) || b[11] !== 0xff || b[12] !== 0xfe) return null;
  return [(b[8] as number) ^ 0x02, b[9], b[10], b[13], b[14], b[15]].map((o) => (o as number).toString(16).padStart(2, '0')).join(':');
}

/** Link-local sources of echo replies in ping's output ("64 bytes from fe80::...%acc0: ..."). */
export function echoRepliers(pingOutput: string): string[] {
  const out = new Set<string>();
  for (const m of pingOutput.matchAll(/bytes from (fe80:[0-9a-f:]+)(?:%[^:\s]+)?:/gi)) out.add((m[1] as string).toLowerCase());
  return [...out];
}
