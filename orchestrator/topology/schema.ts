import { z } from 'zod';
import { LinkKind, LmaOptionsSchema, MagOptions } from '../../nodes/contract/index.js';

// The topology file as written (containerlab-like). This zod schema is the
// only source: the TypeScript types and topologies/topology.schema.json come
// from it. No transforms here, so z.toJSONSchema can represent all of it;
// durations, access technologies and references are resolved in later passes
// (checks.ts, scenario.ts, planner.ts).

/** Node names end up in `pl<run>-<node>`: keep them short, lower case, shell-safe. */
export const NODE_NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
export const NODE_NAME_MAX = 20;
export const NodeName = z
  .string()
  .regex(NODE_NAME_RE, 'node names use a-z, 0-9 and "-", starting with a letter or digit')
  .max(NODE_NAME_MAX, `node names have at most ${NODE_NAME_MAX} characters`);

/** Kernel interface names: at most 15 characters (IFNAMSIZ - 1); no "." so sysctl keys stay dotted. */
export const IFACE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
export const IFACE_NAME_MAX = 15;
export const IfaceName = z
  .string()
  .regex(IFACE_NAME_RE, 'interface names use A-Z, a-z, 0-9, "_" and "-"')
  .max(IFACE_NAME_MAX, `interface names have at most ${IFACE_NAME_MAX} characters (kernel limit)`);

/** "node:iface"; the two halves are checked one by one in checks.ts, with clearer messages. */
export const EndpointRef = z
  .string()
  .regex(/^[^:\s]+:[^:\s]+$/, 'an endpoint is written "node:interface", e.g. "mn1:wlan0"')
  .describe('"node:interface", e.g. "mn1:wlan0"');

/** A time offset: "2s", "500ms", "1.5s", "1m", or a number of milliseconds. */
export const DURATION_RE = /^\d+(\.\d+)?(ms|s|m)$/;
export const Duration = z
  .union([z.string().regex(DURATION_RE, 'a duration is written like "500ms", "2s" or "1m"'), z.number().nonnegative()])
  .describe('"500ms", "2s", "1m", or milliseconds as a number');

/** Access technology names (RFC 5213 ATT option values, IANA registry). */
export const ATT_NUMBERS = {
  virtual: 1,
  ppp: 2,
  '802.3': 3,
  '802.11': 4,
  '802.16e': 5,
  geran: 6,
  utran: 7,
  'e-utran': 8,
  ehrpd: 9,
  hrpd: 10,
  '1xrtt': 11,
  umb: 12,
} as const;
export type AttName = keyof typeof ATT_NUMBERS;
const ATT_NAMES = Object.keys(ATT_NUMBERS) as [AttName, ...AttName[]];

export const MnInterface = z
  .object({
    att: z
      .union([z.enum(ATT_NAMES), z.number()])
      .describe('access technology: a name (802.11, 802.3, virtual, e-utran, ...) or its ATT number 1-255'),
    llId: z
      .string()
      .regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){1,7}$/i, 'llId is hex octets separated by ":", e.g. 02:00:00:00:01:01')
      .optional()
      .describe('MN link-layer identifier; defaults to the interface MAC'),
    priority: z.number().int().min(0).max(255).optional().describe('preference among the MN interfaces (multihoming)'),
    hnp: z
      .string()
      .regex(/^[0-9a-fA-F:]+\/64$/, 'hnp is an IPv6 /64 such as 2001:db8:a:1::/64')
      .optional()
      .describe('a fixed home network prefix for this interface (the policy store lists it); default: the LMA allocates one from pools.hnp'),
    shareWith: IfaceName.optional().describe(
      'seed 001 section 3: this interface shares the home network prefix of that interface of the same MN (which must have a fixed hnp); the LMA routes it to both',
    ),
    dormant: z
      .boolean()
      .optional()
      .describe('seed 001 appendix D: register this interface as a dormant binding for the shareWith interface, activated by the LMA when that session goes'),
  })
  .strict();
export type MnInterface = z.infer<typeof MnInterface>;

/** Protocol knobs of the LMA role (nodes/lma/config.ts; the planner fills in its MAGs). */
export const LmaTunables = z
  .object(LmaOptionsSchema.shape)
  .omit({ mags: true })
  .partial()
  .strict()
  .describe('LMA protocol settings (defaults in nodes/lma/README.md): timestamps, minDelayBeforeBceDeleteMs, maxLifetimeS, refreshAdviceS, heartbeatIntervalMs, ...');
