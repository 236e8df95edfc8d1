import os from 'node:os';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { Bus, type EventStream } from '../../nodes/runtime/bus.js';
import { ErrorCodes, PmipError } from '../errors.js';
import { processTag, type RunPaths } from '../run/paths.js';
import { requireTool } from '../system/tools.js';
import { planView, type Plan, type PlanNode } from '../topology/plan.js';
import { isAlive, killGroup, rssMbOf, tailFile } from './proc.js';

// One Node.js process per plan node, inside its namespace:
//   ip netns exec <ns> node [flags] dist/nodes/runtime/node.bundle.cjs --run ... --pmiplab-run=<id>
// `ip netns exec` execs (no fork), so the pid we get is the node process.
// Each child is its own process group (detached): a Ctrl-C in the terminal
// reaches only the orchestrator, which stops nodes in order; stdin is a pipe
// whose EOF tells a node the orchestrator died, so none outlives it silently.
// stdout/stderr append to the node's log, next to its pino lines, so a crash
// trace or an `ip` error ends up where waitReady quotes from.

export interface LaunchProgress {
  total: number;
  started: number;
  ready: number;
  /** the node whose state just changed */
  node: string;
  state: 'started' | 'ready' | 'exited';
}

export interface LaunchOptions {
  onProgress?: (p: LaunchProgress) => void;
  /** max nodes started but not yet ready (spreads CPU and memory); default 32 */
  concurrency?: number;
  /** extra flags for the node binary (default: NODE_FLAGS) */
  nodeFlags?: string[];
  /**
   * Nodes outlive this process (a detached `pmiplab up`): no stdin pipe, so
   * the orchestrator exiting is not taken as its death; `pmiplab down` stops them.
   */
  persistent?: boolean;
}

export interface NodeExit {
  node: string;
  pid: number;
  code: number | null;
  signal: string | null;
  /** true when stopAll asked for it */
  expected: boolean;
}

export interface NodeProcesses {
  /** Resolves when every node has emitted `ready`; fails at once if a node exits first. */
  waitReady(timeoutMs: number): Promise<void>;
  pids(): Array<{ node: string; pid: number }>;
  rssMb(): Promise<Array<{ node: string; rssMb: number | null }>>;
  /** Every exit is reported; `expected` is false for a crash. Returns an unsubscribe function. */
  onExit(cb: (e: NodeExit) => void): () => void;
  /** stop command, then SIGTERM, then SIGKILL (per process group); resolves when all are gone. */
  stopAll(timeoutMs?: number): Promise<NodeExit[]>;
  /** the orchestrator's bus connection used by the launcher (request/ping etc.) */
  bus: Bus;
  /** Kill one node's process group (a scenario's crash); resolves when it is gone. Reported with expected = true. */
  kill(node: string, signal?: NodeJS.Signals): Promise<NodeExit | null>;
  /** Start a node again (after kill or a crash) and wait for its `ready`. */
  restart(node: string, timeoutMs?: number): Promise<void>;
}

/**
 * Flags for every node process: a small young generation keeps RSS down
 * (start-up allocates little and the default 16 MB semi-space is mostly
 * empty pages kept resident).
 */
export const NODE_FLAGS = ['--max-semi-space-size=1', '--v8-pool-size=1'];

/**
 * The node entry, found from this module's own location (src or dist), not
 * the cwd: dist/nodes/runtime/node.bundle.cjs (npm run build), which starts
 * in about half the CPU of the tsc output; dist/nodes/runtime/main.js
 * when there is no bundle or it is older than main.js (a tsc-only build after
 * an edit: a stale bundle would run old code).
 */
export function nodeMainPath(kind?: PlanNode['kind']): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new PmipError(ErrorCodes.runtime, 'cannot find the pmiplab package root');
    dir = up;
  }
  const runtime = path.join(dir, 'dist', 'nodes', 'runtime');
  const main = path.join(runtime, 'main.js');
  if (!existsSync(main)) throw new PmipError(ErrorCodes.runtime, `${main} is missing`, 'run npm run build');
  const fresh = (f: string) => existsSync(f) && statSync(f).mtimeMs >= statSync(main).mtimeMs;
  // a kind's own bundle holds only its role (about 10 MB less RSS per process than all roles)
  const own = kind ? path.join(runtime, `node-${kind}.bundle.cjs`) : '';
  if (own && fresh(own)) return own;
  const bundle = path.join(runtime, 'node.bundle.cjs');
  return fresh(bundle) ? bundle : main;
}

interface Child {
  node: PlanNode;
  pid: number;
  exit: NodeExit | null;
  exited: Promise<void>;
}

