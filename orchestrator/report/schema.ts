import { z } from 'zod';

// metrics.json: what a run measured. docs/metrics.md explains every field;
// the types are z.infer of these schemas, and writeReport validates what it
// writes. Times are milliseconds (3 decimals, i.e. µs resolution) relative to
// the handover's L2 event unless named otherwise; null = not observed.

export const METRICS_SCHEMA = 'pmiplab.metrics/1';

const Ms = z.number();
const MsOrNull = Ms.nullable();

export const DelayStats = z.object({ min: Ms, p50: Ms, p99: Ms, max: Ms }).strict();
export type DelayStats = z.infer<typeof DelayStats>;

/** One flow's cost of one handover. */
export const FlowHandover = z
  .object({
    index: z.number().int().positive(), // the handover's index in the run (handovers[].index)
    from: z.string(), // MAG before
    to: z.string(), // MAG after
    gapMs: MsOrNull, // longest time without arrivals around the L2 event
    gapStartMs: MsOrNull, // its start (an arrival, or the first send), relative to the L2 event
    gapEndMs: MsOrNull, // its end: the first arrival after it (= first packet delivered)
    recovered: z.boolean(), // false: no probe arrived after the gap before sending stopped
    senderPauseMs: MsOrNull, // longest part of the gap in which the sender sent nothing (≈ gapMs: the sender paused, not the network)
    sent: z.number().int().nonnegative(), // probes sent in the window
    received: z.number().int().nonnegative(), // of those, received (first copies)
    lost: z.number().int().nonnegative().nullable(), // sent in the window, never received (null: no sender samples)
    sendFailed: z.number().int().nonnegative(), // of the lost, refused by the sender's own kernel (no route)
    duplicated: z.number().int().nonnegative(), // extra copies of probes sent in the window
    reordered: z.number().int().nonnegative(), // probes sent in the window that arrived after a later one
    delayMs: z.object({ p50: Ms, p99: Ms }).strict().nullable(), // one-way delay of the window's probes
  })
  .strict();
export type FlowHandover = z.infer<typeof FlowHandover>;

export const FlowTotals = z
  .object({
    sent: z.number().int().nonnegative(),
    received: z.number().int().nonnegative(),
    lost: z.number().int().nonnegative().nullable(),
    sendFailed: z.number().int().nonnegative(),
    duplicated: z.number().int().nonnegative(),
    reordered: z.number().int().nonnegative(),
    strays: z.number().int().nonnegative(), // datagrams at the receiver's port that were not probes of the flow
    delayMs: DelayStats.nullable(),
    maxGapMs: MsOrNull, // longest time without arrivals over the whole flow
    durationS: z.number(), // first to last send
    ratePps: z.number(), // achieved send rate
    senderMaxLagMs: MsOrNull, // sender's worst lateness behind its schedule
  })
  .strict();
export type FlowTotals = z.infer<typeof FlowTotals>;

/** Probes sent before the first handover's window: the reference for the rest. */
export const Baseline = z
  .object({
    sent: z.number().int().nonnegative(),
    lost: z.number().int().nonnegative().nullable(),
    maxGapMs: MsOrNull,
    delayMs: z.object({ p50: Ms, p99: Ms }).strict().nullable(),
  })
  .strict();

/** What one MN interface carried of a flow, from that interface's capture (docs/metrics.md). */
export const FlowInterface = z
  .object({
    node: z.string(), // the MN
    iface: z.string(),
    direction: z.enum(['in', 'out']), // in: the MN received the flow on it; out: sent it from it
    probes: z.number().int().nonnegative(), // distinct probes seen on the interface
    copies: z.number().int().nonnegative(), // frames (≥ probes when copies arrived twice)
    firstS: z.number(), // first seen, s since the run's start
    lastS: z.number(), // last seen
  })
  .strict();
export type FlowInterface = z.infer<typeof FlowInterface>;

export const FlowMetrics = z
  .object({
    flow: z.string(),
    from: z.string().nullable(), // sending node
    to: z.string().nullable(), // receiving node
    rate: z.number().nullable(), // configured pps
    size: z.number().nullable(), // probe payload octets
    files: z.object({ sender: z.string().nullable(), receiver: z.string().nullable() }).strict(),
    totals: FlowTotals,
    baseline: Baseline,
    handovers: z.array(FlowHandover),
    /** per MN interface (seed 001): empty without captures of the MN's interfaces */
    interfaces: z.array(FlowInterface).default([]),
  })
  .strict();
export type FlowMetrics = z.infer<typeof FlowMetrics>;

