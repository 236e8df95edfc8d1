import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentProgress } from '../../orchestrator/cli/progress.js';
import { checkPageInBrowser, findChromium, screenshotBeside, type BrowserCheck } from '../../orchestrator/report/browser.js';
import { compareHtml } from '../../orchestrator/report/compare-page.js';
import { reportHtml } from '../../orchestrator/report/html.js';
import { ladderHtml } from '../../orchestrator/report/ladder-page.js';
import { METRICS_SCHEMA, type Metrics } from '../../orchestrator/report/schema.js';
import { compareGroups, loadGroups } from '../../orchestrator/study/compare.js';
import type { Ladder, LadderArrow } from '../../orchestrator/study/ladder.js';
import { createSweepDir, runSweep, type CellRunner } from '../../orchestrator/study/runner.js';
import { planSweep } from '../../orchestrator/study/sweep-file.js';
import { sweepPaths } from '../../orchestrator/study/sweep-state.js';

// The study pages in headless Chromium (no root needed), with the check
// report.html gets (orchestrator/report/browser.ts): a sweep's summary.html
// (cells made by a fake cell runner whose gaps depend on the parameters),
// the compare page of three run folders made by hand, and ladder.html of a
// hand-made ladder (two handovers, a retransmitted PBU, a lost PBA). Each
// page loads without a script error, every plot draws its data marks, and
// summary.png, compare.png and ladder.png are kept beside the pages. With
// PMIPLAB_BROWSER_SWEEP=sweeps/<dir> a real sweep folder too: its
// summary.png, and the first cell's ladder.png.

const chromium = findChromium();
if (!chromium) console.warn("test/integration/study-browser.test.ts skipped: no chromium (images/setup.sh installs Debian's chromium)");
const realSweep = process.env.PMIPLAB_BROWSER_SWEEP;
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const scratch = (name: string) => {
  const d = mkdtempSync(path.join(tmpdir(), `pmiplab-${name}-`));
  dirs.push(d);
  return d;
};

function metrics(runId: string, gaps: number[]): Metrics {
  return {
    schema: METRICS_SCHEMA,
    run: { name: 'x', runId, startNs: '0', dataPlane: 'seg6', transport: 'udp', signalingImpairment: null, generatedAt: 'now' },
    definitions: { preMs: 10, gapHorizonMs: 500, timelineHorizonMs: 1000 },
    handovers: [],
    flows: ['up', 'down'].map((flow) => ({
      flow, from: 'mn1', to: 'cn1', rate: 100, size: 100, files: { sender: null, receiver: null },
      totals: { sent: 1, received: 1, lost: 0, sendFailed: 0, duplicated: 0, reordered: 0, strays: 0, delayMs: null, maxGapMs: null, durationS: 1, ratePps: 1, senderMaxLagMs: null },
      baseline: { sent: 1, lost: 0, maxGapMs: null, delayMs: { p50: 0.1, p99: 0.2 } },
      interfaces: [],
      handovers: gaps.map((g, i) => ({
        index: i + 1, from: 'mag1', to: 'mag2', gapMs: g, gapStartMs: 0, gapEndMs: g, recovered: true, senderPauseMs: 0,
        sent: 10, received: 10 - Math.round(g / 10), lost: Math.round(g / 10), sendFailed: 0, duplicated: 0, reordered: i % 3 === 0 ? 1 : 0, delayMs: { p50: 0.1, p99: 0.3 + g / 100 },
      })),
    })),
    stages: [],
    warnings: [],
  };
}

function expectDrawn(r: BrowserCheck, figures: number) {
  expect(r.problems).toEqual([]);
  expect(r.figures).toHaveLength(figures);
  for (const f of r.figures) {
    expect(f.width).toBeGreaterThan(100);
    expect(f.drawn).toBeGreaterThan(0);
  }
  const png = readFileSync(r.screenshot!);
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  expect(png.length).toBeGreaterThan(20_000);
}

const ms = (v: number) => BigInt(Math.round(v * 1e6));
function arrow(kind: string, label: string, from: string, to: string, sequence: number, tx: number, rx: number | null): LadderArrow {
  return { kind, label, from, to, sequence, txNs: ms(tx), rxNs: rx === null ? null : ms(rx), txFile: `${from}-eth0.pcap`, rxFile: rx === null ? null : `${to}-eth0.pcap` };
}

