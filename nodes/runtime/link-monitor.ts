import { spawn, execFile, type ChildProcessByStdio } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

// Link and address changes of the node's own namespace, as the kernel reports
// them: one long-lived `ip -o monitor link address` (rtnetlink through ip,
// so no native netlink code), plus one dump at start. Lines are parsed as they
// come; ip flushes after every message, so an event reaches us well under a
// millisecond after the kernel sent it. MAGs watch carrier (attach/detach),
// MNs their SLAAC addresses.

const run = promisify(execFile);

export interface LinkState {
  ifname: string;
  ifindex: number;
  up: boolean; // administratively up (UP)
  carrier: boolean; // LOWER_UP
  deleted: boolean; // gone from this namespace (deleted or moved away)
  tNs: bigint;
}

export interface AddressState {
  ifname: string;
  ifindex: number;
  family: 'inet' | 'inet6';
  address: string;
  prefixLen: number;
  scope: string; // global | link | host
  tentative: boolean;
  deleted: boolean;
  tNs: bigint;
}

const LINK_RE = /^(Deleted )?(\d+): ([^:@\s]+)(?:@[^:\s]+)?: <([^>]*)>/;
const ADDR_RE = /^(Deleted )?(\d+): (\S+)\s+(inet6?) ([0-9a-fA-F:.]+)\/(\d+)(.*)$/;

/** One line of `ip -o link` / `ip -o monitor link` output, or null. */
export function parseLinkLine(line: string, tNs = 0n): LinkState | null {
  const m = LINK_RE.exec(line);
  if (!m) return null;
  const flags = new Set((m[4] ?? '').split(','));
  return {
    ifname: m[3] as string,
    ifindex: Number(m[2]),
    up: flags.has('UP'),
    carrier: flags.has('LOWER_UP') && !flags.has('NO-CARRIER'),
    deleted: m[1] !== undefined,
    tNs,
  };
}

/** One line of `ip -o addr` / `ip -o monitor address` output, or null. */
export function parseAddressLine(line: string, tNs = 0n): AddressState | null {
  const m = ADDR_RE.exec(line);
  if (!m) return null;
  const rest = m[7] ?? '';
  const scope = /\bscope (\S+)/.exec(rest)?.[1] ?? 'global';
  return {
    ifname: m[3] as string,
    ifindex: Number(m[2]),
    family: m[4] as 'inet' | 'inet6',
    address: (m[5] as string).toLowerCase(),
    prefixLen: Number(m[6]),
    scope,
    tentative: /\btentative\b/.test(rest),
    deleted: m[1] !== undefined,
    tNs,
  };
}

/** A neighbour cache entry as `ip -o monitor neigh` reports it (MAGs: NUD of the MNs). */
export interface NeighbourState {
  ifname: string;
  address: string;
  lladdr?: string;
  /** NUD state(s) as ip prints them: REACHABLE, STALE, DELAY, PROBE, FAILED, INCOMPLETE, PERMANENT, NOARP */
  states: string[];
  deleted: boolean;
  tNs: bigint;
}

const NEIGH_RE = /^(Deleted )?([0-9a-fA-F:.]+) dev (\S+)(?: lladdr ([0-9a-fA-F:]+))?((?: [A-Za-z_]+)*)\s*$/;
const NUD_STATES = new Set(['INCOMPLETE', 'REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'NOARP', 'PERMANENT', 'NONE']);

/** One line of `ip -o monitor neigh` / `ip neigh` output, or null. */
export function parseNeighLine(line: string, tNs = 0n): NeighbourState | null {
  const m = NEIGH_RE.exec(line.trim());
  if (!m) return null;
  const words = (m[5] ?? '').trim().split(/\s+/).filter(Boolean);
  const states = words.map((w) => w.toUpperCase()).filter((w) => NUD_STATES.has(w));
  const n: NeighbourState = { ifname: m[3] as string, address: (m[2] as string).toLowerCase(), states, deleted: m[1] !== undefined, tNs };
  if (m[4]) n.lladdr = m[4].toLowerCase();
  return n;
}

export interface LinkMonitorEvents {
  link: [LinkState];
  address: [AddressState];
  neigh: [NeighbourState];
}

export interface LinkMonitorOptions {
  /** also report neighbour cache changes ('neigh' events) */
  neighbours?: boolean;
}

export class LinkMonitor extends EventEmitter<LinkMonitorEvents> {
  private readonly linkState = new Map<string, LinkState>();
  private readonly addrState = new Map<string, AddressState>(); // key ifname|address
  private child: ChildProcessByStdio<null, Readable, null> | null = null;
  private stopped = false;

  private constructor(
    private readonly log: Logger,
    private readonly opts: LinkMonitorOptions,
  ) {
    super();
  }

  /** Start watching; resolves once the initial state is known (events after it are changes). */
  static async start(log: Logger, opts: LinkMonitorOptions = {}): Promise<LinkMonitor> {
    const m = new LinkMonitor(log, opts);
    await m.begin();
    return m;
  }

  links(): LinkState[] {
    return [...this.linkState.values()];
  }

  link(ifname: string): LinkState | undefined {
    return this.linkState.get(ifname);
  }

  /** Current addresses of an interface (all families and scopes; filter as needed). */
  addresses(ifname?: string): AddressState[] {
    return [...this.addrState.values()].filter((a) => ifname === undefined || a.ifname === ifname);
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill();
    this.child = null;
  }

  private async begin(): Promise<void> {
    // the monitor first, then the dump: a change between the two shows in both,
    // and applying it twice is harmless; the other order could miss it
    const objects = this.opts.neighbours ? ['link', 'address', 'neigh'] : ['link', 'address'];
    const child = spawn('ip', ['-o', 'monitor', ...objects], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child = child;
    child.on('error', (err) => this.log.error({ err: err.message }, 'ip monitor failed'));
    child.on('exit', (code, sig) => {
      if (!this.stopped) this.log.error({ code, sig }, 'ip monitor exited');
    });
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const tNs = process.hrtime.bigint();
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) this.apply(l, tNs, true);
    });
    const [links, addrs] = await Promise.all([run('ip', ['-o', 'link', 'show']), run('ip', ['-o', 'addr', 'show'])]);
    const tNs = process.hrtime.bigint();
    for (const l of links.stdout.split('\n')) this.apply(l, tNs, false);
    for (const l of addrs.stdout.split('\n')) this.apply(l, tNs, false);
  }

  private apply(line: string, tNs: bigint, emit: boolean): void {
    const link = parseLinkLine(line, tNs);
    if (link) {
      const before = this.linkState.get(link.ifname);
      if (link.deleted) this.linkState.delete(link.ifname);
      else this.linkState.set(link.ifname, link);
      // a monitor repeats a link line for many reasons (mtu, master, ...): report real changes only
      const changed = !before || before.up !== link.up || before.carrier !== link.carrier || link.deleted;
      if (emit && changed) this.emit('link', link);
      return;
    }
    const addr = parseAddressLine(line, tNs);
    if (addr) {
      const key = `${addr.ifname}|${addr.address}`;
      const before = this.addrState.get(key);
      if (addr.deleted) this.addrState.delete(key);
      else this.addrState.set(key, addr);
      const changed = !before || before.tentative !== addr.tentative || addr.deleted;
      if (emit && changed) this.emit('address', addr);
      return;
    }
    if (!emit || !this.opts.neighbours) return;
    const n = parseNeighLine(line, tNs);
    if (n) this.emit('neigh', n);
  }
}
