import { Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { badInput } from '../errors.js';
import { shootPage } from '../report/browser.js';
import { ladderHtml } from '../report/ladder-page.js';
import { RUN_ID_RE, runPaths } from '../run/paths.js';
import { buildLadder } from '../study/ladder.js';
import { parseFlags } from './flags.js';
import { shown } from './sweep.js';

// `pmiplab ladder <run>`: message sequence charts of a run's signaling, read
// from its pcaps (ladder.html in the run folder, or -o). Needs no root.
const Flags = z.object({ run: z.string().min(1), output: z.string().min(1).optional() }).strict();

export function ladderCommand(): Command {
  return new Command('ladder')
    .description("draw a run's signaling per handover as message sequence charts, from its pcaps")
    .argument('<run>', 'run folder (runs/<id>, a sweep cell) or run id')
    .option('-o, --output <file>', 'the page to write (default: <run>/ladder.html)')
    .action(async (run: string, opts: Record<string, unknown>) => {
      const f = parseFlags(Flags, { run, ...opts });
      const dir = existsSync(path.join(f.run, 'topology.json')) ? path.resolve(f.run) : RUN_ID_RE.test(f.run) ? runPaths(f.run).dir : f.run;
      if (!existsSync(path.join(dir, 'topology.json'))) throw badInput(`no run folder '${f.run}'`, 'give the folder of a run (runs/<id>) or its id');
      if (!existsSync(path.join(dir, 'pcaps'))) throw badInput(`${dir} has no pcaps/ (run with captures on)`);
      const l = buildLadder(dir);
      const out = f.output ?? path.join(dir, 'ladder.html');
      writeFileSync(out, await ladderHtml(dir, l, path.basename(dir)));
      const counts = new Map<string, number>();
      for (const a of l.arrows) counts.set(a.kind, (counts.get(a.kind) ?? 0) + 1);
      process.stdout.write(`${l.arrows.length} messages (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}), ${l.handovers.length} handovers${l.problems.length ? `, ${l.problems.length} problems` : ''}\npage: ${shown(out)}\n`);
      process.stderr.write(`${path.basename(out)} ${(await shootPage(path.resolve(out))).line}\n`);
    });
}
