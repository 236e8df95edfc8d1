import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { silentProgress } from '../../orchestrator/cli/progress.js';
import { labUp, type Lab } from '../../orchestrator/lab/lab.js';
import { launchNodes } from '../../orchestrator/launch/launcher.js';
import { addProcess, cleanupRuns, setRedisUrl } from '../../orchestrator/netns/index.js';
import { seedPolicy } from '../../orchestrator/policy/seed.js';
import { startRedis } from '../../orchestrator/redis/server.js';
import { runsRoot } from '../../orchestrator/run/paths.js';
import { repoRoot } from './experiments.js';

// The conformance suite's harness: a domain brought up with the project's
// own machinery (labUp for namespaces and links, then Redis, the policy
// store and the node processes) except for the nodes a second implementation
// plays, whose processes are never started: their namespaces, addresses and
// policy entries exist, so the peer speaks from exactly where the node would.
// The peer (test/conformance/peer_cli.py, scapy) is one long-lived process
// driven by JSON lines.

export const PYTHON = '/usr/bin/python3';
const PEER = path.join(repoRoot, 'test', 'conformance', 'peer_cli.py');

/** Why the suite cannot run here, or null. */
export function conformanceUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (namespaces, raw sockets, node processes)';
  const r = spawnSync(PYTHON, ['-c', 'import scapy.layers.inet6, scapy; print(scapy.VERSION)'], { encoding: 'utf8' });
  if (r.status !== 0) return `${PYTHON} cannot import scapy (apt-get install python3-scapy): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  return null;
}

/** The conformance topology: lma1 live, mag1/mag2 toward it (played by the peer); lma2 (the peer) with mag3 live serving mn3. */
export function conformanceTopology(transport: 'udp' | 'raw'): string {
  return `name: conformance-${transport}
topology:
  nodes:
    lma1: { kind: lma, options: { heartbeatIntervalMs: 0, policyCacheMs: 0 } }
    lma2: { kind: lma }
    mag1: { kind: mag, lma: lma1 }
    mag2: { kind: mag, lma: lma1 }
    mag3: { kind: mag, lma: lma2, options: { heartbeatIntervalMs: 0, retryAfterMs: 1000, retransmitInitialMs: 100 } }
    mn3: { kind: mn, interfaces: { wlan0: { att: "802.11" } } }
  links:
    - endpoints: ["mag1:eth0", "lma1:eth1"]   # l1 2001:db8:b:1::/64
    - endpoints: ["mag2:eth0", "lma1:eth2"]   # l2 2001:db8:b:2::/64
    - endpoints: ["mag3:eth0", "lma2:eth1"]   # l3 2001:db8:b:3::/64
    - endpoints: ["mn3:wlan0", "mag3:acc0"]   # l4
