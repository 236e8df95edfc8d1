import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { badInput } from '../errors.js';
import { shootPage } from '../report/browser.js';
import { requireRoot } from '../system/tools.js';
import { createSweepDir, loadSweepDir, runSweep } from '../study/runner.js';
import { summaryRows, sweepStats } from '../study/summary.js';
import { loadSweep, pointLabel } from '../study/sweep-file.js';
import { sweepPaths } from '../study/sweep-state.js';
import { parseFlags } from './flags.js';
import { silentProgress, table, terminalProgress } from './progress.js';

// `pmiplab sweep <sweep.yaml>`: every cell of the grid checked first (exit 2
// naming the cell and the path), then run one after another with progress;
// one folder per cell and the summary (sweep.json, summary.csv,
// summary.html) in the sweep folder. `--resume DIR` goes on with a folder.
const Flags = z
  .object({
    file: z.string().min(1).optional(),
    out: z.string().min(1).optional(),
    resume: z.string().min(1).optional(),
    capture: z.boolean().default(true),
    verbose: z.boolean().default(false),
    dryRun: z.boolean().default(false),
  })
  .strict()
  .refine((f) => f.file || f.resume, { message: 'give a sweep file, or --resume DIR' })
  .refine((f) => !(f.out && f.resume), { message: '--out and --resume do not go together (the resumed folder is the output)' });

/** A path as the user would type it: relative inside the working folder, absolute outside. */
export const shown = (p: string) => {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
};

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

export function sweepCommand(): Command {
  return new Command('sweep')
    .description('run an experiment over a grid of parameters (a sweep file), with repetitions, and summarize')
    .argument('[sweep.yaml]', 'sweep file (see "Sweeps" in topologies/README.md)')
    .option('--out <dir>', 'sweep folder (default: sweeps/<name>-<time>)')
    .option('--resume <dir>', 'go on with a sweep folder: skip the cells that finished')
    .option('--no-capture', 'no pcaps in the cells')
    .option('--verbose', "print each cell's steps (bring-up, scenario, teardown)")
    .option('--dry-run', 'check every cell and list them; run nothing (no root needed)')
    .action(async (file: string | undefined, opts: Record<string, unknown>) => {
      const f = parseFlags(Flags, { ...(file ? { file } : {}), ...opts }, 'pmiplab sweep <sweep.yaml> [--out DIR] | pmiplab sweep [sweep.yaml] --resume DIR');
      const progress = terminalProgress();
      // every cell validated before anything runs (also on resume, when the file is given)
      const plan = f.file ? loadSweep(f.file) : null;
      if (plan) progress.info(`sweep ${plan.name}: ${plan.points.length} grid points x ${plan.repeat} = ${plan.cells.length} cells, all valid`);
      if (f.dryRun) {
        if (!plan) throw badInput('--dry-run needs the sweep file');
        const rows = plan.cells.map((c) => [c.id, pointLabel(c.point.values)]);
        process.stdout.write(`${table([['CELL', 'PARAMETERS'], ...rows])}\n`);
        return;
      }
      requireRoot('pmiplab sweep');
      let dir: string;
      let state;
      if (f.resume) {
        dir = path.resolve(f.resume);
        state = loadSweepDir(dir, plan?.hash);
      } else {
        dir = path.resolve(f.out ?? path.join('sweeps', `${plan!.name}-${stamp()}`));
        state = createSweepDir(plan!, dir, readFileSync(f.file!, 'utf8'));
      }
      progress.info(`sweep folder ${shown(dir)}`);
      const outcome = await runSweep(state, { dir, progress, cellProgress: f.verbose ? terminalProgress() : silentProgress, capture: f.capture });
      const p = sweepPaths(dir);
      const rel = shown;
      progress.info(`summary.html ${(await shootPage(p.html)).line}`);
      process.stdout.write(`\n${table(summaryRows(state, sweepStats(dir, state)))}\n`);
      process.stdout.write(
        `\nsweep ${state.name}: ${outcome.ran} cells run, ${outcome.skipped} finished before, ${outcome.failed} failed\nsummary: ${rel(p.html)} (${rel(p.csv)}, ${rel(p.state)})\n`,
      );
      if (outcome.failed) process.exitCode = 1;
    });
}