/** Protocol knobs of the MAG role (nodes/mag/config.ts; addresses come from the planner). */
export const MagTunables = z
  .object(MagOptions.shape)
  .omit({ lma: true, lmaAddress: true, proxyCoa: true, backhaulIface: true, accessLinkLocal: true, accessMac: true })
  .partial()
  .strict()
  .describe('MAG protocol settings (defaults in nodes/mag/config.ts): retransmitInitialMs, retransmitMaxMs, registrationAttempts, lifetimeS, timestamps, raIntervalMinMs, ...');

export const LmaNode = z
  .object({ kind: z.literal('lma'), options: LmaTunables.optional() })
  .strict()
  .describe('Local Mobility Anchor');
export const MagNode = z
  .object({
    kind: z.literal('mag'),
    lma: NodeName.optional().describe('the LMA this MAG registers with; defaults to the only LMA'),
    access: z
      .object({
        mtu: z.number().int().min(1280).max(9000).optional().describe('MTU of this MAG access links (default 1500)'),
      })
      .strict()
      .optional()
      .describe('settings for every access link of this MAG'),
    options: MagTunables.optional(),
  })
  .strict()
  .describe('Mobile Access Gateway');
export const MnNode = z
  .object({
    kind: z.literal('mn'),
    mnId: z
      .string()
      .regex(/^[^\s@]+(@[^\s@]+)?$/, 'mnId is a NAI such as "mn1@pmiplab.example"')
      .max(255)
      .optional()
      .describe('MN identifier (NAI); defaults to <name>@pmiplab.example'),
    interfaces: z.record(IfaceName, MnInterface).describe('the MN interfaces, keyed by kernel name'),
  })
  .strict()
  .describe('Mobile Node');
export const CnNode = z
  .object({ kind: z.literal('cn') })
  .strict()
  .describe('Correspondent Node');

export const TopoNode = z.discriminatedUnion('kind', [LmaNode, MagNode, MnNode, CnNode]);
export type TopoNode = z.infer<typeof TopoNode>;
export type TopoNodeOf<K extends TopoNode['kind']> = Extract<TopoNode, { kind: K }>;

/** Mobility Header kinds a signaling impairment can single out (the codec's message kinds). */
export const SIGNALING_KINDS = ['pbu', 'pba', 'bindingError', 'heartbeat', 'handoverInitiate', 'handoverAck', 'updateNotification', 'updateNotificationAck', 'shi', 'shia'] as const;

export const TopoLink = z
  .object({
    endpoints: z.array(EndpointRef).min(2).describe('two endpoints; more than two make a shared backhaul segment'),
    kind: LinkKind.optional().describe('inferred from the node kinds: mn-mag access, mag-lma backhaul, lma-cn core'),
    rate: z
      .string()
      .regex(/^\d+(\.\d+)?(bit|kbit|mbit|gbit|tbit)$/i, 'rate is written as tc does, e.g. "100mbit"')
      .optional()
      .describe('rate limit (tc tbf), e.g. "100mbit"'),
    delay: Duration.optional().describe('one-way delay (needs netem in the kernel)'),
    loss: z
      .union([z.string().regex(/^\d+(\.\d+)?%$/, 'loss is a percentage such as "1%"'), z.number().min(0).max(100)])
      .optional()
      .describe('packet loss, e.g. "1%" (needs netem in the kernel)'),
    mtu: z.number().int().min(1280).max(65535).optional().describe('default 1600 on backhaul/core, 1500 on access'),
    signaling: z
      .object({
        delay: Duration.optional().describe('added before each Mobility Header message is sent over this link'),
        loss: z
          .union([z.string().regex(/^\d+(\.\d+)?%$/, 'loss is a percentage such as "30%"'), z.number().min(0).max(100)])
          .optional()
          .describe('share of Mobility Header messages dropped on send'),
        messages: z
          .array(z.enum(SIGNALING_KINDS))
          .min(1)
          .optional()
          .describe('only these message kinds (e.g. [pba]); default all'),
      })
      .strict()
      .optional()
      .describe('signaling impairment applied in user space by the nodes on this link (works without netem; data traffic is not affected)'),
  })
  .strict();
