import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupRuns } from '../../orchestrator/netns/cleanup.js';
import { isRoot } from '../../orchestrator/system/tools.js';

// `pmiplab up` whose caller goes away mid bring-up (its stdout and stderr
// pipes closed, as when a test runner or a `| head` exits first): it used to
// spin at 100% CPU on EPIPE for minutes and never exit. It must finish the
// bring-up, leave the run up and exit 0, using little CPU while it waits.
const root = isRoot();
if (!root) console.warn('test/integration/up-output-gone.test.ts skipped: needs root (network namespaces)');

const repo = path.resolve(import.meta.dirname, '..', '..');
const cli = path.join(repo, 'dist', 'orchestrator', 'cli', 'main.js');
const runsDir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-upout-'));
const env = { ...process.env, PMIPLAB_RUNS_DIR: runsDir, CI: 'true' };
const ID = 'tuo';

const ticksPerS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null; // exited
  }
}

describe.skipIf(!root)('pmiplab up with its output gone', () => {
  afterAll(async () => {
    await cleanupRuns({ runIds: [ID], runsDir });
    rmSync(runsDir, { recursive: true, force: true });
  });

  it('finishes the bring-up and exits 0 when its stdout and stderr readers leave', async () => {
    if (!existsSync(cli)) throw new Error('dist/ is missing: run npm run build first');
    const c = spawn('node', [cli, 'up', 'topologies/handover-basic.yaml', '--id', ID], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => c.stderr!.once('data', () => resolve())); // the first progress line
    c.stdout!.destroy();
    c.stderr!.destroy();
    // CPU of the up process, sampled until it exits: the last sample before exit
    const t0 = Date.now();
    const first = cpuTicks(c.pid!) ?? 0;
    let last = first;
    const code = await Promise.race([
      exited,
      (async () => {
        for (;;) {
          await new Promise((r) => setTimeout(r, 100));
          const t = cpuTicks(c.pid!);
          if (t === null) return new Promise<never>(() => {}); // gone: `exited` settles
          last = t;
          if (Date.now() - t0 > 45_000) return 'still running after 45 s';
        }
      })(),
    ]);
    if (code === 'still running after 45 s') c.kill('SIGKILL');
    expect(code).toBe(0);
    const wall = (Date.now() - t0) / 1000;
    // a bring-up of 5 nodes costs well under a core for its duration; the EPIPE loop took all of one
    expect((last - first) / ticksPerS / wall).toBeLessThan(0.6);
    const ls = spawnSync('node', [cli, 'ls'], { cwd: repo, env, encoding: 'utf8' });
    expect(ls.stdout).toMatch(new RegExp(`${ID}\\s+handover-basic\\s+up`));
    expect(spawnSync('node', [cli, 'down', ID], { cwd: repo, env, encoding: 'utf8' }).status).toBe(0);
  }, 90_000);
});
