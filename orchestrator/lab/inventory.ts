import { readdirSync } from 'node:fs';
import { execa } from 'execa';
import { ErrorCodes, PmipError } from '../errors.js';
import { isAlive, listNetns, readRegistry, readState, readStateFile, type RunState } from '../netns/index.js';
import { runPaths, runsRoot } from '../run/paths.js';
import { readPlanFile, type Plan } from '../topology/plan.js';
import { rssMbOf } from '../launch/proc.js';

// What runs exist and what is inside one: read from state files, the plan and
// the live kernel (addresses as the namespaces have them now, SLAAC included).

export type RunStatus = 'up' | 'torn down' | 'orphaned';

export interface RunSummary {
  runId: string;
  name: string;
  status: RunStatus;
  nodes: number;
  namespacesPresent: number;
  createdAt: string;
  source: string;
}

function statusOf(s: RunState): RunStatus {
  if (s.cleanedAt) return 'torn down';
  return isAlive(s.owner) ? 'up' : 'orphaned';
}

function runName(s: RunState): string {
  try {
    return readPlanFile(runPaths(s.runId, s.runsDir).plan).name;
  } catch {
    return '?';
  }
}

/** Every run known from the runs folder and the /run/pmiplab registry. */
export function listRuns(root = runsRoot()): RunSummary[] {
  const states = new Map<string, RunState>();
  let dirs: string[] = [];
  try {
    dirs = readdirSync(root);
  } catch {
    // no runs yet
  }
  for (const d of dirs) {
    const s = readStateFile(runPaths(d, root).state);
    if (s) states.set(s.runId, s);
  }
  for (const e of readRegistry()) {
    if (states.has(e.runId)) continue;
    const s = readStateFile(e.stateFile);
    if (s) states.set(s.runId, s);
  }
  const present = listNetns();
  return [...states.values()]
    .map((s) => ({
      runId: s.runId,
      name: runName(s),
      status: statusOf(s),
      nodes: s.namespaces.length,
      namespacesPresent: s.namespaces.filter((n) => present.has(n)).length,
      createdAt: s.createdAt,
      source: s.source,
    }))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export interface NodeView {
  name: string;
  kind: string;
  netns: string;
  present: boolean;
  pid: number | null;
  alive: boolean;
  rssMb: number | null;
  addresses: Array<{ iface: string; address: string; carrier: string }>;
}

export interface RunView {
  runId: string;
  status: RunStatus;
  plan: Plan;
  state: RunState;
  nodes: NodeView[];
}

const IpAddrJson = (raw: unknown) =>
  Array.isArray(raw)
    ? raw.flatMap((l: { ifname?: string; operstate?: string; addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }> }) =>
        (l.addr_info ?? [])
          .filter((a) => a.family === 'inet6' && a.local)
          .map((a) => ({ iface: l.ifname ?? '?', address: `${a.local}/${a.prefixlen}`, carrier: (l.operstate ?? '?').toLowerCase() })),
      )
    : [];

async function liveAddresses(netns: string): Promise<NodeView['addresses']> {
  const r = await execa('ip', ['-n', netns, '-j', 'addr', 'show'], { reject: false });
  if (r.exitCode !== 0) return [];
  try {
    return IpAddrJson(JSON.parse(r.stdout)).filter((a) => a.iface !== 'lo');
  } catch {
    return [];
  }
}

export async function inspectRun(id: string, root = runsRoot()): Promise<RunView> {
  const state = readState(id, root);
  if (!state) {
    throw new PmipError(ErrorCodes.badInput, `no run '${id}' in ${root}`, 'pmiplab ls lists the runs');
  }
  const plan = readPlanFile(runPaths(id, state.runsDir).plan);
  const present = listNetns();
  const nodes = await Promise.all(
    plan.nodes.map(async (n): Promise<NodeView> => {
      const proc = state.processes.find((p) => p.role === 'node' && p.name === n.name) ?? null;
      const alive = proc ? isAlive(proc) : false;
      return {
        name: n.name,
        kind: n.kind,
        netns: n.netns,
        present: present.has(n.netns),
        pid: proc?.pid ?? null,
        alive,
        rssMb: proc && alive ? rssMbOf(proc.pid) : null,
        addresses: present.has(n.netns) ? await liveAddresses(n.netns) : [],
      };
    }),
  );
  return { runId: id, status: statusOf(state), plan, state, nodes };
}