export type TopoLink = z.infer<typeof TopoLink>;

export const DEFAULT_POOLS = {
  backhaul: '2001:db8:b::/48',
  hnp: '2001:db8:a::/48',
  cn: '2001:db8:c::/48',
} as const;

export const Pools = z
  .object({
    backhaul: z.string().default(DEFAULT_POOLS.backhaul).describe('one /64 per backhaul link'),
    hnp: z.string().default(DEFAULT_POOLS.hnp).describe('home network prefixes, one /64 per MN interface'),
    cn: z.string().default(DEFAULT_POOLS.cn).describe('one /64 per core (LMA-CN) link'),
  })
  .strict()
  .describe('address pools: documentation (2001:db8::/32) or ULA (fc00::/7) prefixes only');

// --- scenario ---------------------------------------------------------------
const Iface = EndpointRef;
const act = <T extends string>(type: T) => z.literal(type);

export const MoveAction = z
  .object({
    type: act('move'),
    iface: Iface.describe('the MN interface, "mn1:wlan0"'),
    to: z
      .union([NodeName, z.array(NodeName).min(1)])
      .describe('target MAG; a list is cycled through by a repeated step'),
    toIface: IfaceName.optional().describe('name of the access interface in the target MAG (default: unchanged)'),
  })
  .strict();
export const DetachAction = z.object({ type: act('detach'), iface: Iface }).strict();
export const AttachAction = z
  .object({
    type: act('attach'),
    iface: Iface,
    to: NodeName.optional().describe('MAG to attach to; default the one it was detached from'),
    toIface: IfaceName.optional(),
  })
  .strict();
export const LinkDownAction = z.object({ type: act('link-down'), iface: Iface }).strict();
export const LinkUpAction = z.object({ type: act('link-up'), iface: Iface }).strict();
/** One end of a flow: a node, or one interface of an MN ("mn1:lte0": the flow uses that interface's address). */
const FlowEnd = z
  .union([NodeName, EndpointRef])
  .describe('a node (MN or CN), or "mn1:lte0" for one interface of an MN: its address is the destination (to) or the source (from) of the flow');
export const TrafficStartAction = z
  .object({
    type: act('traffic-start'),
    flow: z.string().regex(/^[A-Za-z0-9_-]+$/, 'flow names use letters, digits, "_" and "-"'),
    from: FlowEnd,
    to: FlowEnd,
    rate: z.number().positive().max(200_000).default(100).describe('packets per second'),
    // 16 bytes of sequence number and timestamp; 1452 fills a 1500-byte access MTU
    size: z.number().int().min(16).max(1452).default(128).describe('UDP payload bytes'),
  })
  .strict();
export const TrafficStopAction = z.object({ type: act('traffic-stop'), flow: z.string() }).strict();
export const KillAction = z.object({ type: act('kill'), node: NodeName }).strict();
export const RestartAction = z.object({ type: act('restart'), node: NodeName }).strict();
export const WaitForAction = z
  .object({
    type: act('wait-for'),
    event: z.string().min(1).describe('event name as the nodes report it (nodes/runtime/events.ts: pba-received, binding-created, ...)'),
    node: NodeName.optional(),
    match: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe('payload fields the event must have with these values, e.g. { mnId: mn1@pmiplab.example, status: 0 }'),
    timeoutMs: z.number().int().positive().default(5000),
  })
  .strict();

// Seed 001 steps per MN interface (docs/seed001.md): the runner sends them as
// bus commands to the MAG the interface is on at that moment.
const Prefix64 = z
  .string()
  .regex(/^[0-9a-fA-F:]+\/64$/, 'a prefix is an IPv6 /64 such as 2001:db8:a:1::/64')
  .describe('an IPv6 /64, e.g. 2001:db8:a:1::/64');
export const InterfaceHandoverAction = z
  .object({
    type: act('interface-handover'),
    iface: Iface.describe('the MN interface that takes the prefixes over, "mn1:lte0"'),
    from: Iface.describe('the interface of the same MN that gives them up, "mn1:wlan0"'),
    prefixes: z.array(Prefix64).min(1).optional().describe('only these prefixes of `from` (default: all of them)'),
  })
  .strict()
  .describe('seed 001 section 2.2: handover between interfaces (PBU HI 2)');
