import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkReportInBrowser, findChromium } from '../../orchestrator/report/browser.js';
import { writeReport } from '../../orchestrator/report/index.js';
import { makeSyntheticRun } from '../unit/report/synthetic-run.js';

// report.html in headless Chromium (no root needed): every plot's SVG must
// lay out with drawn data marks and the check script must run without error.
// Run folder: a synthetic run (test/unit/report/synthetic-run.ts, with an MN
// capture, so the per-interface plot is there too), and with
// PMIPLAB_BROWSER_RUN=runs/<id> a real run as well, whose report.png stays in
// its folder.

const chromium = findChromium();
if (!chromium) console.warn('test/integration/report-browser.test.ts skipped: no chromium (images/setup.sh installs Debian\'s chromium)');
const realRun = process.env.PMIPLAB_BROWSER_RUN;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!chromium)('report.html in headless Chromium', () => {
  it('renders every plot of a synthetic run, and a screenshot', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pmiplab-browser-run-'));
    dirs.push(dir);
    makeSyntheticRun(dir);
    await writeReport(dir);
    const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
    const figures = (html.match(/<figure>/g) ?? []).length;
    expect(figures).toBe(6); // sequence x2, zoom, gap, timeline, per interface

    const r = await checkReportInBrowser(path.join(dir, 'report.html'), { chromium: chromium!, screenshot: path.join(dir, 'report.png') });
    expect(r.problems).toEqual([]);
    expect(r.figures).toHaveLength(figures);
    for (const f of r.figures) {
      expect(f.width).toBeGreaterThan(100);
      expect(f.drawn).toBeGreaterThan(0);
    }
    const byTitle = new Map(r.figures.map((f) => [f.title, f]));
    // the sequence plots draw symbols, the per-interface plot one line per flow and interface
    expect(byTitle.get('flow down: cn1 → mn1')?.marks.symbol).toBeGreaterThan(100);
    expect(byTitle.get('which interface carried which flow')?.marks.line).toBe(2);
    expect(byTitle.get('gap per handover')?.marks.rect).toBe(6);
    // one dashed L2-event rule per cell of the zoom (2 flows x 3 handovers), beside its probes
    expect(byTitle.get('around each handover')?.marks.rule).toBe(6);
    expect(byTitle.get('around each handover')?.marks.symbol).toBeGreaterThan(100);
    const png = readFileSync(r.screenshot!);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(50_000);
  }, 180_000);

  it('says so when a plot drew nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pmiplab-browser-empty-'));
    dirs.push(dir);
    const { writeFileSync } = await import('node:fs');
    const page = path.join(dir, 'report.html');
    writeFileSync(page, '<!doctype html><html><body><figure><svg width="300" height="100"><g class="mark-symbol role-mark"></g></svg></figure><figure><p>no svg</p></figure></body></html>');
    const r = await checkReportInBrowser(page, { chromium: chromium! });
    expect(r.problems).toEqual(['figure 1: no data mark drawn (0 of 0 marks have geometry)', 'figure 2: no SVG']);
  }, 120_000);

  it.skipIf(!realRun)('renders every plot of the run in PMIPLAB_BROWSER_RUN and keeps report.png there', async () => {
    const dir = path.resolve(realRun!);
    if (!existsSync(path.join(dir, 'report.html'))) await writeReport(dir);
    const r = await checkReportInBrowser(path.join(dir, 'report.html'), { chromium: chromium!, screenshot: path.join(dir, 'report.png') });
    console.log(JSON.stringify(r.figures.map((f) => [f.title, f.marks])));
    expect(r.problems).toEqual([]);
    expect(r.figures.length).toBeGreaterThan(0);
    expect(existsSync(path.join(dir, 'report.png'))).toBe(true);
  }, 180_000);
});