export async function launchNodes(
  plan: Plan,
  paths: RunPaths,
  redisUrl: string,
  opts: LaunchOptions = {},
): Promise<NodeProcesses> {
  const ip = requireTool('ip');
  nodeMainPath(); // fails early (no build) before anything is spawned
  const flags = opts.nodeFlags ?? NODE_FLAGS;
  const concurrency = Math.max(1, opts.concurrency ?? 32);
  mkdirSync(paths.logs, { recursive: true });
  // nodes read the plan file; the lab writes it first, hand-made plans may not have
  if (!existsSync(paths.plan)) writeFileSync(paths.plan, JSON.stringify(plan, null, 2));
  // each node reads only its view of the plan (itself, its links, its peers)
  mkdirSync(path.dirname(paths.nodePlan('x')), { recursive: true });
  for (const n of plan.nodes) writeFileSync(paths.nodePlan(n.name), JSON.stringify(planView(plan, n.name)));

  const bus = await Bus.connect(redisUrl, paths.id, 'orchestrator');
  const children = new Map<string, Child>();
  const ready = new Set<string>();
  const killing = new Set<number>(); // pids a scenario kills on purpose
  const exitListeners = new Set<(e: NodeExit) => void>();
  const changed = new Set<() => void>(); // wakes waitReady and the spawn gate
  const notify = () => changed.forEach((f) => f());
  let stopping = false;
  const total = plan.nodes.length;
  const progress = (node: string, state: LaunchProgress['state']) =>
    opts.onProgress?.({ total, started: children.size, ready: ready.size, node, state });

  // Read events from before the first spawn, so no `ready` is missed.
  const events: EventStream = bus.events('$');
  void (async () => {
    try {
      for await (const ev of events) {
        const c = children.get(ev.node);
        // a ready from a process killed since (its event read late) does not count for its successor
        if (ev.type !== 'ready' || !c || c.exit || ready.has(ev.node)) continue;
        // (ip netns exec execs the node: the pid it reports is the one we spawned)
        const pid = (ev.data as { pid?: unknown } | undefined)?.pid;
        if (typeof pid === 'number' && pid !== c.pid) continue;
        ready.add(ev.node);
        progress(ev.node, 'ready');
        notify();
      }
    } catch {
      // Redis gone: nodes exit too, and that is reported through onExit
    }
  })();

  const spawnOne = (node: PlanNode) => {
    const log = paths.nodeLog(node.name);
    const args = ['netns', 'exec', node.netns, process.execPath, ...flags, nodeMainPath(node.kind),
      '--run', paths.id, '--node', node.name, '--kind', node.kind,
      '--redis', redisUrl, '--plan', paths.nodePlan(node.name), '--log', log, processTag(paths.id)];
    const sub = execa(ip, args, {
      stdin: opts.persistent ? 'ignore' : 'pipe',
      stdout: { file: log, append: true },
      stderr: { file: log, append: true },
      detached: true,
      cleanup: false,
      reject: false,
      buffer: false,
    });
    if (sub.pid === undefined) throw new PmipError(ErrorCodes.runtime, `could not start node ${node.name}`);
    raisePriority(sub.pid, node.kind);
    const child: Child = { node, pid: sub.pid, exit: null, exited: Promise.resolve() };
    ready.delete(node.name); // a restart: wait for the new process's own ready
    children.set(node.name, child);
    sub.stdin?.on('error', () => {}); // EPIPE when the node is already gone
    // `exited` settles only after `exit` is recorded, so waiters see it set
    child.exited = sub.then((r) => {
      const exit: NodeExit = { node: node.name, pid: child.pid, code: r.exitCode ?? null, signal: r.signal ?? null, expected: stopping || killing.has(child.pid) };
      child.exit = exit;
      progress(node.name, 'exited');
      exitListeners.forEach((cb) => cb(exit));
      notify();
    });
    progress(node.name, 'started');
  };

  const starting = () => [...children.values()].filter((c) => !c.exit && !ready.has(c.node.name)).length;
  const waitChange = () => new Promise<void>((resolve) => {
    const f = () => {
      changed.delete(f);
      resolve();
    };
    changed.add(f);
  });

  // Spawn in the background, at most `concurrency` nodes starting at a time.
  const spawning = (async () => {
    for (const node of plan.nodes) {
      while (!stopping && starting() >= concurrency) await waitChange();
      if (stopping) return;
      spawnOne(node);
    }
  })();
  let spawnError: unknown = null;
  spawning.catch((err: unknown) => {
    spawnError = err;
    notify();
  });

  const failure = (): unknown => {
    if (spawnError) return spawnError;
    const dead = [...children.values()].find((c) => c.exit && !ready.has(c.node.name));
    if (!dead?.exit) return null;
    const how = dead.exit.signal ? `signal ${dead.exit.signal}` : `code ${dead.exit.code}`;
    return new PmipError(
      ErrorCodes.runtime,
      `node ${dead.node.name} exited (${how}) before it was ready:\n${indent(tailFile(paths.nodeLog(dead.node.name), 6))}`,
      `see ${paths.nodeLog(dead.node.name)}`,
      { node: dead.node.name, code: dead.exit.code, signal: dead.exit.signal },
    );
  };

  /** Resolves at the next change (a node ready or gone) or after ms, whichever comes first. */
  const changeOrTimeout = async (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([waitChange(), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  };

  const waitReady = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const err = failure();
      if (err) throw err;
      if (ready.size === total) return;
      // stopAll (a teardown) ends the wait at once, not at the timeout
      if (stopping) throw new PmipError(ErrorCodes.runtime, `nodes were stopped before all were ready (${ready.size} of ${total})`);
      const left = deadline - Date.now();
      if (left <= 0) break;
      await changeOrTimeout(left);
    }
    const missing = plan.nodes.filter((n) => !ready.has(n.name)).map((n) => n.name);
    const shown = missing.slice(0, 5).map((n) => `${n}:\n${indent(tailFile(paths.nodeLog(n), 4))}`);
    throw new PmipError(
      ErrorCodes.timeout,
      `${missing.length} of ${total} nodes not ready after ${timeoutMs} ms: ${missing.join(', ')}\n${shown.join('\n')}`,
      `see ${paths.logs}/<node>.log`,
      { notReady: missing },
    );
  };

  const alive = () => [...children.values()].filter((c) => !c.exit);
  const allGone = (until: number) =>
    Promise.race([
      Promise.all(alive().map((c) => c.exited)).then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, until - Date.now()))),
    ]);

  let stopped: Promise<NodeExit[]> | null = null;
  const stopAll = (timeoutMs = 5000) =>
    (stopped ??= (async () => {
      stopping = true;
      notify(); // release the spawn gate
      await spawning.catch(() => {});
      const t0 = Date.now();
      // 1. ask politely over the bus (nodes not yet reading commands get SIGTERM below)
      // (not awaited on its own: a stopped Redis never answers, and the signals below must still come)
      void Promise.all(alive().map((c) => bus.sendCommand(c.node.name, 'stop').catch(() => {})));
      if (!(await allGone(t0 + timeoutMs * 0.5))) {
        alive().forEach((c) => killGroup(c.pid, 'SIGTERM'));
        if (!(await allGone(t0 + timeoutMs * 0.8))) {
          alive().forEach((c) => killGroup(c.pid, 'SIGKILL'));
          await allGone(Date.now() + 5000);
        }
      }
      events.close();
      await bus.close();
      return [...children.values()].flatMap((c) => (c.exit ? [c.exit] : []));
    })());

  const kill = async (name: string, signal: NodeJS.Signals = 'SIGKILL') => {
    const c = children.get(name);
    if (!c) throw new PmipError(ErrorCodes.badInput, `no node '${name}' in run ${paths.id}`);
    if (c.exit) return c.exit;
    killing.add(c.pid);
    killGroup(c.pid, signal);
    await c.exited;
    return c.exit;
  };

  const restart = async (name: string, timeoutMs = 15_000) => {
    const c = children.get(name);
    if (!c) throw new PmipError(ErrorCodes.badInput, `no node '${name}' in run ${paths.id}`);
    if (!c.exit) await kill(name);
    if (stopping) throw new PmipError(ErrorCodes.runtime, `run ${paths.id} is stopping: ${name} not restarted`);
    spawnOne(c.node);
    const next = children.get(name)!;
    const deadline = Date.now() + timeoutMs;
    while (!ready.has(name)) {
      if (next.exit) throw new PmipError(ErrorCodes.runtime, `node ${name} exited again while restarting:\n${indent(tailFile(paths.nodeLog(name), 6))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new PmipError(ErrorCodes.timeout, `node ${name} not ready ${timeoutMs} ms after its restart`, `see ${paths.nodeLog(name)}`);
      await changeOrTimeout(left);
    }
  };

  return {
    bus,
    waitReady,
    stopAll,
    kill,
    restart,
    pids: () => [...children.values()].map((c) => ({ node: c.node.name, pid: c.pid })),
    rssMb: async () =>
      [...children.values()].map((c) => ({ node: c.node.name, rssMb: c.exit || !isAlive(c.pid) ? null : rssMbOf(c.pid) })),
    onExit: (cb) => {
      exitListeners.add(cb);
      return () => exitListeners.delete(cb);
    },
  };
}

/**
 * CPU priority by role. On one host every node shares a few cores, but in the
 * network being emulated the LMA and MAGs are boxes of their own: signaling
 * must not queue behind the MN's and CN's traffic generators (1,000 probes/s
 * each way wake those every millisecond). So the mobility agents get a higher
 * priority (nice -10; inherited by the ip processes they start), hosts stay at 0.
 */
export const NICE_BY_KIND: Record<PlanNode['kind'], number> = { lma: -10, mag: -10, mn: 0, cn: 0 };

function raisePriority(pid: number, kind: PlanNode['kind']): void {
  const nice = NICE_BY_KIND[kind];
  if (!nice) return;
  try {
    os.setPriority(pid, nice);
  } catch {
    // not permitted (not root): the run still works, only less isolated
  }
}

const indent = (lines: string[]) => (lines.length ? lines.map((l) => `    ${l}`).join('\n') : '    (log empty)');
