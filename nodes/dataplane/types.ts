import type { Logger } from 'pino';

// The kernel data plane of a PMIPv6 node, seen by the LMA and MAG roles: one
// call per binding change, resolved once the kernel has applied it (so the
// caller can stamp an event right after). Which kernel mechanism carries the
// IPv6-in-IPv6 packets (ip6tnl devices or seg6 reduced encapsulation) is a
// detail of the backend; the wire is the same RFC 2473 packet either way.

export type BackendName = 'ip6tnl' | 'seg6';
export type BackendChoice = 'auto' | BackendName;
export type DataPlaneRole = 'lma' | 'mag';

export interface DataPlaneOptions {
  role: DataPlaneRole;
  /**
   * Where tunnels end on this node: the pCoA (MAG) or the LMA address. An LMA
   * with one backhaul address per MAG link gives all of them.
   */
  local: string | readonly string[];
  /** Backhaul interface (the LMA's first one when it has several). */
  backhaulIf: string;
  log: Logger;
  backend?: BackendChoice; // default 'auto': ip6tnl where the kernel has it, else seg6
  /** Namespace to program; default: the one this process runs in (node processes). */
  netns?: string | null;
}

/** When ip applied a change (CLOCK_MONOTONIC, process.hrtime.bigint()). */
export interface Applied {
  tStartNs: bigint;
  tEndNs: bigint;
}

export interface DataPlaneCounters {
  changes: number; // ip lines applied
  failures: number; // ip lines that failed (each also rejected its call)
  tolerated: number; // 'exists' on add / 'missing' on delete: already in the wanted state
}

/** What every role's data plane has. */
export interface DataPlaneBase {
  readonly backend: BackendName;
  readonly role: DataPlaneRole;
  readonly counters: Readonly<DataPlaneCounters>;
  /** Stop the ip shell; kernel state stays (a restarted role re-initialises over it). */
  close(): Promise<void>;
}

/** The LMA's view: routes of home network prefixes toward MAGs. */
export interface LmaDataPlane extends DataPlaneBase {
  /** LMA: send the prefix to the MAG at pCoA (replaces any earlier binding in one step). dev: backhaul toward it, else looked up. */
  lmaBind(hnp: string, pCoA: string, dev?: string): Promise<Applied>;
  /** LMA: the prefix to several MAGs at once, load-shared per flow (seed 001 section 3; seg6 backend) */
  lmaBindMulti(hnp: string, hops: ReadonlyArray<{ pCoA: string; dev?: string }>): Promise<Applied>;
  /** LMA: forget the prefix (no route left; a missing one is fine). */
  lmaUnbind(hnp: string): Promise<Applied>;
  /** LMA: prefixes routed to this MAG now (a per-peer tunnel lives while this is > 0) */
  prefixCount(peer: string): number;
}

/** The MAG's view: uplink and downlink of the prefixes of its attached MNs. */
export interface MagDataPlane extends DataPlaneBase {
  /**
   * MAG: uplink of the prefix from accessIf into the tunnel to lmaAddress;
   * downlink to accessIf, via the MN's link-local `via` when given (RFC 5213's
   * point-to-point access link: every address of the prefix goes to the MN,
   * whichever of its interfaces owns it), else on-link. Another link of this
   * MAG holding the same prefix with a gateway too: one multipath route.
   */
  magAttach(hnp: string, accessIf: string, lmaAddress: string, via?: string): Promise<Applied>;
  /** MAG: remove uplink rule and downlink route of the prefix on accessIf (missing ones are fine; other links keep theirs). */
  magDetach(hnp: string, accessIf: string): Promise<Applied>;
}

/**
 * One kernel data plane object serves either role (its calls check `role`);
 * a role holds it as its own view (LmaDataPlane, MagDataPlane) so it sees
 * only its calls.
 */
export interface DataPlane extends LmaDataPlane, MagDataPlane {}
