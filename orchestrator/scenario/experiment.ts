import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Progress } from '../cli/progress.js';
import { ErrorCodes, PmipError } from '../errors.js';
import { labUp, type Lab } from '../lab/lab.js';
import { LinkController } from '../netns/index.js';
import type { PlannedStep } from '../topology/scenario.js';
import { provenance } from '../study/provenance.js';
import { EventRecorder } from './recorder.js';
import { playScenario, type PlayResult } from './runner.js';

// `pmiplab run`: one experiment from a topology file with a scenario: bring the
// domain up (captures on), wait until every attached MN has its address,
// play the timeline, collect node statistics, write the report, tear down
// (also on failure and on Ctrl-C, through the lab's guard).

export interface ExperimentOptions {
  id?: string;
  /** copy the results (report, metrics, pcaps, logs) here as well */
  out?: string;
  capture?: boolean;
  progress: Progress;
  /** how long the MNs may take to get their first address */
  attachTimeoutMs?: number;
}

export interface RunMeta {
  version: 1;
  name: string;
  runId: string;
  source: string;
  startedNs: string;
  endedNs: string;
  transport: 'udp' | 'raw';
  dataPlane: string;
  l2Move: string;
  signaling: Array<{ link: string; delayMs: number; lossPct: number; messages?: string[] }>;
  flows: PlayResult['flows'];
  lateSteps: PlayResult['lateSteps'];
  nodeStats: Record<string, unknown>;
  /** events recorded, and those not matching the event contract (nodes/runtime/events.ts) */
  events: { count: number; invalid: number; issues: string[] };
}

export interface ExperimentResult {
  lab: Lab;
  meta: RunMeta;
  dir: string;
}

/** Wait until every MN with an attached access link reports a global address. */
async function waitForAddresses(lab: Lab, recorder: EventRecorder, timeoutMs: number): Promise<void> {
  const mns = lab.plan.nodes.filter((n) => n.kind === 'mn' && n.interfaces.some((i) => lab.plan.links.some((l) => l.id === i.link && l.kind === 'access')));
  const deadline = Date.now() + timeoutMs;
  const bus = lab.nodes!.bus;
  for (const mn of mns) {
    while (!recorder.globalAddress(mn.name)) {
      if (Date.now() > deadline) {
        throw new PmipError(ErrorCodes.timeout, `${mn.name} got no global address within ${timeoutMs} ms (no PBA, no RA?)`, `see ${lab.paths.logs}/ (the MAG and LMA logs)`);
      }
      // the MN answers with its current addresses (also put on the event stream)
      await bus.request(mn.name, 'addresses', {}, 2000).catch(() => undefined);
      if (!recorder.globalAddress(mn.name)) await sleep(100);
    }
  }
}

async function collectStats(lab: Lab): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  await Promise.all(
    lab.plan.nodes
      .filter((n) => n.kind === 'lma' || n.kind === 'mag')
      .map(async (n) => {
        try {
          out[n.name] = (await lab.nodes!.bus.request(n.name, 'stats', {}, 3000)).data;
        } catch (err) {
          out[n.name] = { error: (err as Error).message };
        }
      }),
  );
  return out;
}

export async function runExperiment(file: string, opts: ExperimentOptions): Promise<ExperimentResult> {
  const { progress } = opts;
  const lab = await labUp(file, { ...(opts.id ? { id: opts.id } : {}), capture: opts.capture ?? true, progress });
  const links = new LinkController();
  let recorder: EventRecorder | null = null;
  try {
    const steps = lab.plan.scenario as unknown as PlannedStep[];
    if (!steps.length) progress.info('the file has no scenario: the domain comes up, registers, and goes down');
    recorder = new EventRecorder(lab.nodes!.bus, path.join(lab.paths.dir, 'events.jsonl'));
    await links.open(lab.plan);
    const att = progress.step('registration (PBU/PBA, RA, SLAAC)');
    await waitForAddresses(lab, recorder, opts.attachTimeoutMs ?? 20_000);
    att.done();
    const startedNs = process.hrtime.bigint().toString();
    await lab.nodes!.bus.emit('scenario-start', { steps: steps.length });
    const played = await playScenario(steps, { lab, links, recorder, progress });
    await lab.nodes!.bus.emit('scenario-end', {});
    const endedNs = process.hrtime.bigint().toString();
    const nodeStats = await collectStats(lab);
    // the nodes name the tunnel backend they chose in their stats (LMA: dataPlane, MAG: dataplane.backend)
    const backends = new Set(
      Object.values(nodeStats).flatMap((s) => {
        const o = s as { dataPlane?: unknown; dataplane?: { backend?: unknown } } | null;
        const b = o?.dataPlane ?? o?.dataplane?.backend;
        return typeof b === 'string' ? [b] : [];
      }),
    );
    const meta: RunMeta = {
      version: 1,
      name: lab.plan.name,
      runId: lab.runId,
      source: lab.plan.source,
      startedNs,
      endedNs,
      transport: lab.plan.settings?.transport ?? 'udp',
      dataPlane: backends.size ? [...backends].join('+') : 'unknown',
      l2Move: lab.plan.settings?.l2Move ?? 'netns',
      signaling: lab.plan.links.flatMap((l) => (l.signaling ? [{ link: l.id, ...l.signaling }] : [])),
      flows: played.flows,
      lateSteps: played.lateSteps,
      nodeStats,
      events: { count: 0, invalid: 0, issues: [] },
    };
    await recorder.close();
    meta.events = { count: recorder.count, invalid: recorder.invalid, issues: recorder.issues };
    if (recorder.invalid) progress.info(`  ! ${recorder.invalid} event(s) not in the event contract, e.g. ${recorder.issues[0]}`);
    recorder = null;
    // provenance (versions, plan hash, the experiment copied for `pmiplab rerun`): orchestrator/study/provenance.ts
    writeFileSync(path.join(lab.paths.dir, 'run.json'), `${JSON.stringify({ ...meta, provenance: provenance(lab.plan, lab.paths.dir) }, null, 2)}\n`);
    return { lab, meta, dir: lab.paths.dir };
  } catch (err) {
    await recorder?.close().catch(() => undefined);
    await links.close().catch(() => undefined);
    await lab.down().catch(() => undefined);
    throw err;
  } finally {
    await links.close().catch(() => undefined);
  }
}

/** Copy what a person keeps of a run (not the Redis socket or state) to `out`. */
export function copyResults(dir: string, out: string): void {
  mkdirSync(out, { recursive: true });
  cpSync(dir, out, {
    recursive: true,
    filter: (src) => !/(redis\.sock|state\.json|dump\.rdb)$/.test(src),
  });
}
