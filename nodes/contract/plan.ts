import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { LmaMagSchema, LmaOptionsSchema } from '../lma/config.js';
import { MagOptions } from '../mag/config.js';

// The resolved topology: defaults flattened, addresses and kernel names
// assigned. Only a Plan reaches the namespace builder and the launcher; it is
// written to runs/<id>/topology.json and read back (validated) by down,
// inspect, cleanup, the report and every node process (its own view). This
// file is the plan contract: the planner (orchestrator/topology) writes it,
// the nodes read it, neither imports the other. A node's `options` are typed
// by its kind; the role option schemas stay next to their roles
// (nodes/lma/config.ts, nodes/mag/config.ts) and are read from there.

export const NodeKind = z.enum(['lma', 'mag', 'mn', 'cn']);
export type NodeKind = z.infer<typeof NodeKind>;

export const LinkKind = z.enum(['access', 'backhaul', 'core']);
export type LinkKind = z.infer<typeof LinkKind>;

export const PlanInterface = z
  .object({
    name: z.string().min(1).max(15), // name inside the node's namespace
    ifindex: z.number().int().positive(), // distinct on each veth end (kernel.md: carrier delay)
    mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/),
    mtu: z.number().int().min(1280),
    addresses: z.array(z.string()), // CIDR, e.g. 2001:db8:b:1::1/64 or fe80::1/64
    link: z.string(), // PlanLink.id
    /** MN interfaces: access technology and MN-LL-ID come from the topology file */
    att: z.number().int().optional(),
  })
  .strict();
export type PlanInterface = z.infer<typeof PlanInterface>;

export const PlanRoute = z
  .object({
    dst: z.string(), // CIDR or 'default'
    via: z.string().optional(),
    dev: z.string().optional(),
  })
  .strict();
export type PlanRoute = z.infer<typeof PlanRoute>;

/** Every field of a role's option schema optional (a hand-made plan may leave any out; the role parses them with defaults). */
const partialOf = <T extends z.ZodRawShape>(shape: T) => z.object(shape).partial();

/** LMA: its MAGs (from the planner) and the protocol knobs of the topology file. */
export const LmaPlanOptions = partialOf(LmaOptionsSchema.shape).extend({ mags: z.array(LmaMagSchema).optional() });
/** MAG: its LMA, addresses (from the planner) and the protocol knobs of the topology file. */
export const MagPlanOptions = partialOf(MagOptions.shape);
/** One MN interface as the planner resolved it (topology `interfaces:`; ATT as a number, llId defaulted to the MAC). */
export const MnPlanInterface = z
  .object({
    att: z.number().int(),
    llId: z.string().optional(), // absent only for an interface without a link (no MAC)
    priority: z.number().int().optional(),
    hnp: z.string().optional(), // fixed prefix, CIDR
    shareWith: z.string().optional(),
    dormant: z.boolean().optional(),
  })
  .strict();
export type MnPlanInterface = z.infer<typeof MnPlanInterface>;
export const MnPlanOptions = z.object({ mnId: z.string().min(1), interfaces: z.record(z.string(), MnPlanInterface).optional() }).strict();
export const CnPlanOptions = z.object({ lma: z.string().optional() }).strict();

const nodeOf = <K extends NodeKind, O extends z.ZodType>(kind: K, options: O) =>
  z
    .object({
      name: z.string(),
      kind: z.literal(kind),
      netns: z.string(), // pl<id>-<name>
      interfaces: z.array(PlanInterface),
      routes: z.array(PlanRoute),
      sysctls: z.record(z.string(), z.string()), // key relative to /proc/sys, e.g. net.ipv6.conf.all.forwarding
      /** kind-specific options as resolved from the file */
      options,
    })
    .strict();
export const LmaPlanNode = nodeOf('lma', LmaPlanOptions);
export const MagPlanNode = nodeOf('mag', MagPlanOptions);
export const MnPlanNode = nodeOf('mn', MnPlanOptions);
export const CnPlanNode = nodeOf('cn', CnPlanOptions);
export const PlanNode = z.discriminatedUnion('kind', [LmaPlanNode, MagPlanNode, MnPlanNode, CnPlanNode]);
export type PlanNode = z.infer<typeof PlanNode>;
export type PlanNodeOf<K extends NodeKind> = Extract<PlanNode, { kind: K }>;
export const isKind = <K extends NodeKind>(n: PlanNode, kind: K): n is PlanNodeOf<K> => n.kind === kind;

export const PlanEndpoint = z.object({ node: z.string(), iface: z.string() }).strict();
export type PlanEndpoint = z.infer<typeof PlanEndpoint>;

