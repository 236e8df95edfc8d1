// Every rule preference and routing table number pmiplab's roles use in a
// node's namespace, in one table, so that flows (seed 002) and MAG-MAG
// tunnels (seed 004) add theirs here and none collides. Lower preference
// runs first.

export const RULE_PREF = {
  /** seg6 backend: decapsulation of tunnelled packets to our own addresses, before local */
  decap: 10,
  /** the local table, moved from 0 so decapsulation comes first */
  local: 50,
  /** MAG: uplink of a bound prefix from its access interface, to the LMA's table */
  uplink: 100,
  /** MAG: blackhole for unregistered uplink from the HNP pool (nodes/mag/access-kernel.ts) */
  uplinkGuard: 150,
  /** MN (its own namespace): source routing, interface k at 1000 + k (nodes/mn/source-routing.ts) */
  mnSourceBase: 1000,
} as const;

export const ROUTE_TABLE = {
  /** MAG: one uplink table per LMA, from this number up */
  uplinkBase: 100,
  /** seg6 backend: End.DT6 decapsulation routes */
  decap: 200,
  /** MN (its own namespace): interface k's table 101 + k (nodes/mn/source-routing.ts) */
  mnSourceBase: 101,
} as const;
