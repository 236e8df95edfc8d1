import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetwork, listNetns } from '../../orchestrator/netns/build.js';
import { cleanupRuns } from '../../orchestrator/netns/cleanup.js';
import { addProcess, procStartTime, readState, recordRun } from '../../orchestrator/netns/state.js';
import { processTag } from '../../orchestrator/run/paths.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { makePlan } from '../support/plans.js';

// Root only: run id h4c, its own runs folder and registry folder.
const root = isRoot();
if (!root) console.warn('test/integration/cleanup.test.ts skipped: needs root (network namespaces)');

const gone = (p: ChildProcess) => p.pid !== undefined && procStartTime(p.pid) === null;

describe.skipIf(!root)('cleanup of a run whose orchestrator died', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'h4c-'));
  const plan = makePlan('h4c', { backhaul: 'bridge' });
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    process.env.PMIPLAB_REGISTRY_DIR = path.join(tmp, 'registry');
    await cleanupRuns({ runIds: ['h4c'], runsDir: tmp });
  });
  afterAll(async () => {
    for (const c of children) if (!gone(c)) c.kill('SIGKILL');
    await cleanupRuns({ runIds: ['h4c'], runsDir: tmp });
    rmSync(tmp, { recursive: true, force: true });
  });

  it('leaves a run alone while its owner lives, then removes its namespaces and processes', async () => {
    recordRun(plan, { pid: process.pid, startTime: procStartTime(process.pid) ?? '' }, tmp);
    await buildNetwork(plan);
    // the bridged backhaul works
    const ping = spawnSync('ip', ['netns', 'exec', 'plh4c-lma1', 'ping', '-6', '-c1', '-W2', '2001:db8:b:1::3']);
    expect(ping.status).toBe(0);

    // a process inside a namespace (found by its netns inode), a tagged shell in the root
    // namespace with an untagged child (found by argv, then as a descendant), a recorded one
    const inNs = spawn('ip', ['netns', 'exec', 'plh4c-mag1', 'sleep', '300'], { stdio: 'ignore' });
    const tagged = spawn('bash', ['-c', 'sleep 300; true', processTag('h4c')], { stdio: 'ignore' });
    const recorded = spawn('sleep', ['301'], { stdio: 'ignore' });
    children.push(inNs, tagged, recorded);
    await addProcess('h4c', { pid: recorded.pid ?? 0, role: 'other', name: 'sleeper' }, tmp);
    await new Promise((r) => setTimeout(r, 100));

    const alive = await cleanupRuns({ limitTo: ['h4c'], runsDir: tmp });
    expect(alive.nothingToClean).toBe(true);
    expect(alive.skipped).toEqual([{ runId: 'h4c', ownerPid: process.pid }]);

    const dry = await cleanupRuns({ limitTo: ['h4c'], runsDir: tmp, force: true, dryRun: true });
    expect(dry.runs[0]?.processes.length).toBeGreaterThanOrEqual(4);
    expect([...listNetns()].filter((n) => n.startsWith('plh4c-'))).toHaveLength(6);

    // the owner "dies": a pid whose start time no longer matches
    recordRun(plan, { pid: process.pid, startTime: '1' }, tmp);
    await addProcess('h4c', { pid: recorded.pid ?? 0, role: 'other', name: 'sleeper' }, tmp);
    const rep = await cleanupRuns({ limitTo: ['h4c'], runsDir: tmp });
    const run = rep.runs[0];
    expect(run?.reason).toBe('owner-dead');
    expect(run?.namespaces).toEqual([...plan.nodes.map((n) => n.netns), 'plh4c-br1'].sort());
    const pids = run?.processes.map((p) => p.pid) ?? [];
    for (const c of [inNs, tagged, recorded]) expect(pids).toContain(c.pid);
    expect(run?.processes.some((p) => p.command === 'sleep 300')).toBe(true); // bash's child
    expect(run?.survivors).toEqual([]);
    await new Promise((r) => setTimeout(r, 50)); // let Node reap them
    for (const c of children) expect(gone(c)).toBe(true);
    expect([...listNetns()].filter((n) => n.startsWith('plh4c-'))).toEqual([]);
    expect(readState('h4c', tmp)?.cleanedAt).toBeDefined();
    expect(existsSync(path.join(tmp, 'registry', 'h4c.json'))).toBe(false);

    const again = await cleanupRuns({ limitTo: ['h4c'], runsDir: tmp });
    expect(again.nothingToClean).toBe(true);
  });
});
