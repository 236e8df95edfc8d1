import { ROUTE_TABLE, RULE_PREF } from './kernel-numbers.js';
import type { Line } from './shell.js';

// The seg6 recipe of kernel.md for kernels without ip6tnl: a seg6 route in
// reduced-encapsulation mode with one segment writes a plain RFC 2473 outer
// header (next header 41, no routing header); a seg6local End.DT6 route on
// the tunnel end strips it and looks the inner packet up in main.
// Rule order is the pitfall: decapsulation (pref 10) must come before the
// local table, which moves from pref 0 to pref 50; the MAG's uplink rules
// (pref 100) come after local so the MN can still reach the MAG itself.

export const PREF_DECAP = RULE_PREF.decap;
export const PREF_LOCAL = RULE_PREF.local;
export const PREF_UPLINK = RULE_PREF.uplink;
export const TABLE_DECAP = ROUTE_TABLE.decap;
export const TABLE_UPLINK_BASE = ROUTE_TABLE.uplinkBase; // MAG: one uplink table per LMA, 100, 101, ...

/** Lines that (re)establish decapsulation at the tunnel ends; safe to run over existing state. */
export function seg6InitLines(role: 'lma' | 'mag', locals: readonly string[], backhaulIf: string): Line[] {
  const lines: Line[] = [
    // MAG: its pCoA is the outer source. LMA: unset (::), so the kernel picks the
    // address of the backhaul link toward each MAG, as an ip6tnl tunnel per MAG would.
    { cmd: `sr tunsrc set ${role === 'mag' && locals.length === 1 ? locals[0] : '::'}` },
  ];
  for (const a of locals) {
    lines.push(
      { cmd: `rule add pref ${PREF_DECAP} to ${a}/128 ipproto 41 lookup ${TABLE_DECAP}`, ok: 'exists' },
      { cmd: `route replace ${a}/128 encap seg6local action End.DT6 table main dev ${backhaulIf} table ${TABLE_DECAP}` },
    );
  }
  // add the local rule behind the decapsulation rule first, then drop pref 0 (never without local)
  lines.push({ cmd: `rule add pref ${PREF_LOCAL} lookup local`, ok: 'exists' }, { cmd: 'rule del pref 0 lookup local', ok: 'missing' });
  return lines;
}

export function seg6BindLines(hnp: string, pCoA: string, dev: string): Line[] {
  return [{ cmd: `route replace ${hnp} encap seg6 mode encap.red segs ${pCoA} dev ${dev}` }];
}

/**
 * Seed 001 section 3: one prefix to several MAGs at once, a multipath route
 * with seg6 reduced encapsulation per next hop. The kernel wants a gateway on
 * each next hop of an IPv6 multipath route (kernel.md): the MAG's pCoA, on
 * the backhaul link. Flows are spread by the L4 hash (seg6MultipathSysctl).
 */
export function seg6MultipathLines(hnp: string, hops: ReadonlyArray<{ pCoA: string; dev: string }>): Line[] {
  const nh = hops.map((h) => `nexthop via ${h.pCoA} encap seg6 mode encap.red segs ${h.pCoA} dev ${h.dev}`).join(' ');
  return [{ cmd: `route replace ${hnp} ${nh}` }];
}

/** Per-flow (L4 five-tuple) hashing of multipath routes: net.ipv6.fib_multipath_hash_policy. */
export const MULTIPATH_HASH_SYSCTL = { path: '/proc/sys/net/ipv6/fib_multipath_hash_policy', name: 'net.ipv6.fib_multipath_hash_policy', value: '1' };

export function seg6UnbindLines(hnp: string): Line[] {
  return [{ cmd: `route del ${hnp}`, ok: 'missing' }];
}

/** The MAG's tunnel toward one LMA: a default route in that LMA's uplink table. */
export function seg6MagTunnelLines(lmaAddress: string, table: number, backhaulIf: string): Line[] {
  return [{ cmd: `route replace default encap seg6 mode encap.red segs ${lmaAddress} dev ${backhaulIf} table ${table}` }];
}

/** One way down to the MN on an access link: through its link-local (RFC 5213's point-to-point link), or on-link when none is known. */
export interface Downlink {
  dev: string;
  via?: string;
}

/**
 * The downlink route of a prefix. Via the MN's link-local, every address of
 * the prefix reaches the MN's MAC on that link whichever of its interfaces
 * owns it (the MN answers NS only for the addresses of the interface asked,
 * so an on-link route could not deliver a shared or dormant prefix's other
 * addresses). Several links (interfaces of one MN on this MAG sharing the
 * prefix): one multipath route, when every hop has a gateway (the kernel
 * joins IPv6 nexthops only then); otherwise the last link alone.
 */
export function magDownlinkLines(hnp: string, hops: readonly Downlink[]): Line[] {
  const hop = (h: Downlink) => (h.via ? `via ${h.via} dev ${h.dev}` : `dev ${h.dev}`);
  const last = hops[hops.length - 1];
  if (!last) return [];
  if (hops.length > 1 && hops.every((h) => h.via)) return [{ cmd: `route replace ${hnp} ${hops.map((h) => `nexthop ${hop(h)}`).join(' ')}` }];
  return [{ cmd: `route replace ${hnp} ${hop(last)}` }];
}

export function magAttachLines(hnp: string, accessIf: string, table: number, hops: readonly Downlink[] = [{ dev: accessIf }]): Line[] {
  return [{ cmd: `rule add pref ${PREF_UPLINK} from ${hnp} iif ${accessIf} lookup ${table}`, ok: 'exists' }, ...magDownlinkLines(hnp, hops)];
}

/** The prefix leaves accessIf; `rest`: the other links still holding it on this MAG (their route is written again). */
export function magDetachLines(hnp: string, accessIf: string, rest: readonly Downlink[] = []): Line[] {
  return [
    // without `lookup`: matches the rule whatever LMA table it pointed to (also after a restart)
    { cmd: `rule del pref ${PREF_UPLINK} from ${hnp} iif ${accessIf}`, ok: 'missing' },
    ...(rest.length ? magDownlinkLines(hnp, rest) : [{ cmd: `route del ${hnp} dev ${accessIf}`, ok: 'missing' as const }]),
  ];
}
