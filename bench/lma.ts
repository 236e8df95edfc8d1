// LMA registration benchmark (root): registrations per second at one LMA from
// many simulated MAGs, binding cache persisted in Redis before every PBA.
// One namespace (pl<run>-lma) holds the LMA address and BENCH_LMA_MAGS proxy
// care-of addresses on lo. Per round, two processes run in it: a fresh LMA
// over an empty cache (LmaService, the role's own code: policy lookups, state
// machine, Redis writes, events on the bus) and a generator that keeps
// BENCH_LMA_WINDOW PBUs in flight, each a new attachment (HI=1) of a distinct
// MN, spread over the MAGs' sockets.
// Rate = registrations / (first PBU sent .. last PBA received); two modes side
// by side, round by round: without kernel programming, and with it (each PBA
// waits for its prefix's route in the LMA's kernel, seg6 or ip6tnl). Medians
// of BENCH_LMA_ROUNDS; also the LMA's (and its ip shell's) CPU time per
// registration, which does not depend on what else runs on the machine.
// Goal: >= 10,000 registrations/s with the binding cache persisted.
// Run: npm run bench:lma   (prints a table, writes bench/results/lma.json)

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { table } from '../orchestrator/cli/progress.js';
import { startRedis } from '../orchestrator/redis/server.js';
import { runPaths } from '../orchestrator/run/paths.js';
import { isRoot } from '../orchestrator/system/tools.js';
import { openDataPlane } from '../nodes/dataplane/index.js';
import { LmaService } from '../nodes/lma/service.js';
import { encodeMessage, type MessageOf } from '../nodes/protocol/index.js';
import { Bus } from '../nodes/runtime/bus.js';
import { PolicyStore } from '../nodes/runtime/policy-store.js';
import { fmt, median, quantile, writeResults } from './stats.js';

const MAGS = Number(process.env.BENCH_LMA_MAGS ?? 100);
const COUNT = Number(process.env.BENCH_LMA_COUNT ?? 20_000);
const ROUNDS = Number(process.env.BENCH_LMA_ROUNDS ?? 5);
const WINDOW = Number(process.env.BENCH_LMA_WINDOW ?? 256);
const RUN = 'blma';
const NS = `pl${RUN}-lma`;
const LMA_ADDR = '2001:db8:b::1';
const POOL = '2001:db8:a00::/40'; // 16M /64s: every round's MNs get fresh prefixes
const pCoA = (k: number) => `2001:db8:b:1::${(k + 1).toString(16)}`;
const mnId = (i: number) => `mn${i}@bench.example`;
const here = fileURLToPath(import.meta.url);

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`bench:lma: --${name} missing`);
  return v;
}

// ---- the LMA process (in the namespace)

/** CPU time of this process's children (the ip shell of the data plane), from /proc. */
function childrenCpuUs(): number {
  let total = 0;
  try {
    const pids = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += ((Number(f[11]) + Number(f[12])) / 100) * 1e6; // utime + stime, in clock ticks of 10 ms
    }
  } catch {
    // a child that just exited
  }
  return total;
}

async function lmaPart(): Promise<void> {
  const kernel = arg('kernel') === '1';
  const log = pino({ level: 'warn' }, pino.destination(2));
  const bus = await Bus.connect(arg('redis'), RUN, 'lma1');
  const dataplane = kernel ? await openDataPlane({ role: 'lma', local: LMA_ADDR, backhaulIf: 'lo', log }) : null;
  const svc = await LmaService.start({
    cfg: { name: 'lma1', timestamps: false, timestampWindowMs: 300, minDelayBeforeBceDeleteMs: 1000, maxLifetimeS: 3600, refreshAdviceS: 0 },
    pool: POOL,
    locals: [LMA_ADDR],
    transport: { mode: 'udp' },
    mags: Array.from({ length: MAGS }, (_, k) => ({ pCoA: pCoA(k), local: LMA_ADDR, iface: 'lo' })),
    heartbeat: { intervalMs: 0, missedMax: 3 },
    bus,
    policy: new PolicyStore(bus),
    policyCacheMs: 10_000,
    dataplane,
    log,
    pbaAfter: process.env.BENCH_LMA_PBA_AFTER === 'acknowledged' ? 'acknowledged' : 'handed-over',
  });
  const c0 = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ ready: true, backend: dataplane?.backend ?? 'none', cpuUs: c0.user + c0.system, childCpuUs: childrenCpuUs() })}\n`);
  const stop = async () => {
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ stats: svc.stats(), cpuUs: cpu.user + cpu.system, childCpuUs: childrenCpuUs() })}\n`);
    await svc.stop();
    await dataplane?.close();
    await bus.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.stdin.on('end', () => void stop());
  process.stdin.resume();
}

