import { z } from 'zod';
import type { Bus } from './bus.js';

// The RFC 5213 policy store (section 6.2 / 5.1): which MNs the domain serves,
// with which prefixes, through which MAGs, and which MAGs may register at all.
// It lives in the run's Redis, seeded by the orchestrator from the topology
// before the nodes start (orchestrator/policy/seed.ts); MAGs and LMAs read it.
// Entries are JSON strings, validated on read: a bad entry is treated as
// absent (and reported through onInvalid), never half-used.

/**
 * One interface of an MN (seed 001): its identifiers and what a mobility
 * session of it is given. Prefixes are per interface, never per MN, so an MN
 * with several interfaces gets each interface's prefixes on that interface's
 * session only.
 */
export const MnInterfaceProfile = z
  .object({
    /** the MN's kernel name of the interface (reports and events) */
    iface: z.string().min(1),
    /** MN link-layer identifier, hex octets with ':' */
    llId: z.string().min(1),
    att: z.number().int().min(0).max(255),
    /** fixed home network prefixes (CIDR) of this interface; [] = the LMA allocates from its pool */
    prefixes: z.array(z.string()),
    /** seed 001 section 3: this interface shares the prefixes of that interface (its `iface`) */
    shareWith: z.string().min(1).optional(),
    /** seed 001 appendix D: a dormant binding backing up the shareWith interface's session */
    dormant: z.boolean().optional(),
    /** preference among the MN's interfaces (seeds 002/003) */
    priority: z.number().int().min(0).max(255).optional(),
  })
  .strict();
export type MnInterfaceProfile = z.infer<typeof MnInterfaceProfile>;

export const MnProfile = z
  .object({
    mnId: z.string().min(1),
    /** LMA node name serving this MN */
    lma: z.string().min(1),
    /** MAG node names allowed to register this MN; ['*'] = any MAG in the store */
    mags: z.array(z.string()).min(1),
    interfaces: z.array(MnInterfaceProfile),
  })
  .strict();
export type MnProfile = z.infer<typeof MnProfile>;

/** The interface of the profile an MN-LL-ID names (case-insensitive), if any. */
export function interfaceByLlId(p: Pick<MnProfile, 'interfaces'>, llId: string): MnInterfaceProfile | undefined {
  const want = llId.toLowerCase();
  return p.interfaces.find((i) => i.llId.toLowerCase() === want);
}

/**
 * The fixed prefixes a session of the interface with this MN-LL-ID gets: its
 * own, or those of the interface it shares with; [] = allocate from the pool
 * (also for an MN-LL-ID the profile does not list).
 */
export function sessionPrefixes(p: Pick<MnProfile, 'interfaces'>, llId: string): string[] {
  const i = interfaceByLlId(p, llId);
  if (!i) return [];
  if (i.prefixes.length === 0 && i.shareWith !== undefined) return p.interfaces.find((x) => x.iface === i.shareWith)?.prefixes ?? [];
  return i.prefixes;
}

/** Every fixed prefix of the MN, over all its interfaces (what a PBU may name: RFC 5213 5.4.1.1). */
export function allPrefixes(p: Pick<MnProfile, 'interfaces'>): string[] {
  return [...new Set(p.interfaces.flatMap((i) => i.prefixes))];
}

export const MagProfile = z
  .object({
    name: z.string().min(1),
    /** the MAG's proxy care-of address */
    address: z.string().min(1),
    lma: z.string().min(1),
  })
  .strict();
export type MagProfile = z.infer<typeof MagProfile>;

/** Key suffixes (under bus.key): one place, used by the store and its seeder. */
export const policyKeys = {
  mn: (mnId: string) => `policy:mn:${mnId}`,
  ll: (llId: string) => `policy:ll:${llId.toLowerCase()}`,
  mag: (address: string) => `policy:mag:${address.toLowerCase()}`,
};

/** Whether the profile lets this MAG register the MN. */
export function magAllowed(profile: MnProfile, mag: string): boolean {
  return profile.mags.includes('*') || profile.mags.includes(mag);
}

type Redis = Pick<Bus, 'call' | 'key'>;

export class PolicyStore {
  constructor(
    private readonly redis: Redis,
    private readonly onInvalid: (key: string, issue: string) => void = () => undefined,
  ) {}

  mn(mnId: string): Promise<MnProfile | null> {
    return this.read(policyKeys.mn(mnId), MnProfile);
  }

  async mnByLinkLayerId(llId: string): Promise<MnProfile | null> {
    const mnId = await this.redis.call('GET', this.redis.key(policyKeys.ll(llId)));
    return typeof mnId === 'string' ? this.mn(mnId) : null;
  }

  magByAddress(address: string): Promise<MagProfile | null> {
    return this.read(policyKeys.mag(address), MagProfile);
  }

  async putMn(p: MnProfile): Promise<void> {
    const v = MnProfile.parse(p);
    await this.redis.call('SET', this.redis.key(policyKeys.mn(v.mnId)), JSON.stringify(v));
    for (const i of v.interfaces) await this.redis.call('SET', this.redis.key(policyKeys.ll(i.llId)), v.mnId);
  }

  async putMag(p: MagProfile): Promise<void> {
    const v = MagProfile.parse(p);
    await this.redis.call('SET', this.redis.key(policyKeys.mag(v.address)), JSON.stringify(v));
  }

  private async read<T>(suffix: string, schema: z.ZodType<T>): Promise<T | null> {
    const key = this.redis.key(suffix);
    const raw = await this.redis.call('GET', key);
    if (typeof raw !== 'string') return null;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      this.onInvalid(key, 'not JSON');
      return null;
    }
    const r = schema.safeParse(json, { jitless: true });
    if (!r.success) {
      this.onInvalid(key, r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      return null;
    }
    return r.data;
  }
}