/** One port of an air bridge facing a MAG: the MAG's access interface for this MN and its veth peer on the bridge. */
export const AirPort = z
  .object({
    mag: z.string(), // MAG node
    iface: z.string().min(1).max(15), // its access interface (a PlanInterface of that node)
    port: z.string().min(1).max(15), // the veth peer, a bridge port in the air namespace
    ifindex: z.number().int().positive(), // the port's index (distinct from its peer's)
  })
  .strict();
export type AirPort = z.infer<typeof AirPort>;

/**
 * An access link in l2Move bridge mode: a bridge alone in its namespace joins
 * the MN's veth (port `mnPort`) and one veth per MAG the interface may be on
 * (`ports`, ports[0] = the MAG the link starts on, up; the others admin down,
 * so those MAGs see no carrier). A move toggles ports; nothing changes namespace.
 */
export const PlanAir = z
  .object({
    netns: z.string(), // pl<id>-air<k>
    bridge: z.string(),
    mnPort: z.object({ name: z.string().min(1).max(15), ifindex: z.number().int().positive() }).strict(),
    ports: z.array(AirPort).min(1),
  })
  .strict();
export type PlanAir = z.infer<typeof PlanAir>;

export const PlanLink = z
  .object({
    id: z.string(), // stable, e.g. "l3"
    kind: LinkKind,
    endpoints: z.array(PlanEndpoint).min(2), // 2 = veth pair; more = a bridge in its own namespace
    /** set when endpoints > 2: the namespace and bridge that join them */
    bridge: z.object({ netns: z.string(), name: z.string() }).strict().optional(),
    /** access links in l2Move bridge mode (absent in netns mode and in plans written before it) */
    air: PlanAir.optional(),
    subnet: z.string().optional(), // CIDR of the link, if it carries global addresses
    rate: z.string().optional(), // tc tbf rate, e.g. "100mbit"
    delayMs: z.number().nonnegative().optional(),
    lossPct: z.number().min(0).max(100).optional(),
    mtu: z.number().int().min(1280),
    /** user-space impairment of Mobility Header messages sent over this link (nodes apply it on send) */
    signaling: z
      .object({ delayMs: z.number().nonnegative(), lossPct: z.number().min(0).max(100), messages: z.array(z.string()).optional() })
      .strict()
      .optional(),
  })
  .strict();
export type PlanLink = z.infer<typeof PlanLink>;

export const Plan = z
  .object({
    version: z.literal(1),
    runId: z.string(),
    name: z.string(),
    source: z.string(), // absolute path of the topology file
    pools: z.object({ backhaul: z.string(), hnp: z.string(), cn: z.string() }).strict(),
    nodes: z.array(PlanNode),
    links: z.array(PlanLink),
    /** run-wide settings from the file; absent = plans written before settings existed (netns moves) */
    settings: z
      .object({
        l2Move: z.enum(['bridge', 'netns']),
        transport: z.enum(['udp', 'raw']).optional(), // absent = udp
        tunnel: z.enum(['auto', 'ip6tnl', 'seg6']).optional(), // absent = auto
      })
      .strict()
      .optional(),
    /** the validated scenario timeline, as in the file (played by the scenario runner) */
    scenario: z.array(z.record(z.string(), z.unknown())),
  })
  .strict();
export type Plan = z.infer<typeof Plan>;

/**
 * Read and validate a plan file (runs/<id>/topology.json); the error says which
 * file and field. `jitless` suits one-off parses (node start-up: no schema compile).
 */
export function readPlanFile(file: string, opts: { jitless?: boolean } = {}): Plan {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`plan ${file}: ${(err as Error).message}`);
  }
  const r = Plan.safeParse(raw, { jitless: opts.jitless ?? false });
  if (!r.success) {
    const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`plan ${file} is not a valid Plan:\n${issues.join('\n')}`);
  }
  return r.data;
}

/**
 * What one node process needs of the plan: itself, the links it is on, and
 * the nodes with an interface on those links (its peers, standby MAGs
 * included). Still a valid Plan, so nodes validate it with the same schema;
 * each node then parses O(its links) rather than the whole domain, which is
 * what keeps start-up flat at 200 nodes.
 */
export function planView(plan: Plan, node: string): Plan {
  const self = plan.nodes.find((n) => n.name === node);
  if (!self) throw new Error(`planView: no node '${node}'`);
  const linkIds = new Set(self.interfaces.map((i) => i.link));
  for (const l of plan.links) if (l.endpoints.some((e) => e.node === node)) linkIds.add(l.id);
  const nodes = plan.nodes.filter(
    (n) => n.name === node || n.interfaces.some((i) => linkIds.has(i.link)) || plan.links.some((l) => linkIds.has(l.id) && l.endpoints.some((e) => e.node === n.name)),
  );
  return { ...plan, nodes, links: plan.links.filter((l) => linkIds.has(l.id)) };
}
