import { execFileSync, spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot } from '../../orchestrator/system/tools.js';

// Root only. The MAG's NdpRouter on a router namespace with two access links
// (plh6nd-r: acc1 to plh6nd-h1, acc2 to plh6nd-h2; fe80::1 and the same MAC on
// both, forwarding=1), hosts with the kernel's own SLAAC (accept_ra=2). The
// router side runs from dist/ inside the router's namespace (a raw socket
// lives in the namespace of its process); a second agent in h1 sends
// hand-made RSs.

const root = isRoot();
if (!root) console.warn('test/integration/ndp.test.ts skipped: needs root (network namespaces)');

const runId = 'h6nd';
const repo = path.resolve(import.meta.dirname, '../..');
const ns = (n: string) => `pl${runId}-${n}`;
const NSS = ['r', 'h1', 'h2'].map(ns);
const P1 = '2001:db8:a:11::/64';
const P2 = '2001:db8:a:12::/64';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const AGENT = `
import readline from 'node:readline';
const { NdpRouter } = await import(process.env.NDP_MODULE);
const { RawSocket } = await import(process.env.RAW_MODULE);
const pino = (await import(process.env.PINO_MODULE)).default;
const out = (o) => console.log(JSON.stringify(o));
let r;
let raw;
readline.createInterface({ input: process.stdin }).on('line', async (l) => {
  const c = JSON.parse(l);
  try {
    if (c.op === 'router') {
      r = new NdpRouter({ log: pino({ level: 'warn' }, pino.destination(2)), mac: '02:00:00:00:00:01', mtu: c.mtu });
      r.onSolicit((iface, src, sll) => out({ ev: 'rs', iface, src, sll }));
      if (!(await r.guardHopLimit())) throw new Error('hop limit guard not installed');
    } else if (c.op === 'add') r.addInterface(c.iface);
    else if (c.op === 'refresh') await r.refreshCounters();
    else if (c.op === 'ra') await r.sendRa(c.iface, c.prefixes, c.dst);
    else if (c.op === 'deprecate') await r.sendDeprecatingRa(c.iface, c.hnp, c.dst);
    else if (c.op === 'raw') {
      raw ??= new RawSocket({ protocol: 58 });
      raw.setIntOption(41, 18, c.hops ?? 255); // IPV6_MULTICAST_HOPS: ND messages go with 255 unless the test says otherwise
      raw.setIntOption(41, 16, c.hops ?? 255); // IPV6_UNICAST_HOPS
      await raw.send(Buffer.from(c.hex, 'hex'), c.dst);
    }
    out({ ev: 'done', id: c.id, counters: r?.counters });
  } catch (e) {
    out({ ev: 'error', id: c.id, message: e.message });
  }
});
out({ ev: 'ready' });
`;

interface Line {
  ev: string;
  id?: number;
  [k: string]: unknown;
}
class Agent {
  readonly lines: Line[] = [];
  private id = 0;
  constructor(readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    readline.createInterface({ input: child.stdout }).on('line', (l) => this.lines.push(JSON.parse(l) as Line));
  }
  async until(pred: (l: Line) => boolean, ms = 5000): Promise<Line> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`agent: nothing matched within ${ms} ms; saw ${JSON.stringify(this.lines)}`);
      await sleep(20);
    }
  }
  /** Run one command; resolves with its 'done' or 'error' line. */
  async cmd(c: Record<string, unknown>): Promise<Line> {
    const id = ++this.id;
    this.child.stdin.write(`${JSON.stringify({ ...c, id })}\n`);
    return this.until((l) => l.id === id && (l.ev === 'done' || l.ev === 'error'));
  }
}

function startAgent(netns: string, script: string): Agent {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, script, `--pmiplab-run=${runId}`], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      NDP_MODULE: path.join(repo, 'dist/nodes/runtime/ndp.js'),
      RAW_MODULE: path.join(repo, 'dist/nodes/runtime/raw-socket.js'),
      PINO_MODULE: path.join(repo, 'node_modules/pino/pino.js'),
    },
  });
  return new Agent(child);
}

