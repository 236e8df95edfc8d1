import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { launchNodes, type NodeProcesses } from '../launch/launcher.js';
import { addProcess, buildNetwork, cleanupRuns, recordRun, setOwner, setRedisUrl } from '../netns/index.js';
import { scriptFor } from '../netns/build.js';
import { procStartTime } from '../netns/state.js';
import { startRedis, type RedisHandle } from '../redis/server.js';
import { ErrorCodes, PmipError } from '../errors.js';
import { processTag, runPaths, type RunPaths } from '../run/paths.js';
import { requireRoot, requireTool } from '../system/tools.js';
import { loadTopology } from '../topology/load.js';
import { planTopology } from '../topology/planner.js';
import type { Plan } from '../topology/plan.js';
import type { Progress } from '../cli/progress.js';
import { guardTeardown, type Guard } from './guard.js';
import { chooseRunId } from './runid.js';
import { startCapture, type CaptureHandle } from '../launch/capture.js';
import { seedPolicy } from '../policy/seed.js';

// A running emulated domain: built in a fixed order (plan, namespaces and
// links, Redis, node processes, captures) and torn down in reverse, on success,
// on error, on Ctrl-C or SIGTERM (Mininet's life cycle, containerlab's verbs).

export interface UpOptions {
  id?: string;
  /** capture every interface of every node from the start */
  capture?: boolean;
  /** namespaces and links only: no Redis, no node processes */
  networkOnly?: boolean;
  /** leave the run up when this process exits (pmiplab up); otherwise the caller calls down() */
  detach?: boolean;
  readyTimeoutMs?: number;
  progress: Progress;
}

export class Lab {
  redis: RedisHandle | null = null;
  nodes: NodeProcesses | null = null;
  captures: CaptureHandle[] = [];
  private guard: Guard | null = null;
  private downing: Promise<void> | null = null;
  /** the bring-up steps in flight (labUp): teardown waits for them, so nothing they start is missed */
  bringUp: Promise<unknown> | null = null;
  /** set when teardown begins: bring-up stops at its next step */
  aborted = false;

  constructor(
    readonly plan: Plan,
    readonly paths: RunPaths,
    private readonly progress: Progress,
  ) {}

  get runId(): string {
    return this.plan.runId;
  }

  /** Guard the run against signals and uncaught errors until released. */
  protect(): void {
    this.guard ??= guardTeardown(`run ${this.runId}`, () => this.down());
  }

  /** Stop guarding: the run outlives this process (detached) or was torn down. */
  release(): void {
    this.guard?.release();
    this.guard = null;
  }

  /** Reverse order: nodes (graceful stop), captures (flushed), Redis, then everything else of the run. */
  down(): Promise<void> {
    this.downing ??= this.teardown();
    return this.downing;
  }

  private async teardown(): Promise<void> {
    this.aborted = true;
    // A signal may come in the middle of a bring-up step (an ip batch still
    // making namespaces, a redis-server or node being spawned): let that step
    // end first, or the cleanup below runs before what it makes exists and
    // this process exits leaving it behind. Stopping the nodes first ends a
    // waitReady in flight at once.
    if (this.bringUp) {
      this.nodes?.stopAll(3000).catch(() => undefined);
      await this.bringUp.catch(() => undefined);
    }
    const step = this.progress.step(`tearing down run ${this.runId}`);
    const errors: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        errors.push(`${what}: ${(err as Error).message}`);
      }
    };
    if (this.nodes) await attempt('stopping nodes', () => this.nodes!.stopAll(3000));
    for (const c of this.captures) await attempt('stopping capture', () => c.stop());
    if (this.redis) await attempt('stopping redis', () => this.redis!.stop());
    // whatever is left (processes started with exec inside the namespaces,
    // the namespaces themselves) goes with the run's cleanup
    await attempt('removing namespaces', async () => {
      const r = await cleanupRuns({ runIds: [this.runId], runsDir: path.dirname(this.paths.dir) });
      const survivors = r.runs.flatMap((x) => x.survivors);
      if (survivors.length) throw new Error(`processes survived SIGKILL: ${survivors.map((s) => s.pid).join(', ')}`);
    });
    this.release();
    if (errors.length) {
      step.fail(errors.join('; '));
      throw new Error(`teardown of run ${this.runId}: ${errors.join('; ')}`);
    }
    step.done();
  }
}

/**
 * A network-only run that outlives the CLI has no process of its own; a
 * sleeping process in its first namespace stands for it (cleanup kills it with
 * the namespace's other processes).
 */
