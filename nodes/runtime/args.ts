import { parseArgs } from 'node:util';
import { z } from 'zod';
import { RUN_ID_RE } from '../contract/ids.js';
import { NodeKind } from '../contract/plan.js';

// Command line of a node process. The launcher writes it; a person may too
// (to run one node by hand), so every value is checked.

export const NodeArgs = z
  .object({
    run: z.string().regex(RUN_ID_RE, 'run id: 1-8 lowercase letters or digits'),
    node: z.string().min(1),
    kind: NodeKind,
    redis: z.string().regex(/^(unix:\/\/\/|\/|rediss?:\/\/)/, 'unix:///path, /path, redis:// or rediss://'),
    plan: z.string().min(1),
    log: z.string().min(1),
    /** the cleanup tag; must repeat --run so a scan by tag finds the right run */
    'pmiplab-run': z.string(),
  })
  .strict()
  .refine((a) => a['pmiplab-run'] === a.run, {
    message: '--pmiplab-run must equal --run',
    path: ['pmiplab-run'],
  });
export type NodeArgs = z.infer<typeof NodeArgs>;

export type ParsedArgs = { ok: true; args: NodeArgs } | { ok: false; message: string };

const str = { type: 'string' } as const;

export function parseNodeArgs(argv: readonly string[]): ParsedArgs {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { run: str, node: str, kind: str, redis: str, plan: str, log: str, 'pmiplab-run': str },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
  const r = NodeArgs.safeParse(values, { jitless: true });
  if (r.success) return { ok: true, args: r.data };
  const message = r.error.issues.map((i) => `--${i.path.join('.') || '?'}: ${i.message}`).join('\n');
  return { ok: false, message };
}
