import { Command } from 'commander';
import { execa } from 'execa';
import { z } from 'zod';
import { ErrorCodes, PmipError } from '../errors.js';
import { listNetns } from '../netns/index.js';
import { nsName, RUN_ID_RE } from '../run/paths.js';
import { requireRoot } from '../system/tools.js';
import { parseFlags } from './flags.js';

// `pmiplab exec <id> <node> -- cmd...`: any command inside a node's namespace
// (ping, iperf3, tcpdump, ip), with the terminal attached; exits with its code.
const Args = z
  .object({
    id: z.string().regex(RUN_ID_RE, 'a run id is 1-8 lowercase letters or digits'),
    node: z.string().regex(/^[a-z0-9-]{1,20}$/, 'not a node name'),
    command: z.array(z.string()).min(1, 'give the command after --'),
  })
  .strict();

export function execCommand(): Command {
  return new Command('exec')
    .description("run a command in a node's namespace, e.g. pmiplab exec ab12 mn1 -- ping -c3 2001:db8:c:3::2")
    .argument('<id>', 'run id')
    .argument('<node>', 'node name')
    .argument('<command...>', 'command and its arguments (after --)')
    .passThroughOptions()
    .action(async (id: string, node: string, command: string[]) => {
      // commander keeps the `--` that separates our arguments from the command's
      const a = parseFlags(Args, { id, node, command: command[0] === '--' ? command.slice(1) : command });
      requireRoot('exec');
      const ns = nsName(a.id, a.node);
      if (!listNetns().has(ns)) {
        throw new PmipError(ErrorCodes.badInput, `no namespace ${ns}: run '${a.id}' has no node '${a.node}' up`, 'pmiplab inspect <id> lists the nodes');
      }
      const [cmd, ...args] = a.command as [string, ...string[]];
      const r = await execa('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'inherit', reject: false });
      process.exitCode = r.exitCode ?? 1;
    });
}
