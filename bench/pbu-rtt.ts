// PBU-to-PBA round trip at the MAG (root), against a bare Node UDP echo over
// the same veth: topologies/handover-basic.yaml with all its processes, and a
// client process in mag1's namespace that runs, in rotating order each round,
//   - echo:   the same PBU bytes to a dgram echo server in lma1's namespace
//             (the floor: Node's UDP send/receive both ways, nothing else);
//   - lma:    a PBU (the MAG's own buildPbu + MhTransport) to the running LMA
//             process: policy lookup in Redis, binding cache persisted in
//             Redis and the kernel route set before its PBA (its design);
//   - logic:  the same LMA service (LmaService) in a process of its own in
//             lma1's namespace, with no Redis and no kernel (in-memory policy
//             and store stand-ins): the service's own hops without I/O;
//   - core:   in that process, the LMA's RFC 5213 PBU processing
//             (processPbu, the pure state machine LmaService runs) answering
//             in the MhTransport callback: the codec, the transport and the
//             protocol logic, nothing else.
// One round trip at a time; each round takes `count` samples per target
// after `warm` unrecorded ones, targets side by side in rotating order; the
// ratio of a target is the median over rounds of its round median divided by
// the echo's round median (a busy host drifts between rounds, not within
// one), next to the plain ratio of the overall medians.
// Run: npm run bench (or node dist/bench/pbu-rtt.js); writes bench/results/pbu-rtt.json.

import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { buildPbu, readPba, TimestampClock } from '../nodes/mag/messages.js';
import { BindingCache } from '../nodes/lma/binding-cache.js';
import { lmaConfig, parseLmaOptions } from '../nodes/lma/config.js';
import { HnpPool } from '../nodes/lma/hnp-pool.js';
import { processPbu } from '../nodes/lma/pbu-processing.js';
import { LmaService } from '../nodes/lma/service.js';
import { encodeMessage, withChecksum, parseIpv6Into } from '../nodes/protocol/index.js';
import { Bus } from '../nodes/runtime/bus.js';
import { MhTransport } from '../nodes/runtime/mh-transport.js';
import { PolicyStore, type MnProfile } from '../nodes/runtime/policy-store.js';
import { silentProgress, table } from '../orchestrator/cli/progress.js';
import { labUp } from '../orchestrator/lab/lab.js';
import { processTag } from '../orchestrator/run/paths.js';
import { isRoot } from '../orchestrator/system/tools.js';
import { fmt, median, quantile, writeResults } from './stats.js';

const PCOA = '2001:db8:b:1::1';
const LMAA = '2001:db8:b:1::2';
const PORT = { client: 5438, logic: 5439, echo: 5440, core: 5441, lma: 5436 } as const;
type Target = 'echo' | 'core' | 'logic' | 'lma';
const TARGETS: Target[] = ['echo', 'core', 'logic', 'lma'];

export interface PbuRttOptions {
  rounds?: number; // default 7
  count?: number; // samples per target per round, default 300
  warm?: number; // unrecorded round trips per target per round, default 50
  runId?: string;
}

export interface PbuRttResult {
  machine: { cpus: number; kernel: string; node: string; loadavg: number[] };
  rounds: number;
  count: number;
  bytes: { pbu: number };
  /** medians of all samples, microseconds */
  medianUs: Record<Target, number>;
  p90Us: Record<Target, number>;
  /** per-round medians */
  roundMediansUs: Record<Target, number[]>;
  lost: Record<Target, number>;
  /** median over rounds of (target round median / echo round median) */
  ratio: { core: number; logic: number; lma: number };
  /** overall median / overall echo median */
  ratioOfMedians: { core: number; logic: number; lma: number };
  goal: number;
  goalMet: { core: boolean; logic: boolean; lma: boolean };
}

const here = fileURLToPath(import.meta.url);
const bytesOf = (a: string) => {
  const b = new Uint8Array(16);
  if (!parseIpv6Into(a, b, 0)) throw new Error(`not an address: ${a}`);
  return b;
};

function benchProfile(n: number): MnProfile {
  return {
    mnId: `bench${n}@pmiplab.example`,
    lma: 'lma1',
    mags: ['*'],
    interfaces: [{ iface: 'wlan0', llId: `02:be:0c:00:00:0${n}`, att: 4, prefixes: [] }],
  };
}

