import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Plan } from '../topology/plan.js';

// What it takes to play a run again and to tell whether a replay is the same
// experiment: the pmiplab version and commit, the kernel, iproute2 and Node
// that ran it, the hash of the resolved plan (without what only names the
// run), and the experiment file itself, copied into the run folder
// (experiment.yaml), which `pmiplab rerun` plays. run.json carries it as
// `provenance` (written by orchestrator/scenario/experiment.ts).

export const EXPERIMENT_COPY = 'experiment.yaml';

/** Sources of randomness in a run; none takes a seed today, so a replay draws anew. */
export const UNSEEDED = [
  'signaling loss (link signaling.loss): each message is dropped by Math.random() in nodes/runtime/mh-transport.ts',
  "the MAG's unsolicited RA interval: Math.random() between raIntervalMinMs and raIntervalMaxMs (nodes/mag/role.ts)",
  'run ids: crypto.randomBytes (orchestrator/lab/runid.ts); they only name the run',
];

export const Provenance = z.object({
  pmiplab: z.object({ version: z.string().nullable(), commit: z.string().nullable(), dirty: z.boolean().nullable() }),
  system: z.object({ kernel: z.string(), iproute2: z.string().nullable(), node: z.string(), redis: z.string().nullable() }),
  plan: z.object({ sha256: z.string() }),
  experiment: z.object({ file: z.string(), copy: z.string(), sha256: z.string() }),
  seeds: z.record(z.string(), z.number()),
  unseeded: z.array(z.string()),
});
export type Provenance = z.infer<typeof Provenance>;

function repoRoot(): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'pmiplab') return dir;
      } catch {
        // not ours
      }
    }
    dir = path.dirname(dir);
  }
  return null;
}

const run = (cmd: string, args: string[], cwd?: string): string | null => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000, ...(cwd ? { cwd } : {}) }).trim();
  } catch {
    return null;
  }
};

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The plan as JSON without the run id, the source path and the namespace names derived from the id. */
export function planIdentity(plan: unknown): Record<string, unknown> {
  const p = plan as { runId?: string };
  const text = p.runId ? JSON.stringify(plan).replaceAll(`pl${p.runId}-`, 'pl<run>-') : JSON.stringify(plan);
  const out = JSON.parse(text) as Record<string, unknown>;
  delete out.runId;
  delete out.source;
  return out;
}

export const planHash = (plan: unknown) => sha256(JSON.stringify(planIdentity(plan)));

/** Record the provenance of a run and copy its experiment file into the run folder. */
export function provenance(plan: Plan, runDir: string): Provenance {
  const root = repoRoot();
  const pkg = root ? (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string }) : {};
  const commit = root ? run('git', ['rev-parse', 'HEAD'], root) : null;
  const status = root && commit ? run('git', ['status', '--porcelain', '--untracked-files=no'], root) : null;
  const text = readFileSync(plan.source, 'utf8');
  const copy = path.join(runDir, EXPERIMENT_COPY);
  if (path.resolve(plan.source) !== path.resolve(copy)) copyFileSync(plan.source, copy);
  return {
    pmiplab: { version: pkg.version ?? null, commit, dirty: status === null ? null : status.length > 0 },
    system: {
      kernel: `${os.type()} ${os.release()}`,
      iproute2: run('ip', ['-V'])?.match(/iproute2-[\w.-]+/)?.[0] ?? null,
      node: process.version,
      redis: run('redis-server', ['--version'])?.match(/v=([\d.]+)/)?.[1] ?? null,
    },
    plan: { sha256: planHash(plan) },
    experiment: { file: plan.source, copy: EXPERIMENT_COPY, sha256: sha256(text) },
    seeds: {},
    unseeded: UNSEEDED,
  };
}
