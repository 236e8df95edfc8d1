import { Command } from 'commander';
import { z } from 'zod';
import { parseFlags } from './flags.js';
import { cleanupRuns, formatReport } from '../netns/cleanup.js';
import { RUN_ID_RE } from '../run/paths.js';

// `pmiplab cleanup`: remove what crashed runs left (namespaces, processes),
// like `mn -c`, but only pmiplab's own names. Idempotent; exit 0.

const Flags = z
  .object({
    run: z.array(z.string().regex(RUN_ID_RE, 'a run id is 1-8 lowercase letters or digits')).default([]),
    dryRun: z.boolean().default(false),
    force: z.boolean().default(false),
  })
  .strict();

export function cleanupCommand(): Command {
  return new Command('cleanup')
    .description("remove namespaces and processes of runs whose orchestrator is gone (only pmiplab's own)")
    .option('--run <id>', 'clean this run even if its owner is alive (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--dry-run', 'only print what would be removed')
    .option('--force', 'also clean runs whose orchestrator is still alive')
    .action(async (raw: unknown) => {
      const f = parseFlags(Flags, raw);
      const report = await cleanupRuns({ runIds: f.run, dryRun: f.dryRun, force: f.force });
      for (const line of formatReport(report)) process.stdout.write(`${line}\n`);
    });
}
