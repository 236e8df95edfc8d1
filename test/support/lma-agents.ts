import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

// Two small processes for LMA tests in namespaces (root): the LMA service
// (built, from dist/) with stand-ins for Redis and the policy store, and a
// peer that sends raw bytes from any of its addresses and reports every MH,
// ICMPv6 and UDP packet that comes back. Each speaks JSON lines.

const repo = path.resolve(import.meta.dirname, '../..');

/** Env: MODE (udp|raw), SETUP (JSON: locals, mags, mns, dataplane {local, backhaulIf} | null). */
export const LMA_AGENT = `
import readline from 'node:readline';
const { LmaService } = await import(process.env.DIST + '/nodes/lma/service.js');
const { lmaConfig, parseLmaOptions } = await import(process.env.DIST + '/nodes/lma/config.js');
const { openDataPlane } = await import(process.env.DIST + '/nodes/dataplane/index.js');
const pino = (await import(process.env.PINO)).default;
const out = (o) => console.log(JSON.stringify(o));
const log = pino({ level: 'error' }, pino.destination(2));
const setup = JSON.parse(process.env.SETUP);
const dataplane = setup.dataplane ? await openDataPlane({ role: 'lma', local: setup.dataplane.local, backhaulIf: setup.dataplane.backhaulIf, log }) : null;
const svc = await LmaService.start({
  cfg: lmaConfig('lma1', parseLmaOptions({ heartbeatIntervalMs: 0, minDelayBeforeBceDeleteMs: 200 })),
  pool: '2001:db8:f::/48',
  locals: setup.locals,
  transport: { mode: process.env.MODE },
  mags: setup.mags,
  heartbeat: { intervalMs: 0, missedMax: 3 },
  bus: { call: async (cmd) => (cmd === 'HGETALL' ? [] : 0), key: (s) => 'test:' + s, emit: async () => undefined },
  policy: {
    mn: async (id) => setup.mns.find((m) => m.mnId === id) ?? null,
    magByAddress: async (a) => (setup.mags.some((m) => m.pCoA === a) ? { name: 'mag-' + a, address: a, lma: 'lma1' } : null),
  },
  dataplane,
  log,
});
readline.createInterface({ input: process.stdin }).on('line', (l) => {
  const c = JSON.parse(l);
  if (c.op === 'stats') out({ ev: 'stats', id: c.id, stats: svc.stats(), bindings: svc.bindings().length });
  if (c.op === 'bindings') out({ ev: 'bindings', id: c.id, bindings: svc.bindings() });
});
out({ ev: 'ready' });
`;

/** Env: ADDRS (JSON list of local addresses; the first binds the UDP socket). */
export const PEER_AGENT = `
import dgram from 'node:dgram';
import readline from 'node:readline';
const { RawSocket } = await import(process.env.DIST + '/nodes/runtime/raw-socket.js');
const out = (o) => console.log(JSON.stringify(o));
const addrs = JSON.parse(process.env.ADDRS);
const mh = new RawSocket({ protocol: 135 });
const icmp = new RawSocket({ protocol: 58 });
const udp = dgram.createSocket({ type: 'udp6', ipv6Only: true });
await new Promise((r) => udp.bind(5436, addrs[0], r));
mh.onMessage((d) => out({ ev: 'rx', proto: 135, src: d.source, dst: d.destination, hex: Buffer.from(d.data).toString('hex') }));
icmp.onMessage((d) => out({ ev: 'rx', proto: 58, src: d.source, dst: d.destination, hex: Buffer.from(d.data).toString('hex') }));
udp.on('message', (b, r) => out({ ev: 'rx', proto: 17, src: r.address, hex: b.toString('hex') }));
readline.createInterface({ input: process.stdin }).on('line', async (l) => {
  const c = JSON.parse(l);
  const buf = Buffer.from(c.hex, 'hex');
  if (c.op === 'raw') await mh.send(buf, c.dst, c.from ? { source: c.from } : {});
  else await new Promise((r) => udp.send(buf, 5436, c.dst, r));
  out({ ev: 'sent', id: c.id });
});
out({ ev: 'ready' });
`;

export interface Line {
  ev: string;
  id?: number;
  proto?: number;
  src?: string;
  dst?: string;
  hex?: string;
  [k: string]: unknown;
}

export class Agent {
  readonly lines: Line[] = [];
  private id = 0;
  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    readline.createInterface({ input: child.stdout }).on('line', (l) => this.lines.push(JSON.parse(l) as Line));
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
  }

  static start(netns: string, code: string, env: Record<string, string>): Agent {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--input-type=module', '-e', code], {
      env: { ...process.env, ...env, DIST: path.join(repo, 'dist'), PINO: path.join(repo, 'node_modules/pino/pino.js') },
    });
    return new Agent(child);
  }

  async waitFor(pred: (l: Line) => boolean, ms = 3000): Promise<Line> {
    const end = Date.now() + ms;
    for (;;) {
      const l = this.lines.find(pred);
      if (l) return l;
      if (Date.now() > end) throw new Error(`agent: nothing matched in ${ms} ms; lines: ${JSON.stringify(this.lines.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Lines from index `from` on that match. */
  since(from: number, pred: (l: Line) => boolean): Line[] {
    return this.lines.slice(from).filter(pred);
  }

  async cmd(c: Record<string, unknown>): Promise<Line> {
    const id = ++this.id;
    this.child.stdin.write(`${JSON.stringify({ ...c, id })}\n`);
    return this.waitFor((l) => l.id === id && l.ev !== 'error');
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

export function ip(...a: string[]): string {
  const r = spawnSync('ip', a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Two namespaces joined by a veth pair (a0 in the first, a1 in the second), links and lo up. */
export function twoNamespaces(a: string, b: string, devA: string, devB: string): void {
  for (const n of [a, b]) spawnSync('ip', ['netns', 'del', n]);
  ip('netns', 'add', a);
  ip('netns', 'add', b);
  ip('link', 'add', devA, 'netns', a, 'type', 'veth', 'peer', 'name', devB, 'netns', b);
  for (const [n, d] of [[a, devA], [b, devB]] as const) {
    ip('-n', n, 'link', 'set', 'lo', 'up');
    ip('-n', n, 'link', 'set', d, 'up');
  }
}

export function deleteNamespaces(...names: string[]): void {
  for (const n of names) spawnSync('ip', ['netns', 'del', n]);
}
