import type { z } from 'zod';
import { badInput } from '../errors.js';

// Every verb runs its flags and arguments through its own zod object before
// use; a problem is bad input (exit 2), one `--flag: message` per line.
export function parseFlags<S extends z.ZodType>(schema: S, raw: unknown, usage?: string): z.output<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${i.path.length ? `--${i.path.join('.')}: ` : ''}${i.message}`);
  throw badInput(lines.join('\n'), usage);
}
