import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeExit, launchNodes, nodeMainPath } from '../../orchestrator/launch/launcher.js';
import { type RedisHandle, startRedis } from '../../orchestrator/redis/server.js';
import { runPaths } from '../../orchestrator/run/paths.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { Plan } from '../../orchestrator/topology/plan.js';

// Needs root: real namespaces (plh5l-*), a private redis-server and node
// processes started from dist/ (built here if needed).

const root = isRoot();
if (!root) console.warn('launch integration tests skipped: they need root (network namespaces)');

const NS = ['plh5l-a', 'plh5l-b', 'plh5l-c'];
// hosts: their roles need nothing of the plan but themselves (LMA and MAG roles need their links)
const KINDS = ['cn', 'mn', 'cn'] as const;

function makePlan(runId: string, netns: string[]): Plan {
  return Plan.parse({
    version: 1, runId, name: 'launch-test', source: '/dev/null',
    pools: { backhaul: '2001:db8:b::/48', hnp: '2001:db8:1::/48', cn: '2001:db8:c::/48' },
    nodes: netns.map((ns, i) => ({
      name: `n${i}`, kind: KINDS[i % 3], netns: ns, interfaces: [], routes: [], sysctls: {}, options: KINDS[i % 3] === 'mn' ? { mnId: `n${i}@pmiplab.example` } : {},
    })),
    links: [], scenario: [],
  });
}

/** Processes whose command line carries the run tag (ours only: the tag names our run). */
function taggedPids(runId: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(`--pmiplab-run=${runId}`)).map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe.skipIf(!root)('launcher (root)', () => {
  let dir = '';
  beforeAll(() => {
    try {
      nodeMainPath();
    } catch {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'ignore' });
    }
    dir = mkdtempSync(path.join(tmpdir(), 'plh5-'));
    for (const ns of NS) execFileSync('ip', ['netns', 'add', ns]);
  });
  afterAll(() => {
    for (const ns of NS) {
      try {
        execFileSync('ip', ['netns', 'del', ns]);
      } catch {
        // not created
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts nodes, answers ping, stays small, stops cleanly', async () => {
    const paths = runPaths('plh5l1', dir);
    const plan = makePlan('plh5l1', NS);
    const redis: RedisHandle = await startRedis(paths, { redisUrl: '' });
    expect(redis.external).toBe(false);
    const procs = await launchNodes(plan, paths, redis.url);
    const exits: NodeExit[] = [];
    procs.onExit((e) => exits.push(e));
    try {
      await procs.waitReady(15_000);
      for (const { node, pid } of procs.pids()) {
        // ip netns exec execs: the pid is the node process itself, in the right namespace
        expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('node');
        const ev = await procs.bus.request(node, 'ping', undefined, 3000);
        expect(ev).toMatchObject({ node, type: 'pong' });
      }
      const ready = await procs.bus.waitForEvents((e) => e.type === 'ready' && e.node === 'n1', 1000);
      expect(ready.data).toMatchObject({ netns: 'plh5l-b' });
      for (const r of await procs.rssMb()) expect(r.rssMb).toBeLessThan(60);
      const unknown = await procs.bus.request('n0', 'fly', { to: 'moon' }, 3000);
      expect(unknown).toMatchObject({ type: 'error', data: { message: "unknown command 'fly'" } });

      // a node killed hard is reported as a crash
      const victim = procs.pids().find((p) => p.node === 'n2');
      process.kill(victim?.pid ?? -1, 'SIGKILL');
      await expect.poll(() => exits.length, { timeout: 3000 }).toBe(1);
      expect(exits[0]).toMatchObject({ node: 'n2', signal: 'SIGKILL', expected: false });
    } finally {
      const gone = await procs.stopAll(5000);
      expect(gone.filter((e) => e.expected).every((e) => e.code === 0)).toBe(true);
      await redis.stop();
    }
    expect(taggedPids('plh5l1')).toEqual([]);
    expect(() => process.kill(redis.pid ?? -1, 0)).toThrow();
    const log = readFileSync(paths.nodeLog('n0'), 'utf8');
    expect(log).toContain('"msg":"ready"');
    expect(log).toContain('"msg":"exit"');
  });

  it('fails at once, naming the node, when its namespace does not exist', async () => {
    const paths = runPaths('plh5l2', dir);
    const plan = makePlan('plh5l2', ['plh5l-a', 'plh5l-missing']);
    const redis = await startRedis(paths, { redisUrl: '' });
    const procs = await launchNodes(plan, paths, redis.url);
    try {
      const t0 = Date.now();
      await expect(procs.waitReady(15_000)).rejects.toThrow(/node n1 exited \(code 255\)[\s\S]*plh5l-missing/);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await procs.stopAll(3000);
      await redis.stop();
    }
    expect(taggedPids('plh5l2')).toEqual([]);
  });

  it('times out naming the nodes that are not ready', async () => {
    const paths = runPaths('plh5l3', dir);
    const redis = await startRedis(paths, { redisUrl: '' });
    const procs = await launchNodes(makePlan('plh5l3', NS.slice(0, 2)), paths, redis.url);
    try {
      await expect(procs.waitReady(1)).rejects.toThrow(/2 of 2 nodes not ready after 1 ms: n0, n1/);
      await procs.waitReady(15_000); // they do come up
    } finally {
      await procs.stopAll(3000);
      await redis.stop();
    }
    expect(taggedPids('plh5l3')).toEqual([]);
  });

  it('a node exits non-zero when Redis goes away', async () => {
    const paths = runPaths('plh5l4', dir);
    const redis = await startRedis(paths, { redisUrl: '' });
    const procs = await launchNodes(makePlan('plh5l4', NS.slice(0, 1)), paths, redis.url);
    const exits: NodeExit[] = [];
    procs.onExit((e) => exits.push(e));
    try {
      await procs.waitReady(15_000);
      await redis.stop();
      await expect.poll(() => exits.length, { timeout: 5000 }).toBe(1);
      expect(exits[0]).toMatchObject({ node: 'n0', code: 3, expected: false });
      expect(readFileSync(paths.nodeLog('n0'), 'utf8')).toContain('Redis gone');
    } finally {
      await procs.stopAll(3000);
    }
  });
});
