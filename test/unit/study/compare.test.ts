import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareHtml } from '../../../orchestrator/report/compare-page.js';
import { METRICS_SCHEMA, type Metrics } from '../../../orchestrator/report/schema.js';
import { compareGroups, holm, loadGroups, settingsDiff } from '../../../orchestrator/study/compare.js';
import { planHash } from '../../../orchestrator/study/provenance.js';

// compare without root: run folders made by hand (metrics.json and
// topology.json), the plan diff, Holm's adjustment, the page.

function metrics(runId: string, gaps: number[]): Metrics {
  return {
    schema: METRICS_SCHEMA,
    run: { name: 'x', runId, startNs: '0', dataPlane: 'seg6', transport: 'udp', signalingImpairment: null, generatedAt: 'now' },
    definitions: { preMs: 10, gapHorizonMs: 500, timelineHorizonMs: 1000 },
    handovers: [],
    flows: [
      {
        flow: 'up', from: 'mn1', to: 'cn1', rate: 100, size: 100, files: { sender: null, receiver: null },
        totals: { sent: 1, received: 1, lost: 0, sendFailed: 0, duplicated: 0, reordered: 0, strays: 0, delayMs: null, maxGapMs: null, durationS: 1, ratePps: 1, senderMaxLagMs: null },
        baseline: { sent: 1, lost: 0, maxGapMs: null, delayMs: null },
        interfaces: [],
        handovers: gaps.map((g, i) => ({
          index: i + 1, from: 'mag1', to: 'mag2', gapMs: g, gapStartMs: 0, gapEndMs: g, recovered: true, senderPauseMs: 0,
          sent: 10, received: 10, lost: Math.round(g / 10), sendFailed: 0, duplicated: 0, reordered: 0, delayMs: null,
        })),
      },
    ],
    stages: [],
    warnings: [],
  };
}

const plan = (runId: string, delayMs?: number) => ({
  name: 'x',
  runId,
  source: `/tmp/${runId}.yaml`,
  nodes: [{ name: 'lma1', netns: `pl${runId}-lma1` }],
  links: [{ id: 'l1', ...(delayMs !== undefined ? { signaling: { delayMs } } : {}) }],
});

function runDir(root: string, runId: string, gaps: number[], delayMs?: number) {
  const d = path.join(root, runId);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, 'metrics.json'), JSON.stringify(metrics(runId, gaps)));
  writeFileSync(path.join(d, 'topology.json'), JSON.stringify(plan(runId, delayMs)));
  return d;
}

describe('compare', () => {
  it('tells apart shifted gaps, leaves alike ones, names only the setting that differs', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-cmp-'));
    const a = runDir(root, 'aaaa', [10, 11, 9, 12, 10, 11, 10, 9]);
    const b = runDir(root, 'bbbb', [30, 31, 29, 33, 30, 32, 31, 29], 20);
    const c = runDir(root, 'cccc', [10, 12, 9, 11, 10, 10, 11, 9]);
    const cmp = compareGroups(await loadGroups([a, b, c]));
    const gap = (x: string, y: string) => cmp.tests.find((t) => t.metric === 'gapMs' && t.a === x && t.b === y)!;
    expect(gap('aaaa', 'bbbb').p!).toBeLessThan(0.01);
    expect(gap('aaaa', 'bbbb').effect).toBe(-1);
    expect(gap('aaaa', 'cccc').p!).toBeGreaterThan(0.3);
    expect(gap('aaaa', 'bbbb').pHolm!).toBeGreaterThanOrEqual(gap('aaaa', 'bbbb').p!);
    // run ids, namespace names and sources are not settings
    expect(cmp.settings).toEqual([{ path: 'links[0].signaling.delayMs', values: [undefined, 20, undefined] }]);
    const html = await compareHtml(cmp);
    expect(html.match(/<svg/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(html).toContain('links[0].signaling.delayMs');
    expect(html).toContain('A lower');
  });

  it('refuses fewer than two groups and folders that are not runs', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-cmp-'));
    const a = runDir(root, 'aaaa', [1, 2]);
    await expect(loadGroups([a])).rejects.toThrow(/at least two/);
    await expect(loadGroups([a, path.join(root, 'nope')])).rejects.toThrow(/no run or sweep folder/);
  });

  it('adjusts p-values by Holm (step-down, monotone, capped at 1)', () => {
    expect(holm([0.01, 0.04, 0.03, null])).toEqual([0.03, 0.06, 0.06, null]);
    expect(holm([0.5, 0.9])).toEqual([1, 1]);
    expect(settingsDiff([{ a: 1, b: [1, 2] }, { a: 1, b: [1, 3] }])).toEqual([{ path: 'b[1]', values: [2, 3] }]);
  });

  it('hashes a plan the same whatever the run id', () => {
    expect(planHash(plan('aaaa', 5))).toBe(planHash(plan('zzzz', 5)));
    expect(planHash(plan('aaaa', 5))).not.toBe(planHash(plan('aaaa', 6)));
  });
});
