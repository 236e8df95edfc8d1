import { fstatSync } from 'node:fs';
import type { NodeArgs } from './args.js';
import { Bus, type BusCommand, type CommandReader } from './bus.js';
import { createNodeLog } from './log.js';
import { identifyNetns } from './netns.js';
import { loadOwnPlan } from './plan-file.js';
import path from 'node:path';
import type { Role } from './role.js';
import { roles } from './roles.js';

// Life cycle of one node process: log, plan, bus, role, ready; then commands
// until stop (command, SIGTERM, SIGINT, SIGHUP, or the orchestrator's end of
// stdin closing); then stopping, role stop, bus close, log flush, exit.

export const ExitCode = { ok: 0, failed: 1, badStart: 2, redisLost: 3 } as const;

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

export async function runNode(args: NodeArgs, exit: (code: number) => never): Promise<void> {
  const { log, flush } = createNodeLog(args.log, { run: args.run, node: args.node, kind: args.kind });
  let bus: Bus | null = null;
  let reader: CommandReader | null = null;
  let role: Role | null = null;
  let stopping = false;

  const shutdown = async (reason: string, code: number, replyTo?: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'stopping');
    if (bus && code !== ExitCode.redisLost) {
      await withTimeout(bus.emit('stopping', { reason }, replyTo), 1000).catch(() => {});
    }
    await withTimeout(role?.stop() ?? Promise.resolve(), 3000).catch((err: unknown) =>
      log.error({ err }, 'role stop failed'),
    );
    await reader?.stop();
    await bus?.close().catch(() => {});
    log.info({ code }, 'exit');
    await flush();
    exit(code);
  };

  // Signals first: a Ctrl-C during start-up must also end in an orderly exit.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void shutdown(sig, ExitCode.ok));
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    void shutdown('uncaught exception', ExitCode.failed);
  });
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled rejection');
    void shutdown('unhandled rejection', ExitCode.failed);
  });
  watchParent(() => void shutdown('orchestrator gone (stdin closed)', ExitCode.ok));

  let plan;
  try {
    plan = loadOwnPlan(args.plan, args.node, args.kind, args.run);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'bad plan');
    return shutdown('bad plan', ExitCode.badStart);
  }

  try {
    bus = await Bus.connect(args.redis, args.run, args.node, {
      onMalformed: (e) => log.warn(e, 'malformed bus entry skipped'),
      onLost: (err) => {
        log.fatal({ err: err.message }, 'Redis gone');
        void shutdown('Redis gone', ExitCode.redisLost);
      },
    });
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'cannot reach the bus');
    return shutdown('no bus', ExitCode.redisLost);
  }

  const factory = roles[args.kind];
  if (factory) {
    try {
      role = await factory();
      // the plan file is runs/<id>/plans/<node>.json
      const runDir = path.dirname(path.dirname(path.resolve(args.plan)));
      await role.start({ runId: args.run, node: plan.self, plan: plan.plan, bus, log, runDir });
    } catch (err) {
      log.fatal({ err }, 'role start failed');
      await bus.emit('error', { message: `role start failed: ${(err as Error).message}` }).catch(() => {});
      return shutdown('role start failed', ExitCode.failed);
    }
  }

  const b = bus;
  const onCommand = async (cmd: BusCommand) => {
    switch (cmd.type) {
      case 'ping':
        return b.emit('pong', { rssMb: mb(process.memoryUsage.rss()) }, cmd.id);
      case 'stop':
        return void shutdown('stop command', ExitCode.ok, cmd.id);
      default:
        if (role?.onCommand && (await role.onCommand(cmd))) return;
        log.warn({ cmd: cmd.type, id: cmd.id }, 'unknown command');
        return b.emit('error', { message: `unknown command '${cmd.type}'` }, cmd.id);
    }
  };
  reader = await bus.readCommands(args.node, onCommand, (err, cmd) => {
    log.error({ err, cmd: cmd.type }, 'command failed');
    void b.emit('error', { message: `${cmd.type} failed: ${(err as Error).message}` }, cmd.id).catch(() => {});
  });
  reader.done.catch((err: unknown) => {
    log.fatal({ err }, 'command stream failed');
    void shutdown('command stream failed', ExitCode.redisLost);
  });

  const ns = identifyNetns(plan.self.netns);
  const ready = {
    pid: process.pid,
    netns: ns.name,
    netnsInode: ns.inode,
    rssMb: mb(process.memoryUsage.rss()),
    startMs: Math.round(performance.now()),
  };
  if (stopping) return;
  await bus.emit('ready', ready);
  log.info(ready, 'ready');
}

/** The launcher gives each node a pipe as stdin: EOF means the orchestrator died. */
function watchParent(onGone: () => void): void {
  try {
    // Node's child_process hands out a socketpair for 'pipe', a shell a FIFO;
    // a terminal or /dev/null (a detached run) means nobody to watch
    const st = fstatSync(0);
    if (!st.isFIFO() && !st.isSocket()) return;
  } catch {
    return;
  }
  process.stdin.on('end', onGone);
  process.stdin.on('error', onGone);
  process.stdin.resume();
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