export const TransferPrefixesAction = z
  .object({
    type: act('transfer-prefixes'),
    iface: Iface.describe('the MN interface that takes the prefixes over'),
    from: Iface.describe('the interface of the same MN that keeps the others'),
    prefixes: z.array(Prefix64).min(1).describe('the prefixes that move'),
  })
  .strict()
  .describe('seed 001 section 2.2: prefix transfer of a subset');
export const AddSessionAction = z
  .object({
    type: act('add-session'),
    iface: Iface.describe('an MN interface that has a session'),
    bid: z.number().int().min(1).max(0xffff).describe('Binding Identifier of the new session (RFC 5648); the first session is BID 0'),
    prefixes: z.array(Prefix64).min(1).optional().describe('fixed prefixes of the new session (default: the LMA allocates one)'),
  })
  .strict()
  .describe('seed 001 section 2.1: a further mobility session on an interface');
export const SetInterfaceAction = z
  .object({
    type: act('set-interface'),
    iface: Iface,
    priority: z.number().int().min(0).max(255).optional().describe('preference among the MN interfaces'),
  })
  .strict()
  .describe('change settings of an MN interface at its MAG');

export const Action = z.discriminatedUnion('type', [
  MoveAction,
  DetachAction,
  AttachAction,
  LinkDownAction,
  LinkUpAction,
  TrafficStartAction,
  TrafficStopAction,
  KillAction,
  RestartAction,
  WaitForAction,
  InterfaceHandoverAction,
  TransferPrefixesAction,
  AddSessionAction,
  SetInterfaceAction,
]);
export type Action = z.infer<typeof Action>;

export const Step = z
  .object({
    at: Duration.describe('time offset from the start of the scenario'),
    repeat: z
      .object({
        count: z.number().int().min(1).max(100_000),
        every: Duration,
      })
      .strict()
      .optional()
      .describe('play the action count times, every `every`, starting at `at`'),
    action: Action,
  })
  .strict();
export type Step = z.infer<typeof Step>;

// --- settings ---------------------------------------------------------------
/**
 * How an MN interface changes MAG at run time:
 * - bridge (default): every access link is an "air" segment, a bridge in its
 *   own namespace with the MN's veth and one standby veth per MAG the
 *   interface can reach; a move is four admin up/down lines (~1 ms);
 * - netns: the MAG end of the MN's veth changes namespace (15-30 ms a move on
 *   current kernels, but no extra namespace).
 */
export const L2Move = z.enum(['bridge', 'netns']);
export type L2Move = z.infer<typeof L2Move>;
export const Settings = z
  .object({
    l2Move: L2Move.default('bridge').describe(
      'how an MN interface moves between MAGs: bridge (an air bridge per access link, standby ports, fast) or netns (the MAG end changes namespace, slow)',
    ),
    transport: z
      .enum(['udp', 'raw'])
      .default('udp')
      .describe('how MAGs and LMAs carry Mobility Header messages: udp (port 5436) or raw (IPv6 next header 135)'),
    tunnel: z
      .enum(['auto', 'ip6tnl', 'seg6'])
      .default('auto')
      .describe('LMA-MAG IPv6-in-IPv6 tunnel: ip6tnl devices, or seg6 reduced encapsulation (same packet on the wire) where the kernel has no ip6tnl; auto tries ip6tnl first'),
  })
  .strict()
  .describe('run-wide settings');

// --- the file ---------------------------------------------------------------
export const TopologyFile = z
  .object({
    $schema: z.string().optional(),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'the name uses letters, digits, "_", "." and "-"')
      .max(64),
    topology: z
      .object({
        nodes: z.record(NodeName, TopoNode).describe('nodes keyed by name'),
        links: z.array(TopoLink).default([]),
      })
      .strict(),
    pools: Pools.prefault({}),
    settings: Settings.prefault({}),
    scenario: z.array(Step).default([]),
  })
  .strict()
  .describe('pmiplab topology: a Proxy Mobile IPv6 domain (LMA, MAG, MN, CN) and its scenario');
export type TopologyFile = z.infer<typeof TopologyFile>;
export type TopologyInput = z.input<typeof TopologyFile>;
