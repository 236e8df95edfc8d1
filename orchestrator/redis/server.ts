import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { Bus } from '../../nodes/runtime/bus.js';
import { unixUrl } from '../../nodes/runtime/redis-url.js';
import { ErrorCodes, PmipError } from '../errors.js';
import { processTag, type RunPaths } from '../run/paths.js';
import { requireTool } from '../system/tools.js';
import { exitedPromise, isAlive, tailFile } from '../launch/proc.js';

// The run's private Redis: a redis-server on a unix socket in the run folder,
// no TCP, no persistence, in its own process group (a Ctrl-C in the terminal
// must not take the bus down before the nodes are stopped). Its process title
// carries the run tag, so a cleanup after kill -9 finds it by argv.

export interface RedisHandle {
  /** What nodes and the bus connect to: unix:///... or the REDIS_URL given. */
  url: string;
  /** true when REDIS_URL was used: nothing was spawned, stop() only deletes this run's keys */
  external: boolean;
  pid: number | null;
  socketPath: string | null;
  /** set when runs/<id>/redis.sock was too long and the socket lives under /run/pmiplab/ */
  socketFallback: string | null;
  stop(): Promise<void>;
}

/** sun_path holds 108 bytes including the terminating NUL. */
export const SUN_PATH_MAX = 107;
export const FALLBACK_SOCKET_DIR = '/run/pmiplab';

/** The socket path to use for a run, and whether it had to fall back to a short one. */
export function chooseSocketPath(paths: RunPaths): { socket: string; fallback: boolean } {
  if (Buffer.byteLength(paths.redisSocket) <= SUN_PATH_MAX) return { socket: paths.redisSocket, fallback: false };
  return { socket: path.join(FALLBACK_SOCKET_DIR, `redis-${paths.id}.sock`), fallback: true };
}

export interface StartRedisOptions {
  /** how long to wait for the first PONG */
  timeoutMs?: number;
  /** defaults to process.env.REDIS_URL */
  redisUrl?: string;
}

export async function startRedis(paths: RunPaths, opts: StartRedisOptions = {}): Promise<RedisHandle> {
  const external = opts.redisUrl ?? process.env.REDIS_URL;
  if (external) return useExternal(external, paths);

  const bin = requireTool('redis-server');
  mkdirSync(path.dirname(paths.redisLog), { recursive: true });
  const { socket, fallback } = chooseSocketPath(paths);
  if (fallback) mkdirSync(FALLBACK_SOCKET_DIR, { recursive: true, mode: 0o700 });
  rmSync(socket, { force: true }); // a stale socket of a crashed run would look alive to clients

  const args = [
    '--port', '0',
    '--unixsocket', socket,
    '--unixsocketperm', '700',
    '--save', '',
    '--appendonly', 'no',
    '--dir', paths.dir,
    '--pidfile', path.join(paths.dir, 'redis.pid'),
    '--logfile', paths.redisLog,
    '--daemonize', 'no',
    // redis rewrites its argv; put the tag and the run folder back into the title
    '--proc-title-template', `{title} {unixsocket} ${processTag(paths.id)} ${paths.dir}`,
  ];
  const child = execa(bin, args, {
    stdio: 'ignore',
    detached: true,
    cleanup: false,
    reject: false,
    buffer: false,
  });
  const pid = child.pid;
  if (pid === undefined) throw new PmipError(ErrorCodes.runtime, 'redis-server did not start', undefined, { bin });
  // the LMA persists each binding before its PBA: Redis runs at the mobility agents' priority (launcher.ts)
  try {
    os.setPriority(pid, -10);
  } catch {
    // not permitted: slower under load, still correct
  }
  const exited = exitedPromise(child);

  const timeoutMs = opts.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pingSocket(socket)) break;
    const gone = await Promise.race([exited.then(() => true), sleep(5).then(() => false)]);
    if (gone || Date.now() > deadline) {
      if (!gone) process.kill(pid, 'SIGKILL');
      const tail = tailFile(paths.redisLog, 8).join('\n') || '(redis log empty)';
      throw new PmipError(
        gone ? ErrorCodes.runtime : ErrorCodes.timeout,
        gone ? `redis-server exited before answering PING` : `redis-server did not answer PING within ${timeoutMs} ms`,
        `see ${paths.redisLog}`,
        { socket, logTail: tail },
      );
    }
  }

  let stopped: Promise<void> | null = null;
  return {
    url: unixUrl(socket),
    external: false,
    pid,
    socketPath: socket,
    socketFallback: fallback ? socket : null,
    stop: () => (stopped ??= stopServer(socket, pid, exited)),
  };
}

async function useExternal(url: string, paths: RunPaths): Promise<RedisHandle> {
  let bus: Bus;
  try {
    bus = await Bus.connect(url, paths.id, 'orchestrator');
  } catch (err) {
    throw new PmipError(ErrorCodes.runtime, `REDIS_URL ${url}: ${(err as Error).message}`, 'unset REDIS_URL to use a private redis-server');
  }
  await bus.close();
  let stopped: Promise<void> | null = null;
  return {
    url,
    external: true,
    pid: null,
    socketPath: null,
    socketFallback: null,
    stop: () =>
      (stopped ??= (async () => {
        const b = await Bus.connect(url, paths.id, 'orchestrator');
        try {
          await b.deleteRunKeys();
        } finally {
          await b.close();
        }
      })()),
  };
}

/** SHUTDOWN NOSAVE, then SIGTERM, then SIGKILL; resolves when the process is gone. */
async function stopServer(socket: string, pid: number, exited: Promise<void>): Promise<void> {
  await sendRaw(socket, 'SHUTDOWN NOSAVE\r\n').catch(() => {});
  for (const [sig, waitMs] of [[null, 2000], ['SIGTERM', 1000], ['SIGKILL', 2000]] as const) {
    if (sig && isAlive(pid)) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
    if (await Promise.race([exited.then(() => true), sleep(waitMs).then(() => false)])) break;
  }
  rmSync(socket, { force: true });
}

/** One PING over the socket, raw: cheaper than a client for a readiness poll. */
async function pingSocket(socket: string): Promise<boolean> {
  try {
    return (await sendRaw(socket, 'PING\r\n')).startsWith('+PONG');
  } catch {
    return false;
  }
}

function sendRaw(socket: string, line: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socket);
    let got = '';
    const timer = setTimeout(() => finish(new Error('timeout')), timeoutMs);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      s.destroy();
      if (err && !got) reject(err);
      else resolve(got);
    };
    s.on('connect', () => s.write(line));
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n')) finish();
    });
    s.on('error', (e) => finish(e));
    s.on('close', () => finish());
  });
}