// ---------------------------------------------------------------- children

/** lma1 namespace: the echo server and the LMA logic without Redis or kernel. */
async function serve(): Promise<void> {
  const log = pino({ level: 'silent' });
  const echo = dgram.createSocket({ type: 'udp6', ipv6Only: true });
  echo.on('message', (buf, r) => echo.send(buf, r.port, r.address));
  await new Promise<void>((resolve) => echo.bind({ address: LMAA, port: PORT.echo }, resolve));
  const profile = benchProfile(2);
  const svc = await LmaService.start({
    cfg: lmaConfig('lma1', parseLmaOptions({ backend: 'none', heartbeatIntervalMs: 0 })),
    pool: '2001:db8:a::/48',
    locals: [LMAA],
    transport: { mode: 'udp', port: PORT.logic },
    mags: [],
    heartbeat: { intervalMs: 0, missedMax: 3 },
    // stand-ins for Redis: an empty store that takes every write at once
    bus: { call: async (cmd) => (cmd === 'HGETALL' ? [] : 0), key: (s) => `bench:${s}`, emit: async () => undefined },
    policy: {
      mn: async (id) => (id === profile.mnId ? profile : null),
      magByAddress: async (a) => (a === PCOA ? { name: 'mag1', address: PCOA, lma: 'lma1' } : null),
    },
    dataplane: null,
    log,
  });
  // core: the pure PBU processing answering inside the socket callback
  const cache = new BindingCache();
  const pool = new HnpPool('2001:db8:a::/48');
  const cfg = lmaConfig('lma1', parseLmaOptions({ backend: 'none' }));
  const core = await MhTransport.open({ mode: 'udp', bind: LMAA, port: PORT.core, log });
  const mag = { name: 'mag1' };
  const coreProfile = benchProfile(3);
  core.onMessage((m) => {
    if (m.msg.kind !== 'pbu') return;
    const out = processPbu(cache, pool, cfg, { pbu: m.msg, src: m.src, mag, mn: coreProfile, nowMs: Number(process.hrtime.bigint()) / 1e6, wallMs: Date.now() });
    core.send(out.pba, m.src, m.port);
  });
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('end', resolve).resume());
  await svc.stop();
  await core.close();
  echo.close();
}

interface Sampler {
  once(): Promise<number | null>; // microseconds, null = lost
}

