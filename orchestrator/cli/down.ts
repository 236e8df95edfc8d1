import { Command } from 'commander';
import { z } from 'zod';
import { labDownById } from '../lab/down.js';
import { formatReport } from '../netns/index.js';
import { RUN_ID_RE } from '../run/paths.js';
import { requireRoot } from '../system/tools.js';
import { parseFlags } from './flags.js';
import { terminalProgress } from './progress.js';

// `pmiplab down <id>`: stop a run's nodes gracefully and remove everything it made.
const Args = z.object({ id: z.string().regex(RUN_ID_RE, 'a run id is 1-8 lowercase letters or digits') }).strict();

export function downCommand(): Command {
  return new Command('down')
    .description('stop a run and remove its namespaces, links and processes')
    .argument('<id>', 'run id')
    .action(async (id: string) => {
      const a = parseFlags(Args, { id });
      requireRoot('pmiplab down');
      const report = await labDownById(a.id, terminalProgress());
      for (const line of formatReport(report)) process.stdout.write(`${line}\n`);
    });
}
