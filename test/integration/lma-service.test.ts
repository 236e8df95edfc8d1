import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDataPlane, type DataPlane } from '../../nodes/dataplane/index.js';
import type { LmaConfig } from '../../nodes/lma/config.js';
import { LmaService } from '../../nodes/lma/service.js';
import { encodeMessage, type MessageOf, type MobilityOption } from '../../nodes/protocol/index.js';
import { Bus, type BusEvent } from '../../nodes/runtime/bus.js';
import { MhTransport, type Inbound } from '../../nodes/runtime/mh-transport.js';
import { PolicyStore } from '../../nodes/runtime/policy-store.js';
import { startRedis, type RedisHandle } from '../../orchestrator/redis/server.js';
import { runPaths } from '../../orchestrator/run/paths.js';
import { isRoot, whichTool } from '../../orchestrator/system/tools.js';

// Root only. The LMA service against a real redis-server and a real kernel:
// signaling over UDP on loopback (the simulated MAG is ::1, on another port),
// the data plane programmed in a namespace of its own (pl<run>-lma) with the
// backend this kernel offers. Persistence and recovery: bindings and the pool
// survive a restart, the kernel is reprogrammed, no prefix is given twice.

const root = isRoot();
if (!root) console.warn('test/integration/lma-service.test.ts skipped: needs root (network namespace, data plane)');