describe.skipIf(!chromium)('the study pages in headless Chromium', () => {
  it('summary.html of a sweep: every metric plot drawn, summary.png beside it', async () => {
    const dir = scratch('sweep-page');
    const experiment = path.join(repo, 'topologies', 'handover-basic.yaml');
    const text = `name: page\nexperiment: ${experiment}\nparameters:\n  topology.links[0].signaling.delay: [0ms, 20ms]\n  scenario[0].action.rate: [100, 300]\nrepeat: 2\n`;
    const plan = planSweep(text, path.join(dir, 'sweep.yaml'));
    const out = path.join(dir, 'out');
    const state = createSweepDir(plan, out, text);
    const runCell: CellRunner = async (job) => {
      const delay = /delay: 20ms/.test(readFileSync(job.experimentFile, 'utf8')) ? 20 : 0;
      writeFileSync(path.join(job.dir, 'metrics.json'), JSON.stringify(metrics(job.id, [5, 7, 6, 9, 8, 6].map((g) => g + delay))));
      return { runId: job.id.replace('-', '') };
    };
    await runSweep(state, { dir: out, progress: silentProgress, cellProgress: silentProgress, runCell });
    const html = sweepPaths(out).html;
    const figures = (readFileSync(html, 'utf8').match(/<figure>/g) ?? []).length;
    expect(figures).toBe(4); // gap, loss, added delay, reordering
    const r = await checkPageInBrowser(html, { chromium: chromium!, screenshot: screenshotBeside(html) });
    expect(r.screenshot).toBe(path.join(out, 'summary.png'));
    expectDrawn(r, figures);
    // a line with its points per delay value and flow: 2 series x 2 flows
    expect(r.figures[0]?.marks.line).toBe(4);
  }, 180_000);

  it('the compare page: every distribution drawn, compare.png beside it', async () => {
    const root = scratch('compare-page');
    const run = (id: string, gaps: number[], delayMs?: number) => {
      const d = path.join(root, id);
      mkdirSync(d);
      writeFileSync(path.join(d, 'metrics.json'), JSON.stringify(metrics(id, gaps)));
      writeFileSync(path.join(d, 'topology.json'), JSON.stringify({ name: 'x', runId: id, nodes: [], links: [{ id: 'l1', ...(delayMs !== undefined ? { signaling: { delayMs } } : {}) }] }));
      return d;
    };
    const c = compareGroups(await loadGroups([run('aaaa', [10, 11, 9, 12, 10, 11]), run('bbbb', [30, 31, 29, 33, 30, 32], 20), run('cccc', [10, 12, 9, 11, 10, 10])]));
    const html = path.join(root, 'compare.html');
    writeFileSync(html, await compareHtml(c));
    const figures = (readFileSync(html, 'utf8').match(/<figure>/g) ?? []).length;
    expect(figures).toBe(4);
    const r = await checkPageInBrowser(html, { chromium: chromium!, screenshot: screenshotBeside(html) });
    expect(r.screenshot).toBe(path.join(root, 'compare.png'));
    expectDrawn(r, figures);
    // boxes (rect) and one dot per handover, group and flow: 3 x 6 x 2
    expect(r.figures[0]?.marks.symbol).toBe(36);
    expect(r.figures[0]?.marks.rect).toBeGreaterThanOrEqual(6);
  }, 180_000);

  it('ladder.html: the arrows of each handover drawn, ladder.png beside it; report.html links it', async () => {
    const dir = scratch('ladder-page');
    // handover 1 at 1000 ms: PBU to the LMA, lost once (retransmitted), PBA back; handover 2 at 2000 ms
    const l: Ladder = {
      lanes: ['mag1', 'lma1', 'mag2'],
      clockOffsetNs: 0n,
      handovers: [
        { index: 1, tNs: ms(1000), label: '#1 mag1→mag2' },
        { index: 2, tNs: ms(2000), label: '#2 mag2→mag1' },
      ],
      problems: [],
      arrows: [
        arrow('pbu', 'PBU #1 lt 400s', 'mag2', 'lma1', 1, 1003, null),
        arrow('pbu', 'PBU #1 lt 400s', 'mag2', 'lma1', 1, 1053, 1053.2),
        arrow('pba', 'PBA #1 st 0', 'lma1', 'mag2', 1, 1054, 1054.2),
        arrow('pbu', 'PBU #7 dereg', 'mag1', 'lma1', 7, 1060, 1060.2),
        arrow('pba', 'PBA #7 st 0 dereg', 'lma1', 'mag1', 7, 1061, 1061.1),
        arrow('pbu', 'PBU #8 lt 400s', 'mag1', 'lma1', 8, 2002, 2002.3),
        arrow('pba', 'PBA #8 st 0', 'lma1', 'mag1', 8, 2003, 2003.2),
      ],
    };
    const html = path.join(dir, 'ladder.html');
    writeFileSync(html, await ladderHtml(dir, l, 'synthetic'));
    const r = await checkPageInBrowser(html, { chromium: chromium!, screenshot: screenshotBeside(html) });
    expect(r.screenshot).toBe(path.join(dir, 'ladder.png'));
    expectDrawn(r, 1);
    // per handover: 3 lane rules + its arrows (5 and 2); a dot where each arrow ends
    expect(r.figures[0]?.marks.rule).toBe(6 + 7);
    expect(r.figures[0]?.marks.symbol).toBe(7);

    const page = reportHtml(metrics('x', [1]), { sequence: [], zoom: null, gap: null, timeline: null, interfaces: null }, { ladder: 'ladder.html' });
    expect(page).toContain('<a href="ladder.html">');
    expect(reportHtml(metrics('x', [1]), { sequence: [], zoom: null, gap: null, timeline: null, interfaces: null })).not.toContain('ladder.html');
  }, 180_000);

  it('says so when a page has a script error', async () => {
    const page = path.join(scratch('error-page'), 'page.html');
    writeFileSync(page, '<!doctype html><html><head></head><body><script>undefinedFunction()</script><figure><svg width="300" height="100"><g class="mark-rect role-mark"><path d="M0,0h10v10h-10Z"></path></g></svg></figure></body></html>');
    const r = await checkPageInBrowser(page, { chromium: chromium! });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/script error: .*undefinedFunction/);
  }, 120_000);

  it.skipIf(!realSweep)('renders the sweep in PMIPLAB_BROWSER_SWEEP and its first cell’s ladder, keeping the PNGs there', async () => {
    const dir = path.resolve(realSweep!);
    const r = await checkPageInBrowser(sweepPaths(dir).html, { chromium: chromium!, screenshot: path.join(dir, 'summary.png') });
    expect(r.problems).toEqual([]);
    const cell = path.join(dir, 'cells', 'p1-r1', 'ladder.html');
    if (existsSync(cell)) {
      const c = await checkPageInBrowser(cell, { chromium: chromium!, screenshot: screenshotBeside(cell) });
      expect(c.problems).toEqual([]);
    }
  }, 180_000);
});