interface Addr {
  local?: string;
  tentative?: boolean;
  deprecated?: boolean;
  preferred_life_time?: number;
}
const globals = (host: string): Addr[] => {
  const out = execFileSync('ip', ['-n', ns(host), '-6', '-j', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'], { encoding: 'utf8' });
  const [dev] = JSON.parse(out) as Array<{ addr_info: Addr[] }>;
  return (dev?.addr_info ?? []).filter((a) => a.local);
};
async function addressIn(host: string, prefix: string, ms = 4000): Promise<Addr> {
  const head = prefix.replace(/::\/64$/, ':');
  const end = Date.now() + ms;
  for (;;) {
    const a = globals(host).find((x) => x.local?.startsWith(head));
    if (a) return a;
    if (Date.now() > end) throw new Error(`${host}: no address from ${prefix}`);
    await sleep(25);
  }
}
const linkLocal = (host: string): string => {
  const out = execFileSync('ip', ['-n', ns(host), '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'], { encoding: 'utf8' });
  return /inet6 (fe80::[0-9a-f:]+)\//.exec(out)?.[1] ?? '';
};

function buildNet(): void {
  for (const n of NSS) spawnSync('ip', ['netns', 'del', n]);
  const batch = [
    ...NSS.map((n) => `netns add ${n}`),
    `link add eth0 index 3001 netns ${ns('h1')} type veth peer name acc1 index 3002 netns ${ns('r')}`,
    `link add eth0 index 3003 netns ${ns('h2')} type veth peer name acc2 index 3004 netns ${ns('r')}`,
  ].join('\n');
  execFileSync('ip', ['-batch', '-'], { input: `${batch}\n` });
  const sys = (n: string, kv: string[]) => execFileSync('ip', ['netns', 'exec', n, 'sysctl', '-q', '-w', ...kv]);
  sys(ns('r'), ['net.ipv6.conf.all.forwarding=1', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.acc1.accept_dad=0', 'net.ipv6.conf.acc2.accept_dad=0']);
  for (const h of ['h1', 'h2']) sys(ns(h), ['net.ipv6.conf.eth0.accept_ra=2', 'net.ipv6.conf.eth0.autoconf=1', 'net.ipv6.conf.eth0.accept_dad=0', 'net.ipv6.conf.eth0.use_tempaddr=0']);
  sys(ns('h1'), ['net.ipv6.conf.eth0.router_solicitations=0']); // h1 solicits only with the RSs the test makes
  const r = ['acc1', 'acc2'].flatMap((d) => [
    `link set ${d} address 02:00:00:00:00:01 addrgenmode none`,
    `addr add fe80::1/64 dev ${d}`,
    `link set ${d} up`,
  ]);
  execFileSync('ip', ['-n', ns('r'), '-batch', '-'], { input: `${r.join('\n')}\nlink set lo up\n` });
  for (const h of ['h1', 'h2']) execFileSync('ip', ['-n', ns(h), '-batch', '-'], { input: 'link set lo up\nlink set eth0 up\n' });
}

describe.skipIf(!root)('NdpRouter: RS in, RA out, per access interface (root)', () => {
  let dir = '';
  let router: Agent;
  let h1: Agent;

  beforeAll(async () => {
    if (!existsSync(path.join(repo, 'dist/nodes/runtime/ndp.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repo, stdio: 'ignore' });
    buildNet();
    dir = mkdtempSync(path.join(tmpdir(), 'pl-h6nd-'));
    const script = path.join(dir, 'agent.mjs');
    writeFileSync(script, AGENT);
    router = startAgent(ns('r'), script);
    h1 = startAgent(ns('h1'), script);
    await router.until((l) => l.ev === 'ready');
    await h1.until((l) => l.ev === 'ready');
    expect((await router.cmd({ op: 'router' })).ev).toBe('done');
    for (const iface of ['acc1', 'acc2']) expect((await router.cmd({ op: 'add', iface })).ev).toBe('done');
  }, 30_000);

  afterAll(() => {
    router?.child.kill();
    h1?.child.kill();
    for (const n of NSS) spawnSync('ip', ['netns', 'del', n]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an interface that does not exist, with its name', async () => {
    const r = await router.cmd({ op: 'add', iface: 'nosuch9' });
    expect(r).toMatchObject({ ev: 'error' });
    expect(String(r.message)).toMatch(/nosuch9/);
  });

  it('reports each RS with the interface it came in on; malformed RSs are counted and dropped', async () => {
    // the hosts' kernels solicit when their link comes up
    const bounce = (h: string) => {
      execFileSync('ip', ['-n', ns(h), 'link', 'set', 'eth0', 'down']);
      execFileSync('ip', ['-n', ns(h), 'link', 'set', 'eth0', 'up']);
    };
    bounce('h2');
    const fromH2 = await router.until((l) => l.ev === 'rs' && l.iface === 'acc2', 6000);
    expect(fromH2.src).toBe(linkLocal('h2'));
    expect(fromH2.sll).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(router.lines.filter((l) => l.ev === 'rs' && l.iface === 'acc1')).toEqual([]); // h1 said nothing yet
    // hand-made RSs from h1: two malformed, then one good with a SLLAO we chose
    await h1.cmd({ op: 'raw', hex: '8500000000000000' + '0100000000000000', dst: 'ff02::2%eth0' }); // option length 0
    await h1.cmd({ op: 'raw', hex: '8501000000000000', dst: 'ff02::2%eth0' }); // code 1
    await h1.cmd({ op: 'raw', hex: '8500000000000000' + '0101aabbccddeeff', dst: 'ff02::2%eth0' });
    const good = await router.until((l) => l.ev === 'rs' && l.sll === 'aa:bb:cc:dd:ee:ff');
    expect(good).toMatchObject({ iface: 'acc1', src: linkLocal('h1') });
    const c = (await router.cmd({ op: 'noop' })).counters as { rsMalformed: number; rsReceived: number };
    expect(c.rsMalformed).toBe(2); // and nothing else: NS/NA/MLD never reach the socket (ICMP6 filter)
    expect(router.lines.filter((l) => l.ev === 'rs' && l.iface === 'acc1' && l.sll === 'aa:bb:cc:dd:ee:ff')).toHaveLength(1);
  });

  it('an RS with hop limit 64 is dropped and counted (RFC 4861 6.1.1); the same RS with 255 is answered', async () => {
    const rs = '8500000000000000' + '0101aabbccdd0064';
    await h1.cmd({ op: 'raw', hex: rs, dst: 'ff02::2%eth0', hops: 64 });
    await sleep(300);
    expect(router.lines.filter((l) => l.ev === 'rs' && l.sll === 'aa:bb:cc:dd:00:64')).toEqual([]);
    const c = (await router.cmd({ op: 'refresh' })).counters as { rsBadHopLimit: number; rsMalformed: number };
    expect(c.rsBadHopLimit).toBe(1);
    expect(c.rsMalformed).toBe(2); // the two of the test before: a hop-limit drop is not a malformed RS
    await h1.cmd({ op: 'raw', hex: rs, dst: 'ff02::2%eth0', hops: 255 });
    expect(await router.until((l) => l.ev === 'rs' && l.sll === 'aa:bb:cc:dd:00:64')).toMatchObject({ iface: 'acc1', src: linkLocal('h1') });
    expect(((await router.cmd({ op: 'refresh' })).counters as { rsBadHopLimit: number }).rsBadHopLimit).toBe(1);
  });

  it('a unicast RA to h1 on acc1 gives h1 an address from its prefix and h2 nothing; hop limit 255, source fe80::1, SLLAO', async () => {
    // the hand-made RSs above (hop limit 255, valid) made the router's kernel take their made-up SLLAO as h1's MAC
    execFileSync('ip', ['-n', ns('r'), 'neigh', 'flush', 'dev', 'acc1']);
    const cap = spawn('ip', ['netns', 'exec', ns('h1'), 'tcpdump', '-i', 'eth0', '-n', '-l', '-v', '-c', '1', 'icmp6 and ip6[40] == 134'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    cap.stdout.on('data', (d: Buffer) => (text += d.toString()));
    await new Promise<void>((r) => cap.stderr.once('data', () => r()));
    const r = await router.cmd({ op: 'ra', iface: 'acc1', prefixes: [{ hnp: P1, validLifetime: 3600, preferredLifetime: 1800 }], dst: linkLocal('h1') });
    expect(r.ev).toBe('done');
    const a = await addressIn('h1', P1);
    expect(a.preferred_life_time).toBeGreaterThan(1700);
    await new Promise((res) => cap.once('exit', res));
    expect(text).toMatch(/hlim 255/);
    expect(text).toMatch(new RegExp(`fe80::1 > ${linkLocal('h1')}: .*router advertisement`));
    expect(text).toMatch(/router lifetime 1800s/);
    expect(text).toMatch(/source link-address option .*02:00:00:00:00:01/);
    expect(text).toMatch(/2001:db8:a:11::\/64, Flags \[onlink, auto\], valid time 3600s, pref. time 1800s/);
    expect(execFileSync('ip', ['-n', ns('h1'), '-6', 'route', 'show', 'default'], { encoding: 'utf8' })).toMatch(/via fe80::1 dev eth0 proto ra/);
    await sleep(200);
    expect(globals('h2')).toEqual([]);
  });

  it('a multicast RA on acc2 reaches only h2', async () => {
    expect((await router.cmd({ op: 'ra', iface: 'acc2', prefixes: [{ hnp: P2, validLifetime: 600, preferredLifetime: 600 }] })).ev).toBe('done');
    await addressIn('h2', P2);
    await sleep(200);
    expect(globals('h1').some((a) => a.local?.startsWith('2001:db8:a:12:'))).toBe(false);
  });

  it('a deprecating RA makes the address deprecated (the host keeps it: RFC 4862 5.5.3 e)', async () => {
    expect((await router.cmd({ op: 'deprecate', iface: 'acc1', hnp: P1, dst: linkLocal('h1') })).ev).toBe('done');
    const end = Date.now() + 3000;
    let a: Addr | undefined;
    while (Date.now() < end) {
      a = globals('h1').find((x) => x.local?.startsWith('2001:db8:a:11:'));
      if (a?.deprecated) break;
      await sleep(25);
    }
    expect(a).toMatchObject({ deprecated: true, preferred_life_time: 0 });
  });

  it('an RA to an interface it does not serve is an error, not a crash', async () => {
    expect(await router.cmd({ op: 'ra', iface: 'acc9', prefixes: [] })).toMatchObject({ ev: 'error' });
    const c = (await router.cmd({ op: 'noop' })).counters as { raSent: number };
    expect(c.raSent).toBe(3);
  });
});