/** mag1 namespace: the MAG side of each target. */
async function client(rounds: number, count: number, warm: number): Promise<void> {
  const log = pino({ level: 'silent' });
  const clock = new TimestampClock();
  const transports: Record<'lma' | 'logic' | 'core', MhTransport> = {
    lma: await MhTransport.open({ mode: 'udp', bind: PCOA, port: PORT.client, peerPort: PORT.lma, log }),
    logic: await MhTransport.open({ mode: 'udp', bind: PCOA, port: PORT.client + 10, peerPort: PORT.logic, log }),
    core: await MhTransport.open({ mode: 'udp', bind: PCOA, port: PORT.client + 30, peerPort: PORT.core, log }),
  };
  let seq = 1;
  let pbuBytes = 0;
  const pbuSampler = (t: 'lma' | 'logic' | 'core', mn: MnProfile): Sampler => {
    const tr = transports[t];
    let waiting: { seq: number; done: (rxNs: bigint) => void } | null = null;
    let hnp = '::/0';
    tr.onMessage((m) => {
      if (m.msg.kind !== 'pba' || !waiting || m.msg.sequence !== waiting.seq) return;
      const p = readPba(m.msg); // the MAG reads the PBA as the role does; its decode is inside the sample
      if (p?.hnps[0] && p.status === 0) hnp = p.hnps[0];
      waiting.done(process.hrtime.bigint());
    });
    const iface = mn.interfaces[0] as MnProfile['interfaces'][number];
    return {
      once: () =>
        new Promise((resolve) => {
          seq = (seq + 1) & 0xffff;
          const t0 = process.hrtime.bigint();
          const timer = setTimeout(() => {
            waiting = null;
            resolve(null);
          }, 1000);
          waiting = {
            seq,
            done: (rx) => {
              clearTimeout(timer);
              waiting = null;
              resolve(Number(rx - t0) / 1e3);
            },
          };
          const msg = buildPbu({ seq, lifetimeS: 60, hi: hnp === '::/0' ? 1 : 5, hnps: hnp === '::/0' ? [] : [hnp], mnId: mn.mnId, llId: iface.llId, att: iface.att, linkLocal: 'fe80::1', timestamp: clock.next() });
          pbuBytes = encodeMessage(msg).length;
          tr.send(msg, LMAA);
        }),
    };
  };
  const echoSock = dgram.createSocket({ type: 'udp6', ipv6Only: true });
  await new Promise<void>((resolve) => echoSock.bind({ address: PCOA, port: PORT.client + 20 }, resolve));
  // the bytes a PBU has on the wire (checksummed like MhTransport does), copied per send as MhTransport does
  const sample = buildPbu({ seq: 1, lifetimeS: 60, hi: 5, hnps: ['2001:db8:a:ffff::/64'], mnId: benchProfile(1).mnId, llId: '02:be:0c:00:00:01', att: 4, linkLocal: 'fe80::1', timestamp: clock.next() });
  const wire = withChecksum(Uint8Array.from(encodeMessage(sample)), bytesOf(PCOA), bytesOf(LMAA));
  let echoDone: ((rx: bigint) => void) | null = null;
  echoSock.on('message', () => echoDone?.(process.hrtime.bigint()));
  const echo: Sampler = {
    once: () =>
      new Promise((resolve) => {
        const t0 = process.hrtime.bigint();
        const timer = setTimeout(() => {
          echoDone = null;
          resolve(null);
        }, 1000);
        echoDone = (rx) => {
          clearTimeout(timer);
          echoDone = null;
          resolve(Number(rx - t0) / 1e3);
        };
        echoSock.send(Uint8Array.from(wire), PORT.echo, LMAA);
      }),
  };
  const samplers: Record<Target, Sampler> = {
    echo,
    core: pbuSampler('core', benchProfile(3)),
    logic: pbuSampler('logic', benchProfile(2)),
    lma: pbuSampler('lma', benchProfile(1)),
  };
  const all: Record<Target, number[]> = { echo: [], core: [], logic: [], lma: [] };
  const perRound: Record<Target, number[]> = { echo: [], core: [], logic: [], lma: [] };
  const lost: Record<Target, number> = { echo: 0, core: 0, logic: 0, lma: 0 };
  for (let r = 0; r < rounds; r++) {
    const order = TARGETS.map((_, i) => TARGETS[(i + r) % TARGETS.length] as Target);
    for (const t of order) {
      const xs: number[] = [];
      for (let i = 0; i < warm + count; i++) {
        const us = await samplers[t].once();
        if (i < warm) continue;
        if (us === null) lost[t]++;
        else xs.push(us);
      }
      all[t].push(...xs);
      perRound[t].push(median(xs));
    }
    process.stderr.write(`pbu-rtt round ${r + 1}/${rounds}: ${TARGETS.map((t) => `${t} ${fmt(perRound[t].at(-1) ?? NaN)} us`).join(', ')}\n`);
  }
  process.stdout.write(`${JSON.stringify({ all, perRound, lost, pbuBytes })}\n`);
  echoSock.close();
  await Promise.all(Object.values(transports).map((t) => t.close()));
}

// ---------------------------------------------------------------- parent

function inNetns(netns: string, args: string[], runId: string): ChildProcess {
  return spawn('ip', ['netns', 'exec', netns, process.execPath, here, ...args, processTag(runId)], { stdio: ['pipe', 'pipe', 'inherit'] });
}

