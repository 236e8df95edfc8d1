import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentProgress, type Progress } from '../../../orchestrator/cli/progress.js';
import { METRICS_SCHEMA, type Metrics } from '../../../orchestrator/report/schema.js';
import { createSweepDir, loadSweepDir, runSweep, type CellRunner } from '../../../orchestrator/study/runner.js';
import { planSweep } from '../../../orchestrator/study/sweep-file.js';
import { compareHtml } from '../../../orchestrator/report/compare-page.js';
import { compareGroups, loadGroups } from '../../../orchestrator/study/compare.js';
import { writeSweepSummary } from '../../../orchestrator/study/write-summary.js';
import { summaryRows, sweepStats } from '../../../orchestrator/study/summary.js';

// The sweep loop without root: a fake cell writes a metrics.json whose gap
// depends on the cell's parameters; a failing cell is recorded and the sweep
// goes on; a resumed sweep runs only what did not finish.

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const experiment = path.join(repo, 'topologies', 'handover-basic.yaml');
const text = `name: fake\nexperiment: ${experiment}\nparameters:\n  topology.links[0].signaling.delay: [0ms, 20ms]\n  scenario[0].action.rate: [100, 300]\nrepeat: 2\n`;

function metricsWithGaps(gaps: number[]): Metrics {
  return {
    schema: METRICS_SCHEMA,
    run: { name: 'x', runId: 'x', startNs: '0', dataPlane: 'seg6', transport: 'udp', signalingImpairment: null, generatedAt: 'now' },
    definitions: { preMs: 10, gapHorizonMs: 500, timelineHorizonMs: 1000 },
    handovers: [],
    flows: [
      {
        flow: 'up', from: 'mn1', to: 'cn1', rate: 100, size: 100, files: { sender: null, receiver: null },
        totals: { sent: 1, received: 1, lost: 0, sendFailed: 0, duplicated: 0, reordered: 0, strays: 0, delayMs: null, maxGapMs: null, durationS: 1, ratePps: 1, senderMaxLagMs: null },
        baseline: { sent: 1, lost: 0, maxGapMs: null, delayMs: { p50: 0.1, p99: 0.2 } },
        interfaces: [],
        handovers: gaps.map((g, i) => ({
          index: i + 1, from: 'mag1', to: 'mag2', gapMs: g, gapStartMs: 0, gapEndMs: g, recovered: true, senderPauseMs: 0,
          sent: 10, received: 9, lost: 1, sendFailed: 0, duplicated: 0, reordered: 0, delayMs: { p50: 0.1, p99: 0.5 },
        })),
      },
    ],
    stages: [],
    warnings: [],
  };
}

const fakeCell = (fail: Set<string>, calls: string[]): CellRunner => async (job) => {
  calls.push(job.id);
  if (fail.has(job.id)) throw Object.assign(new Error(`cell ${job.id} broke`), { hint: 'look' });
  const yaml = readFileSync(job.experimentFile, 'utf8');
  const delay = /delay: 20ms/.test(yaml) ? 20 : 0;
  writeFileSync(path.join(job.dir, 'metrics.json'), JSON.stringify(metricsWithGaps([5 + delay, 6 + delay, 7 + delay])));
  return { runId: `r${calls.length}` };
};

function sweepDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-sweep-run-'));
  const plan = planSweep(text, path.join(dir, 'sweep.yaml'));
  const out = path.join(dir, 'out');
  return { plan, out, state: createSweepDir(plan, out, text) };
}

const lines = () => {
  const said: string[] = [];
  const p: Progress = { ...silentProgress, info: (m) => void said.push(m) };
  return { said, p };
};

