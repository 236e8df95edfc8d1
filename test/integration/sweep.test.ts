import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runsOf } from '../../orchestrator/study/runner.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { repoRoot } from '../support/experiments.js';

// `pmiplab sweep` end to end: a 2 x 2 grid of tiny handover-basic cells (two
// moves, 100 probes/s), interrupted by Ctrl-C in its second cell, then
// resumed: the finished cell is not run again, the rest are, and the summary
// covers the whole grid. A bad sweep file is refused (exit 2) before any
// namespace exists.

const root = isRoot();
if (!root) console.warn('test/integration/sweep.test.ts skipped: needs root (namespaces, node processes)');

const cli = path.join(repoRoot, 'dist', 'orchestrator', 'cli', 'main.js');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-sweep-it-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sweepFile = (params: string) => {
  const f = path.join(tmp, `sweep-${Math.random().toString(36).slice(2, 8)}.yaml`);
  writeFileSync(
    f,
    `name: it
experiment: ${path.join(repoRoot, 'topologies', 'handover-basic.yaml')}
set:
  scenario[0].at: 300ms
  scenario[1].at: 300ms
  scenario[1].action.rate: 100
  scenario[2].at: 800ms
  scenario[2].repeat: { count: 2, every: 600ms }
  scenario[3].at: 2200ms
  scenario[4].at: 2200ms
parameters:
${params}
`,
  );
  return f;
};

const netnsOf = (prefix: string) => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith(prefix));

function sweep(args: string[], onErr?: (all: string, child: ReturnType<typeof spawn>) => void) {
  return new Promise<{ code: number | null; err: string; out: string }>((resolve) => {
    const child = spawn('node', [cli, 'sweep', ...args, '--no-capture'], { cwd: repoRoot, env: { ...process.env, CI: 'true' } });
    let err = '';
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      onErr?.(err, child);
    });
    child.on('exit', (code) => resolve({ code, err, out }));
  });
}

describe.skipIf(!root)('pmiplab sweep', () => {
  it('refuses a bad sweep file with exit 2 before anything runs', async () => {
    const before = netnsOf('pl').length;
    const out = path.join(tmp, 'bad-out');
    const r = await sweep([sweepFile('  scenario[0].action.rate: [100, -1]\n  topology.links[0].signaling.delay: [0ms]'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cell p2 \(scenario\[0\]\.action\.rate=-1, topology\.links\[0\]\.signaling\.delay=0ms\): scenario\[0\]\.action\.rate: /);
    expect(existsSync(out)).toBe(false);
    expect(netnsOf('pl').length).toBe(before);
  });

  it('runs a 2 x 2 grid, survives Ctrl-C in a cell, and resumes without rerunning finished cells', async () => {
    const file = sweepFile('  scenario[0].action.rate: [50, 100]\n  topology.links[0].signaling.delay: [0ms, 5ms]');
    const out = path.join(tmp, 'out');
    // Ctrl-C once the second cell's domain is registering
    let sent = false;
    const first = await sweep([file, '--out', out], (err, child) => {
      if (!sent && /cell 2\/4 p2-r1 .*\.\.\./.test(err)) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 2500);
      }
    });
    expect(first.err).toMatch(/cell 1\/4 p1-r1 .* ok in [\d.]+ s; elapsed [\d.]+ s, about [\d.]+ s left/);
    expect(first.code).toBe(130);
    const cell1 = JSON.parse(readFileSync(path.join(out, 'cells', 'p1-r1', 'cell.json'), 'utf8'));
    expect(cell1.status).toBe('ok');
    expect(existsSync(path.join(out, 'cells', 'p2-r1', 'cell.json'))).toBe(false);
    // the interrupted cell's run was torn down (its folder names the cell's experiment)
    const left = runsOf(path.join(out, 'cells', 'p2-r1', 'experiment.yaml'));
    expect(left).toHaveLength(1);
    expect(netnsOf(`pl${path.basename(left[0]!)}-`)).toEqual([]);

    const second = await sweep(['--resume', out]);
    expect(second.code, second.err).toBe(0);
    expect(second.err).toMatch(/resuming: 1 of 4 cells finished before, 3 to run/);
    expect(second.err).not.toMatch(/cell 1\/4/);
    expect(second.err).toMatch(/cell 4\/4 p4-r1 .* ok in/);
    // the interrupted attempt's folder is gone; cell 1 was not run again
    expect(runsOf(path.join(out, 'cells', 'p2-r1', 'experiment.yaml'))).toEqual([]);
    expect(JSON.parse(readFileSync(path.join(out, 'cells', 'p1-r1', 'cell.json'), 'utf8'))).toEqual(cell1);

    const state = JSON.parse(readFileSync(path.join(out, 'sweep.json'), 'utf8'));
    expect(state.cells.map((c: { status: string }) => c.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    for (const c of state.cells) {
      expect(existsSync(path.join(out, 'cells', c.id, 'report.html'))).toBe(true);
      // the run folder moved into the sweep
      expect(existsSync(path.join(repoRoot, 'runs', c.runId))).toBe(false);
    }
    // every grid point has both flows' gap over its 2 handovers
    const gaps = state.stats.filter((s: { metric: string }) => s.metric === 'gapMs');
    expect(gaps).toHaveLength(4 * 2);
    for (const g of gaps) {
      expect(g.n).toBe(2);
      expect(g.median).toBeGreaterThan(0);
      expect(g.median).toBeLessThan(500);
    }
    const csv = readFileSync(path.join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + 4 * 2 * 4);
    expect(readFileSync(path.join(out, 'summary.html'), 'utf8').match(/<svg/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
  }, 240_000);
});
