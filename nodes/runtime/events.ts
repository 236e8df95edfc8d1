import type { Logger } from 'pino';
import { z } from 'zod';
import type { Bus } from './bus.js';

// The event contract: every event put on the run's event stream (Bus.emit),
// by name, as a zod schema. Nodes emit them (types = z.infer, so an emit site
// that drifts from the contract does not compile); the orchestrator (event
// recorder, scenario runner, report, `validate`) reads them back and checks
// them with the same schemas. The bus stamps every event with the shared
// monotonic clock (tNs), so the signaling timeline of a handover is read
// straight from the stream. Payload fields are JSON: addresses as RFC 5952
// text, prefixes as CIDR. Schemas are not strict: a reader accepts fields it
// does not know (a newer emitter), never a missing or mistyped one.

/** MN link-layer identifier (the MN-LL-ID of RFC 5213), hex octets with ':'; '' when a PBU carried none. */
const LlId = z.string().describe('MN link-layer identifier, hex octets with ":"');
const Cidr = z.string().describe('a prefix as CIDR, e.g. 2001:db8:a:1::/64');
const Address = z.string().describe('an IPv6 address, RFC 5952 text');
const Int = z.number().int();
const Dec = z.string().regex(/^\d+$/, 'decimal nanoseconds');

// ---- MAG -------------------------------------------------------------------

/** MAG: an MN came onto one of its access interfaces (L2 attach seen). */
export const MnAttachEvent = z.object({
  iface: z.string(), // the MAG's access interface
  mnId: z.string(),
  llId: LlId,
  trigger: z.enum(['carrier', 'rs']),
});
export type MnAttachEvent = z.infer<typeof MnAttachEvent>;

/** MAG: an MN left (carrier down, or no answer to NUD). */
export const MnDetachEvent = z.object({
  iface: z.string(),
  mnId: z.string(),
  llId: LlId,
  trigger: z.enum(['carrier', 'nud']),
});
export type MnDetachEvent = z.infer<typeof MnDetachEvent>;

/** MAG: a Router Solicitation arrived on an access interface. */
export const RsReceivedEvent = z.object({ iface: z.string(), src: Address });
export type RsReceivedEvent = z.infer<typeof RsReceivedEvent>;

/** MAG: PBU sent (every transmission, attempt 1 = first). */
export const PbuSentEvent = z.object({
  mnId: z.string(),
  llId: LlId,
  iface: z.string().optional(), // the access interface of the session
  seq: Int,
  lifetime: z.number(), // seconds (0 = de-registration)
  hi: Int, // handoff indicator
  attempt: Int,
  lma: Address,
  bid: Int.optional(), // RFC 5648 Binding Identifier, when the session has one
});
export type PbuSentEvent = z.infer<typeof PbuSentEvent>;

/** MAG: PBA received for an entry of its Binding Update List. */
export const PbaReceivedEvent = z.object({
  mnId: z.string(),
  llId: LlId,
  iface: z.string().optional(),
  seq: Int,
  status: Int,
  lifetime: z.number(),
  hnp: Cidr.optional(), // the first prefix, when accepted
  hnps: z.array(Cidr).optional(), // every prefix of the session, when accepted
  bid: Int.optional(),
  rttUs: z.number(), // first PBU transmission of this sequence number to this PBA
});
export type PbaReceivedEvent = z.infer<typeof PbaReceivedEvent>;

/** MAG: registration gave up (retransmission limit) or was refused. */
export const RegistrationFailedEvent = z.object({
  mnId: z.string(),
  llId: LlId,
  iface: z.string().optional(),
  reason: z.string(),
  status: Int.optional(),
});
export type RegistrationFailedEvent = z.infer<typeof RegistrationFailedEvent>;

/** MAG: Router Advertisement sent to an MN. */
export const RaSentEvent = z.object({
  iface: z.string(),
  mnId: z.string(),
  llId: LlId,
  hnp: Cidr,
  reason: z.enum(['rs', 'attach', 'periodic', 'deregistration']),
});
export type RaSentEvent = z.infer<typeof RaSentEvent>;

