import { setTimeout as sleep } from 'node:timers/promises';
import { Bus } from '../../nodes/runtime/bus.js';
import { ErrorCodes, PmipError } from '../errors.js';
import { signalProcess } from '../launch/proc.js';
import { cleanupRuns, isAlive, readState, type CleanupReport } from '../netns/index.js';
import { runsRoot } from '../run/paths.js';
import type { Progress } from '../cli/progress.js';

// `pmiplab down <id>` from any process: ask the nodes to stop over the bus
// (they log and exit cleanly), let captures flush (SIGINT), then remove
// everything of the run (cleanupRuns kills what is left and deletes the
// namespaces).


async function waitGone(recs: Array<{ pid: number; startTime: string }>, ms: number): Promise<void> {
  for (let t = 0; t < ms && recs.some(isAlive); t += 25) await sleep(25);
}

export async function labDownById(id: string, progress: Progress, root = runsRoot()): Promise<CleanupReport> {
  const state = readState(id, root);
  if (!state) throw new PmipError(ErrorCodes.badInput, `no run '${id}' in ${root}`, 'pmiplab ls lists the runs');
  const step = progress.step(`tearing down run ${id}`);
  const nodes = state.processes.filter((p) => p.role === 'node' && isAlive(p));
  if (nodes.length && state.redisUrl) {
    try {
      // a stopped or wedged Redis must not hang down: connect and send are bounded
      const bus = await Bus.connect(state.redisUrl, id, 'orchestrator', { connectTimeoutMs: 2000 });
      try {
        const sent = Promise.all(nodes.map((n) => bus.sendCommand(n.name, 'stop')));
        sent.catch(() => undefined);
        await Promise.race([sent, sleep(2000)]);
      } finally {
        await bus.close();
      }
      await waitGone(nodes, 3000);
    } catch {
      // the bus is gone: cleanup below stops them with signals
    }
  }
  const captures = state.processes.filter((p) => p.role === 'capture' && isAlive(p));
  for (const c of captures) signalProcess(c.pid, 'SIGINT'); // tcpdump flushes its pcap on SIGINT
  await waitGone(captures, 2000);
  const redis = state.processes.filter((p) => p.role === 'redis' && isAlive(p));
  for (const r of redis) signalProcess(r.pid, 'SIGTERM'); // redis-server shuts down cleanly on TERM
  await waitGone(redis, 2000);
  const report = await cleanupRuns({ runIds: [id], runsDir: state.runsDir });
  const survivors = report.runs.flatMap((r) => r.survivors);
  if (survivors.length) {
    step.fail(`still running: ${survivors.map((s) => `${s.pid} ${s.command}`).join(', ')}`);
    throw new PmipError(ErrorCodes.runtime, `run ${id}: processes survived SIGKILL`);
  }
  step.done();
  return report;
}
