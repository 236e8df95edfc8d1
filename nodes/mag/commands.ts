import { z } from 'zod';

// Bus commands from the scenario runner to the MAG serving an MN interface
// (docs/seed001.md), validated on receipt: a bad payload is answered with
// its issues, never half-used. `llId` names the interface (its MN-LL-ID).

const LlId = z
  .string()
  .regex(/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{2}:)+[0-9a-fA-F]{2}$/, 'MN-LL-ID: hex octets with ":"')
  .transform((s) => s.toLowerCase().replace(/-/g, ':'));
const Cidr = z.string().regex(/^[0-9a-fA-F:]+\/\d{1,3}$/, 'IPv6 prefix in CIDR form');

export const SessionCommand = z.discriminatedUnion('op', [
  /** seed 001 2.2: PBU HI 2 for this interface, all-zero HNP (every prefix of fromLlId moves) or the named HNPs */
  z.object({ op: z.literal('interface-handover'), mnId: z.string().min(1), llId: LlId, fromLlId: LlId, hnps: z.array(Cidr).optional() }).strict(),
  /** seed 001 2.2 prefix transfer: PBU HI 2 naming the HNPs to take over (plus the session's own) */
  z.object({ op: z.literal('transfer-prefixes'), mnId: z.string().min(1), llId: LlId, fromLlId: LlId, hnps: z.array(Cidr).min(1) }).strict(),
  /** seed 001 2.1: a further session on the interface, with an RFC 5648 Binding Identifier */
  z.object({ op: z.literal('add-session'), mnId: z.string().min(1), llId: LlId, bid: z.number().int().min(1).max(0xffff), hnps: z.array(Cidr).optional() }).strict(),
]);
export type SessionCommand = z.infer<typeof SessionCommand>;

export const InterfaceCommand = z.discriminatedUnion('op', [
  /** seeds 002/003: the interface's preference (filters come later) */
  z.object({ op: z.literal('update'), mnId: z.string().min(1), llId: LlId, priority: z.number().int().min(0).max(255).optional() }).strict(),
]);
export type InterfaceCommand = z.infer<typeof InterfaceCommand>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

function parse<T>(schema: z.ZodType<T>, args: unknown): Parsed<T> {
  const r = schema.safeParse(args);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, error: r.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ') };
}

export const parseSessionCommand = (args: unknown): Parsed<SessionCommand> => parse(SessionCommand, args);
export const parseInterfaceCommand = (args: unknown): Parsed<InterfaceCommand> => parse(InterfaceCommand, args);