settings: { transport: ${transport}, l2Move: netns }
`;
}

export interface Domain {
  lab: Lab;
  ns: (node: string) => string;
  /** start the node processes of every node but `without` (after the peer is listening) */
  launch(without: string[]): Promise<void>;
}

/** Namespaces, links, Redis and the policy store of the topology; no node process yet. */
export async function buildDomain(yaml: string, id: string): Promise<Domain> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-conf-'));
  const file = path.join(dir, 'conformance.yaml');
  writeFileSync(file, yaml);
  // what a killed earlier run of this test left under this id (registry, pl<id>- namespaces)
  await cleanupRuns({ runIds: [id], runsDir: runsRoot() });
  const lab = await labUp(file, { id, progress: silentProgress, networkOnly: true });
  try {
    lab.redis = await startRedis(lab.paths);
    if (lab.redis.pid) await addProcess(id, { pid: lab.redis.pid, role: 'redis', name: 'redis' });
    await setRedisUrl(id, lab.redis.url);
    await seedPolicy(lab.plan, lab.redis.url);
  } catch (err) {
    await lab.down().catch(() => undefined);
    throw err;
  }
  const ns = (node: string) => {
    const n = lab.plan.nodes.find((x) => x.name === node);
    if (!n) throw new Error(`no node ${node}`);
    return n.netns;
  };
  return {
    lab,
    ns,
    async launch(without) {
      // the launcher starts what the plan it is given holds; the nodes' own
      // views are cut from it, and none of the started roles reads the
      // missing nodes (the MAGs know their LMA from their options)
      const plan = { ...lab.plan, nodes: lab.plan.nodes.filter((n) => !without.includes(n.name)) };
      lab.nodes = await launchNodes(plan, lab.paths, lab.redis!.url);
      for (const p of lab.nodes.pids()) await addProcess(id, { pid: p.pid, role: 'node', name: p.node });
      await lab.nodes.waitReady(30_000);
    },
  };
}

// ---- the peer process

export interface Received {
  t: number;
  src: string;
  dst: string;
  srcPort: number | null;
  hopLimit: number | null;
  mh: Mh;
}

export interface MhOption {
  type: string;
  [k: string]: unknown;
}

export interface Mh {
  hex: string;
  kind: string;
  payloadProto: number;
  headerLen: number;
  mhType: number;
  checksum: number;
  checksumOk?: boolean;
  error?: string;
  seq: number;
  status?: number;
  lifetime: number;
  flags: Record<string, boolean>;
  reserved?: number;
  options: MhOption[];
  unknownOptions: MhOption[];
}

export interface IcmpSeen {
  t: number;
  src: string;
  dst: string;
  hopLimit: number;
  type: number;
  code: number;
  pointer?: number;
  invokingNextHeader?: number;
  invokingDst?: string;
  /** the quoted invoking packet, hex */
  invoking?: string;
  prefixes?: Array<{ prefix: string; L: boolean; A: boolean; valid: number; preferred: number }>;
  routerLifetime?: number;
}

export interface PbuResult {
  sent: Array<{ t: number; hex: string; mh: Mh }>;
  replies: Received[];
  icmp: IcmpSeen[];
}

export interface LmaLogEntry extends Partial<Received> {
  dir: 'in' | 'out';
  t: number;
  mh: Mh;
  action?: Record<string, unknown>;
}

export class Peer {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private stderr = '';
  readonly ready: Promise<void>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    let onReady: () => void = () => undefined;
    this.ready = new Promise((r) => (onReady = r));
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.event === 'ready') return onReady();
      if (msg.event === 'error') {
        this.stderr += String(msg.trace);
        return;
      }
      const w = this.waiting.get(Number(msg.id));
      if (!w) return;
      this.waiting.delete(Number(msg.id));
      if (msg.ok === false) w.reject(new Error(`peer: ${String(msg.error)}\n${String(msg.trace)}`));
      else w.resolve(msg);
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`peer exited (${code}): ${this.stderr}`));
      this.waiting.clear();
    });
  }

  static async start(): Promise<Peer> {
    const child = spawn(PYTHON, [PEER], { stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new Peer(child);
    await Promise.race([p.ready, new Promise((_, rej) => setTimeout(() => rej(new Error(`peer not ready: ${p.stderr}`)), 20_000))]);
    return p;
  }

  request<T = Record<string, unknown>>(cmd: Record<string, unknown>): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: Record<string, unknown>) => void, reject });
      this.child.stdin.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }

  pbu(cmd: Record<string, unknown>): Promise<PbuResult> {
    return this.request<PbuResult>({ op: 'pbu', ...cmd });
  }

  async lmaLog(name: string): Promise<LmaLogEntry[]> {
    return (await this.request<{ log: LmaLogEntry[] }>({ op: 'lma-log', name })).log;
  }

  async icmpLog(name: string): Promise<IcmpSeen[]> {
    return (await this.request<{ log: IcmpSeen[] }>({ op: 'icmp-log', name })).log;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.stdin.write(`${JSON.stringify({ op: 'stop' })}\n`);
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        this.child.kill('SIGKILL');
        r();
      }, 2000);
      this.child.once('exit', () => {
        clearTimeout(t);
        r();
      });
    });
  }
}

// ---- tshark

export type TsharkRow = Record<string, string>;

/** Every Mobility Header of a pcap as tshark (Wireshark's dissector) decodes it, one row per packet, the given fields. */
export function tsharkMh(pcap: string, fields: string[]): TsharkRow[] {
  const args = ['-r', pcap, '-Y', 'mipv6', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark -r ${pcap}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const cols = l.split('\t');
      return Object.fromEntries(fields.map((f, i) => [f, cols[i] ?? '']));
    });
}

/** ICMPv6 messages of a pcap (tshark), with the IPv6 hop limit. */
export function tsharkIcmp6(pcap: string, fields: string[]): TsharkRow[] {
  const args = ['-r', pcap, '-Y', 'icmpv6', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark -r ${pcap}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const cols = l.split('\t');
      return Object.fromEntries(fields.map((f, i) => [f, cols[i] ?? '']));
    });
}

// ---- helpers on decoded messages

export const opt = (m: Mh, type: string): MhOption | undefined => m.options.find((o) => o.type === type);
export const realOptions = (m: Mh): MhOption[] => m.options.filter((o) => o.type !== 'pad1' && o.type !== 'padN');

/** RFC 6275 9.5.1: a is newer than b when (a - b) mod 2^16 is in (0, 2^15). */
export function seqNewer(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}

// ---- file descriptors

export interface RawHolder {
  pid: number;
  comm: string;
  /** protocol of each raw IPv6 socket it holds (135 MH, 58 ICMPv6) */
  protocols: number[];
}

/**
 * Which processes of a namespace hold raw IPv6 sockets, and of which
 * protocol: /proc/<pid>/net/raw6 lists the namespace's raw sockets (the
 * "local port" column is the protocol) with their inodes, and each process's
 * fds link to socket:[inode].
 */
export function rawSocketHolders(netns: string): RawHolder[] {
  const pids = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  if (!pids.length) return [];
  const protoByInode = new Map<string, number>();
  for (const line of readFileSync(`/proc/${pids[0]}/net/raw6`, 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    protoByInode.set(cols[9]!, Number.parseInt(cols[1]!.split(':')[1]!, 16));
  }
  const out: RawHolder[] = [];
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone meanwhile
    }
    const protocols: number[] = [];
    for (const fd of fds) {
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      const proto = m ? protoByInode.get(m[1]!) : undefined;
      if (proto !== undefined) protocols.push(proto);
    }
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    out.push({ pid, comm, protocols: protocols.sort((a, b) => a - b) });
  }
  return out;
}
