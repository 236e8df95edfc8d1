import { Command } from 'commander';
import path from 'node:path';
import { z } from 'zod';
import { writeReport, summaryTable } from '../report/index.js';
import { RUN_ID_RE } from '../run/paths.js';
import { copyResults, runExperiment } from '../scenario/experiment.js';
import { parseFlags } from './flags.js';
import { terminalProgress } from './progress.js';

// `pmiplab run <experiment.yaml>`: up, scenario, collect, down, report; the
// summary table on stdout, progress on stderr. Down also runs on failure and
// on Ctrl-C (the lab's guard).
const Flags = z
  .object({
    file: z.string().min(1),
    id: z.string().regex(RUN_ID_RE, 'a run id is 1-8 lowercase letters or digits').optional(),
    out: z.string().min(1).optional(),
    capture: z.boolean().default(true),
  })
  .strict();

export function runCommand(): Command {
  return new Command('run')
    .description('run an experiment: bring the topology up, play its scenario, measure, report, tear down')
    .argument('<experiment.yaml>', 'topology file with a scenario')
    .option('--id <id>', 'run id (default: random)')
    .option('--out <dir>', 'also copy the results (report.html, metrics, pcaps, logs) to this folder')
    .option('--no-capture', 'no pcaps (captures cost some CPU at high packet rates)')
    .action(async (file: string, opts: Record<string, unknown>) => {
      const f = parseFlags(Flags, { file, ...opts });
      const progress = terminalProgress();
      const { lab, dir } = await runExperiment(f.file, { ...(f.id ? { id: f.id } : {}), capture: f.capture, progress });
      await lab.down();
      const rs = progress.step('report');
      const { metrics, files } = await writeReport(dir);
      rs.done(files.map((x) => path.relative(process.cwd(), x)).join(', '));
      if (f.out) {
        copyResults(dir, f.out);
        progress.info(`results copied to ${f.out}`);
      }
      process.stdout.write(`\n${summaryTable(metrics)}\n\nreport: ${path.join(f.out ?? dir, 'report.html')}\n`);
    });
}
