import { z } from 'zod';
import { DEFAULT_TIMINGS, type BulTimings } from './bul.js';

// The MAG's options, from its plan node (ctx.node.options): what the planner
// writes (lma, lmaAddress, proxyCoa, backhaulIface, accessLinkLocal,
// accessMac) and the protocol knobs below, each with a default suited to an
// emulated domain (round trips of ~0.1 ms, runs of tens of seconds).

const ms = z.number().nonnegative();

export const MagOptions = z
  .object({
    lma: z.string().min(1),
    lmaAddress: z.string().min(1),
    proxyCoa: z.string().min(1),
    backhaulIface: z.string().min(1),
    accessLinkLocal: z.string().default('fe80::1'),
    accessMac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i).default('02:00:00:00:00:01'),

    /** BUL timings (bul.ts DEFAULT_TIMINGS) */
    retransmitInitialMs: z.number().positive().default(DEFAULT_TIMINGS.retransmitInitialMs),
    retransmitMaxMs: z.number().positive().default(DEFAULT_TIMINGS.retransmitMaxMs),
    registrationAttempts: z.number().int().min(1).default(DEFAULT_TIMINGS.registrationAttempts),
    deregistrationAttempts: z.number().int().min(1).default(DEFAULT_TIMINGS.deregistrationAttempts),
    /** lifetime asked for, seconds (sent in 4 s units: rounded up) */
    lifetimeS: z.number().int().min(4).max(0xffff * 4).default(DEFAULT_TIMINGS.lifetimeS),
    refreshAt: z.number().gt(0).lt(1).default(DEFAULT_TIMINGS.refreshAt),
    /** a registration that gave up (no PBA) is tried again after this long while the MN stays attached; 0 = never */
    retryAfterMs: ms.default(5000),

    /** how old a copy of an MN's policy profile may be when an attachment uses it (the store is re-read at half this period); 0 = read at every attachment */
    policyTtlMs: ms.default(1000),

    /**
     * RFC 5213 5.5: Timestamp option in every PBU; false = sequence numbers
     * only. Off by default, as at the LMA (nodes/lma/config.ts): MAG and LMA
     * of one domain must agree (a Timestamp the LMA does not use is ignored,
     * and an LMA that uses them refuses PBUs without one, 156). RFC 5213's
     * TimestampBasedApproachInUse defaults to timestamps; the domain's
     * default is sequence numbers because every PBU of a binding then orders
     * without clocks in step, and a handover whose new MAG starts below the
     * LMA's last number costs one 135 round trip (bul.ts SeqStart). Set
     * `timestamps: true` on the LMA and every MAG for the RFC's ordering.
     */
    timestamps: z.boolean().default(false),

    /** unsolicited RAs per bound MN, uniformly jittered in [min, max] (RFC 4861 MinRtrAdvInterval/MaxRtrAdvInterval) */
    raIntervalMinMs: ms.default(3000),
    raIntervalMaxMs: ms.default(10000),
    raRouterLifetimeS: z.number().int().min(0).max(9000).default(1800),

    /**
     * NUD as a detach trigger (nud.ts): every bound MN's address is probed by
     * the kernel this often, and an MN whose confirmed address goes FAILED
     * (ucast_solicit NSs unanswered, 3 s with the kernel's defaults) is
     * de-registered as if its carrier had gone; 0 = carrier loss only
     */
    nudIntervalMs: ms.default(5000),

    /**
     * seed 001 section 4: the first PBUs of several interfaces of one MN on
     * this MAG that leave in the same event-loop turn go as one combined PBU
     * (RFC 5648 bulk layout, docs/seed001.md); every session then carries a
     * Binding Identifier (its interface's position in the profile, from 1) in
     * all its PBUs. Set it on every MAG of a domain or none: a PBU without
     * BID is another session (BID 0) at the LMA.
     */
    combinePbu: z.boolean().default(false),

    /** RFC 5847 heartbeat toward the LMA: interval (0 = only answer the LMA's) and misses before peer-state failed */
    heartbeatIntervalMs: ms.default(1000),
    heartbeatMissed: z.number().int().min(1).default(3),
  })
  .refine((o) => o.raIntervalMaxMs >= o.raIntervalMinMs, { message: 'raIntervalMaxMs must be >= raIntervalMinMs', path: ['raIntervalMaxMs'] })
  .refine((o) => o.retransmitMaxMs >= o.retransmitInitialMs, { message: 'retransmitMaxMs must be >= retransmitInitialMs', path: ['retransmitMaxMs'] });
export type MagOptions = z.infer<typeof MagOptions>;

/** Parse the node's options; the error names each bad field. Unknown keys are left to the planner. */
export function parseMagOptions(raw: unknown): MagOptions {
  const r = MagOptions.safeParse(raw ?? {}, { jitless: true });
  if (!r.success) {
    throw new Error(`mag options: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}

export function timingsOf(o: MagOptions): BulTimings {
  return {
    retransmitInitialMs: o.retransmitInitialMs,
    retransmitMaxMs: o.retransmitMaxMs,
    registrationAttempts: o.registrationAttempts,
    deregistrationAttempts: o.deregistrationAttempts,
    lifetimeS: Math.ceil(o.lifetimeS / 4) * 4,
    refreshAt: o.refreshAt,
  };
}
