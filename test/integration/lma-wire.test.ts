import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type MessageOf, type MobilityOption } from '../../nodes/protocol/index.js';
import { isRoot } from '../../orchestrator/system/tools.js';

// Root only. The LMA service (built, from dist/) in a namespace of its own
// with two addresses, and a peer MAG in another namespace that sends raw
// bytes and sees every packet that comes back (raw 135, raw ICMPv6, UDP):
// - the PBA leaves from the address the PBU was sent to (RFC 5213 5.3.6),
//   over raw and over UDP, also when the route back would pick the other one;
// - a PBU with Payload Proto 6 makes no binding and draws no PBA (RFC 6275
//   9.2), over raw an ICMPv6 Parameter Problem pointing at Payload Proto;
// - a PBU with Header Len 0 draws a Parameter Problem code 0 pointing at the
//   Header Len field, from the address it was sent to, rate-limited.
// Run ids: lmaw (namespaces plw1-lma, plw1-mag).

const root = isRoot();
if (!root) console.warn('test/integration/lma-wire.test.ts skipped: needs root (network namespaces, raw sockets)');

const repo = path.resolve(import.meta.dirname, '../..');
const runId = 'lmaw';
const ns = (n: string) => `pl${runId}-${n}`;
const LMA_NS = ns('lma');
const MAG_NS = ns('mag');
const LMA_LINK = '2001:db8:c:3::1'; // on the link to the MAG: the route's choice of source toward it
const LMA_OTHER = '2001:db8:b:2::2'; // on the LMA's loopback: where the MAG sends its PBUs
const MAG = '2001:db8:c:3::2';
const NAI = 'mn1@pmiplab.example';

const LMA_AGENT = `
import readline from 'node:readline';
const { LmaService } = await import(process.env.DIST + '/nodes/lma/service.js');
const { lmaConfig, parseLmaOptions } = await import(process.env.DIST + '/nodes/lma/config.js');
const pino = (await import(process.env.PINO)).default;
const out = (o) => console.log(JSON.stringify(o));
const log = pino({ level: 'error' }, pino.destination(2));
const mode = process.env.MODE;
const svc = await LmaService.start({
  cfg: lmaConfig('lma1', parseLmaOptions({ backend: 'none', heartbeatIntervalMs: 0 })),
  pool: '2001:db8:a::/48',
  locals: [process.env.LMA_LINK, process.env.LMA_OTHER],
  transport: { mode },
  // the plan says this MAG uses the link address: the PBA must still follow the PBU
  mags: [{ pCoA: process.env.MAG, local: process.env.LMA_LINK }],
  heartbeat: { intervalMs: 0, missedMax: 3 },
  bus: { call: async (cmd) => (cmd === 'HGETALL' ? [] : 0), key: (s) => 'test:' + s, emit: async () => undefined },
  policy: {
    mn: async (id) => (id === process.env.NAI ? { mnId: id, lma: 'lma1', prefixes: [], mags: ['*'], interfaces: [] } : null),
    magByAddress: async (a) => (a === process.env.MAG ? { name: 'mag1', address: a, lma: 'lma1' } : null),
  },
  dataplane: null,
  log,
});
readline.createInterface({ input: process.stdin }).on('line', (l) => {
  const c = JSON.parse(l);
  if (c.op === 'stats') out({ ev: 'stats', id: c.id, stats: svc.stats(), bindings: svc.bindings().length });
});
out({ ev: 'ready' });
`;

const PEER_AGENT = `
import dgram from 'node:dgram';
import readline from 'node:readline';
const { RawSocket } = await import(process.env.DIST + '/nodes/runtime/raw-socket.js');
const out = (o) => console.log(JSON.stringify(o));
const mh = new RawSocket({ protocol: 135 });
const icmp = new RawSocket({ protocol: 58 });
const udp = dgram.createSocket({ type: 'udp6', ipv6Only: true });
await new Promise((r) => udp.bind(5436, process.env.MAG, r));
mh.onMessage((d) => out({ ev: 'rx', proto: 135, src: d.source, dst: d.destination, hex: Buffer.from(d.data).toString('hex') }));
icmp.onMessage((d) => out({ ev: 'rx', proto: 58, src: d.source, dst: d.destination, hex: Buffer.from(d.data).toString('hex') }));
udp.on('message', (b, r) => out({ ev: 'rx', proto: 17, src: r.address, hex: b.toString('hex') }));
readline.createInterface({ input: process.stdin }).on('line', async (l) => {
  const c = JSON.parse(l);
  const buf = Buffer.from(c.hex, 'hex');
  if (c.op === 'raw') await mh.send(buf, c.dst);
  else await new Promise((r) => udp.send(buf, 5436, c.dst, r));
  out({ ev: 'sent', id: c.id });
});
out({ ev: 'ready' });
`;

