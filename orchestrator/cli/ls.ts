import { Command } from 'commander';
import { listRuns } from '../lab/inventory.js';
import { table } from './progress.js';

// `pmiplab ls`: every run known from runs/*/state.json and /run/pmiplab.
export function lsCommand(): Command {
  return new Command('ls')
    .description('list runs: id, topology, status, namespaces present')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const runs = listRuns();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        return;
      }
      if (!runs.length) {
        process.stdout.write('no runs\n');
        return;
      }
      const rows = runs.map((r) => [r.runId, r.name, r.status, `${r.namespacesPresent}/${r.nodes}`, r.createdAt, r.source]);
      process.stdout.write(`${table([['RUN', 'TOPOLOGY', 'STATUS', 'NAMESPACES', 'CREATED', 'FILE'], ...rows])}\n`);
    });
}
