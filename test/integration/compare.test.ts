import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentProgress } from '../../orchestrator/cli/progress.js';
import { writeReport } from '../../orchestrator/report/index.js';
import { runExperiment } from '../../orchestrator/scenario/experiment.js';
import { compareGroups, loadGroups } from '../../orchestrator/study/compare.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { domain, movesScenario, repoRoot, writeTopology } from '../support/experiments.js';

// Two runs with a known difference, 0 vs 20 ms added to the PBUs on the
// backhaul, six moves each: `pmiplab compare` tells them apart (U test
// p < 0.05 on the gap of both flows: the LMA switches the downlink and the
// MAG the uplink only after the PBU arrives) and names the setting that
// differs. PBU only: delaying both directions makes the PBU round trip longer
// than the MAG's 50 ms first retransmission, a different experiment. Then
// `pmiplab rerun` plays the first run again from its folder: the same plan.

const root = isRoot();
if (!root) console.warn('test/integration/compare.test.ts skipped: needs root (namespaces, node processes)');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function run(id: string, backhaulSignaling?: Record<string, unknown>) {
  const file = writeTopology(domain({ scenario: movesScenario(6, 400, 200), ...(backhaulSignaling ? { backhaulSignaling } : {}) }));
  const { lab, dir } = await runExperiment(file, { id, capture: false, progress: silentProgress });
  await lab.down();
  dirs.push(dir);
  await writeReport(dir);
  return dir;
}

describe.skipIf(!root)('pmiplab compare', () => {
  it('finds the gap difference of 20 ms PBU delay and names the setting', async () => {
    const a = await run('cmpa');
    const b = await run('cmpb', { delay: '20ms', messages: ['pbu'] });
    const c = compareGroups(await loadGroups([a, b]));
    for (const flow of ['up', 'down']) {
      const t = c.tests.find((x) => x.metric === 'gapMs' && x.flow === flow)!;
      expect(t.nA).toBe(6);
      expect(t.nB).toBe(6);
      expect(t.p!, `${flow}: gap medians ${t.medianA} vs ${t.medianB}`).toBeLessThan(0.05);
      expect(t.effect!).toBeLessThan(0); // A (no delay) has the shorter gaps
      // the PBU's 20 ms sit on the critical path of each handover; part of it
      // overlaps what the gap already held (the L2 move, the early downlink
      // route), so the medians differ by less than 20 ms: 8.9 and 18 ms seen
      expect(t.medianB! - t.medianA!, `${flow}: gap medians ${t.medianA} vs ${t.medianB}`).toBeGreaterThan(5);
    }
    const paths = c.settings.map((s) => s.path);
    expect(paths).toContain('links[0].signaling.delayMs');
    expect(c.settings.find((s) => s.path === 'links[0].signaling.delayMs')!.values).toEqual([undefined, 20]);
    // nothing but the impairment differs (run ids and namespaces are taken out)
    expect(paths.every((p) => /^links\[\d\]\.signaling/.test(p))).toBe(true);

    const out = path.join(os.tmpdir(), `pmiplab-compare-${process.pid}.html`);
    const stdout = execFileSync('node', [path.join(repoRoot, 'dist', 'orchestrator', 'cli', 'main.js'), 'compare', a, b, '-o', out], { encoding: 'utf8' });
    expect(stdout).toMatch(/cmpa\s+cmpb\s+up\s+gapMs\s+6\/6/);
    const html = readFileSync(out, 'utf8');
    rmSync(out);
    rmSync(out.replace(/\.html$/, '.png'), { force: true }); // the screenshot compare keeps beside the page when Chromium is there
    expect(html.match(/<svg/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(html).toContain('links[0].signaling.delayMs');

    // run.json records what ran; rerun plays the same experiment from the folder
    const prov = JSON.parse(readFileSync(path.join(a, 'run.json'), 'utf8')).provenance;
    expect(prov.pmiplab.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(prov.system.iproute2).toMatch(/^iproute2-/);
    expect(prov.system.node).toBe(process.version);
    expect(prov.plan.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(path.join(a, 'experiment.yaml'), 'utf8')).toContain('mag2');
    dirs.push(path.join(repoRoot, 'runs', 'cmpc'));
    const again = execFileSync('node', [path.join(repoRoot, 'dist', 'orchestrator', 'cli', 'main.js'), 'rerun', a, '--id', 'cmpc', '--no-capture'], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    expect(again).toMatch(/plan: the same \(sha256 [0-9a-f]{16}\)/);
    expect(again).toMatch(/pmiplab commit: the same/);
    const replay = JSON.parse(readFileSync(path.join(repoRoot, 'runs', 'cmpc', 'run.json'), 'utf8'));
    expect(replay.provenance.plan.sha256).toBe(prov.plan.sha256);
    expect(replay.flows.map((x: { flow: string }) => x.flow).sort()).toEqual(['down', 'up']);
  }, 180_000);
});
