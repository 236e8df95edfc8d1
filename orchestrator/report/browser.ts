import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { z } from 'zod';

// The pages in a real browser (report.html, a sweep's summary.html, the
// compare page, ladder.html): headless Chromium (Debian's `chromium`,
// images/setup.sh) lays the page out, and a check script, added to a copy of
// the page (the page itself stays script-free), measures every plot's
// marks with getBBox and writes what it found into an element that
// --dump-dom prints. A second run takes the screenshot (report.png, ...) at the
// page's full height. No DevTools protocol: two plain command lines.

const MARKER = 'pmiplab-check';
const MAX_SHOT_HEIGHT = 16_000;

// First thing in the page: script errors, failed resources (capture phase)
// and console.error calls are collected, for the check at the end.
const ERROR_HOOK = `<script>(function(){var e=window.__pmiplabErrors=[];
addEventListener('error',function(v){var t=v.target;e.push(v.message?String(v.message):'resource failed: '+((t&&(t.src||t.href))||(t&&t.tagName)||'?'));},true);
var c=console.error;console.error=function(){e.push('console.error: '+Array.prototype.join.call(arguments,' '));return c.apply(console,arguments);};})();</script>`;

// ES5, no dependencies: runs at the end of <body>, after every inline SVG is parsed.
const CHECK_SCRIPT = `<script>(function(){
var out={figures:[],errors:[],height:0};
try{
var figs=document.querySelectorAll('figure');
for(var i=0;i<figs.length;i++){
  var svg=figs[i].querySelector('svg');
  var f={index:i,title:'',svg:false,width:0,height:0,marks:{},drawn:0,total:0};
  if(svg){
    var r=svg.getBoundingClientRect();f.svg=true;f.width=Math.round(r.width);f.height=Math.round(r.height);
    var ts=svg.querySelectorAll('.role-title-text');if(ts.length)f.title=ts[ts.length-1].textContent;
    var groups=svg.querySelectorAll('g.role-mark');
    for(var g=0;g<groups.length;g++){
      var kind=(groups[g].getAttribute('class').match(/mark-([a-z]+)/)||[])[1]||'?';
      var els=groups[g].children;
      for(var k=0;k<els.length;k++){
        var el=els[k];if(typeof el.getBBox!=='function')continue;
        f.total++;var b=el.getBBox();
        if(b.width>0||b.height>0){f.drawn++;f.marks[kind]=(f.marks[kind]||0)+1;}
      }
    }
  }
  out.figures.push(f);
}
out.height=Math.ceil(document.documentElement.scrollHeight);
var pe=window.__pmiplabErrors||['the error hook did not run'];for(var q=0;q<pe.length;q++)out.errors.push(pe[q]);
}catch(e){out.errors.push(String(e&&e.message||e));}
var pre=document.createElement('pre');pre.id='${MARKER}';pre.textContent=JSON.stringify(out);document.body.appendChild(pre);
})();</script>`;

export const FigureCheck = z.object({
  index: z.number().int(),
  title: z.string(),
  svg: z.boolean(),
  width: z.number(),
  height: z.number(),
  /** drawn marks (non-empty bounding box) by vega mark type: symbol, line, rect, rule, text, area */
  marks: z.record(z.string(), z.number()),
  drawn: z.number().int(),
  total: z.number().int(),
});
export type FigureCheck = z.infer<typeof FigureCheck>;

const CheckOutput = z.object({ figures: z.array(FigureCheck), errors: z.array(z.string()), height: z.number() });

export interface BrowserCheck {
  figures: FigureCheck[];
  /** script errors in the page, and figures without an SVG or without a drawn data mark */
  problems: string[];
  screenshot: string | null;
}

