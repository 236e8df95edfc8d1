import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../nodes/runtime/bus.js';
import { startRedis } from '../../orchestrator/redis/server.js';
import { runPaths } from '../../orchestrator/run/paths.js';
import { isRoot, whichTool } from '../../orchestrator/system/tools.js';

const root = isRoot();
if (!root) console.warn('redis integration tests skipped: they need root (/run/pmiplab fallback, as the lab runs)');

const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

describe.skipIf(!root || !whichTool('redis-server'))('private redis-server (root)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'plh5-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('spawns on a socket in the run folder, tagged, and stops', async () => {
    const paths = runPaths('plh5r1', dir);
    const h = await startRedis(paths, { redisUrl: '' });
    expect(h.socketPath).toBe(paths.redisSocket);
    expect(h.socketFallback).toBeNull();
    const cmdline = readFileSync(`/proc/${h.pid}/cmdline`, 'utf8');
    expect(cmdline).toContain('--pmiplab-run=plh5r1');
    expect(cmdline).toContain(paths.dir);
    const bus = await Bus.connect(h.url, 'plh5r1', 'orchestrator');
    await bus.emit('hello', { x: 1 });
    const ev = await bus.waitForEvents((e) => e.type === 'hello', 1000);
    expect(ev.data).toEqual({ x: 1 });
    await bus.close();
    await h.stop();
    expect(gone(h.pid ?? -1)).toBe(true);
    expect(existsSync(paths.redisSocket)).toBe(false);
  });

  it('falls back to /run/pmiplab when the run folder path is too long for a socket', async () => {
    const deep = path.join(dir, 'x'.repeat(100));
    const paths = runPaths('plh5r2', deep);
    const h = await startRedis(paths, { redisUrl: '' });
    try {
      expect(h.socketFallback).toBe('/run/pmiplab/redis-plh5r2.sock');
      expect(readFileSync(`/proc/${h.pid}/cmdline`, 'utf8')).toContain('--pmiplab-run=plh5r2');
    } finally {
      await h.stop();
    }
    expect(gone(h.pid ?? -1)).toBe(true);
  });

  it('times out with a clear error and kills the server when PING is not answered in time', async () => {
    const paths = runPaths('plh5r3', dir);
    const err = await startRedis(paths, { redisUrl: '', timeoutMs: 0 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'timeout', message: /did not answer PING within 0 ms/, context: { logTail: expect.any(String) } });
    await expect.poll(() => execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' }).includes('--pmiplab-run=plh5r3')).toBe(false);
  });

  it('uses REDIS_URL without spawning; stop() deletes only the run keys', async () => {
    const sock = path.join(dir, 'own.sock');
    const own = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 10));
      const url = `unix://${sock}`;
      const other = await Bus.connect(url, 'plh5rx', 'orchestrator');
      await other.emit('keep');
      const paths = runPaths('plh5r4', dir);
      const h = await startRedis(paths, { redisUrl: url });
      expect(h).toMatchObject({ external: true, pid: null, url });
      const bus = await Bus.connect(h.url, 'plh5r4', 'orchestrator');
      await bus.sendCommand('n1', 'ping');
      await bus.emit('x');
      await bus.close();
      await h.stop();
      expect(gone(own.pid ?? -1)).toBe(false);
      expect(await other.lastId('events')).not.toBe('0-0');
      const check = await Bus.connect(url, 'plh5r4', 'orchestrator');
      expect(await check.lastId('events')).toBe('0-0');
      expect(await check.lastId('cmd:n1')).toBe('0-0');
      await check.close();
      await other.close();
    } finally {
      if (own.exitCode === null && own.signalCode === null) {
        own.kill('SIGTERM');
        await new Promise((r) => own.once('exit', r));
      }
    }
  });
});

