import { z } from 'zod';

// The LMA's options, read from its plan node (`options`), with defaults
// chosen for emulation. Why each default:
// - maxLifetimeS 3600: the binding lifetime granted at most (a MAG asking for
//   more gets this); long enough that refreshes stay rare in an experiment.
// - minDelayBeforeBceDeleteMs 1000: RFC 5213 9 suggests 10000 ms. The delay
//   only has to outlast the gap between the old MAG's de-registration and the
//   new MAG's PBU in a break-before-make handover; in emulation that is a few
//   ms (a few hundred with injected backhaul delay), and a short delay lets a
//   detach experiment see the entry go within a second.
// - timestamps off: RFC 5213 5.5 makes timestamps the default ordering, but
//   they need MAG and LMA clocks in step; here sequence numbers are simpler to
//   read in a capture. timestampWindowMs 300 is RFC 5213's TimestampValidityWindow.
// - policyCacheMs 10000: profiles are seeded before the run and rarely change;
//   with the cache a handover's PBU goes straight to the state machine (no
//   Redis round trip before it), and a change to the store shows within 10 s.
// - heartbeat every 1000 ms, 3 missed = failed: RFC 5847 suggests 60 s, far
//   too slow for a run that lasts seconds.

export const LmaMagSchema = z.object({
  name: z.string().min(1),
  proxyCoa: z.string().min(1),
  lmaAddress: z.string().min(1),
  iface: z.string().min(1),
});
export type LmaMag = z.infer<typeof LmaMagSchema>;

export const LmaOptionsSchema = z.object({
  mags: z.array(LmaMagSchema).default([]),
  timestamps: z.boolean().default(false),
  timestampWindowMs: z.number().positive().default(300),
  minDelayBeforeBceDeleteMs: z.number().min(0).default(1000),
  maxLifetimeS: z.number().int().min(4).max(0xffff * 4).default(3600),
  /** Binding Refresh Advice in accepted PBAs (seconds); 0 = none */
  refreshAdviceS: z.number().int().min(0).max(0xffff * 4).default(0),
  /** 0 = no heartbeat requests (responses are always sent) */
  heartbeatIntervalMs: z.number().min(0).default(1000),
  heartbeatMissedMax: z.number().int().min(1).default(3),
  /** how long policy store answers (MN and MAG profiles) are reused, ms; 0 = read on every PBU */
  policyCacheMs: z.number().min(0).default(10_000),
  /** when the PBA leaves: once the Redis write and route change are handed over (default), or once both answered */
  pbaAfter: z.enum(['handed-over', 'acknowledged']).default('handed-over'),
  /** data plane backend; 'none' = program no kernel state (signaling-only runs and benchmarks) */
  backend: z.enum(['auto', 'ip6tnl', 'seg6', 'none']).default('auto'),
});
export type LmaOptions = z.infer<typeof LmaOptionsSchema>;

/** What the PBU state machine needs (pure part of the options). */
export interface LmaConfig {
  /** this LMA's node name: MN profiles name the LMA that serves them */
  name: string;
  timestamps: boolean;
  timestampWindowMs: number;
  minDelayBeforeBceDeleteMs: number;
  maxLifetimeS: number;
  refreshAdviceS: number;
}

export function parseLmaOptions(raw: unknown): LmaOptions {
  const r = LmaOptionsSchema.safeParse(raw ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`);
    throw new Error(`lma options: ${lines.join('; ')}`);
  }
  return r.data;
}

export function lmaConfig(name: string, o: LmaOptions): LmaConfig {
  return {
    name,
    timestamps: o.timestamps,
    timestampWindowMs: o.timestampWindowMs,
    minDelayBeforeBceDeleteMs: o.minDelayBeforeBceDeleteMs,
    maxLifetimeS: o.maxLifetimeS,
    refreshAdviceS: o.refreshAdviceS,
  };
}
