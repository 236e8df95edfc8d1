import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupRuns } from '../../orchestrator/netns/cleanup.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { scaleTopology } from '../../orchestrator/topology/scale.js';

// Verbs of one run in parallel, each its own process: four moves and two
// captures at once. Each reads, changes and writes links.json or state.json;
// under the run folder's lock none loses what another wrote.
const root = isRoot();
if (!root) console.warn('test/integration/run-folder-parallel.test.ts skipped: needs root (network namespaces)');

const repo = path.resolve(import.meta.dirname, '..', '..');
const cli = path.join(repo, 'dist', 'orchestrator', 'cli', 'main.js');
const runsDir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-parallel-'));
const env = { ...process.env, PMIPLAB_RUNS_DIR: runsDir, CI: 'true' };
const ID = 'tpl';

const pmiplab = (...args: string[]) => spawnSync('node', [cli, ...args], { cwd: repo, env, encoding: 'utf8', timeout: 60_000 });
const async = (...args: string[]) =>
  new Promise<{ code: number | null; err: string }>((resolve) => {
    const c = spawn('node', [cli, ...args], { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (code) => resolve({ code, err }));
  });
const where = () =>
  Object.fromEntries(
    (JSON.parse(readFileSync(path.join(runsDir, ID, 'links.json'), 'utf8')) as { attachments: Array<{ node: string; mag: string }> }).attachments.map((a) => [a.node, a.mag]),
  );
const captures = () =>
  (JSON.parse(readFileSync(path.join(runsDir, ID, 'state.json'), 'utf8')) as { processes: Array<{ role: string; name: string }> }).processes
    .filter((p) => p.role === 'capture')
    .map((p) => p.name)
    .sort();

describe.skipIf(!root)('one run, several verbs at once', () => {
  afterAll(async () => {
    await cleanupRuns({ runIds: [ID], runsDir });
    rmSync(runsDir, { recursive: true, force: true });
  });

  it('four moves and two captures in parallel: links.json and state.json keep every one', async () => {
    if (!existsSync(cli)) throw new Error('dist/ is missing: run npm run build first');
    const file = path.join(runsDir, 'four-mns.yaml');
    writeFileSync(file, scaleTopology(8)); // mn1..mn4, odd ones on mag1, even ones on mag2
    const up = pmiplab('up', file, '--id', ID, '--network-only');
    expect(up.status, up.stderr).toBe(0);
    const mns = [1, 2, 3, 4].map((i) => `mn${i}`);
    const other = (i: number, flip: boolean) => ((i % 2 === 1) !== flip ? 'mag2' : 'mag1');
    const round1 = await Promise.all([
      ...mns.map((mn, k) => async('move', ID, `${mn}:wlan0`, other(k + 1, false))),
      async('capture', ID, 'mn1:wlan0'),
      async('capture', ID, 'cn1:eth0'),
    ]);
    expect(round1).toEqual(Array(6).fill({ code: 0, err: '' }));
    expect(where()).toEqual(Object.fromEntries(mns.map((mn, k) => [mn, other(k + 1, false)])));
    expect(captures()).toEqual(['cn1:eth0', 'mn1:wlan0']);
    const round2 = await Promise.all(mns.map((mn, k) => async('move', ID, `${mn}:wlan0`, other(k + 1, true))));
    expect(round2).toEqual(Array(4).fill({ code: 0, err: '' }));
    expect(where()).toEqual(Object.fromEntries(mns.map((mn, k) => [mn, other(k + 1, true)])));
    expect(pmiplab('down', ID).status).toBe(0);
  }, 120_000);
});