// ---- the generator process (in the namespace): simulated MAGs

interface RoundResult {
  count: number;
  seconds: number;
  rate: number;
  accepted: number;
  refused: number;
  retransmits: number;
  rttUsP50: number;
  rttUsP99: number;
}

function pbuFor(mn: string, seq: number): Uint8Array {
  const msg: MessageOf<'pbu'> = {
    kind: 'pbu',
    sequence: seq,
    flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true },
    lifetime: 900,
    options: [
      { kind: 'mnId', nai: mn },
      { kind: 'hnp', prefix: '::', prefixLength: 0 },
      { kind: 'handoffIndicator', value: 1 },
      { kind: 'accessTechnologyType', value: 4 },
      { kind: 'mnLinkLayerId', identifier: '02706c000001' },
    ],
  };
  return Uint8Array.from(encodeMessage(msg));
}

async function genRound(socks: dgram.Socket[], first: number, count: number, seqs: number[]): Promise<RoundResult> {
  const inflight = new Map<number, { sock: number; bytes: Uint8Array; sentNs: bigint; firstNs: bigint }>(); // key: sock << 16 | seq
  const rtts: number[] = [];
  let next = 0;
  let done = 0;
  let accepted = 0;
  let refused = 0;
  let retransmits = 0;
  const t0 = process.hrtime.bigint();
  let resolveDone: () => void = () => undefined;
  const finished = new Promise<void>((r) => (resolveDone = r));

  const sendOne = () => {
    const i = next++;
    const k = i % socks.length;
    const seq = (seqs[k] = ((seqs[k] ?? 0) + 1) & 0xffff);
    const bytes = pbuFor(mnId(first + i), seq);
    const now = process.hrtime.bigint();
    inflight.set(k * 65536 + seq, { sock: k, bytes, sentNs: now, firstNs: now });
    socks[k]!.send(bytes, 5436, LMA_ADDR);
  };
  const onPba = (k: number, msg: Buffer) => {
    if (msg.length < 12 || msg[2] !== 6) return;
    const seq = msg.readUInt16BE(8);
    const e = inflight.get(k * 65536 + seq);
    if (!e) return; // a duplicate answer to a retransmission
    inflight.delete(k * 65536 + seq);
    rtts.push(Number(process.hrtime.bigint() - e.firstNs) / 1000);
    if (msg[6] === 0) accepted++;
    else refused++;
    done++;
    if (next < count) sendOne();
    if (done === count) resolveDone();
  };
  socks.forEach((s, k) => {
    s.removeAllListeners('message');
    s.on('message', (m) => onPba(k, m));
  });
  // a PBA lost in a full socket buffer: retransmit (same sequence: the LMA answers it as a retransmission)
  const retry = setInterval(() => {
    const now = process.hrtime.bigint();
    for (const e of inflight.values()) {
      if (now - e.sentNs > 300_000_000n) {
        e.sentNs = now;
        retransmits++;
        socks[e.sock]!.send(e.bytes, 5436, LMA_ADDR);
      }
    }
  }, 100);
  for (let i = 0; i < Math.min(WINDOW, count); i++) sendOne();
  await finished;
  clearInterval(retry);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { count, seconds, rate: count / seconds, accepted, refused, retransmits, rttUsP50: median(rtts), rttUsP99: quantile(rtts, 0.99) };
}

async function genPart(): Promise<void> {
  const rounds = Number(arg('rounds'));
  const count = Number(arg('count'));
  const offset = Number(arg('offset'));
  const socks: dgram.Socket[] = [];
  for (let k = 0; k < MAGS; k++) {
    const s = dgram.createSocket({ type: 'udp6', ipv6Only: true, recvBufferSize: 1 << 20 });
    await new Promise<void>((r) => s.bind(5436, pCoA(k), () => r()));
    socks.push(s);
  }
  const seqs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const res = await genRound(socks, offset + r * count, count, seqs);
    process.stdout.write(`${JSON.stringify({ round: r, ...res })}\n`);
    await new Promise((x) => setTimeout(x, 200));
  }
  for (const s of socks) s.close();
}