const runId = 'h6lm';
const NS = `pl${runId}-lma`;
const LMA_PORT = 40000 + (process.pid % 5000) * 2;
const MAG_PORT = LMA_PORT + 1;
const MAG = '::1';
const POOL = '2001:db8:a::/48';
const log = pino({ level: process.env.LMA_TEST_LOG ?? 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cfg = (over: Partial<LmaConfig> = {}): LmaConfig => ({
  name: 'lma1',
  timestamps: false,
  timestampWindowMs: 300,
  minDelayBeforeBceDeleteMs: 200,
  maxLifetimeS: 3600,
  refreshAdviceS: 0,
  ...over,
});

function pbu(mnId: string, seq: number, opts: { hi?: number; lifetime?: number; hnp?: string; llId?: string } = {}): MessageOf<'pbu'> {
  const [prefix, len] = (opts.hnp ?? '::/0').split('/');
  const options: MobilityOption[] = [
    { kind: 'mnId', nai: mnId },
    { kind: 'hnp', prefix: prefix!, prefixLength: Number(len) },
    { kind: 'handoffIndicator', value: opts.hi ?? 1 },
    { kind: 'accessTechnologyType', value: 4 },
    { kind: 'mnLinkLayerId', identifier: opts.llId ?? '0270aa000001' },
  ];
  return { kind: 'pbu', sequence: seq, flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true }, lifetime: opts.lifetime ?? 100, options };
}

const hnpOf = (m: MessageOf<'pba'>) => {
  const h = m.options.find((o) => o.kind === 'hnp');
  return h && h.kind === 'hnp' ? `${h.prefix}/${h.prefixLength}` : undefined;
};
const routes = (): string => execFileSync('ip', ['-n', NS, '-6', 'route', 'show'], { encoding: 'utf8' });

describe.skipIf(!root || !whichTool('redis-server'))('LMA service: Redis persistence, recovery, kernel (root)', () => {
  let dir = '';
  let redis: RedisHandle;
  let bus: Bus; // the LMA's
  let orch: Bus; // the test's own view (events, policy)
  let policy: PolicyStore;
  let mag: MhTransport;
  const inbox: Inbound[] = [];
  let dp: DataPlane | null = null;
  let lma: LmaService | null = null;

  const startLma = async (over: Partial<LmaConfig> = {}, heartbeat = { intervalMs: 0, missedMax: 3 }) => {
    dp = await openDataPlane({ role: 'lma', local: ['2001:db8:b:1::2'], backhaulIf: 'v0', log, netns: NS });
    lma = await LmaService.start({
      cfg: cfg(over),
      pool: POOL,
      locals: ['::1'],
      transport: { mode: 'udp', port: LMA_PORT, peerPort: MAG_PORT },
      mags: [{ pCoA: MAG, local: '::1', iface: 'v0' }],
      heartbeat,
      bus,
      policy,
      policyCacheMs: 0, // tests change the store between registrations
      dataplane: dp,
      log,
    });
    return lma;
  };
  const stopLma = async () => {
    await lma?.stop();
    await dp?.close();
    lma = null;
    dp = null;
  };
  /** Send a PBU from the MAG and wait for its PBA. */
  const register = async (msg: MessageOf<'pbu'>): Promise<MessageOf<'pba'>> => {
    const from = inbox.length;
    mag.send(msg, '::1', LMA_PORT);
    const end = Date.now() + 3000;
    for (;;) {
      const got = inbox.slice(from).find((m) => m.msg.kind === 'pba' && m.msg.sequence === msg.sequence);
      if (got && got.msg.kind === 'pba') return got.msg;
      if (Date.now() > end) throw new Error(`no PBA for sequence ${msg.sequence}`);
      await sleep(2);
    }
  };
  const eventsSince = async (from: string, want: (e: BusEvent) => boolean, ms = 3000) =>
    orch.waitForEvents(want, ms, from);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pllm-'));
    redis = await startRedis(runPaths(runId, dir), { redisUrl: '' });
    bus = await Bus.connect(redis.url, runId, 'lma1');
    orch = await Bus.connect(redis.url, runId, 'orchestrator');
    policy = new PolicyStore(orch);
    spawnSync('ip', ['netns', 'del', NS]);
    for (const args of [
      ['netns', 'add', NS],
      ['-n', NS, 'link', 'set', 'lo', 'up'],
      ['-n', NS, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'],
      ['-n', NS, 'link', 'set', 'v0', 'up'],
      ['-n', NS, 'link', 'set', 'v1', 'up'],
    ]) execFileSync('ip', args);
    mag = await MhTransport.open({ mode: 'udp', bind: '::1', port: MAG_PORT, peerPort: LMA_PORT, log });
    mag.onMessage((m) => {
      inbox.push(m);
      // play a MAG that answers heartbeats only while `answering`
      if (m.msg.kind === 'heartbeat' && !m.msg.flags.R && answering) {
        mag.send({ kind: 'heartbeat', flags: { U: false, R: true }, sequence: m.msg.sequence, options: [] }, m.src, m.port);
      }
    });
  });
  let answering = true;

  afterAll(async () => {
    await stopLma();
    await mag?.close();
    await bus?.close();
    await orch?.close();
    await redis?.stop();
    spawnSync('ip', ['netns', 'del', NS]);
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await orch.deleteRunKeys();
    await policy.putMag({ name: 'mag1', address: MAG, lma: 'lma1' });
    for (const n of [1, 2, 3]) {
      await policy.putMn({ mnId: `mn${n}@x`, lma: 'lma1', mags: ['*'], interfaces: [{ iface: 'wlan0', llId: `02:70:aa:00:00:0${n}`, att: 4, prefixes: [] }] });
    }
    execFileSync('ip', ['-n', NS, '-6', 'route', 'flush', 'table', 'main', 'dev', 'v0']);
  });
  afterEach(stopLma);

  it('registers from the pool, stores the binding in Redis before the PBA, programs the route', async () => {
    const l = await startLma();
    const pba = await register(pbu('mn1@x', 10));
    expect(pba).toMatchObject({ status: 0, lifetime: 100, sequence: 10 });
    expect(hnpOf(pba)).toBe('2001:db8:a:ffff::/64');
    const stored = await orch.call('HGETALL', orch.key('lma:lma1:bce'));
    expect(Array.isArray(stored) && stored.length).toBe(2);
    expect(JSON.parse(String((stored as string[])[1]))).toMatchObject({ mnId: 'mn1@x', pCoA: MAG, hnps: ['2001:db8:a:ffff::/64'], state: 'active', seq: 10 });
    expect(await orch.call('HGET', orch.key('lma:lma1:hnp'), '2001:db8:a:ffff::/64')).toBe('mn1@x');
    expect(routes()).toMatch(/2001:db8:a:ffff::\/64 +encap (seg6 mode encap.red segs 1 \[ ::1 \]|ip6) .*dev v0/);
    expect(l.stats()).toMatchObject({ bindings: 1, pbuReceived: 1, pbaSent: 1, malformed: 0 });
  });

  it('refuses a MAG that is not in the policy store with 154 and keeps nothing', async () => {
    await orch.call('DEL', orch.key('policy:mag:::1'));
    const l = await startLma();
    const pba = await register(pbu('mn1@x', 1));
    expect(pba.status).toBe(154);
    expect(await orch.call('HLEN', orch.key('lma:lma1:bce'))).toBe(0);
    expect(l.cache.size).toBe(0);
    expect(routes()).not.toContain('2001:db8:a:');
  });

  it('recovers bindings after a restart: same cache, kernel reprogrammed, event, no prefix given twice', async () => {
    const before = await orch.lastId('events');
    await startLma();
    const p1 = hnpOf(await register(pbu('mn1@x', 1)));
    const p2 = hnpOf(await register(pbu('mn2@x', 1, { llId: '0270aa000002' })));
    const cacheBefore = lma!.bindings();
    await stopLma(); // as a kill: no de-registration, kernel state stays
    // make the kernel forget, so the restart has to put the routes back
    execFileSync('ip', ['-n', NS, '-6', 'route', 'flush', 'table', 'main', 'dev', 'v0']);
    expect(routes()).not.toContain('2001:db8:a:');

    const mark = await orch.lastId('events');
    const l = await startLma();
    const byKey = (bs: typeof cacheBefore) => [...bs].sort((a, b) => a.mnId.localeCompare(b.mnId));
    expect(byKey(l.bindings())).toEqual(byKey(cacheBefore));
    const ev = await eventsSince(mark, (e) => e.type === 'bindings-recovered' && e.node === 'lma1');
    expect(ev.data).toEqual({ count: 2 });
    expect(routes()).toContain(p1!);
    expect(routes()).toContain(p2!);
    // the MAG's next refresh continues the session; a new MN gets a new prefix
    const refresh = await register(pbu('mn1@x', 2, { hi: 5, hnp: p1 }));
    expect(refresh).toMatchObject({ status: 0 });
    expect(hnpOf(refresh)).toBe(p1);
    const p3 = hnpOf(await register(pbu('mn3@x', 1, { llId: '0270aa000003' })));
    expect(new Set([p1, p2, p3]).size).toBe(3);
    expect(p3).toBe('2001:db8:a:fffd::/64');
    const created = await orch.waitForEvents(
      (() => {
        let n = 0;
        return (e: BusEvent) => e.type === 'binding-created' && ++n === 3;
      })(),
      3000,
      before,
    );
    expect(created.data).toMatchObject({ mnId: 'mn3@x', hnp: p3 });
  });

  it('a de-registered binding goes from Redis and the kernel after the minimum delay, also across a restart', async () => {
    await startLma({ minDelayBeforeBceDeleteMs: 300 });
    const p1 = hnpOf(await register(pbu('mn1@x', 1)))!;
    const dereg = await register(pbu('mn1@x', 2, { lifetime: 0, hnp: p1 }));
    expect(dereg).toMatchObject({ status: 0, lifetime: 0 });
    expect(routes()).not.toContain(p1);
    expect(await orch.call('HLEN', orch.key('lma:lma1:bce'))).toBe(1);
    await stopLma();
    await sleep(400);
    const l = await startLma({ minDelayBeforeBceDeleteMs: 300 });
    expect(l.cache.size).toBe(0);
    await expect.poll(() => orch.call('HLEN', orch.key('lma:lma1:bce'))).toBe(0);
    expect(await orch.call('HGET', orch.key('lma:lma1:hnp'), p1)).toBe('mn1@x');
  });

  it('heartbeat: a MAG that stops answering is failed after the allowed misses, and up again when it answers', async () => {
    const mark = await orch.lastId('events');
    answering = true;
    await startLma({}, { intervalMs: 50, missedMax: 3 });
    await eventsSince(mark, (e) => e.type === 'peer-state' && (e.data as { state: string }).state === 'up');
    answering = false;
    const failed = await eventsSince(mark, (e) => e.type === 'peer-state' && (e.data as { state: string }).state === 'failed');
    expect(failed.data).toEqual({ peer: MAG, state: 'failed', missed: 3 });
    const mark2 = await orch.lastId('events');
    answering = true;
    const up = await eventsSince(mark2, (e) => e.type === 'peer-state');
    expect(up.data).toEqual({ peer: MAG, state: 'up', missed: 0 });
    // and it answers the MAG's own requests
    const from = inbox.length;
    mag.send({ kind: 'heartbeat', flags: { U: false, R: false }, sequence: 77, options: [] }, '::1', LMA_PORT);
    await expect.poll(() => inbox.slice(from).some((m) => m.msg.kind === 'heartbeat' && m.msg.flags.R && m.msg.sequence === 77)).toBe(true);
    answering = true;
  });

  it('garbage and mutated messages are counted and change nothing', async () => {
    const l = await startLma();
    await register(pbu('mn1@x', 1));
    const snapshot = JSON.stringify(l.bindings());
    const s = dgram.createSocket('udp6');
    await new Promise<void>((r) => s.bind(0, '::1', () => r()));
    // an MN the policy store does not know: whatever still decodes is refused (152)
    const good = Uint8Array.from(encodeMessage(pbu('fuzz@x', 2, { hi: 5 })));
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const b = Uint8Array.from(good);
      if (i % 2) for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      else b[1] = (b[1]! + 1 + (i % 5)) & 0xff; // wrong header length
      await new Promise<void>((r) => s.send(i % 3 === 0 ? b.subarray(0, Math.floor(rnd() * b.length)) : b, LMA_PORT, '::1', () => r()));
      // the LMA runs in this process: let it read (a socket buffer holds a few hundred datagrams)
      if (i % 50 === 49) await sleep(5);
    }
    s.close();
    // every datagram is accounted for: decoded (1 registration + the fuzz that still parses) or malformed
    await expect.poll(() => l.stats().transport.rx + l.stats().transport.malformed, { timeout: 5000 }).toBe(2001);
    await sleep(100);
    expect(JSON.stringify(l.bindings())).toBe(snapshot);
    expect(l.stats().malformed).toBeGreaterThan(500);
    expect(l.stats().counters.byStatus['0']).toBe(1);
  });
});
