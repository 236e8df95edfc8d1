import { setTimeout as sleep } from 'node:timers/promises';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { requireRoot } from '../system/tools.js';
import { RUN_ID_RE, processTag, runPaths, runsRoot } from '../run/paths.js';
import { deleteNamespaces, listNetns } from './build.js';
import {
  isAlive,
  markCleaned,
  procStartTime,
  readRegistry,
  readState,
  readStateFile,
  removeRegistry,
  type Owner,
  type RunState,
} from './state.js';

// `mn -c` for pmiplab, but only ever inside pmiplab's own names: runs come from
// state files, registry entries and namespaces named pl<id>-*; processes are
// the recorded ones, those inside a run's namespaces, and those whose argv
// carries the run's tag or folder. Never a global pattern.

export interface CleanupOptions {
  /** only these runs (cleaned even if their owner is alive) */
  runIds?: string[];
  dryRun?: boolean;
  /** clean runs whose owner is still alive */
  force?: boolean;
  /** consider only these runs, with the usual owner rules (tests scope themselves with it) */
  limitTo?: string[];
  runsDir?: string;
}

export interface CleanedProcess {
  pid: number;
  command: string;
}

export interface CleanedRun {
  runId: string;
  reason: 'owner-dead' | 'no-owner' | 'forced' | 'explicit';
  namespaces: string[];
  processes: CleanedProcess[];
  /** processes still alive after SIGKILL (should be empty) */
  survivors: CleanedProcess[];
}

export interface CleanupReport {
  dryRun: boolean;
  runs: CleanedRun[];
  skipped: Array<{ runId: string; ownerPid: number }>;
  nothingToClean: boolean;
}

const NS_RE = /^pl([a-z0-9]{1,8})-/;

interface Candidate {
  runId: string;
  state: RunState | null;
  owner: Owner | null;
  runsDir: string;
}

interface ProcInfo {
  pid: number;
  ppid: number;
  startTime: string;
  netIno: number | null;
  argv: string[];
}

function gatherCandidates(root: string, only: Set<string> | null): Map<string, Candidate> {
  const out = new Map<string, Candidate>();
  const add = (runId: string, state: RunState | null, owner: Owner | null, runsDir: string) => {
    if (!RUN_ID_RE.test(runId) || (only && !only.has(runId))) return;
    const c = out.get(runId);
    if (!c) out.set(runId, { runId, state, owner, runsDir });
    else {
      c.state ??= state;
      c.owner ??= owner;
    }
  };
  let dirs: string[] = [];
  try {
    dirs = readdirSync(root);
  } catch {
    // no runs folder yet
  }
  for (const d of dirs) {
    const s = readState(d, root);
    if (s) add(s.runId, s, s.owner, root);
  }
  for (const r of readRegistry()) {
    const s = readStateFile(r.stateFile);
    add(r.runId, s, r.owner, r.runsDir);
  }
  for (const ns of listNetns()) {
    const m = NS_RE.exec(ns);
    if (m?.[1]) add(m[1], null, null, root);
  }
  for (const id of only ?? []) add(id, readState(id, root), null, root);
  return out;
}

function scanProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    const startTime = procStartTime(pid);
    if (startTime === null) continue;
    let ppid = 0;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      continue;
    }
    let netIno: number | null = null;
    try {
      const m = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/net`));
      netIno = m?.[1] ? Number(m[1]) : null;
    } catch {
      // gone, or a kernel thread
    }
    let argv: string[] = [];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      // gone
    }
    out.push({ pid, ppid, startTime, netIno, argv });
  }
  return out;
}

/** This process and its ancestors: never killed, whatever their argv says. */
function selfAndAncestors(): Set<number> {
  const out = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return out;
}

function nsInode(name: string): number | null {
  try {
    return statSync(`/run/netns/${name}`).ino;
  } catch {
    return null;
  }
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Does a command line carry a run's tag or folder as a whole word? The tag
 * stands alone (its own argument, or a word of a rewritten process title such
 * as redis-server's); the folder starts an argument, a word or an `--opt=`
 * value and ends there or at a `/`. So `/data/runs/ab/x` is not in run folder
 * `/runs/ab`, `/runs/ab2/x` is not in `/runs/ab`, and `--pmiplab-run=ab2` is
 * not the tag of run `ab`.
 */
export function carriesRunMark(argv: readonly string[], tag: string, dir: string): boolean {
  const tagRe = new RegExp(`(?:^|\\s)${reEscape(tag)}(?:$|\\s)`);
  const dirRe = new RegExp(`(?:^|[\\s=])${reEscape(dir)}(?:$|[\\s/])`);
  return argv.some((a) => tagRe.test(a) || dirRe.test(a));
}

/** Processes belonging to a run: recorded, inside its namespaces, tagged with its id or folder, and their descendants. */
function runProcesses(c: Candidate, namespaces: string[], procs: ProcInfo[], spare: Set<number>): ProcInfo[] {
  const inodes = new Set(namespaces.map(nsInode).filter((i): i is number => i !== null));
  const tag = processTag(c.runId);
  const dir = runPaths(c.runId, c.runsDir).dir;
  const recorded = new Set(
    (c.state?.processes ?? []).filter((p) => isAlive(p)).map((p) => `${p.pid}:${p.startTime}`),
  );
  const hit = new Set(
    procs
      .filter((p) => {
        if (recorded.has(`${p.pid}:${p.startTime}`)) return true;
        if (p.netIno !== null && inodes.has(p.netIno)) return true;
        return carriesRunMark(p.argv, tag, dir);
      })
      .map((p) => p.pid),
  );
  // children of a tagged process (a shell's `sleep`, say) carry no tag of their own
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!hit.has(p.pid) && hit.has(p.ppid) && p.ppid > 1) (hit.add(p.pid), (grew = true));
  }
  return procs.filter((p) => hit.has(p.pid) && !spare.has(p.pid));
}


/** TERM, wait up to 1 s, KILL, wait again; returns the ones that survived. */
async function terminate(list: ProcInfo[]): Promise<ProcInfo[]> {
  const alive = () => list.filter((p) => procStartTime(p.pid) === p.startTime);
  const signal = (sig: NodeJS.Signals) => {
    for (const p of alive()) {
      try {
        process.kill(p.pid, sig);
      } catch {
        // already gone
      }
    }
  };
  const waitGone = async (ms: number) => {
    for (let t = 0; t < ms && alive().length; t += 20) await sleep(20);
  };
  signal('SIGTERM');
  await waitGone(1000);
  if (!alive().length) return [];
  signal('SIGKILL');
  await waitGone(1000);
  return alive();
}

const describe = (p: ProcInfo): CleanedProcess => ({ pid: p.pid, command: p.argv.join(' ').slice(0, 200) });

export async function cleanupRuns(opts: CleanupOptions = {}): Promise<CleanupReport> {
  if (!opts.dryRun) requireRoot('cleanup');
  const root = path.resolve(opts.runsDir ?? runsRoot());
  const only = opts.runIds?.length ? new Set(opts.runIds) : null;
  const limit = opts.limitTo ? new Set(opts.limitTo) : null;
  const report: CleanupReport = { dryRun: !!opts.dryRun, runs: [], skipped: [], nothingToClean: true };
  const spare = selfAndAncestors();
  let procs: ProcInfo[] | undefined; // one /proc scan shared by all runs' first round

  for (const c of gatherCandidates(root, only ?? limit).values()) {
    let reason: CleanedRun['reason'];
    if (only) reason = 'explicit';
    else if (!c.owner) reason = 'no-owner';
    else if (!isAlive(c.owner)) reason = 'owner-dead';
    else if (opts.force) reason = 'forced';
    else {
      report.skipped.push({ runId: c.runId, ownerPid: c.owner.pid });
      continue;
    }
    const present = listNetns();
    const prefix = `pl${c.runId}-`;
    const names = new Set([...(c.state?.namespaces ?? []), ...(c.state?.bridgeNamespaces ?? [])]);
    for (const n of present) if (n.startsWith(prefix)) names.add(n);
    const namespaces = [...names].filter((n) => present.has(n)).sort();

    // a run already cleaned whose namespaces are gone has nothing left to look for
    if (c.state?.cleanedAt && !namespaces.length && !only) continue;

    const run: CleanedRun = { runId: c.runId, reason, namespaces, processes: [], survivors: [] };
    // a killed process may have had children that only now show: look again, a few rounds
    for (let round = 0; round < 3; round++) {
      procs = round === 0 && procs ? procs : scanProcs();
      const found = runProcesses(c, namespaces, procs, spare).filter(
        (p) => !run.processes.some((q) => q.pid === p.pid),
      );
      if (!found.length) break;
      run.processes.push(...found.map(describe));
      if (opts.dryRun) break;
      run.survivors = (await terminate(found)).map(describe);
      procs = undefined;
    }
    if (!opts.dryRun) {
      await deleteNamespaces(namespaces);
      removeRegistry(c.runId);
      if (c.state && !c.state.cleanedAt) await markCleaned(c.runId, c.runsDir);
    }
    if (run.namespaces.length || run.processes.length) {
      report.runs.push(run);
      report.nothingToClean = false;
    }
  }
  return report;
}

/** Human-readable lines of a report (the CLI prints them). */
export function formatReport(r: CleanupReport): string[] {
  if (r.nothingToClean) {
    return ['nothing to clean', ...r.skipped.map((s) => `run ${s.runId}: owner pid ${s.ownerPid} is alive, left alone (--force to clean)`)];
  }
  const verb = r.dryRun ? 'would remove' : 'removed';
  const lines: string[] = [];
  for (const run of r.runs) {
    lines.push(`run ${run.runId} (${run.reason}):`);
    for (const p of run.processes) lines.push(`  ${verb} process ${p.pid}: ${p.command}`);
    for (const n of run.namespaces) lines.push(`  ${verb} namespace ${n}`);
    for (const p of run.survivors) lines.push(`  STILL RUNNING after SIGKILL: ${p.pid}: ${p.command}`);
  }
  for (const s of r.skipped) lines.push(`run ${s.runId}: owner pid ${s.ownerPid} is alive, left alone (--force to clean)`);
  return lines;
}
