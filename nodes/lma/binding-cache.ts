import { z } from 'zod';

// The LMA's binding cache (RFC 5213 5.1): one entry per mobility session,
// keyed by MN identifier, access technology and MN link-layer identifier
// (RFC 5213 5.4) plus the Binding Identifier (RFC 5648; 0 when the PBU has
// no BID option: seed 001 2.1), with an index by prefix for the HNP lookups
// of 5.4.1.1. A prefix has one holder, or several when shared across
// interfaces (seed 001 section 3) or backed by a dormant binding (appendix D).
// Pure in-memory state: persistence (persistence.ts) writes what
// pbu-processing.ts says changed.

const u16 = z.number().int().min(0).max(0xffff);

export const BceSchema = z
  .object({
    mnId: z.string().min(1),
    /** MN-LL-ID as colon-separated hex octets; '' when the PBU carried none */
    llId: z.string(),
    att: z.number().int().min(0).max(255),
    hnps: z.array(z.string()).min(1), // normalised CIDR
    pCoA: z.string(),
    /** granted lifetime in seconds (0 while a de-registration waits for deletion) */
    lifetimeS: z.number().int().min(0),
    /** last accepted sequence number */
    seq: u16,
    /** last accepted Timestamp option (RFC 5213 5.5), when timestamps are in use */
    ts: z.object({ seconds: z.number().int().min(0), fraction: u16 }).strict().optional(),
    /** MAG link-local address (RFC 5213 6.8), as first registered */
    lla: z.string().optional(),
    /** RFC 5648 Binding Identifier; absent = 0 (no BID option) */
    bid: u16.optional(),
    /**
     * 'deleting': de-registered, kept for MinDelayBeforeBCEDelete;
     * 'dormant': registered, no route, activated when the other holder of its prefixes goes (seed 001 appendix D)
     */
    state: z.enum(['active', 'deleting', 'dormant']),
    /** CLOCK_MONOTONIC ms (shared by every namespace and by a restarted LMA) */
    createdMs: z.number(),
    updatedMs: z.number(),
    /** CLOCK_MONOTONIC ms: lifetime expiry (active) or deletion (deleting) */
    deadlineMs: z.number(),
  })
  .strict();
export type Bce = z.infer<typeof BceSchema>;

/** The cache key (RFC 5213 5.4, + BID): att, llId and bid hold no '|', so the mnId goes last, whatever it contains. */
export function bceKey(mnId: string, llId: string, att: number, bid = 0): string {
  return bid === 0 ? `${att}|${llId}|${mnId}` : `${att}|${llId}#${bid}|${mnId}`;
}
export const keyOf = (b: Pick<Bce, 'mnId' | 'llId' | 'att' | 'bid'>) => bceKey(b.mnId, b.llId, b.att, b.bid ?? 0);

export class BindingCache {
  private readonly byKey = new Map<string, Bce>();
  private readonly prefixes = new Map<string, Set<string>>(); // prefix -> keys of its holders

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): Bce | undefined {
    return this.byKey.get(key);
  }

  /** An entry the prefix is bound to: an active one first. */
  byPrefix(prefix: string): Bce | undefined {
    const all = this.holders(prefix);
    return all.find((b) => b.state === 'active') ?? all[0];
  }

  /** Every entry holding the prefix (several: shared or dormant-backed), in insertion order. */
  holders(prefix: string): Bce[] {
    const keys = this.prefixes.get(prefix);
    if (!keys) return [];
    const out: Bce[] = [];
    for (const k of keys) {
      const b = this.byKey.get(k);
      if (b) out.push(b);
    }
    return out;
  }

  /** The MN's entries (any interface, any BID). */
  ofMn(mnId: string): Bce[] {
    return [...this.byKey.values()].filter((b) => b.mnId === mnId);
  }

  /** Insert or replace the entry under its key (its old prefixes leave the index). */
  put(b: Bce): void {
    const key = keyOf(b);
    const old = this.byKey.get(key);
    if (old) this.unindex(old, key);
    this.byKey.set(key, b);
    for (const p of b.hnps) {
      let set = this.prefixes.get(p);
      if (!set) this.prefixes.set(p, (set = new Set()));
      set.add(key);
    }
  }

  delete(key: string): Bce | undefined {
    const old = this.byKey.get(key);
    if (!old) return undefined;
    this.byKey.delete(key);
    this.unindex(old, key);
    return old;
  }

  private unindex(b: Bce, key: string): void {
    for (const p of b.hnps) {
      const set = this.prefixes.get(p);
      set?.delete(key);
      if (set && set.size === 0) this.prefixes.delete(p);
    }
  }

  values(): IterableIterator<Bce> {
    return this.byKey.values();
  }

  clear(): void {
    this.byKey.clear();
    this.prefixes.clear();
  }
}
