import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { execa } from 'execa';
import { z } from 'zod';
import { badInput, ErrorCodes, PmipError } from '../errors.js';
import { whichTool } from '../system/tools.js';
import { planToDot } from '../topology/graph.js';
import { parseFlags } from './flags.js';
import { loadPlan } from './validate.js';

// `pmiplab graph <topology.yaml> [--format dot|svg] [-o file]`: the planned
// topology as Graphviz DOT, or SVG rendered by graphviz's `dot`.

const Flags = z
  .object({
    file: z.string().min(1),
    format: z.enum(['dot', 'svg']),
    output: z.string().min(1).optional(),
  })
  .strict();

export async function renderSvg(dot: string): Promise<string> {
  const bin = whichTool('dot');
  if (!bin) {
    throw new PmipError(ErrorCodes.missingTool, "SVG output needs graphviz ('dot' is not installed)", 'apt-get install graphviz, or use --format dot');
  }
  const r = await execa(bin, ['-Tsvg'], { input: dot, reject: false });
  if (r.exitCode !== 0) throw new PmipError(ErrorCodes.runtime, `graphviz dot failed: ${r.stderr.trim()}`);
  return r.stdout;
}

export function graphCommand(): Command {
  return new Command('graph')
    .description('draw a topology as Graphviz DOT or SVG (no root needed)')
    .argument('<topology>', 'topology YAML file')
    .option('-f, --format <format>', 'dot or svg', 'dot')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (file: unknown, opts: Record<string, unknown>) => {
      const flags = parseFlags(Flags, { file, format: opts.format, output: opts.output }, 'pmiplab graph <topology.yaml> [--format dot|svg] [-o file]');
      const dot = planToDot(loadPlan(flags.file));
      const text = flags.format === 'svg' ? await renderSvg(dot) : dot;
      if (flags.output) {
        try {
          writeFileSync(flags.output, text.endsWith('\n') ? text : `${text}\n`);
        } catch (err) {
          throw badInput(`graph: cannot write ${flags.output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'give -o a file in a folder that exists');
        }
      }
      else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    });
}
