import { readdirSync } from 'node:fs';
import os from 'node:os';
import { ErrorCodes, PmipError } from '../errors.js';
import { requireRoot, requireTool } from '../system/tools.js';
import type { Plan } from '../topology/plan.js';
import { runIpBatch, runJob } from './batch.js';
import { runLimited } from './exec.js';
import { netemAvailable } from './netem.js';
import { bridgeNamespacesOf, planScript, type BuildScript } from './script.js';

// Build a Plan's namespaces and links, and tear them down: one root batch,
// then one job per namespace in parallel. A failure removes what was made.

export interface BuildOptions {
  onProgress?(step: string, done: number, total: number): void;
}

/** Names present in /run/netns (no process needed). */
export function listNetns(): Set<string> {
  try {
    return new Set(readdirSync('/run/netns'));
  } catch {
    return new Set();
  }
}

const needsNetem = (plan: Plan) => plan.links.some((l) => l.delayMs || l.lossPct);

/** The script for this plan on this kernel (probes netem only if the plan asks for delay or loss). */
export async function scriptFor(plan: Plan): Promise<BuildScript> {
  return planScript(plan, { netem: needsNetem(plan) ? await netemAvailable() : false });
}

export const concurrency = () => Math.max(2, os.availableParallelism() * 2);

export async function buildNetwork(plan: Plan, opts: BuildOptions = {}): Promise<void> {
  requireRoot('building namespaces');
  requireTool('ip');
  const script = await scriptFor(plan); // bad input is refused here, before anything exists
  if (script.jobs.some((j) => j.tcLines.length)) requireTool('tc');

  const present = listNetns();
  const clash = [...script.namespaces, ...script.bridgeNamespaces].filter((n) => present.has(n));
  if (clash.length) {
    throw new PmipError(
      ErrorCodes.runtime,
      `namespace ${clash.join(', ')} already exists: run ${plan.runId} is up or was not cleaned`,
      `pmiplab cleanup --run ${plan.runId}`,
    );
  }

  const total = 1 + script.jobs.length;
  let done = 0;
  try {
    opts.onProgress?.('namespaces and links', done, total);
    await runIpBatch([], script.root, 'root batch');
    opts.onProgress?.('namespaces and links', ++done, total);
    await runLimited(script.jobs, concurrency(), async (job) => {
      await runJob(job);
      opts.onProgress?.(job.netns, ++done, total);
    });
  } catch (err) {
    await teardownNetwork(plan).catch(() => undefined); // keep the first error, it says what went wrong
    throw err instanceof PmipError ? err : new PmipError(ErrorCodes.runtime, `building ${plan.runId}: ${String(err)}`);
  }
}

/** Namespaces (nodes, shared bridges, air segments) a plan makes. */
export function planNamespaces(plan: Plan): string[] {
  return [...plan.nodes.map((n) => n.netns), ...bridgeNamespacesOf(plan)];
}

/** Delete namespaces in one batch; those already gone are skipped (idempotent). */
export async function deleteNamespaces(names: string[]): Promise<void> {
  const present = listNetns();
  const lines = names.filter((n) => present.has(n)).map((n) => `netns del ${n}`);
  if (!lines.length) return;
  await runIpBatch(['-force'], lines, 'teardown batch').catch(() => undefined);
  const left = names.filter((n) => listNetns().has(n));
  if (left.length) throw new PmipError(ErrorCodes.runtime, `could not delete namespace ${left.join(', ')}`);
}

export async function teardownNetwork(plan: Plan): Promise<void> {
  requireRoot('deleting namespaces');
  await deleteNamespaces(planNamespaces(plan));
}
