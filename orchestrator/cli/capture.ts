import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { z } from 'zod';
import { ErrorCodes, PmipError } from '../errors.js';
import { signalProcess } from '../launch/proc.js';
import { startCapture, type CaptureTarget } from '../launch/capture.js';
import { addProcess, isAlive, readState } from '../netns/index.js';
import { runPaths, RUN_ID_RE } from '../run/paths.js';
import { requireRoot } from '../system/tools.js';
import { readPlanFile } from '../topology/plan.js';
import { parseFlags } from './flags.js';

// `pmiplab capture <id> <node:iface|all>...`: tcpdump inside the namespaces
// into runs/<id>/pcaps/<node>-<iface>.pcap. Without --duration the captures
// keep running with the run and `pmiplab down` (or `capture --stop`) ends them.
const Target = z.union([z.literal('all'), z.string().regex(/^[a-z0-9-]{1,20}:[A-Za-z0-9_-]{1,15}$/, 'targets are node:iface or all')]);
const Flags = z
  .object({
    id: z.string().regex(RUN_ID_RE, 'a run id is 1-8 lowercase letters or digits'),
    targets: z.array(Target),
    duration: z.coerce.number().positive().max(86_400).optional(),
    stop: z.boolean().default(false),
  })
  .strict()
  .refine((f) => f.stop || f.targets.length > 0, { message: 'name node:iface targets, or all', path: ['targets'] });


export function captureCommand(): Command {
  return new Command('capture')
    .description('capture packets of a running run with tcpdump into runs/<id>/pcaps/')
    .argument('<id>', 'run id')
    .argument('[targets...]', 'node:iface, or all (every interface of every node)')
    .option('--duration <seconds>', 'capture this long, then stop and print packet counts')
    .option('--stop', "stop this run's running captures")
    .action(async (id: string, targets: string[], opts: Record<string, unknown>) => {
      const f = parseFlags(Flags, { id, targets, ...opts });
      requireRoot('capture');
      const state = readState(f.id);
      if (!state || state.cleanedAt) throw new PmipError(ErrorCodes.badInput, `run '${f.id}' is not up`, 'pmiplab ls lists the runs');
      if (f.stop) {
        const running = state.processes.filter((p) => p.role === 'capture' && isAlive(p));
        for (const p of running) signalProcess(p.pid, 'SIGINT'); // tcpdump completes its file on SIGINT
        for (let t = 0; t < 3000 && running.some(isAlive); t += 50) await sleep(50);
        process.stdout.write(`stopped ${running.length} capture(s)\n`);
        return;
      }
      const paths = runPaths(f.id, state.runsDir);
      const plan = readPlanFile(paths.plan);
      const wanted: CaptureTarget[] | 'all' = f.targets.includes('all')
        ? 'all'
        : f.targets.map((t) => {
            const [node, iface] = t.split(':') as [string, string];
            return { node, iface };
          });
      const caps = await startCapture(plan, paths, wanted);
      for (const h of caps.handles) await addProcess(f.id, { pid: h.pid, role: 'capture', name: `${h.node}:${h.iface}` }, state.runsDir);
      for (const h of caps.handles) process.stdout.write(`capturing ${h.node}:${h.iface} -> ${h.file}\n`);
      if (f.duration === undefined) {
        process.stdout.write(`runs until 'pmiplab down ${f.id}' or 'pmiplab capture ${f.id} --stop'\n`);
        return;
      }
      let interrupted = false;
      const onInt = () => (interrupted = true);
      process.on('SIGINT', onInt);
      for (let t = 0; t < f.duration * 1000 && !interrupted; t += 100) await sleep(100);
      process.off('SIGINT', onInt);
      for (const h of caps.handles) {
        const r = await h.stop();
        process.stdout.write(`${h.node}:${h.iface}: ${r.packets ?? '?'} packets in ${h.file}\n`);
      }
    });
}
