import { z } from 'zod';
import { PROBE_HEADER, PROBE_MAX } from '../traffic/probe.js';

// Bus commands (orchestrator -> node): the `args` of each command type, as
// zod schemas. The sender builds them with these types and the node checks
// them on receipt with the same schema (a command that does not parse gets an
// `error` reply and changes nothing). The runtime answers ping and stop
// itself; the rest belong to a role. Seed 001's per-interface commands
// (docs/seed001.md, "Bus commands") are `session` and `interface`, sent to the
// MAG the interface is on; `llId` names the MN interface.

/** MN link-layer identifier: hex octets with ':' (the MN-LL-ID of RFC 5213). */
export const LlId = z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){1,7}$/, 'llId is lowercase hex octets separated by ":"');
/** A home network prefix: an IPv6 /64 in CIDR. */
export const Prefix64 = z.string().regex(/^[0-9a-f:]+\/64$/, 'a prefix is an IPv6 /64 such as 2001:db8:a:1::/64');
const MnId = z.string().min(1).max(255);
const IfName = z.string().min(1).max(15);

/** `session`: seed 001 sections 2.1 and 2.2, one mobility session of an MN interface. */
export const SessionCommand = z.discriminatedUnion('op', [
  /** section 2.2, HI 2: the prefixes of interface fromLlId move to llId's session (all of them, or those named) */
  z.object({ op: z.literal('interface-handover'), mnId: MnId, llId: LlId, fromLlId: LlId, hnps: z.array(Prefix64).min(1).optional() }).strict(),
  /** section 2.2, prefix transfer: only the named prefixes move; the old session keeps the rest */
  z.object({ op: z.literal('transfer-prefixes'), mnId: MnId, llId: LlId, fromLlId: LlId, hnps: z.array(Prefix64).min(1) }).strict(),
  /** section 2.1: a further session on an interface that has one, with its own BID (RFC 5648) and prefixes (default: allocated) */
  z.object({ op: z.literal('add-session'), mnId: MnId, llId: LlId, bid: z.number().int().min(1).max(0xffff), hnps: z.array(Prefix64).min(1).optional() }).strict(),
]);
export type SessionCommand = z.infer<typeof SessionCommand>;

/** `interface`: settings of one MN interface at its MAG (seed 002/003 extend `update` with filters). */
export const InterfaceCommand = z.discriminatedUnion('op', [
  z.object({ op: z.literal('update'), mnId: MnId, llId: LlId, priority: z.number().int().min(0).max(255).optional() }).strict(),
]);
export type InterfaceCommand = z.infer<typeof InterfaceCommand>;

const Flow = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'flow names use letters, digits, "_" and "-"');
const Port = z.number().int().min(1).max(65535);

/** MN, CN: receive a flow on a UDP port. */
export const TrafficListenArgs = z.object({ flow: Flow, port: Port });
/** MN, CN: send a flow. */
export const TrafficStartArgs = z.object({
  flow: Flow,
  dst: z.union([z.ipv6(), z.ipv4()]),
  port: Port,
  rate: z.number().positive().max(200_000),
  size: z.number().int().min(PROBE_HEADER).max(PROBE_MAX),
  /** probes per timer tick at most (catch-up bound); default from the rate */
  maxBurst: z.number().int().positive().optional(),
  /** MN: send from this interface's address (and out of it: source routing); default the kernel's choice */
  srcIface: IfName.optional(),
});
/** MN, CN: stop every end of a flow here. */
export const TrafficStopArgs = z.object({ flow: Flow });
/** MN: report the addresses of one interface, or of all. */
export const AddressesArgs = z.object({ iface: IfName.optional() });
export type TrafficListenArgs = z.infer<typeof TrafficListenArgs>;
export type TrafficStartArgs = z.infer<typeof TrafficStartArgs>;
export type TrafficStopArgs = z.infer<typeof TrafficStopArgs>;

const NoArgs = z.object({}).optional();

/** Every command type, with the node kinds that answer it and its args. */
export const CommandSchemas = {
  ping: NoArgs,
  stop: NoArgs,
  stats: NoArgs, // LMA, MAG
  bindings: NoArgs, // LMA
  bul: NoArgs, // MAG
  session: SessionCommand, // MAG
  interface: InterfaceCommand, // MAG
  addresses: AddressesArgs, // MN
  'traffic-listen': TrafficListenArgs, // MN, CN
  'traffic-start': TrafficStartArgs, // MN, CN
  'traffic-stop': TrafficStopArgs, // MN, CN
} as const;
export type CommandName = keyof typeof CommandSchemas;
export type CommandArgs = { [K in CommandName]: z.input<(typeof CommandSchemas)[K]> };

/** Parse a command's args on receipt; the error names the field. */
export function parseCommand<K extends CommandName>(type: K, args: unknown): { ok: true; args: z.output<(typeof CommandSchemas)[K]> } | { ok: false; message: string } {
  const r = (CommandSchemas[type] as z.ZodType).safeParse(args, { jitless: true });
  if (r.success) return { ok: true, args: r.data as z.output<(typeof CommandSchemas)[K]> };
  return { ok: false, message: `${type}: ${r.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ')}` };
}
