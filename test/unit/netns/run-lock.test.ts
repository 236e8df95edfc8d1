import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { procStartTime } from '../../../orchestrator/launch/proc.js';
import { withRunLock } from '../../../orchestrator/netns/run-lock.js';
import { addProcess, readState, writeState, type RunState } from '../../../orchestrator/netns/state.js';

// state.json is updated by several processes at once (`up` recording nodes,
// `capture` adding tcpdumps, `down` marking the run cleaned): the run
// folder's lock must make each read-modify-write see the others'.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
let dir = '';
let worker = '';

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pmiplab-runlock-'));
  // the child processes run the real state module, bundled (node cannot run the TypeScript itself)
  worker = path.join(dir, 'worker.mjs');
  buildSync({
    stdin: {
      contents: `
import { addProcess } from ${JSON.stringify(path.join(ROOT, 'orchestrator/netns/state.ts'))};
import { withRunLock } from ${JSON.stringify(path.join(ROOT, 'orchestrator/netns/run-lock.ts'))};
import { setTimeout as sleep } from 'node:timers/promises';
const [mode, id, root, who, n] = process.argv.slice(2);
if (mode === 'add') {
  for (let i = 0; i < Number(n); i++) await addProcess(id, { pid: process.pid, role: 'other', name: who + '-' + i, startTime: '1' }, root);
} else {
  // hold the lock for n ms, saying when it is taken
  await withRunLock(root + '/' + id, async () => { process.stdout.write('held\\n'); await sleep(Number(n)); });
}
`,
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: worker,
    logLevel: 'silent',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
}, 60_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function freshRun(id: string): string {
  const root = path.join(dir, `runs-${id}`);
  mkdirSync(path.join(root, id), { recursive: true });
  const state: RunState = {
    version: 1,
    runId: id,
    source: 'test',
    runsDir: root,
    owner: { pid: process.pid, startTime: procStartTime(process.pid) ?? '0' },
    createdAt: new Date().toISOString(),
    namespaces: [],
    bridgeNamespaces: [],
    processes: [],
  };
  writeState(state);
  return root;
}

const exited = (c: ReturnType<typeof spawn>) =>
  new Promise<number | null>((resolve) => {
    c.on('close', (code) => resolve(code));
  });

describe('run folder lock', () => {
  it('several processes updating one run at once lose no update', async () => {
    const root = freshRun('lk1');
    const writers = 6;
    const each = 40;
    const kids = Array.from({ length: writers }, (_, k) => spawn(process.execPath, [worker, 'add', 'lk1', root, `w${k}`, String(each)], { stdio: ['ignore', 'ignore', 'pipe'] }));
    const done = kids.map(exited);
    const errs: string[] = [];
    for (const c of kids) c.stderr!.on('data', (d: Buffer) => errs.push(d.toString()));
    // and this process too, at the same time
    const mine = (async () => {
      for (let i = 0; i < each; i++) await addProcess('lk1', { pid: process.pid, role: 'other', name: `me-${i}`, startTime: '1' }, root);
    })();
    const codes = await Promise.all(done);
    await mine;
    expect(errs.join('')).toBe('');
    expect(codes).toEqual(Array(writers).fill(0));
    const names = readState('lk1', root)!.processes.map((p) => p.name);
    expect(names).toHaveLength((writers + 1) * each);
    expect(new Set(names).size).toBe(names.length);
    expect(existsSync(path.join(root, 'lk1', '.lock'))).toBe(false); // released
  }, 60_000);

  it('a lock left by a dead process is taken over', async () => {
    const root = freshRun('lk2');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid names no live process with this start time
    writeFileSync(path.join(root, 'lk2', '.lock'), `${JSON.stringify({ pid: dead, startTime: '1', at: new Date().toISOString() })}\n`);
    const t0 = Date.now();
    await addProcess('lk2', { pid: process.pid, role: 'other', name: 'after-stale', startTime: '1' }, root);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(readState('lk2', root)!.processes.map((p) => p.name)).toEqual(['after-stale']);
  });

  it('a live holder in another process makes the update wait, and a holder that never lets go times out', async () => {
    const root = freshRun('lk3');
    const holder = spawn(process.execPath, [worker, 'hold', 'lk3', root, 'h', '600'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const holderExit = exited(holder); // listen now: it may be gone before we look
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const t0 = Date.now();
    await expect(withRunLock(path.join(root, 'lk3'), () => 'never', { timeoutMs: 100 })).rejects.toThrow(/is locked by \{"pid":\d+/);
    await addProcess('lk3', { pid: process.pid, role: 'other', name: 'after-holder', startTime: '1' }, root);
    expect(Date.now() - t0).toBeGreaterThan(300); // waited for the holder's release, did not break a live lock
    expect(await holderExit).toBe(0);
    expect(readState('lk3', root)!.processes.map((p) => p.name)).toEqual(['after-holder']);
  });

  it('a run folder that does not exist: nothing to lock, the update reports the missing state', async () => {
    await expect(addProcess('nope', { pid: process.pid, role: 'other', name: 'x', startTime: '1' }, path.join(dir, 'absent'))).rejects.toThrow(/has no state file/);
    expect(existsSync(path.join(dir, 'absent'))).toBe(false);
  });

  it('the lock file is whole from the first moment: JSON with pid and start time', async () => {
    const root = freshRun('lk4');
    const text = await withRunLock(path.join(root, 'lk4'), () => readFileSync(path.join(root, 'lk4', '.lock'), 'utf8'));
    expect(JSON.parse(text)).toMatchObject({ pid: process.pid, startTime: procStartTime(process.pid) });
  });
});