/** Signaling timeline of one handover: first occurrence of each step after the L2 event, ms. */
export const Timeline = z
  .object({
    l2Down: MsOrNull, // the MN saw carrier down
    l2Up: MsOrNull, // the MN saw carrier up
    mnDetach: MsOrNull, // old MAG: mn-detach
    mnAttach: MsOrNull, // new MAG: mn-attach
    rs: MsOrNull, // new MAG: Router Solicitation received
    pbuSent: MsOrNull, // new MAG: first PBU (lifetime > 0) for the MN
    pbuReceived: MsOrNull, // LMA: that PBU accepted for processing
    pbaSent: MsOrNull, // LMA
    pbaReceived: MsOrNull, // new MAG
    routesProgrammed: MsOrNull, // new MAG: uplink and downlink routes set
    raSent: MsOrNull, // new MAG: RA with the MN's prefix
    mnAddress: MsOrNull, // MN: carrier back (after the loss it saw) with a global address
    firstPacket: z.record(z.string(), MsOrNull), // per flow: first probe delivered after the gap
  })
  .strict();
export type Timeline = z.infer<typeof Timeline>;

export const Handover = z
  .object({
    index: z.number().int().positive(), // 1, 2, ... in the order of the run
    /** move: to another MAG; detach / attach: the interface left / came back ("none" on the other side); absent in older files: move */
    kind: z.enum(['move', 'detach', 'attach']).optional(),
    node: z.string(), // the MN
    iface: z.string(),
    from: z.string(),
    to: z.string(),
    tNs: z.string().regex(/^\d+$/), // the L2 event (move started), CLOCK_MONOTONIC ns
    atS: z.number(), // the same, seconds since the run's start
    timeline: Timeline,
  })
  .strict();
export type Handover = z.infer<typeof Handover>;

/** The LMA's binding cache entry as the events tell it. */
export const BceRow = z
  .object({
    lma: z.string(),
    mnId: z.string(),
    llId: z.string(), // MN link-layer identifier
    iface: z.string().nullable(), // the MN's interface with that llId (plan)
    att: z.number().int().nullable(),
    bid: z.number().int().nullable(), // RFC 5648 binding identifier, null: none given
    hnps: z.array(z.string()),
    pCoA: z.string(),
    mag: z.string().nullable(), // the MAG with that proxy CoA (plan)
    state: z.string(), // active, deleting, or the LMA's own state name (dormant, ...)
    lifetimeS: z.number(),
  })
  .strict();

/** A MAG's Binding Update List entry as the events tell it. */
export const BulRow = z
  .object({
    mag: z.string(),
    mnId: z.string(),
    llId: z.string().nullable(),
    iface: z.string().nullable(), // the MN's interface
    magIface: z.string().nullable(), // the MAG's access interface
    bid: z.number().int().nullable(),
    hnps: z.array(z.string()),
    state: z.string(), // attached, registering, bound, renewing, deregistering, refused (status)
    lifetimeS: z.number().nullable(),
  })
  .strict();

/** The tables after one scenario step (stage 0: before the first). */
export const StageTables = z
  .object({
    index: z.number().int().nonnegative(),
    label: z.string(),
    atS: z.number(), // when the tables were read, s since the run's start
    steps: z.array(z.object({ atMs: z.number(), source: z.string(), what: z.string() }).strict()),
    bindingCache: z.array(BceRow),
    bul: z.array(BulRow),
  })
  .strict();
export type StageTables = z.infer<typeof StageTables>;

export const Metrics = z
  .object({
    schema: z.literal(METRICS_SCHEMA),
    run: z
      .object({
        name: z.string().nullable(),
        runId: z.string().nullable(),
        startNs: z.string().regex(/^\d+$/), // time zero of every "S" field
        dataPlane: z.string().nullable(), // backend of the LMA-MAG tunnel (ip6tnl, seg6)
        transport: z.string().nullable(), // signaling transport (udp, raw)
        signalingImpairment: z.string().nullable(), // e.g. "delay 20 ms applied to signaling only"
        generatedAt: z.string(), // ISO time the report was made
      })
      .strict(),
    definitions: z
      .object({
        /** a handover's window starts this long before its L2 event (probes in flight when the link broke) */
        preMs: Ms,
        /** the gap must begin before the next window and within this long after the L2 event */
        gapHorizonMs: Ms,
        /** signaling steps are searched up to the next handover or this long after the L2 event */
        timelineHorizonMs: Ms,
      })
      .strict(),
    handovers: z.array(Handover),
    flows: z.array(FlowMetrics),
    /** binding cache and BULs after every scenario step (empty without a scenario in topology.json) */
    stages: z.array(StageTables).default([]),
    warnings: z.array(z.string()),
  })
  .strict();
export type Metrics = z.infer<typeof Metrics>;
