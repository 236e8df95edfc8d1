import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ErrorCodes, PmipError } from '../errors.js';
import { runPaths, runsRoot } from '../run/paths.js';
import type { Plan } from '../topology/plan.js';
import { procStartTime } from '../launch/proc.js';
import { planNamespaces } from './build.js';
import { withRunLock } from './run-lock.js';
import { bridgeNamespacesOf } from './script.js';

export { procStartTime };

// runs/<id>/state.json: what a run made, so down and cleanup do not rely on
// memory (containerlab's .state.clab.yaml). Plus a registry entry in
// /run/pmiplab/<id>.json so cleanup finds runs started from any directory.

export const ProcessRecord = z
  .object({
    pid: z.number().int().positive(),
    role: z.enum(['node', 'redis', 'capture', 'other']),
    name: z.string(),
    startTime: z.string(), // /proc/<pid>/stat field 22: tells a reused pid apart
  })
  .strict();
export type ProcessRecord = z.infer<typeof ProcessRecord>;

export const Owner = z.object({ pid: z.number().int().positive(), startTime: z.string() }).strict();
export type Owner = z.infer<typeof Owner>;

export const RunState = z
  .object({
    version: z.literal(1),
    runId: z.string(),
    source: z.string(),
    runsDir: z.string(),
    owner: Owner,
    createdAt: z.string(),
    namespaces: z.array(z.string()),
    /** namespaces holding only a bridge: shared backhaul segments and air segments of access links */
    bridgeNamespaces: z.array(z.string()),
    processes: z.array(ProcessRecord),
    cleanedAt: z.string().optional(),
    /** the bus of the run, so `pmiplab down` from another process can stop nodes gracefully */
    redisUrl: z.string().optional(),
  })
  .strict();
export type RunState = z.infer<typeof RunState>;

export const RegistryEntry = z
  .object({ runId: z.string(), owner: Owner, runsDir: z.string(), stateFile: z.string() })
  .strict();
export type RegistryEntry = z.infer<typeof RegistryEntry>;

export const registryDir = () => process.env.PMIPLAB_REGISTRY_DIR ?? '/run/pmiplab';

/** Is this very process (not a later one with the same pid) still running? */
export const isAlive = (p: { pid: number; startTime: string }) => procStartTime(p.pid) === p.startTime;

export function selfOwner(): Owner {
  return { pid: process.pid, startTime: procStartTime(process.pid) ?? '0' };
}

function writeAtomic(file: string, data: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
  renameSync(tmp, file);
}

export function readState(id: string, root = runsRoot()): RunState | null {
  return readStateFile(runPaths(id, root).state);
}

export function readStateFile(file: string): RunState | null {
  try {
    const r = RunState.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return r.success ? r.data : null;
  } catch {
    return null; // missing or not JSON: cleanup falls back to the namespace scan
  }
}

export function writeState(state: RunState): void {
  writeAtomic(runPaths(state.runId, state.runsDir).state, RunState.parse(state));
}

/** Record a run about to be built: its state file and its registry entry. */
export function recordRun(plan: Plan, owner: Owner = selfOwner(), root = runsRoot()): RunState {
  const nsAll = planNamespaces(plan);
  const bridges = bridgeNamespacesOf(plan); // shared segments and air segments
  const state: RunState = {
    version: 1,
    runId: plan.runId,
    source: plan.source,
    runsDir: root,
    owner,
    createdAt: new Date().toISOString(),
    namespaces: nsAll.filter((n) => !bridges.includes(n)),
    bridgeNamespaces: bridges,
    processes: [],
  };
  writeState(state);
  const entry: RegistryEntry = { runId: plan.runId, owner, runsDir: root, stateFile: runPaths(plan.runId, root).state };
  writeAtomic(path.join(registryDir(), `${plan.runId}.json`), entry);
  return state;
}

// Read-modify-write of one state file under the run folder's lock: the lab
// records node processes concurrently as they start, and `capture`, `down`
// or another `up` step may update the same file from other processes.
function updateState(id: string, root: string, fn: (s: RunState) => void): Promise<RunState> {
  return withRunLock(runPaths(id, root).dir, () => {
    const s = readState(id, root);
    if (!s) throw new PmipError(ErrorCodes.runtime, `run ${id} has no state file in ${root}`);
    fn(s);
    writeState(s);
    return s;
  });
}

/** Add a process the lab started (startTime is read from /proc when omitted). */
export function addProcess(
  id: string,
  rec: Omit<ProcessRecord, 'startTime'> & { startTime?: string },
  root = runsRoot(),
): Promise<RunState> {
  const startTime = rec.startTime ?? procStartTime(rec.pid) ?? '0';
  return updateState(id, root, (s) => {
    s.processes.push({ ...rec, startTime });
  });
}

/**
 * Hand a run to another owner: a detached `pmiplab up` exits after bring-up and
 * leaves the run to its Redis server (or a node), so cleanup sees it alive
 * while that process lives and orphaned once it is gone.
 */
export async function setOwner(id: string, owner: Owner, root = runsRoot()): Promise<RunState> {
  const s = await updateState(id, root, (st) => {
    st.owner = owner;
  });
  const entry: RegistryEntry = { runId: id, owner, runsDir: root, stateFile: runPaths(id, root).state };
  writeAtomic(path.join(registryDir(), `${id}.json`), entry);
  return s;
}

export function setRedisUrl(id: string, url: string, root = runsRoot()): Promise<RunState> {
  return updateState(id, root, (s) => {
    s.redisUrl = url;
  });
}

export function markCleaned(id: string, root = runsRoot()): Promise<RunState> {
  return updateState(id, root, (s) => {
    s.cleanedAt = new Date().toISOString();
  });
}

export function readRegistry(): RegistryEntry[] {
  let names: string[];
  try {
    names = readdirSync(registryDir());
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    if (!n.endsWith('.json')) return [];
    try {
      const r = RegistryEntry.safeParse(JSON.parse(readFileSync(path.join(registryDir(), n), 'utf8')));
      return r.success ? [r.data] : [];
    } catch {
      return [];
    }
  });
}

export function removeRegistry(id: string): void {
  rmSync(path.join(registryDir(), `${id}.json`), { force: true });
}
