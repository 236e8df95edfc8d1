import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readEvents as readEventLines } from '../../orchestrator/report/inputs.js';
import { composeExperiment } from '../../orchestrator/scenario/compose.js';

// Helpers for the experiment-level integration tests: topology files written
// to a temp folder, a run folder's events read back, MH messages sent from
// inside a namespace (a short node script on the built codec).

export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

export interface Ev {
  node: string;
  type: string;
  tNs: string;
  data?: Record<string, unknown>;
}

export function writeTopology(yaml: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-exp-'));
  const file = path.join(dir, 'exp.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** The run's events as the report reads them (the same reader and schema); a malformed line fails the test. */
export function readEvents(runDir: string): Ev[] {
  const warnings: string[] = [];
  const events = readEventLines(path.join(runDir, 'events.jsonl'), warnings);
  if (warnings.length) throw new Error(`events.jsonl of ${runDir}: ${warnings.join('; ')}`);
  return events as Ev[];
}

/** The domain of topologies/handover-basic.yaml with a scenario and settings of the test's own. */
export function domain(opts: { settings?: Record<string, unknown>; backhaulSignaling?: Record<string, unknown>; scenario: string }): string {
  return composeExperiment(path.join(repoRoot, 'topologies', 'handover-basic.yaml'), {
    name: 'exp',
    scenario: opts.scenario,
    ...(opts.settings ? { settings: opts.settings } : {}),
    ...(opts.backhaulSignaling ? { backhaulSignaling: opts.backhaulSignaling } : {}),
  });
}

/** Moves of mn1:wlan0 between the MAGs with probes both ways around them. */
export function movesScenario(moves: number, everyMs: number, rate: number): string {
  const end = 500 + moves * everyMs + 500;
  return `  - { at: 0s, action: { type: traffic-start, flow: up, from: mn1, to: cn1, rate: ${rate}, size: 100 } }
  - { at: 0s, action: { type: traffic-start, flow: down, from: cn1, to: mn1, rate: ${rate}, size: 100 } }
  - { at: 500ms, repeat: { count: ${moves}, every: ${everyMs}ms }, action: { type: move, iface: "mn1:wlan0", to: [mag2, mag1] } }
  - { at: ${end}ms, action: { type: traffic-stop, flow: up } }
  - { at: ${end}ms, action: { type: traffic-stop, flow: down } }
`;
}

/**
 * Run a node script inside a namespace (ESM, cwd = repo root, the built dist
 * importable as ./dist/...). Returns its stdout; throws with stderr on failure.
 */
export function nodeInNetns(netns: string, script: string, timeoutMs = 60_000): string {
  return execFileSync('ip', ['netns', 'exec', netns, process.execPath, '--input-type=module', '-e', script], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** For each L2 move: did the MAG it went to get an accepted PBA before the next move? */
export function registrationsAfterMoves(events: Ev[]): Array<{ to: string; accepted: boolean }> {
  const moves = events.filter((e) => e.type === 'l2-move');
  // the move's start, not its event's stamp: the event goes out after the MN saw carrier up,
  // and a quick registration can be in before that
  const start = (m: Ev) => BigInt(String(m.data?.tStartNs ?? m.tNs));
  return moves.map((m, i) => {
    const from = start(m);
    const until = i + 1 < moves.length ? start(moves[i + 1]!) : BigInt('99999999999999999999');
    const to = String(m.data?.to);
    const accepted = events.some(
      (e) => e.node === to && e.type === 'pba-received' && e.data?.status === 0 && BigInt(e.tNs) > from && BigInt(e.tNs) < until,
    );
    return { to, accepted };
  });
}
