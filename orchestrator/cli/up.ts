import { Command } from 'commander';
import { z } from 'zod';
import { labUp, type Lab } from '../lab/lab.js';
import { RUN_ID_RE } from '../run/paths.js';
import { parseFlags } from './flags.js';
import { table, terminalProgress } from './progress.js';

// `pmiplab up <topology.yaml>`: build the domain and leave it running; prints
// the run id and what was made. `pmiplab down <id>` removes it.
const Flags = z
  .object({
    file: z.string().min(1),
    id: z.string().regex(RUN_ID_RE, 'a run id is 1-8 lowercase letters or digits').optional(),
    capture: z.boolean().default(false),
    networkOnly: z.boolean().default(false),
    readyTimeout: z.coerce.number().positive().max(600).default(30),
  })
  .strict();

export function nodeTable(lab: Lab): string {
  const pids = new Map((lab.nodes?.pids() ?? []).map((p) => [p.node, p.pid]));
  const rows = lab.plan.nodes.flatMap((n) => {
    const addrs = n.interfaces.flatMap((i) => i.addresses.map((a) => `${i.name} ${a}`));
    const first = [n.name, n.kind, n.netns, String(pids.get(n.name) ?? '-'), addrs[0] ?? '-'];
    return [first, ...addrs.slice(1).map((a) => ['', '', '', '', a])];
  });
  return table([['NODE', 'KIND', 'NAMESPACE', 'PID', 'ADDRESSES'], ...rows]);
}

export function upCommand(): Command {
  return new Command('up')
    .description('build a topology (namespaces, links, Redis, node processes) and leave it running')
    .argument('<topology.yaml>', 'topology file')
    .option('--id <id>', 'run id (default: random)')
    .option('--capture', 'capture every interface from the start into runs/<id>/pcaps/')
    .option('--network-only', 'namespaces and links only, no node processes')
    .option('--ready-timeout <seconds>', 'how long to wait for every node to report ready', '30')
    .action(async (file: string, opts: Record<string, unknown>) => {
      const f = parseFlags(Flags, { file, ...opts });
      const progress = terminalProgress();
      const lab = await labUp(f.file, {
        id: f.id,
        capture: f.capture,
        networkOnly: f.networkOnly,
        detach: true,
        readyTimeoutMs: f.readyTimeout * 1000,
        progress,
      });
      process.stdout.write(`run ${lab.runId} is up (${lab.paths.dir})\n\n${nodeTable(lab)}\n\n`);
      process.stdout.write(`pmiplab exec ${lab.runId} <node> -- <command>   pmiplab inspect ${lab.runId}   pmiplab down ${lab.runId}\n`);
    });
}