/** Chromium's path: $PMIPLAB_CHROMIUM, else Debian's or another distribution's name; null when absent. */
export function findChromium(): string | null {
  const env = process.env.PMIPLAB_CHROMIUM;
  const candidates = [...(env ? [env] : []), '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((c) => existsSync(c)) ?? null;
}

const unescapeText = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&nbsp;/g, '\u00a0').replace(/&amp;/g, '&');

/** The check's output out of a --dump-dom; null when the marker is absent (the script did not run). */
export function parseCheck(dom: string): z.infer<typeof CheckOutput> | null {
  const m = new RegExp(`<pre id="${MARKER}">([\\s\\S]*?)</pre>`).exec(dom);
  if (!m) return null;
  const r = CheckOutput.safeParse(JSON.parse(unescapeText(m[1] ?? '')));
  return r.success ? r.data : null;
}

/** What is wrong with the figures a check found (empty: every plot drew data marks). */
export function figureProblems(figures: FigureCheck[]): string[] {
  const out: string[] = [];
  for (const f of figures) {
    const name = `figure ${f.index + 1}${f.title ? ` (${f.title})` : ''}`;
    if (!f.svg) out.push(`${name}: no SVG`);
    else if (f.width === 0 || f.height === 0) out.push(`${name}: the SVG has no size (${f.width}×${f.height})`);
    // rules and text alone are decoration (handover lines, labels): a plot shows data as symbols, lines, bars or areas
    else if (!['symbol', 'line', 'rect', 'area'].some((k) => (f.marks[k] ?? 0) > 0)) out.push(`${name}: no data mark drawn (${f.drawn} of ${f.total} marks have geometry)`);
  }
  return out;
}

/** The page with `first` right after <head> and `last` right before </body>. */
function withScripts(html: string, first: string, last: string): string {
  const at = html.lastIndexOf('</body>');
  const withLast = at >= 0 ? `${html.slice(0, at)}${last}${html.slice(at)}` : `${html}${last}`;
  const head = /<head[^>]*>/i.exec(withLast);
  return head ? `${withLast.slice(0, head.index + head[0].length)}${first}${withLast.slice(head.index + head[0].length)}` : `${first}${withLast}`;
}

const chromeArgs = (profile: string) => ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage', '--hide-scrollbars', `--user-data-dir=${profile}`];

/**
 * Open a page in headless Chromium and check every plot; with
 * `screenshot`, also write a PNG of the whole page there.
 */