async function startKeeper(lab: Lab): Promise<number | undefined> {
  const first = lab.plan.nodes[0];
  if (!first) return undefined;
  // a shell loop rather than `sleep infinity`: sh keeps the run tag in its argv
  const child = spawn('ip', ['netns', 'exec', first.netns, 'sh', '-c', 'while :; do sleep 3600; done', processTag(lab.runId)], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  if (!child.pid) return undefined;
  for (let i = 0; i < 50 && procStartTime(child.pid) === null; i++) await new Promise((r) => setTimeout(r, 10));
  await addProcess(lab.runId, { pid: child.pid, role: 'other', name: 'keeper' });
  return child.pid;
}

/** Validate, plan and bring a topology up. Nothing is built when the file or plan is refused. */
export async function labUp(file: string, opts: UpOptions): Promise<Lab> {
  const { progress } = opts;
  const source = path.resolve(file);
  const topo = loadTopology(source); // bad input stops here, before anything exists
  requireRoot('pmiplab up');
  requireTool('ip');
  const runId = chooseRunId(opts.id);
  const plan = planTopology(topo, source, runId);
  await scriptFor(plan); // refuses what this kernel cannot do (netem), still before anything exists
  if (!opts.networkOnly) requireTool('redis-server');
  if (opts.capture) requireTool('tcpdump');

  const paths = runPaths(runId);
  // a torn-down run's id may be used again: where its moves left the MN
  // interfaces (links.json) says nothing about the new run
  rmSync(path.join(paths.dir, 'links.json'), { force: true });
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.pcaps, { recursive: true });
  writeFileSync(paths.plan, `${JSON.stringify(plan, null, 2)}\n`);
  recordRun(plan);
  const lab = new Lab(plan, paths, progress);
  lab.protect();
  progress.info(`run ${runId}: ${plan.name} (${plan.nodes.length} nodes, ${plan.links.length} links)`);

  // each step leaves what it made on the lab before the next one looks at
  // lab.aborted, so a teardown that waits for this promise sees all of it
  const steps = async () => {
    const interrupted = () => {
      if (lab.aborted) throw new PmipError(ErrorCodes.runtime, `bring-up of run ${runId} interrupted`);
    };
    const net = progress.step('namespaces, links, addresses');
    await buildNetwork(plan, { onProgress: (_s, done, total) => net.update(done, total) });
    net.done();
    interrupted();

    if (!opts.networkOnly) {
      const rs = progress.step('redis');
      lab.redis = await startRedis(paths);
      if (lab.redis.pid) await addProcess(runId, { pid: lab.redis.pid, role: 'redis', name: 'redis' });
      await setRedisUrl(runId, lab.redis.url);
      rs.done(lab.redis.external ? `(REDIS_URL ${lab.redis.url})` : '');
      interrupted();

      const ps = progress.step('policy store');
      const seed = await seedPolicy(plan, lab.redis.url);
      ps.done(`${seed.mns.length} MNs, ${seed.mags.length} MAGs`);

      const ns = progress.step('node processes');
      lab.nodes = await launchNodes(plan, paths, lab.redis.url, {
        persistent: opts.detach ?? false,
        onProgress: (p) => ns.update(p.ready, p.total, p.node),
      });
      interrupted();
      // the launcher starts at most 32 at a time: record those running now, then the rest once all are up
      const recorded = new Set<number>();
      const record = () =>
        Promise.all(
          lab.nodes!.pids().filter((p) => !recorded.has(p.pid) && recorded.add(p.pid)).map((p) => addProcess(runId, { pid: p.pid, role: 'node', name: p.node })),
        );
      await record();
      await lab.nodes.waitReady(opts.readyTimeoutMs ?? 30_000);
      await record();
      ns.done(`${plan.nodes.length} ready`);
      interrupted();
    }

    if (opts.capture) {
      const cs = progress.step('captures');
      lab.captures = (await startCapture(plan, paths, 'all')).handles;
      for (const c of lab.captures) await addProcess(runId, { pid: c.pid, role: 'capture', name: `${c.node}:${c.iface}` });
      cs.done(`${lab.captures.length} interfaces into ${paths.pcaps}`);
      interrupted();
    }
  };
  lab.bringUp = steps();
  try {
    await lab.bringUp;
  } catch (err) {
    await lab.down().catch(() => undefined); // the first error says what went wrong
    throw err;
  }

  if (opts.detach) {
    // hand the run to a process that lives on, so cleanup sees it as up
    const heir = lab.redis?.pid ?? lab.nodes?.pids()[0]?.pid ?? lab.captures[0]?.pid ?? (await startKeeper(lab));
    const startTime = heir ? procStartTime(heir) : null;
    if (heir && startTime) await setOwner(runId, { pid: heir, startTime });
    lab.release();
  }
  return lab;
}
