import { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { badInput } from '../errors.js';
import { summaryTable, writeReport } from '../report/index.js';
import { RUN_ID_RE, runPaths } from '../run/paths.js';
import { parseFlags } from './flags.js';

// `pmiplab report <runDir|id>`: (re)compute metrics.json, metrics.csv and
// report.html from what a run left in its folder (events, samples, run.json),
// and print the summary table. Needs no root and no running lab.
const Args = z
  .object({
    run: z.string().min(1),
    json: z.boolean().default(false),
    preMs: z.coerce.number().nonnegative().max(1000).optional(),
    gapHorizonMs: z.coerce.number().positive().max(600_000).optional(),
  })
  .strict();

/** A folder path, or a run id under runs/. */
function resolveRunDir(run: string): string {
  if (existsSync(run) && statSync(run).isDirectory()) return path.resolve(run);
  if (RUN_ID_RE.test(run)) {
    const dir = runPaths(run).dir;
    if (existsSync(dir)) return dir;
  }
  throw badInput(`no run folder '${run}'`, 'give the folder of a run (runs/<id>) or its id');
}

export function reportCommand(): Command {
  return new Command('report')
    .description('compute a run\'s metrics and write metrics.json, metrics.csv and report.html into its folder')
    .argument('<run>', 'run folder (runs/<id>) or run id')
    .option('--json', 'print metrics.json instead of the summary table')
    .option('--pre-ms <ms>', 'a handover window starts this long before its L2 event (default 10)')
    .option('--gap-horizon-ms <ms>', 'the gap must begin within this long after the L2 event (default 500)')
    .action(async (run: string, opts: Record<string, unknown>) => {
      const a = parseFlags(Args, { run, ...opts });
      const dir = resolveRunDir(a.run);
      const { metrics, files } = await writeReport(dir, {
        ...(a.preMs !== undefined ? { preMs: a.preMs } : {}),
        ...(a.gapHorizonMs !== undefined ? { gapHorizonMs: a.gapHorizonMs } : {}),
      });
      if (a.json) {
        process.stdout.write(`${JSON.stringify(metrics, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${summaryTable(metrics)}\n\n${files.map((f) => `wrote ${path.relative(process.cwd(), f).startsWith('..') ? f : path.relative(process.cwd(), f)}`).join('\n')}\n`);
    });
}
