import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A `pmiplab up` whose caller went away (its stdout and stderr pipes closed)
// spun at 100% CPU for minutes: each write to the broken stderr raised EPIPE
// as an uncaught exception, the guard reported it on stderr, which raised
// EPIPE again. The process must stay idle, keep its run, and still tear down
// on a signal.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
let dir = '';
let child = '';

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pmiplab-guard-'));
  child = path.join(dir, 'guarded.mjs');
  buildSync({
    stdin: {
      contents: `
import { guardTeardown } from ${JSON.stringify(path.join(ROOT, 'orchestrator/lab/guard.ts'))};
guardTeardown('run g1', () => new Promise((r) => setTimeout(r, 100)));
// a bring-up's progress lines, on both streams
setInterval(() => { process.stderr.write('step...\\n'); process.stdout.write('.'); }, 20);
`,
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: child,
    logLevel: 'silent',
  });
}, 60_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ticksPerS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
/** user + system CPU of a process so far, in clock ticks (/proc/<pid>/stat fields 14 and 15) */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

describe('teardown guard with its output gone', () => {
  it('stays idle when stdout and stderr lose their reader, and still tears down on SIGTERM', async () => {
    const c = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => c.stderr!.once('data', () => resolve()));
    // the caller goes away: its read ends close, the child's next writes get EPIPE
    c.stdout!.destroy();
    c.stderr!.destroy();
    await sleep(300);
    const before = cpuTicks(c.pid!);
    await sleep(2000);
    const used = (cpuTicks(c.pid!) - before) / ticksPerS / 2; // share of one core
    expect(used).toBeLessThan(0.15); // spinning, it was 1.0
    expect(c.exitCode).toBeNull(); // the run goes on: a lost terminal is not an error
    c.kill('SIGTERM');
    expect(await exited).toBe(143); // the guard still tears down and exits as for any SIGTERM
  }, 20_000);
});
