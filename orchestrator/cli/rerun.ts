import { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { badInput } from '../errors.js';
import { summaryTable, writeReport } from '../report/index.js';
import { RUN_ID_RE, runPaths } from '../run/paths.js';
import { copyResults, runExperiment } from '../scenario/experiment.js';
import { settingsDiff } from '../study/compare.js';
import { EXPERIMENT_COPY, planHash, planIdentity, Provenance } from '../study/provenance.js';
import { parseFlags } from './flags.js';
import { terminalProgress } from './progress.js';
import { shown } from './sweep.js';

// `pmiplab rerun <run>`: play a run's experiment again from its folder (the
// copy of the experiment file its run.json names), then say whether the
// resolved plan is the same (its hash) and what differs in the environment
// (pmiplab commit, kernel, iproute2, Node).
const Flags = z
  .object({
    run: z.string().min(1),
    id: z.string().regex(RUN_ID_RE, 'a run id is 1-8 lowercase letters or digits').optional(),
    out: z.string().min(1).optional(),
    capture: z.boolean().default(true),
  })
  .strict();

const RunJson = z.looseObject({ provenance: Provenance.optional() });

function runDir(arg: string): string {
  if (existsSync(path.join(arg, 'run.json'))) return path.resolve(arg);
  if (RUN_ID_RE.test(arg) && existsSync(path.join(runPaths(arg).dir, 'run.json'))) return runPaths(arg).dir;
  throw badInput(`no finished run in '${arg}' (no run.json)`, 'give the folder of a run that `pmiplab run` (or a sweep cell) finished');
}

export function rerunCommand(): Command {
  return new Command('rerun')
    .description("play a run's experiment again from its folder, and compare the plan and environment with the original")
    .argument('<run>', 'run folder (runs/<id>, a sweep cell) or run id')
    .option('--id <id>', 'run id of the replay (default: random)')
    .option('--out <dir>', 'also copy the results to this folder')
    .option('--no-capture', 'no pcaps')
    .action(async (run: string, opts: Record<string, unknown>) => {
      const f = parseFlags(Flags, { run, ...opts });
      const dir = runDir(f.run);
      const meta = RunJson.safeParse(JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')));
      const before = meta.success ? meta.data.provenance : undefined;
      if (!before) throw badInput(`${dir}/run.json records no provenance (made before pmiplab recorded it)`, `run the experiment file again with pmiplab run`);
      const file = path.join(dir, before.experiment.copy ?? EXPERIMENT_COPY);
      if (!existsSync(file)) throw badInput(`${file} is missing: the run folder lost its copy of the experiment`);
      const progress = terminalProgress();
      progress.info(`replaying ${shown(dir)} (${shown(file)})`);
      const { lab, dir: newDir } = await runExperiment(file, { ...(f.id ? { id: f.id } : {}), capture: f.capture, progress });
      await lab.down();
      const { metrics } = await writeReport(newDir);
      if (f.out) copyResults(newDir, f.out);
      const after = RunJson.parse(JSON.parse(readFileSync(path.join(newDir, 'run.json'), 'utf8'))).provenance!;
      const lines: string[] = [];
      const oldPlan = path.join(dir, 'topology.json');
      if (after.plan.sha256 === before.plan.sha256) lines.push(`plan: the same (sha256 ${after.plan.sha256.slice(0, 16)})`);
      else {
        lines.push(`plan: DIFFERENT (sha256 ${before.plan.sha256.slice(0, 16)} then, ${after.plan.sha256.slice(0, 16)} now)`);
        if (existsSync(oldPlan)) {
          const then = JSON.parse(readFileSync(oldPlan, 'utf8'));
          const now = JSON.parse(readFileSync(path.join(newDir, 'topology.json'), 'utf8'));
          if (planHash(then) !== before.plan.sha256) lines.push('  (the old topology.json does not match its recorded hash)');
          for (const s of settingsDiff([planIdentity(then), planIdentity(now)])) lines.push(`  ${s.path}: ${JSON.stringify(s.values[0])} -> ${JSON.stringify(s.values[1])}`);
        }
      }
      const env: Array<[string, unknown, unknown]> = [
        ['pmiplab commit', before.pmiplab.commit, after.pmiplab.commit],
        ['pmiplab version', before.pmiplab.version, after.pmiplab.version],
        ['kernel', before.system.kernel, after.system.kernel],
        ['iproute2', before.system.iproute2, after.system.iproute2],
        ['node', before.system.node, after.system.node],
        ['redis', before.system.redis, after.system.redis],
      ];
      for (const [k, a, b] of env) lines.push(`${k}: ${a === b ? `the same (${String(a)})` : `${String(a)} then, ${String(b)} now`}`);
      if (before.pmiplab.dirty || after.pmiplab.dirty) lines.push('note: the checkout had uncommitted changes (the commit alone does not say what ran)');
      lines.push(`randomness: ${after.unseeded.length} sources take no seed, so losses and RA times are drawn anew`);
      process.stdout.write(`\n${summaryTable(metrics)}\n\n${lines.join('\n')}\n\nreport: ${shown(path.join(f.out ?? newDir, 'report.html'))}\n`);
    });
}