describe('sweep runner', () => {
  it('writes every cell experiment first, then runs the cells in order with progress, and a failing cell does not stop it', async () => {
    const { out, state } = sweepDir();
    expect(existsSync(path.join(out, 'cells', 'p4-r2', 'experiment.yaml'))).toBe(true);
    const calls: string[] = [];
    const { said, p } = lines();
    const r = await runSweep(state, { dir: out, progress: p, cellProgress: silentProgress, runCell: fakeCell(new Set(['p2-r1']), calls) });
    expect(calls).toEqual(['p1-r1', 'p1-r2', 'p2-r1', 'p2-r2', 'p3-r1', 'p3-r2', 'p4-r1', 'p4-r2']);
    expect(r).toMatchObject({ ran: 8, failed: 1, skipped: 0 });
    expect(said.some((l) => /^cell 3\/8 p2-r1 .* FAILED after .*cell p2-r1 broke \(hint: look\)/.test(l))).toBe(true);
    expect(said.some((l) => /^cell 1\/8 p1-r1 .* ok in [\d.]+ s; elapsed [\d.]+ s, about [\d.]+ s left/.test(l))).toBe(true);
    const saved = JSON.parse(readFileSync(path.join(out, 'sweep.json'), 'utf8'));
    expect(saved.cells.find((c: { id: string }) => c.id === 'p2-r1')).toMatchObject({ status: 'failed', error: 'cell p2-r1 broke (hint: look)' });
    // 20 ms points pool 6 gaps 25..27 from two runs; p2 has only its one good run
    const gap = (point: string) => saved.stats.find((s: { point: string; metric: string }) => s.point === point && s.metric === 'gapMs');
    expect(gap('p3')).toMatchObject({ runs: 2, n: 6, median: 26, lo: 25, hi: 27 });
    expect(gap('p2')).toMatchObject({ runs: 1, n: 3, median: 6 });
    const csv = readFileSync(path.join(out, 'summary.csv'), 'utf8').split('\n');
    expect(csv[0]).toBe('point,topology.links[0].signaling.delay,scenario[0].action.rate,flow,metric,runs,n,median,ci_lo,ci_hi,ci_coverage');
    expect(csv).toContain('p3,20ms,100,up,gapMs,2,6,26,25,27,0.9688');
    const html = readFileSync(path.join(out, 'summary.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('cell p2-r1 broke');
    // the table `pmiplab sweep` prints: a row per grid point and flow, short parameter names
    const rows = summaryRows(state, sweepStats(out, state));
    expect(rows[0]).toEqual(['POINT', 'DELAY', 'RATE', 'FLOW', 'N', 'GAP MS [95%]', 'LOST [95%]', 'ADDED DELAY MS [95%]', 'REORD', 'CELL S']);
    expect(rows.find((r) => r[0] === 'p3')?.slice(0, 7)).toEqual(['p3', '20ms', '100', 'up', '6', '26.0 [25.0, 27.0]', '1 [1, 1]']);
    expect(rows.filter((r) => r[0] === 'p2')).toHaveLength(1);
  });

  it('the summary and the compare page of its grid points link each other', async () => {
    const { out, state } = sweepDir();
    await runSweep(state, { dir: out, progress: silentProgress, cellProgress: silentProgress, runCell: fakeCell(new Set(), []) });
    const summary = () => readFileSync(path.join(out, 'summary.html'), 'utf8');
    expect(summary()).not.toContain('href="compare.html"');
    const page = await compareHtml(compareGroups(await loadGroups([out])), { pageDir: out });
    expect(page).toContain('<a href="summary.html">');
    writeFileSync(path.join(out, 'compare.html'), page);
    await writeSweepSummary(out, loadSweepDir(out));
    expect(summary()).toContain('<a href="compare.html">');
    // from another folder the link goes up into the sweep
    const elsewhere = await compareHtml(compareGroups(await loadGroups([out])), { pageDir: path.dirname(out) });
    expect(elsewhere).toContain(`<a href="${path.basename(out)}/summary.html">`);
  });

  it('resumes: finished cells are skipped, failed and unfinished ones run again', async () => {
    const { plan, out, state } = sweepDir();
    const first: string[] = [];
    await runSweep(state, { dir: out, progress: silentProgress, cellProgress: silentProgress, runCell: fakeCell(new Set(['p1-r2']), first), maxCells: 3 });
    expect(first).toEqual(['p1-r1', 'p1-r2', 'p2-r1']);
    const again: string[] = [];
    const { said, p } = lines();
    const r = await runSweep(loadSweepDir(out, plan.hash), { dir: out, progress: p, cellProgress: silentProgress, runCell: fakeCell(new Set(), again) });
    expect(again).toEqual(['p1-r2', 'p2-r2', 'p3-r1', 'p3-r2', 'p4-r1', 'p4-r2']);
    expect(r).toMatchObject({ ran: 6, skipped: 2, failed: 0 });
    expect(said[0]).toBe('resuming: 2 of 8 cells finished before, 6 to run');
    expect(() => loadSweepDir(out, 'another')).toThrow(/another version of this sweep/);
  });
});