/** MAG and LMA: the kernel now forwards the MN's prefix (uplink and downlink set). */
export const RoutesProgrammedEvent = z.object({
  mnId: z.string(),
  llId: LlId,
  iface: z.string().optional(), // MAG: the access interface
  hnp: Cidr,
  peer: Address, // LMA: the pCoA the prefix now points to; MAG: the LMA address
});
export type RoutesProgrammedEvent = z.infer<typeof RoutesProgrammedEvent>;

// ---- LMA -------------------------------------------------------------------

/** LMA: a PBU was accepted for processing (decoded and validated). */
export const PbuReceivedEvent = z.object({
  mag: Address, // source address (the pCoA)
  mnId: z.string(),
  llId: LlId,
  seq: Int,
  hi: Int,
  lifetime: z.number(),
  bid: Int.optional(),
});
export type PbuReceivedEvent = z.infer<typeof PbuReceivedEvent>;

/** LMA: PBA sent. */
export const PbaSentEvent = z.object({
  mag: Address,
  mnId: z.string(),
  llId: LlId,
  seq: Int,
  status: Int,
  lifetime: z.number(),
  bid: Int.optional(),
});
export type PbaSentEvent = z.infer<typeof PbaSentEvent>;

/** LMA binding cache changes (binding-created, -updated, -deleted): one mobility session. */
export const BindingEvent = z.object({
  mnId: z.string(),
  att: Int,
  llId: LlId,
  hnp: Cidr, // the first of hnps ('' if none): what readers of one prefix per session use
  hnps: z.array(Cidr),
  pCoA: Address,
  lifetime: z.number(),
  bid: Int.optional(), // RFC 5648 Binding Identifier (absent: BID 0 of its interface)
  state: z.enum(['active', 'deleting', 'dormant']).optional(),
});
export type BindingEvent = z.infer<typeof BindingEvent>;

/** LMA: bindings reloaded from Redis after a restart. */
export const BindingsRecoveredEvent = z.object({ count: Int.nonnegative() });
export type BindingsRecoveredEvent = z.infer<typeof BindingsRecoveredEvent>;

/** LMA or MAG: RFC 5847 heartbeat state of a peer changed. */
export const PeerStateEvent = z.object({
  peer: Address,
  state: z.enum(['up', 'failed']),
  missed: Int.nonnegative(),
});
export type PeerStateEvent = z.infer<typeof PeerStateEvent>;

// ---- MN and CN -------------------------------------------------------------

/** MN: the addresses of its interfaces (every change; also the answer to an `addresses` command). */
export const AddressesEvent = z.object({
  iface: z.string(),
  addresses: z.array(Address), // global addresses, without prefix length
  carrier: z.boolean(),
});
export type AddressesEvent = z.infer<typeof AddressesEvent>;

/** MN and CN: a traffic flow started or stopped at this end. */
export const TrafficEvent = z.object({
  flow: z.string(),
  role: z.enum(['sender', 'receiver']),
  port: Int,
  sent: Int.optional(),
  received: Int.optional(),
  file: z.string().optional(), // the samples file, relative to the run folder
});
export type TrafficEvent = z.infer<typeof TrafficEvent>;

/** Every role event by name: what a role's publishEvent(name, payload) carries. */
export const RoleEventSchemas = {
  'mn-attach': MnAttachEvent,
  'mn-detach': MnDetachEvent,
  'rs-received': RsReceivedEvent,
  'pbu-sent': PbuSentEvent,
  'pba-received': PbaReceivedEvent,
  'registration-failed': RegistrationFailedEvent,
  'ra-sent': RaSentEvent,
  'routes-programmed': RoutesProgrammedEvent,
  'pbu-received': PbuReceivedEvent,
  'pba-sent': PbaSentEvent,
  'binding-created': BindingEvent,
  'binding-updated': BindingEvent,
  'binding-deleted': BindingEvent,
  'bindings-recovered': BindingsRecoveredEvent,
  'peer-state': PeerStateEvent,
  addresses: AddressesEvent,
  'traffic-started': TrafficEvent,
  'traffic-stopped': TrafficEvent,
} as const;
export type RoleEventName = keyof typeof RoleEventSchemas;
export type RoleEvents = { [K in RoleEventName]: z.infer<(typeof RoleEventSchemas)[K]> };

