import { Command } from 'commander';
import { z } from 'zod';
import { RUN_ID_RE } from '../run/paths.js';
import { inspectRun } from '../lab/inventory.js';
import { parseFlags } from './flags.js';
import { table } from './progress.js';

// `pmiplab inspect <id>`: nodes, links, live addresses and process state.
const Args = z.object({ id: z.string().regex(RUN_ID_RE, 'a run id is 1-8 lowercase letters or digits'), json: z.boolean().default(false) }).strict();

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('show a run: nodes, processes, links and the addresses the namespaces have now')
    .argument('<id>', 'run id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const a = parseFlags(Args, { id, json: opts.json ?? false });
      const view = await inspectRun(a.id);
      if (a.json) {
        process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
        return;
      }
      const out: string[] = [`run ${view.runId} (${view.plan.name}, ${view.status}) from ${view.plan.source}`, ''];
      out.push(
        table([
          ['NODE', 'KIND', 'NAMESPACE', 'PID', 'PROCESS', 'RSS MB'],
          ...view.nodes.map((n) => [
            n.name,
            n.kind,
            `${n.netns}${n.present ? '' : ' (gone)'}`,
            n.pid ? String(n.pid) : '-',
            n.pid ? (n.alive ? 'running' : 'exited') : '-',
            n.rssMb !== null ? n.rssMb.toFixed(1) : '-',
          ]),
        ]),
        '',
        table([
          ['LINK', 'KIND', 'ENDPOINTS', 'SUBNET', 'MTU'],
          ...view.plan.links.map((l) => [l.id, l.kind, l.endpoints.map((e) => `${e.node}:${e.iface}`).join(' <-> '), l.subnet ?? '-', String(l.mtu)]),
        ]),
        '',
        table([
          ['NODE', 'IFACE', 'STATE', 'ADDRESS'],
          ...view.nodes.flatMap((n) => n.addresses.map((a) => [n.name, a.iface, a.carrier, a.address])),
        ]),
      );
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