async function firstLine(child: ChildProcess, what: string): Promise<string> {
  const rl = readline.createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before answering`)));
    rl.once('line', resolve);
  });
}

export async function benchPbuRtt(opts: PbuRttOptions = {}): Promise<PbuRttResult> {
  const rounds = opts.rounds ?? Number(process.env.BENCH_PBU_ROUNDS ?? 7);
  const count = opts.count ?? Number(process.env.BENCH_PBU_COUNT ?? 300);
  const warm = opts.warm ?? 50;
  const repo = path.resolve(path.dirname(here), '..', '..');
  const lab = await labUp(path.join(repo, 'topologies', 'handover-basic.yaml'), { id: opts.runId ?? 'bpbu', progress: silentProgress });
  const ns = (node: string) => lab.plan.nodes.find((n) => n.name === node)?.netns ?? `pl${lab.runId}-${node}`;
  let server: ChildProcess | undefined;
  let cl: ChildProcess | undefined;
  try {
    const bus = await Bus.connect(lab.redis!.url, lab.runId, 'orchestrator');
    try {
      await new PolicyStore(bus).putMn(benchProfile(1)); // the running LMA serves this one
    } finally {
      await bus.close();
    }
    server = inNetns(ns('lma1'), ['--serve'], lab.runId);
    await firstLine(server, 'the lma1 side');
    cl = inNetns(ns('mag1'), ['--client', String(rounds), String(count), String(warm)], lab.runId);
    const out = JSON.parse(await firstLine(cl, 'the mag1 side')) as {
      all: Record<Target, number[]>;
      perRound: Record<Target, number[]>;
      lost: Record<Target, number>;
      pbuBytes: number;
    };
    const med = (t: Target) => median(out.all[t]);
    const medianUs = { echo: med('echo'), core: med('core'), logic: med('logic'), lma: med('lma') };
    const perRound = (t: Target) => median(out.perRound[t].map((x, i) => x / (out.perRound.echo[i] as number)));
    const ratio = { core: perRound('core'), logic: perRound('logic'), lma: perRound('lma') };
    const ratioOfMedians = { core: medianUs.core / medianUs.echo, logic: medianUs.logic / medianUs.echo, lma: medianUs.lma / medianUs.echo };
    return {
      machine: { cpus: os.cpus().length, kernel: os.release(), node: process.version, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100) },
      rounds,
      count,
      bytes: { pbu: out.pbuBytes },
      medianUs,
      p90Us: { echo: quantile(out.all.echo, 0.9), core: quantile(out.all.core, 0.9), logic: quantile(out.all.logic, 0.9), lma: quantile(out.all.lma, 0.9) },
      roundMediansUs: out.perRound,
      lost: out.lost,
      ratio,
      ratioOfMedians,
      goal: 1.3,
      goalMet: { core: ratio.core <= 1.3, logic: ratio.logic <= 1.3, lma: ratio.lma <= 1.3 },
    };
  } finally {
    cl?.kill();
    server?.stdin?.end();
    server?.kill();
    await lab.down();
  }
}

export function pbuRttTable(r: PbuRttResult): string {
  const row = (name: string, t: Target, ratio?: number) => [
    name,
    fmt(r.medianUs[t]),
    fmt(r.p90Us[t]),
    `${fmt(Math.min(...r.roundMediansUs[t]))}-${fmt(Math.max(...r.roundMediansUs[t]))}`,
    String(r.lost[t]),
    ratio === undefined ? '1.00' : fmt(ratio, 2),
  ];
  return [
    `PBU -> PBA round trip at mag1 over its veth to lma1, ${r.rounds} rounds x ${r.count} samples per target, rotating order; ${r.bytes.pbu}-octet PBU; load ${r.machine.loadavg.join(' ')}`,
    table([
      ['target', 'median us', 'p90 us', 'round medians', 'lost', 'x echo (per round)'],
      row('bare UDP echo (same bytes)', 'echo'),
      row('PBU processing in the socket callback', 'core', r.ratio.core),
      row('LMA service, no Redis, no kernel', 'logic', r.ratio.logic),
      row('running LMA (Redis + kernel before PBA)', 'lma', r.ratio.lma),
    ]),
    `goal <= ${r.goal}x echo: processing ${r.goalMet.core ? 'yes' : 'NO'}, service ${r.goalMet.logic ? 'yes' : 'NO'}, running LMA ${r.goalMet.lma ? 'yes' : 'NO'}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--pmiplab-run='));
  if (args[0] === '--serve') return serve();
  if (args[0] === '--client') return client(Number(args[1]), Number(args[2]), Number(args[3]));
  if (!isRoot()) {
    process.stderr.write('bench:pbu-rtt needs root (network namespaces)\n');
    process.exit(1);
  }
  const r = await benchPbuRtt();
  process.stdout.write(`\n${pbuRttTable(r)}\n`);
  process.stdout.write(`results: ${writeResults('pbu-rtt', r)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
