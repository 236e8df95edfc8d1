import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ErrorCodes, PmipError } from '../contract/errors.js';
import { ifName, ipv6Address, ipv6Prefix } from './addr.js';
import { ip6tnlBindLines, ip6tnlDeviceLines, ip6tnlMagTunnelLines, ip6tnlReleaseLines, tunnelName } from './ip6tnl.js';
import { PeerRefs } from './peer-refs.js';
import { chooseBackend } from './probe.js';
import { routeGet, type RouteTo } from './route-get.js';
import {
  TABLE_UPLINK_BASE,
  MULTIPATH_HASH_SYSCTL,
  magAttachLines,
  magDetachLines,
  type Downlink,
  seg6MultipathLines,
  seg6BindLines,
  seg6InitLines,
  seg6MagTunnelLines,
  seg6UnbindLines,
} from './seg6.js';
import { DataPlaneShell, type Line } from './shell.js';
import type { Applied, BackendName, DataPlane, DataPlaneCounters, DataPlaneOptions, DataPlaneRole } from './types.js';

export type { Applied, BackendChoice, BackendName, DataPlane, DataPlaneCounters, DataPlaneOptions, DataPlaneRole, LmaDataPlane, MagDataPlane } from './types.js';

/**
 * Open the kernel data plane of an LMA or MAG: pick the backend (ip6tnl where
 * the kernel has it, else the seg6 recipe), then (re)establish the per-node
 * state over whatever a previous run of the role left (idempotent).
 */
export async function openDataPlane(opts: DataPlaneOptions): Promise<DataPlane> {
  const locals = (typeof opts.local === 'string' ? [opts.local] : [...opts.local]).map((a) => ipv6Address(a, 'local address'));
  if (locals.length === 0) throw new PmipError(ErrorCodes.badInput, 'data plane: no local tunnel address given');
  const backhaulIf = ifName(opts.backhaulIf, 'backhaul interface');
  const shell = new DataPlaneShell(opts.netns ?? null, opts.log);
  try {
    const { backend, probe } = await chooseBackend(shell, opts.backend ?? 'auto');
    if (!backend) {
      throw new PmipError(
        ErrorCodes.runtime,
        `data plane: this kernel offers no IPv6-in-IPv6 tunnel: ip6tnl: ${probe.ip6tnl === undefined ? 'not tried' : String(probe.ip6tnl)}; seg6: ${probe.seg6 === undefined ? 'not tried' : String(probe.seg6)}`,
        'a kernel with CONFIG_IPV6_TUNNEL (ip6tnl) or CONFIG_IPV6_SEG6_LWTUNNEL (seg6) is needed',
      );
    }
    Object.assign(shell.counters, { changes: 0, failures: 0, tolerated: 0 }); // the probe's lines are not changes
    const dp = new KernelDataPlane(backend, opts.role, locals, backhaulIf, shell);
    await dp.init();
    opts.log.info({ backend, role: opts.role, locals, backhaulIf, probe }, 'data plane ready');
    return dp;
  } catch (e) {
    await shell.close();
    throw e;
  }
}

function downlinkHops(hops: ReadonlyMap<string, string | undefined>): Downlink[] {
  return [...hops].map(([dev, via]) => (via ? { dev, via } : { dev }));
}

class KernelDataPlane implements DataPlane {
  private readonly routeTo = new Map<string, Promise<RouteTo>>(); // per pCoA / LMA address
  private readonly uplinkTables = new Map<string, number>(); // MAG: LMA address -> table
  private readonly tunnels = new Set<string>(); // ip6tnl devices made or found
  private readonly downlinks = new Map<string, Map<string, string | undefined>>(); // MAG: prefix -> access link -> MN link-local
  private multipathHash: Promise<void> | undefined; // the L4 hash policy, set before the first multipath route
  /** LMA: prefixes per MAG, so a MAG's tunnel goes with its last binding (ip6tnl) */
  private readonly refs = new PeerRefs();

  constructor(
    readonly backend: BackendName,
    readonly role: DataPlaneRole,
    private readonly locals: string[],
    private readonly backhaulIf: string,
    private readonly shell: DataPlaneShell,
  ) {}

  get counters(): Readonly<DataPlaneCounters> {
    return this.shell.counters;
  }

  async init(): Promise<void> {
    if (this.backend === 'seg6') await this.shell.apply(seg6InitLines(this.role, this.locals, this.backhaulIf));
  }

  async lmaBind(hnp: string, pCoA: string, dev?: string): Promise<Applied> {
    this.expect('lma', 'lmaBind');
    const prefix = ipv6Prefix(hnp, 'HNP');
    const peer = ipv6Address(pCoA, 'pCoA');
    if (this.backend === 'seg6') {
      const out = dev ? ifName(dev, 'backhaul interface') : (await this.route(peer)).dev;
      this.refs.set(prefix, [peer]);
      return this.shell.apply(seg6BindLines(prefix, peer, out));
    }
    const lines = await this.tunnelTo(peer, dev);
    const released = this.refs.set(prefix, [peer]);
    const applied = await this.shell.apply([...lines, ...ip6tnlBindLines(prefix, tunnelName(peer)), ...this.release(released)]);
    this.tunnels.add(tunnelName(peer));
    return applied;
  }

  /** ip6tnl: the devices of peers no prefix uses any more go (after the route that moved away from them). */
  private release(peers: string[]): Line[] {
    if (this.backend !== 'ip6tnl') return [];
    return peers.flatMap((p) => {
      const name = tunnelName(p);
      if (!this.tunnels.delete(name)) return [];
      return ip6tnlReleaseLines(name);
    });
  }

