import path from 'node:path';

// Every file a run makes lives under runs/<id>/; this is the one place that
// knows the layout (as containerlab's TopoPaths).
export function runsRoot(): string {
  return path.resolve(process.env.PMIPLAB_RUNS_DIR ?? 'runs');
}

export interface RunPaths {
  id: string;
  dir: string;
  state: string; // state.json: what the run made (for down/cleanup)
  plan: string; // topology.json: the resolved Plan
  logs: string; // logs/<node>.log
  pcaps: string;
  redisSocket: string;
  redisLog: string;
  report: string;
  nodeLog(node: string): string;
  /** plans/<node>.json: the node's view of the plan (planView), what its process reads */
  nodePlan(node: string): string;
}

export function runPaths(id: string, root = runsRoot()): RunPaths {
  const dir = path.join(root, id);
  return {
    id,
    dir,
    state: path.join(dir, 'state.json'),
    plan: path.join(dir, 'topology.json'),
    logs: path.join(dir, 'logs'),
    pcaps: path.join(dir, 'pcaps'),
    // unix socket paths are limited to 108 bytes; callers check the length
    redisSocket: path.join(dir, 'redis.sock'),
    redisLog: path.join(dir, 'logs', 'redis.log'),
    report: path.join(dir, 'report.html'),
    nodeLog: (node: string) => path.join(dir, 'logs', `${node}.log`),
    nodePlan: (node: string) => path.join(dir, 'plans', `${node}.json`),
  };
}

/** Kernel names of a run: every namespace is `pl<id>-<node>`. */
export { RUN_ID_RE } from '../../nodes/contract/ids.js';
export const nsPrefix = (runId: string) => `pl${runId}-`;
export const nsName = (runId: string, node: string) => `${nsPrefix(runId)}${node}`;
/** Tag every process of a run carries on its command line, so cleanup can find orphans. */
export const processTag = (runId: string) => `--pmiplab-run=${runId}`;
