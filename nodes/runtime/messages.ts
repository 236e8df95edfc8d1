import { z } from 'zod';

// Wire shape of the control bus. Each stream entry is a flat list of string
// fields (readable with redis-cli XRANGE); structured payloads are JSON in one
// field. Everything read back is validated here: a bad entry becomes an issue
// string, never an exception.

/** A JSON value carried in one stream field. */
const jsonField = z.string().transform((text, ctx): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.issues.push({ code: 'custom', message: 'not valid JSON', input: text });
    return z.NEVER;
  }
});

export const CommandFields = z
  .object({
    id: z.string().min(1),
    type: z.string().min(1), // 'ping' | 'stop' | anything a role understands
    args: jsonField.optional(),
  })
  .strict();

export const EventFields = z
  .object({
    node: z.string().min(1),
    type: z.string().min(1), // 'ready' | 'pong' | 'stopping' | 'error' | role events
    tNs: z.string().regex(/^\d+$/, 'decimal CLOCK_MONOTONIC nanoseconds'),
    data: jsonField.optional(),
    replyTo: z.string().min(1).optional(),
  })
  .strict();

/** A command as a node receives it; `streamId` is the Redis entry id. */
export type BusCommand = z.output<typeof CommandFields> & { streamId: string };
/** An event as the orchestrator receives it. */
export type BusEvent = z.output<typeof EventFields> & { streamId: string };

export type Decoded<T> = { ok: true; value: T } | { ok: false; issue: string };

/** Redis returns fields as [k1, v1, k2, v2...]; a repeated key is malformed. */
function pairs(fields: readonly string[]): Record<string, string> | string {
  if (fields.length % 2 !== 0) return 'odd number of fields';
  const out: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) {
    const k = fields[i] as string;
    if (Object.hasOwn(out, k)) return `field '${k}' repeated`;
    out[k] = fields[i + 1] as string;
  }
  return out;
}

function decode<T extends object>(
  schema: z.ZodType<T, Record<string, string>>,
  streamId: string,
  fields: readonly string[],
): Decoded<T & { streamId: string }> {
  const rec = pairs(fields);
  if (typeof rec === 'string') return { ok: false, issue: rec };
  const r = schema.safeParse(rec);
  if (!r.success) {
    const issue = r.error.issues.map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`).join('; ');
    return { ok: false, issue };
  }
  return { ok: true, value: { ...r.data, streamId } };
}

export const decodeCommand = (streamId: string, fields: readonly string[]): Decoded<BusCommand> =>
  decode(CommandFields, streamId, fields);

export const decodeEvent = (streamId: string, fields: readonly string[]): Decoded<BusEvent> =>
  decode(EventFields, streamId, fields);

/** Stream fields for XADD; optional parts are left out rather than sent empty. */
export function commandFields(id: string, type: string, args?: unknown): string[] {
  const f = ['id', id, 'type', type];
  if (args !== undefined) f.push('args', JSON.stringify(args));
  return f;
}

export function eventFields(node: string, type: string, tNs: bigint, data?: unknown, replyTo?: string): string[] {
  const f = ['node', node, 'type', type, 'tNs', tNs.toString()];
  if (data !== undefined) f.push('data', JSON.stringify(data));
  if (replyTo !== undefined) f.push('replyTo', replyTo);
  return f;
}