  /** Prefixes routed to the peer now (tests, stats). */
  prefixCount(peer: string): number {
    return this.refs.count(ipv6Address(peer, 'pCoA'));
  }

  /** Seed 001 section 3: the prefix to several MAGs at once, load-shared per flow (seg6 only). */
  async lmaBindMulti(hnp: string, hops: ReadonlyArray<{ pCoA: string; dev?: string }>): Promise<Applied> {
    this.expect('lma', 'lmaBindMulti');
    const prefix = ipv6Prefix(hnp, 'HNP');
    if (this.backend !== 'seg6') throw new PmipError(ErrorCodes.runtime, 'data plane: multipath routes need the seg6 backend');
    const resolved = await Promise.all(
      hops.map(async (h) => {
        const peer = ipv6Address(h.pCoA, 'pCoA');
        return { pCoA: peer, dev: h.dev ? ifName(h.dev, 'backhaul interface') : (await this.route(peer)).dev };
      }),
    );
    this.multipathHash ??= setMultipathHash(this.shell.netns);
    await this.multipathHash;
    this.refs.set(prefix, resolved.map((h) => h.pCoA));
    return this.shell.apply(seg6MultipathLines(prefix, resolved));
  }

  lmaUnbind(hnp: string): Promise<Applied> {
    this.expect('lma', 'lmaUnbind');
    const prefix = ipv6Prefix(hnp, 'HNP');
    return this.shell.apply([...seg6UnbindLines(prefix), ...this.release(this.refs.set(prefix, []))]);
  }

  async magAttach(hnp: string, accessIf: string, lmaAddress: string, via?: string): Promise<Applied> {
    this.expect('mag', 'magAttach');
    const prefix = ipv6Prefix(hnp, 'HNP');
    const acc = ifName(accessIf, 'access interface');
    const lmaa = ipv6Address(lmaAddress, 'LMA address');
    const gw = via === undefined ? undefined : ipv6Address(via, 'MN link-local');
    let hops = this.downlinks.get(prefix);
    if (!hops) this.downlinks.set(prefix, (hops = new Map()));
    hops.delete(acc); // the newest link last: it alone is used when the hops cannot share a route
    hops.set(acc, gw);
    let table = this.uplinkTables.get(lmaa);
    const lines: Line[] = [];
    if (table === undefined) {
      // first MN toward this LMA: its uplink table (and tunnel) once
      table = TABLE_UPLINK_BASE + this.uplinkTables.size;
      this.uplinkTables.set(lmaa, table);
      if (this.backend === 'seg6') lines.push(...seg6MagTunnelLines(lmaa, table, this.backhaulIf));
      else lines.push(...(await this.tunnelTo(lmaa)), ...ip6tnlMagTunnelLines(tunnelName(lmaa), table));
    }
    lines.push(...magAttachLines(prefix, acc, table, downlinkHops(hops)));
    try {
      const applied = await this.shell.apply(lines);
      if (this.backend === 'ip6tnl') this.tunnels.add(tunnelName(lmaa));
      return applied;
    } catch (e) {
      if (lines.length > 2) this.uplinkTables.delete(lmaa); // set the table up again next time
      throw e;
    }
  }

  magDetach(hnp: string, accessIf: string): Promise<Applied> {
    this.expect('mag', 'magDetach');
    const prefix = ipv6Prefix(hnp, 'HNP');
    const acc = ifName(accessIf, 'access interface');
    const hops = this.downlinks.get(prefix);
    hops?.delete(acc);
    if (hops?.size === 0) this.downlinks.delete(prefix);
    return this.shell.apply(magDetachLines(prefix, acc, hops ? downlinkHops(hops) : []));
  }

  close(): Promise<void> {
    return this.shell.close();
  }

  private expect(role: DataPlaneRole, call: string): void {
    if (this.role !== role) throw new PmipError(ErrorCodes.runtime, `data plane: ${call} on a ${this.role} data plane`);
  }

  private route(peer: string): Promise<RouteTo> {
    let r = this.routeTo.get(peer);
    if (!r) {
      r = routeGet(this.shell.netns, peer);
      r.catch(() => this.routeTo.delete(peer)); // ask again next time
      this.routeTo.set(peer, r);
    }
    return r;
  }

  /** ip6tnl: lines creating the device to peer the first time (nothing after that). */
  private async tunnelTo(peer: string, dev?: string): Promise<Line[]> {
    const name = tunnelName(peer);
    if (this.tunnels.has(name)) return [];
    const r = await this.route(peer);
    const local = r.src && this.locals.includes(r.src) ? r.src : (this.locals[0] as string);
    return ip6tnlDeviceLines(name, local, peer, dev ?? r.dev);
  }
}

/** net.ipv6.fib_multipath_hash_policy=1 in the data plane's namespace (per flow, L4). */
async function setMultipathHash(netns: string | null): Promise<void> {
  const s = MULTIPATH_HASH_SYSCTL;
  try {
    // this process's namespace: /proc/sys is its own; another: through ip netns exec
    if (netns === null) await writeFile(s.path, s.value);
    else await promisify(execFile)('ip', ['netns', 'exec', netns, 'sysctl', '-qw', `${s.name}=${s.value}`]);
  } catch (e) {
    throw new PmipError(ErrorCodes.runtime, `data plane: cannot set ${s.name}: ${(e as Error).message.trim()}`);
  }
}
