// Report-open benchmark: how long report.html of a run with 100 handovers
// takes to open in headless Chromium (Debian's chromium, images/setup.sh).
// The run folder is synthetic (test/unit/report/synthetic-run.ts: two flows
// at 1000 pps, 100 moves 700 ms apart, an MN capture, the nodes' signaling
// events), the report is written by writeReport as `pmiplab run` writes it,
// then opened LOADS times. Timed in the page (performance.now(), from the
// navigation's start): parsed (end of <body> reached, every inline SVG
// parsed), laid out (a forced layout there: every plot drawn), load event;
// "open" is the later of laid out and load. The wall time of the whole
// chromium command (browser start and exit) is shown beside it.
// Goal: median open < 1000 ms with 100 handovers.
// Run: npm run bench:report-open   (writes bench/results/report-open.json)

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findChromium, timePageInBrowser, type PageOpen } from '../orchestrator/report/browser.js';
import { writeReport } from '../orchestrator/report/index.js';
import { makeSyntheticRun } from '../test/unit/report/synthetic-run.js';
import { fmt, median, writeResults } from './stats.js';

const HANDOVERS = 100;
const EVERY_MS = 700;
const RATE = 1000;
const LOADS = 5;
const GOAL_MS = 1000;

const chromium = findChromium();
if (!chromium) {
  console.log('report-open benchmark skipped: no chromium (images/setup.sh installs it)');
  process.exit(0);
}

const dir = mkdtempSync(path.join(tmpdir(), 'pmiplab-bench-report-'));
try {
  const seconds = Math.ceil((2000 + HANDOVERS * EVERY_MS + 1000) / 1000);
  makeSyntheticRun(dir, { moves: HANDOVERS, everyMs: EVERY_MS, rate: RATE, seconds });
  const t0 = process.hrtime.bigint();
  await writeReport(dir);
  const writeMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const html = path.join(dir, 'report.html');
  const page = readFileSync(html, 'utf8');
  // where the page's bytes are: each figure's SVG and its elements
  const figures = [...page.matchAll(/<section><h2>([^<]*)<\/h2>[\s\S]*?(?=<section>|<\/body>)/g)].map((m) => {
    const svgs = m[0].match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    return { section: m[1] ?? '', svgKb: svgs.reduce((a, s) => a + s.length, 0) / 1024, elements: svgs.reduce((a, s) => a + (s.match(/<(path|line|text|rect|circle)\b/g) ?? []).length, 0) };
  }).filter((f) => f.svgKb > 0);

  await timePageInBrowser(html, { chromium }); // warm-up: the first chromium start reads its files from disk
  const loads: Array<PageOpen & { openMs: number }> = [];
  for (let i = 0; i < LOADS; i++) {
    const t = await timePageInBrowser(html, { chromium });
    loads.push({ ...t, openMs: Math.max(t.layoutMs, t.loadMs) });
  }
  const col = (k: keyof (typeof loads)[number]) => loads.map((l) => l[k]);
  const rows = (['parsedMs', 'layoutMs', 'loadMs', 'openMs', 'wallMs'] as const).map((k) => ({ what: k, median: median(col(k)), min: Math.min(...col(k)), max: Math.max(...col(k)) }));
  const sizeKb = statSync(html).size / 1024;
  console.log(`report-open benchmark: report.html of a synthetic run, ${HANDOVERS} handovers ${EVERY_MS} ms apart, 2 flows at ${RATE} pps (${seconds} s), ${fmt(sizeKb, 0)} KiB; ${LOADS} loads after a warm-up; ${path.basename(chromium)}, node ${process.version}`);
  console.log(`writeReport: ${fmt(writeMs, 0)} ms`);
  console.log(['section'.padEnd(44), 'SVG KiB'.padStart(8), 'elements'.padStart(9)].join(' '));
  for (const f of figures) console.log([f.section.slice(0, 44).padEnd(44), fmt(f.svgKb, 0).padStart(8), String(f.elements).padStart(9)].join(' '));
  console.log('');
  console.log(['ms from navigation'.padEnd(24), 'median'.padStart(8), 'min'.padStart(8), 'max'.padStart(8)].join(' '));
  const label = { parsedMs: 'parsed', layoutMs: 'laid out (plots drawn)', loadMs: 'load event', openMs: 'open (later of the two)', wallMs: 'chromium command (wall)' };
  for (const r of rows) console.log([label[r.what].padEnd(24), fmt(r.median, 0).padStart(8), fmt(r.min, 0).padStart(8), fmt(r.max, 0).padStart(8)].join(' '));
  const open = rows.find((r) => r.what === 'openMs')!.median;
  const meets = open < GOAL_MS;
  console.log(`goal: open < ${GOAL_MS} ms with ${HANDOVERS} handovers: ${meets ? 'met' : 'MISSED'} (median ${fmt(open, 0)} ms)`);
  const out = writeResults('report-open', { date: new Date().toISOString(), node: process.version, chromium, handovers: HANDOVERS, everyMs: EVERY_MS, rate: RATE, sizeKb, writeMs, figures, loads, rows, goal: { openMs: GOAL_MS, meets } });
  console.log(`wrote ${out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