export async function checkPageInBrowser(htmlFile: string, opts: { chromium: string; screenshot?: string; timeoutMs?: number }): Promise<BrowserCheck> {
  const timeout = opts.timeoutMs ?? 90_000;
  const work = mkdtempSync(path.join(tmpdir(), 'pmiplab-browser-'));
  try {
    const page = path.join(work, 'check.html');
    writeFileSync(page, withScripts(readFileSync(htmlFile, 'utf8'), ERROR_HOOK, CHECK_SCRIPT));
    const url = pathToFileURL(page).href;
    const dump = await execa(opts.chromium, [...chromeArgs(path.join(work, 'profile')), '--dump-dom', url], { timeout, reject: false });
    const found = parseCheck(dump.stdout);
    if (!found) {
      const why = dump.timedOut ? `timed out after ${timeout} ms` : `exit ${dump.exitCode}: ${dump.stderr.split('\n').filter((l) => l.trim()).slice(-3).join(' | ')}`;
      return { figures: [], problems: [`the check script left no result in the page (${why})`], screenshot: null };
    }
    const problems = [...found.errors.map((e) => `script error: ${e}`), ...figureProblems(found.figures)];
    let screenshot: string | null = null;
    if (opts.screenshot) {
      const height = Math.min(MAX_SHOT_HEIGHT, Math.max(600, found.height));
      rmSync(opts.screenshot, { force: true });
      // the screenshot of the page as published (no check element at its foot)
      const shot = await execa(opts.chromium, [...chromeArgs(path.join(work, 'profile')), `--window-size=1440,${height}`, `--screenshot=${opts.screenshot}`, pathToFileURL(htmlFile).href], { timeout, reject: false });
      if (existsSync(opts.screenshot)) screenshot = opts.screenshot;
      else problems.push(`no screenshot (exit ${shot.exitCode}${shot.timedOut ? ', timed out' : ''})`);
    }
    return { figures: found.figures, problems, screenshot };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The run report's check (the same for every page). */
export const checkReportInBrowser = checkPageInBrowser;

/** The screenshot kept beside a page: report.html → report.png, summary.html → summary.png. */
export const screenshotBeside = (htmlFile: string) => htmlFile.replace(/\.html?$/i, '') + '.png';

/**
 * For the commands that write a page: check it in Chromium and keep its
 * screenshot beside it when Chromium is installed; a line to print either way.
 */
export async function shootPage(htmlFile: string): Promise<{ line: string; check: BrowserCheck | null }> {
  const chromium = findChromium();
  if (!chromium) return { line: 'no chromium: no screenshot (images/setup.sh installs it)', check: null };
  const check = await checkPageInBrowser(htmlFile, { chromium, screenshot: screenshotBeside(htmlFile) });
  const shot = check.screenshot ? `screenshot ${path.basename(check.screenshot)}` : 'no screenshot';
  const line = check.problems.length ? `in Chromium: ${check.problems.length} problem(s): ${check.problems.join('; ')}; ${shot}` : `in Chromium: ${check.figures.length} plot(s) drawn, no script error; ${shot}`;
  return { line, check };
}

// Timing of one page open, read by the page itself (performance.now(): ms
// from the navigation's start): `parsed` when the parser reaches the end of
// <body> (every inline SVG parsed), `layout` after a forced layout there
// (every plot laid out: what a paint needs), `load` in the load event.
const TIMING_SCRIPT = `<script>(function(){
var t={parsed:performance.now(),layout:0,load:0};document.documentElement.getBoundingClientRect();void document.body.offsetHeight;
t.layout=performance.now();
function put(){var p=document.getElementById('${MARKER}-t')||document.createElement('pre');p.id='${MARKER}-t';p.textContent=JSON.stringify(t);document.body.appendChild(p);}
put();addEventListener('load',function(){t.load=performance.now();put();});
})();</script>`;

const PageTiming = z.object({ parsed: z.number(), layout: z.number(), load: z.number() });
export interface PageOpen {
  /** ms from the navigation's start: the whole page parsed, laid out, its load event (0: not seen) */
  parsedMs: number;
  layoutMs: number;
  loadMs: number;
  /** ms the whole chromium command took (browser start and exit included) */
  wallMs: number;
}

/** Open a page once in headless Chromium and read how long it took (see TIMING_SCRIPT). */
export async function timePageInBrowser(htmlFile: string, opts: { chromium: string; timeoutMs?: number }): Promise<PageOpen> {
  const work = mkdtempSync(path.join(tmpdir(), 'pmiplab-browser-'));
  try {
    const page = path.join(work, 'timed.html');
    writeFileSync(page, withScripts(readFileSync(htmlFile, 'utf8'), '', TIMING_SCRIPT));
    const t0 = process.hrtime.bigint();
    const dump = await execa(opts.chromium, [...chromeArgs(path.join(work, 'profile')), '--dump-dom', pathToFileURL(page).href], { timeout: opts.timeoutMs ?? 90_000, reject: false });
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const m = new RegExp(`<pre id="${MARKER}-t">([\\s\\S]*?)</pre>`).exec(dump.stdout);
    const t = m ? PageTiming.safeParse(JSON.parse(unescapeText(m[1] ?? ''))) : null;
    if (!t?.success) throw new Error(`no timing from the page (exit ${dump.exitCode}${dump.timedOut ? ', timed out' : ''})`);
    return { parsedMs: t.data.parsed, layoutMs: t.data.layout, loadMs: t.data.load, wallMs };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
