import { execFile } from 'node:child_process';
import type { Logger } from 'pino';
import { IpShell } from '../runtime/ip-shell.js';
import { echoRepliers, eui64, slaacAddress } from './neighbour.js';

// The MAG's kernel chores on its access links that are not the binding's
// routes (those are nodes/dataplane's magAttach/magDetach): the guard on
// unregistered uplink, the MN's neighbour entry, the downlink route set
// ahead of a PBA, and the probe that finds out who came. One ip shell of its
// own, beside the data plane's, so none of it queues behind the other.

/** after the uplink rules of bound prefixes (pref 100, nodes/dataplane), before main */
export const UPLINK_GUARD_PREF = 150;

interface Arrival {
  iface: string;
  hnp: string;
  /** the downlink route is ours (no binding holds it yet) */
  route: boolean;
}

/** The MN's link-local on its access link, from its MAC (a Linux MN's default, addr_gen_mode 0: EUI-64, RFC 4291 2.5.1). */
export function linkLocalOf(mac: string): string | null {
  const iid = eui64(mac);
  return iid ? `fe80::${iid}` : null;
}

export class AccessKernel {
  private readonly shell = new IpShell(null, ['-6']).start();
  private readonly guarded = new Set<string>();
  private readonly arrivals = new Map<string, Arrival>();

  constructor(
    private readonly hnpPool: string,
    private readonly log: Logger,
  ) {}

  /**
   * Packets from the home network prefixes arriving on an access link are
   * forwarded only through the tunnel of a binding (the uplink rule of each
   * bound prefix); this rule behind them drops the rest, so an MN without a
   * binding here (before the PBA of a handover) is not routed natively
   * around the LMA.
   */
  guard(iface: string): void {
    if (this.guarded.has(iface)) return;
    this.guarded.add(iface);
    void this.shell.run(`rule add pref ${UPLINK_GUARD_PREF} from ${this.hnpPool} iif ${iface} blackhole`).then((r) => {
      if (!r.ok && !/File exists/.test(r.error ?? '')) this.log.warn({ iface, error: r.error }, 'uplink guard rule not set');
    });
  }

  /** Whether the MN's arrival (key) is prepared for this prefix on this interface. */
  preparedFor(key: string, iface: string, hnp: string): boolean {
    const a = this.arrivals.get(key);
    return a !== undefined && a.iface === iface && a.hnp === hnp;
  }

  /**
   * The access link made ready for the MN's downlink:
   * - the neighbour cache: whatever is left goes (an INCOMPLETE entry from
   *   downlink packets that came while the MN was away would hold the first
   *   packets until its next NS retransmission, up to a second), then the
   *   MN's link-local `via` (the downlink route's gateway) and its SLAAC
   *   address are written from its MAC (neighbour.ts), so the first downlink
   *   packets need no NS;
   * - with `route`, at attachment, while the PBU is out: the downlink route of
   *   the prefix the MN had. Only the LMA's tunnel brings packets for it here,
   *   and it does so only once it has accepted our PBU, so downlink flows
   *   from that moment rather than after the PBA's trip back and our ip
   *   lines. Nothing goes up the tunnel before the PBA: the uplink rule waits
   *   for the binding (guard). A refused or lost registration takes the route
   *   out again (drop).
   */
  prepare(key: string, iface: string, hnp: string, mac: string | undefined, route: boolean, via?: string): void {
    this.drop(key);
    this.arrivals.set(key, { iface, hnp, route });
    const addr = mac && slaacAddress(hnp, mac);
    void this.shell.runAll([
      `neigh flush dev ${iface}`,
      ...(mac && via ? [`neigh replace ${via} lladdr ${mac} dev ${iface} nud stale`] : []),
      ...(addr ? [`neigh replace ${addr} lladdr ${mac} dev ${iface} nud stale`] : []),
      ...(route ? [`route replace ${hnp} ${via ? `via ${via} ` : ''}dev ${iface}`] : []),
    ]);
  }

  /** The binding took the prepared route over (magDetach removes it from now on). */
  settle(key: string): void {
    const a = this.arrivals.get(key);
    if (a) a.route = false;
  }

  /** Forget what was prepared; a downlink route no binding took over goes. */
  drop(key: string): void {
    const a = this.arrivals.get(key);
    this.arrivals.delete(key);
    if (a?.route) void this.shell.run(`route del ${a.hnp} dev ${a.iface}`);
  }

  /** After the binding's routes went: what the last packets before them resolved in vain goes too. */
  async left(key: string, iface: string): Promise<void> {
    this.arrivals.delete(key);
    await this.shell.run(`neigh flush dev ${iface}`);
  }

  /** Have the kernel probe the MN's address now (NUD, nud.ts): unicast NSs to that MAC; the entry ends REACHABLE or FAILED. */
  probeNeighbour(iface: string, address: string, mac: string): void {
    void this.shell.run(`neigh replace ${address} lladdr ${mac} dev ${iface} nud probe`);
  }

  /**
   * Who is on an access link: one echo request to all nodes (-L: not our own
   * answer); the link-local addresses that answered. For links the plan names
   * no MN for (netns moves), where an MN that keeps its addresses across the
   * carrier loss sends no RS.
   */
  probe(iface: string): Promise<string[]> {
    return new Promise((resolve) => {
      execFile('ping', ['-6', '-L', '-n', '-c', '1', '-W', '1', '-I', iface, 'ff02::1'], { timeout: 3000 }, (_err, stdout) =>
        resolve(echoRepliers(String(stdout))),
      );
    });
  }

  close(): Promise<void> {
    return this.shell.close();
  }
}