// ---- the driver (root namespace)

function ip(args: string[], input?: string): void {
  const r = spawnSync('ip', args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

function inNs(args: string[], nodeFlags: string[] = []): ChildProcess {
  return spawn('ip', ['netns', 'exec', NS, process.execPath, ...nodeFlags, here, ...args, `--pmiplab-run=${RUN}`], { stdio: ['pipe', 'pipe', 'inherit'] });
}
/** BENCH_LMA_PROFILE=DIR: a CPU profile of the LMA process per mode, for finding where the time goes */
const profile = (tag: string) => (process.env.BENCH_LMA_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_LMA_PROFILE}`, `--cpu-prof-name=lma-${tag}.cpuprofile`] : []);
const MODES = (process.env.BENCH_LMA_MODES ?? 'plain,kernel').split(',');

function lines(p: ChildProcess): AsyncIterableIterator<string> {
  return readline.createInterface({ input: p.stdout! })[Symbol.asyncIterator]();
}

export interface LmaBenchRound extends RoundResult {
  /** LMA process CPU (user + system) from ready to stop, per registration */
  lmaCpuUs: number;
  /** its ip shell's CPU, per registration (kernel mode) */
  ipCpuUs: number;
}

export interface LmaBenchMode {
  kernel: boolean;
  backend: string;
  rounds: LmaBenchRound[];
  medianRate: number;
  /** median LMA CPU per registration: what the rate would be bounded by on a free core */
  cpuUsPerRegistration: number;
  lmaStats: unknown[];
}

/** One round of one mode: a fresh LMA over an empty binding cache, one generator run. */
async function benchRound(redisUrl: string, kernel: boolean, tag: string): Promise<{ backend: string; result: LmaBenchRound; stats: unknown }> {
  const lma = inNs(['--part', 'lma', '--kernel', kernel ? '1' : '0', '--redis', redisUrl], profile(tag));
  children.add(lma);
  const out = lines(lma);
  try {
    const ready = JSON.parse((await out.next()).value as string) as { backend: string; cpuUs: number; childCpuUs: number };
    const gen = inNs(['--part', 'gen', '--rounds', '1', '--count', String(COUNT), '--offset', '0']);
    children.add(gen);
    let result: RoundResult | undefined;
    for await (const l of lines(gen)) result = JSON.parse(l) as RoundResult;
    children.delete(gen);
    if (!result) throw new Error('bench:lma: the generator gave no result');
    lma.kill('SIGTERM');
    const end = JSON.parse((await out.next()).value as string) as { stats: unknown; cpuUs: number; childCpuUs: number };
    const res = { ...result, lmaCpuUs: (end.cpuUs - ready.cpuUs) / COUNT, ipCpuUs: (end.childCpuUs - ready.childCpuUs) / COUNT };
    return { backend: ready.backend, result: res, stats: end.stats };
  } finally {
    // let it exit by itself (a CPU profile is written at exit), then make sure
    if (lma.exitCode === null && lma.signalCode === null) {
      const exited = new Promise((r) => lma.once('exit', r));
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    }
    lma.kill('SIGKILL');
    children.delete(lma);
  }
}

const children = new Set<ChildProcess>();

/** The whole benchmark; returns both modes (also printed and written to bench/results/lma.json). */
export async function runLmaBench(): Promise<LmaBenchMode[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-bench-lma-'));
  spawnSync('ip', ['netns', 'del', NS]);
  const redis = await startRedis(runPaths(RUN, dir), { redisUrl: '' });
  // a Ctrl-C or a closed pipe must not leave the namespace, Redis or the children behind
  const leftovers = () => {
    for (const c of children) c.kill('SIGKILL');
    if (redis.pid) process.kill(redis.pid, 'SIGKILL');
    spawnSync('ip', ['netns', 'del', NS]);
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => {
    leftovers();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', leftovers);
  const modes = new Map<boolean, LmaBenchMode>();
  try {
    ip(['netns', 'add', NS]);
    const addrs = [`addr add ${LMA_ADDR}/128 dev lo nodad`, ...Array.from({ length: MAGS }, (_, k) => `addr add ${pCoA(k)}/128 dev lo nodad`)];
    ip(['-n', NS, '-6', '-batch', '-'], `link set lo up\n${addrs.join('\n')}\n`);

    // policy: every MAG and the MNs of one round (each round starts over with an empty cache and pool)
    const bus = await Bus.connect(redis.url, RUN, 'orchestrator');
    const store = new PolicyStore(bus);
    await Promise.all(Array.from({ length: MAGS }, (_, k) => store.putMag({ name: `mag${k}`, address: pCoA(k), lma: 'lma1' })));
    for (let i = 0; i < COUNT; i += 5000) {
      await Promise.all(
        Array.from({ length: Math.min(5000, COUNT - i) }, (_, j) =>
          bus.call('SET', bus.key(`policy:mn:${mnId(i + j)}`), JSON.stringify({ mnId: mnId(i + j), lma: 'lma1', mags: ['*'], interfaces: [] })),
        ),
      );
    }
    const lmaKeys = ['bce', 'hnp', 'pool'].map((k) => bus.key(`lma:lma1:${k}`));

    // the two modes side by side, round by round
    for (let r = 0; r < ROUNDS; r++) {
      for (const kernel of [false, true]) {
        const tag = kernel ? 'kernel' : 'plain';
        if (!MODES.includes(tag)) continue;
        await bus.call('DEL', ...lmaKeys);
        // seg6 routes hold per-CPU memory: this kernel refuses more than ~45k of them in all
        ip(['-n', NS, '-6', 'route', 'flush', 'table', 'main']);
        const { backend, result, stats } = await benchRound(redis.url, kernel, `${tag}-${r}`);
        let m = modes.get(kernel);
        if (!m) modes.set(kernel, (m = { kernel, backend, rounds: [], medianRate: 0, cpuUsPerRegistration: 0, lmaStats: [] }));
        m.rounds.push(result);
        m.lmaStats.push(stats);
        process.stderr.write(
          `lma ${kernel ? 'kernel' : 'no kernel'} round ${r}: ${fmt(result.rate, 0)}/s, LMA CPU ${fmt(result.lmaCpuUs, 1)} us/reg, ip ${fmt(result.ipCpuUs, 1)} us/reg, rtt p50 ${fmt(result.rttUsP50, 0)} us, retransmits ${result.retransmits}, refused ${result.refused}\n`,
        );
      }
    }
    await bus.close();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', leftovers);
    for (const c of children) c.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', NS]);
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const all = [...modes.values()];
  for (const m of all) {
    m.medianRate = median(m.rounds.map((r) => r.rate));
    m.cpuUsPerRegistration = median(m.rounds.map((r) => r.lmaCpuUs));
  }
  const rows = all.map((m) => [
    m.kernel ? `yes (${m.backend})` : 'no',
    String(MAGS),
    String(COUNT),
    fmt(m.medianRate, 0),
    fmt(m.cpuUsPerRegistration, 1),
    fmt(median(m.rounds.map((r) => r.rttUsP50)), 0),
    fmt(median(m.rounds.map((r) => r.rttUsP99)), 0),
    String(m.rounds.reduce((a, r) => a + r.retransmits, 0)),
    m.medianRate >= 10_000 ? 'yes' : 'NO',
  ]);
  process.stdout.write(
    [
      '',
      `LMA registrations/s (a new MN each, binding cache persisted in Redis before each PBA, events on the bus, ${WINDOW} PBUs in flight), median of ${ROUNDS}`,
      table([['kernel routes', 'MAGs', 'per round', 'registrations/s', 'LMA CPU us/reg', 'RTT p50 us', 'RTT p99 us', 'retransmits', '>= 10,000/s'], ...rows]),
      '',
    ].join('\n'),
  );
  const machine = { cpus: os.cpus().length, kernel: os.release(), node: process.version, loadavg: os.loadavg() };
  process.stdout.write(`results: ${writeResults('lma', { machine, mags: MAGS, perRound: COUNT, window: WINDOW, modes: all })}\n`);
  return all;
}

const part = process.argv.includes('--part') ? arg('part') : null;
if (part === 'lma') await lmaPart();
else if (part === 'gen') await genPart();
else if (process.argv[1] === here) {
  if (!isRoot()) {
    process.stderr.write('bench:lma needs root (a network namespace with the MAG addresses)\n');
    process.exit(1);
  }
  await runLmaBench();
}