interface Line {
  ev: string;
  id?: number;
  proto?: number;
  src?: string;
  dst?: string;
  hex?: string;
  [k: string]: unknown;
}

class Agent {
  readonly lines: Line[] = [];
  private id = 0;
  constructor(readonly child: ChildProcessWithoutNullStreams) {
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
  async cmd(c: Record<string, unknown>): Promise<Line> {
    const id = ++this.id;
    this.child.stdin.write(`${JSON.stringify({ ...c, id })}\n`);
    return this.waitFor((l) => l.id === id && l.ev !== 'error');
  }
  stop(): void {
    this.child.kill('SIGTERM');
  }
}

function pbu(seq: number): MessageOf<'pbu'> {
  const options: MobilityOption[] = [
    { kind: 'mnId', nai: NAI },
    { kind: 'hnp', prefix: '::', prefixLength: 0 },
    { kind: 'handoffIndicator', value: 1 },
    { kind: 'accessTechnologyType', value: 4 },
    { kind: 'mnLinkLayerId', identifier: '0270aa000001' },
  ];
  return { kind: 'pbu', sequence: seq, flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true }, lifetime: 100, options };
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sh = (...a: string[]) => {
  const r = spawnSync('ip', a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
};

function setUp(): void {
  for (const n of [LMA_NS, MAG_NS]) spawnSync('ip', ['netns', 'del', n]);
  sh('netns', 'add', LMA_NS);
  sh('netns', 'add', MAG_NS);
  sh('link', 'add', 'lw0', 'netns', LMA_NS, 'type', 'veth', 'peer', 'name', 'lw1', 'netns', MAG_NS);
  sh('-n', LMA_NS, 'link', 'set', 'lo', 'up');
  sh('-n', MAG_NS, 'link', 'set', 'lo', 'up');
  sh('-n', LMA_NS, 'link', 'set', 'lw0', 'up');
  sh('-n', MAG_NS, 'link', 'set', 'lw1', 'up');
  sh('-n', LMA_NS, 'addr', 'add', `${LMA_LINK}/64`, 'dev', 'lw0', 'nodad');
  sh('-n', LMA_NS, 'addr', 'add', `${LMA_OTHER}/128`, 'dev', 'lo');
  sh('-n', MAG_NS, 'addr', 'add', `${MAG}/64`, 'dev', 'lw1', 'nodad');
  sh('-n', MAG_NS, 'route', 'add', `${LMA_OTHER}/128`, 'via', LMA_LINK);
}

for (const mode of ['raw', 'udp'] as const) {
  describe.skipIf(!root)(`LMA on the wire over ${mode} (root)`, () => {
    let lma: Agent;
    let peer: Agent;
    const send = (bytes: Uint8Array, dst = LMA_OTHER) => peer.cmd({ op: mode, hex: hex(bytes), dst });
    const stats = async () => (await lma.cmd({ op: 'stats' })) as Line & { stats: { transport: Record<string, number> }; bindings: number };
    const replyProto = mode === 'raw' ? 135 : 17;

    beforeAll(async () => {
      setUp();
      const env = { MODE: mode, LMA_LINK, LMA_OTHER, MAG, NAI };
      lma = Agent.start(LMA_NS, LMA_AGENT, env);
      peer = Agent.start(MAG_NS, PEER_AGENT, env);
      await lma.waitFor((l) => l.ev === 'ready', 10_000);
      await peer.waitFor((l) => l.ev === 'ready', 10_000);
    }, 20_000);

    afterAll(() => {
      lma?.stop();
      peer?.stop();
      for (const n of [LMA_NS, MAG_NS]) spawnSync('ip', ['netns', 'del', n]);
    });

    it('answers a PBU from the address it was sent to, not the route toward the MAG', async () => {
      // the route from the LMA to the MAG picks LMA_LINK as source: a PBA from it would be the old bug
      const route = spawnSync('ip', ['-n', LMA_NS, '-6', 'route', 'get', MAG], { encoding: 'utf8' }).stdout;
      expect(route).toContain(`src ${LMA_LINK}`);
      const from = peer.lines.length;
      await send(Uint8Array.from(encodeMessage(pbu(101))));
      const got = await peer.waitFor((l) => peer.lines.indexOf(l) >= from && l.ev === 'rx' && l.proto === replyProto);
      expect(got.src).toBe(LMA_OTHER);
      const pba = decodeMessage(Buffer.from(got.hex!, 'hex'));
      expect(pba.ok && pba.value.kind === 'pba' && pba.value.status === 0 && pba.value.sequence === 101).toBe(true);
      // and a PBU sent to the other address is answered from that one
      const from2 = peer.lines.length;
      const again = pbu(102);
      again.options[2] = { kind: 'handoffIndicator', value: 5 };
      await send(Uint8Array.from(encodeMessage(again)), LMA_LINK);
      const got2 = await peer.waitFor((l) => peer.lines.indexOf(l) >= from2 && l.ev === 'rx' && l.proto === replyProto);
      expect(got2.src).toBe(LMA_LINK);
    });

    it('discards a PBU whose Payload Proto is not 59: no PBA, no binding, counted', async () => {
      const before = await stats();
      const bad = Uint8Array.from(encodeMessage({ ...pbu(200), options: [...pbu(200).options.slice(0, 4), { kind: 'mnLinkLayerId', identifier: '0270aa000002' }] }));
      bad[0] = 6; // Payload Proto TCP
      const from = peer.lines.length;
      await send(bad);
      if (mode === 'raw') {
        const pp = await peer.waitFor((l) => peer.lines.indexOf(l) >= from && l.ev === 'rx' && l.proto === 58);
        const b = Buffer.from(pp.hex!, 'hex');
        expect([b[0], b[1], b.readUInt32BE(4)]).toEqual([4, 0, 40]); // Parameter Problem, code 0, at Payload Proto
        expect(pp.src).toBe(LMA_OTHER);
        const quoted = Uint8Array.from(b.subarray(48));
        quoted[4] = quoted[5] = 0; // the kernel filled in the checksum we sent as 0
        expect(hex(quoted)).toBe(hex(bad)); // the invoking MH after the quoted IPv6 header
      } else {
        await new Promise((r) => setTimeout(r, 300));
      }
      const after = await stats();
      expect(after.bindings).toBe(before.bindings);
      expect(after.stats.transport.badPayloadProto).toBe(before.stats.transport.badPayloadProto! + 1);
      expect(peer.lines.slice(from).filter((l) => l.ev === 'rx' && l.proto === replyProto)).toEqual([]);
    });

    it('answers Header Len 0 with Parameter Problem code 0 at the Header Len field (raw), rate-limited; nothing over UDP', async () => {
      const short = Uint8Array.from(encodeMessage(pbu(300))).subarray(0, 8);
      short[1] = 0; // Header Len 0: a PBU needs at least 1
      const before = await stats();
      const from = peer.lines.length;
      for (let i = 0; i < 30; i++) await send(short);
      await new Promise((r) => setTimeout(r, 300));
      const pps = peer.lines.slice(from).filter((l) => l.ev === 'rx' && l.proto === 58);
      const after = await stats();
      expect(after.stats.transport.malformed).toBe(before.stats.transport.malformed! + 30);
      if (mode === 'raw') {
        expect(pps.length).toBeGreaterThanOrEqual(1);
        expect(pps.length).toBeLessThanOrEqual(12); // bucket of 10, refilled at 10/s
        const b = Buffer.from(pps[0]!.hex!, 'hex');
        expect([b[0], b[1], b.readUInt32BE(4)]).toEqual([4, 0, 41]);
        expect(pps[0]!.src).toBe(LMA_OTHER);
        expect(b[8]! >> 4).toBe(6); // the quoted IPv6 header
        expect(b[8 + 6]).toBe(135);
      } else {
        expect(pps).toEqual([]);
      }
      expect(peer.lines.slice(from).filter((l) => l.ev === 'rx' && l.proto === replyProto)).toEqual([]);
    });
  });
}
