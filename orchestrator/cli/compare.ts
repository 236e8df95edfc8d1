import { Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { shootPage } from '../report/browser.js';
import { compareHtml } from '../report/compare-page.js';
import { compareGroups, loadGroups } from '../study/compare.js';
import { loadSweepDir } from '../study/runner.js';
import { sweepPaths } from '../study/sweep-state.js';
import { writeSweepSummary } from '../study/write-summary.js';
import { parseFlags } from './flags.js';
import { table } from './progress.js';
import { shown } from './sweep.js';

// `pmiplab compare RUN_OR_SWEEP... [-o FILE]`: one page setting runs (or the
// grid points of sweeps) side by side; the gap and loss tests of every pair
// on stdout. Needs no root.
const Flags = z
  .object({
    runs: z.array(z.string().min(1)).min(1),
    output: z.string().min(1).optional(),
  })
  .strict();

const p = (v: number | null) => (v === null ? '-' : v < 0.0001 ? v.toExponential(1) : v.toFixed(4));
const n = (v: number | null, d = 2) => (v === null ? '-' : v.toFixed(d));

export function compareCommand(): Command {
  return new Command('compare')
    .description('set runs or sweeps side by side: distributions, a test of difference for each pair, the settings that differ')
    .argument('<runs...>', 'run folders (runs/<id>, sweep cells) or run ids, or sweep folders (one group per grid point)')
    .option('-o, --output <file>', 'the page to write (default: compare.html; for one sweep folder, compare.html in it, linked from its summary)')
    .action(async (runs: string[], opts: Record<string, unknown>) => {
      const f = parseFlags(Flags, { runs, ...opts }, 'pmiplab compare RUN_OR_SWEEP... [-o FILE]');
      const c = compareGroups(await loadGroups(f.runs));
      // one sweep folder: its page goes beside summary.html, which then links it
      const sweep = f.runs.length === 1 && existsSync(sweepPaths(f.runs[0]!).state) ? path.resolve(f.runs[0]!) : null;
      const output = path.resolve(f.output ?? (sweep ? path.join(sweep, 'compare.html') : 'compare.html'));
      writeFileSync(output, await compareHtml(c, { pageDir: path.dirname(output) }));
      if (sweep && path.dirname(output) === sweep) await writeSweepSummary(sweep, loadSweepDir(sweep));
      const rows = c.tests
        .filter((t) => t.metric === 'gapMs' || t.metric === 'lost')
        .map((t) => [t.a, t.b, t.flow, t.metric, `${t.nA}/${t.nB}`, n(t.medianA), n(t.medianB), p(t.p), p(t.pHolm), n(t.effect)]);
      process.stdout.write(`${c.groups.map((g) => `${g.label}: ${g.detail}, ${g.runs} run(s)`).join('\n')}\n\n`);
      process.stdout.write(`${table([['A', 'B', 'FLOW', 'METRIC', 'N', 'MEDIAN A', 'MEDIAN B', 'P', 'P HOLM', 'EFFECT'], ...rows])}\n`);
      if (c.settings.length) {
        process.stdout.write(`\nsettings that differ:\n${c.settings.map((s) => `  ${s.path}: ${s.values.map((v) => (v === undefined ? '(absent)' : JSON.stringify(v))).join(' | ')}`).join('\n')}\n`);
      } else process.stdout.write('\nthe resolved plans are the same\n');
      process.stdout.write(`\npage: ${shown(output)}\n`);
      process.stderr.write(`${path.basename(output)} ${(await shootPage(output)).line}\n`);
    });
}