// ---- node life cycle and command replies (nodes/runtime/node.ts, roles) ----

/** A node process is up: bus connected, role started, commands read. */
export const ReadyEvent = z.object({
  pid: Int.positive(),
  netns: z.string(),
  netnsInode: z.number(),
  rssMb: z.number(),
  startMs: z.number(),
});
export type ReadyEvent = z.infer<typeof ReadyEvent>;
/** Answer to `ping`. */
export const PongEvent = z.object({ rssMb: z.number() });
/** The node is going down (a `stop` command, a signal, or its parent gone). */
export const StoppingEvent = z.object({ reason: z.string() });
/** A command was refused or failed (replyTo names it), or the role could not start. */
export const ErrorEvent = z.object({ message: z.string() });
/** Answer to `stats` (LMA, MAG): counters, shapes of their own. */
export const StatsEvent = z.record(z.string(), z.unknown());
/** LMA: answer to `bindings`. */
export const BindingsReply = z.object({ bindings: z.array(z.unknown()) });
/** MAG: answer to `bul`. */
export const BulReply = z.object({ entries: z.array(z.unknown()) });
/** MAG: answer to a `session` or `interface` command (seed 001): done, or why not. */
export const CommandReply = z.union([
  z.object({ ok: z.literal(true), key: z.string().optional(), seq: Int.optional() }).loose(),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

export const NodeEventSchemas = {
  ready: ReadyEvent,
  pong: PongEvent,
  stopping: StoppingEvent,
  error: ErrorEvent,
  stats: StatsEvent,
  bindings: BindingsReply,
  bul: BulReply,
  session: CommandReply,
  interface: CommandReply,
} as const;

// ---- put on the stream by the orchestrator ---------------------------------

/** An MN interface changed MAG, went down or came up (orchestrator/netns/links.ts L2Event). */
export const L2EventData = z.object({
  type: z.enum(['l2-move', 'l2-down', 'l2-up']),
  node: z.string(), // the MN
  iface: z.string(), // the MN's interface
  from: z.string(), // MAG node before
  to: z.string(), // MAG node after
  tStartNs: Dec,
  tDownNs: Dec.optional(),
  tUpNs: Dec.optional(),
});
export const OrchestratorEventSchemas = {
  'l2-move': L2EventData,
  'l2-down': L2EventData,
  'l2-up': L2EventData,
  'scenario-start': z.object({ steps: Int.nonnegative() }),
  'scenario-end': z.object({}),
  'node-killed': z.object({ node: z.string() }),
  'node-restarted': z.object({ node: z.string() }),
} as const;

/** Every event name the stream can carry, with its payload schema. */
export const EventSchemas = { ...RoleEventSchemas, ...NodeEventSchemas, ...OrchestratorEventSchemas } as const;
export type EventName = keyof typeof EventSchemas;
export const EVENT_NAMES = Object.keys(EventSchemas) as EventName[];

export const isEventName = (name: string): name is EventName => Object.hasOwn(EventSchemas, name);

/** The payload fields an event of this name may carry (empty for free-form payloads such as stats). */
export function eventFields(name: EventName): string[] {
  const s = EventSchemas[name] as z.ZodType;
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

export type EventCheck = { ok: true } | { ok: false; issue: string };

/** Check an event's payload against the contract; an unknown name is an issue too. */
export function checkEvent(type: string, data: unknown): EventCheck {
  if (!isEventName(type)) return { ok: false, issue: `unknown event '${type}'` };
  const r = (EventSchemas[type] as z.ZodType).safeParse(data, { jitless: true });
  if (r.success) return { ok: true };
  return { ok: false, issue: `${type}: ${r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`).join('; ')}` };
}

/**
 * Publish a role event without waiting: the event stream is for observers, so
 * a failed XADD is logged, never allowed to hold up or fail the protocol.
 */
export function publishEvent<K extends RoleEventName>(bus: Pick<Bus, 'emit'>, log: Logger, type: K, data: RoleEvents[K]): void {
  bus.emit(type, data).catch((err: unknown) => log.warn({ type, err: (err as Error).message }, 'event not published'));
}
