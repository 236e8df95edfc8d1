import type { Line } from './shell.js';

// Backend for kernels with ip6tnl (most distribution kernels): real ip6ip6
// devices, one per peer (per MAG at the LMA, per LMA at the MAG), named from
// a hash of the peer so a restarted role finds its devices again. The kernel
// decapsulates by itself, so no rules beyond the MAG's uplink are needed.
// Not exercised on the development kernel (it has no ip6tnl): kept minimal.

/** Stable 15-octet-safe device name for the tunnel to peer ('pt' + 8 hex digits of FNV-1a). */
export function tunnelName(peer: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < peer.length; i++) {
    h ^= peer.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `pt${h.toString(16).padStart(8, '0')}`;
}

export function ip6tnlDeviceLines(name: string, local: string, remote: string, backhaulIf: string): Line[] {
  return [
    // encaplimit none: a plain RFC 2473 header, as the seg6 backend writes
    { cmd: `link add name ${name} type ip6tnl mode ip6ip6 local ${local} remote ${remote} encaplimit none dev ${backhaulIf}`, ok: 'exists' },
    { cmd: `link set ${name} up` },
  ];
}

/** The tunnel of a peer no binding uses any more (PeerRefs said so). */
export function ip6tnlReleaseLines(name: string): Line[] {
  return [{ cmd: `link del ${name}`, ok: 'missing' }];
}

export function ip6tnlBindLines(hnp: string, tunnel: string): Line[] {
  return [{ cmd: `route replace ${hnp} dev ${tunnel}` }];
}

export function ip6tnlMagTunnelLines(tunnel: string, table: number): Line[] {
  return [{ cmd: `route replace default dev ${tunnel} table ${table}` }];
}
