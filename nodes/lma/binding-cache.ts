import { z } from 'zod';

// The LMA's binding cache (RFC 5213 5.1): one entry per mobility session,
// keyed by MN identifier, access technology and MN link-layer identifier
// (RFC 5213 5.4), with an index by prefix for the HNP lookups of 5.4.1.1.
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
    /** 'deleting': de-registered, kept for MinDelayBeforeBCEDelete */
    state: z.enum(['active', 'deleting']),
    /** CLOCK_MONOTONIC ms (shared by every namespace and by a restarted LMA) */
    createdMs: z.number(),
    updatedMs: z.number(),
    /** CLOCK_MONOTONIC ms: lifetime expiry (active) or deletion (deleting) */
    deadlineMs: z.number(),
  })
  .strict();
export type Bce = z.infer<typeof BceSchema>;

/** The cache key (RFC 5213 5.4): att and llId hold no '|', so the mnId goes last, whatever it contains. */
export function bceKey(mnId: string, llId: string, att: number): string {
  return `${att}|${llId}|${mnId}`;
}
export const keyOf = (b: Pick<Bce, 'mnId' | 'llId' | 'att'>) => bceKey(b.mnId, b.llId, b.att);

export class BindingCache {
  private readonly byKey = new Map<string, Bce>();
  private readonly prefixes = new Map<string, string>(); // prefix -> key

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): Bce | undefined {
    return this.byKey.get(key);
  }

  /** The entry a prefix is bound to. */
  byPrefix(prefix: string): Bce | undefined {
    const k = this.prefixes.get(prefix);
    return k === undefined ? undefined : this.byKey.get(k);
  }

  /** Insert or replace the entry under its key (its old prefixes leave the index). */
  put(b: Bce): void {
    const key = keyOf(b);
    const old = this.byKey.get(key);
    if (old) for (const p of old.hnps) if (this.prefixes.get(p) === key) this.prefixes.delete(p);
    this.byKey.set(key, b);
    for (const p of b.hnps) this.prefixes.set(p, key);
  }

  delete(key: string): Bce | undefined {
    const old = this.byKey.get(key);
    if (!old) return undefined;
    this.byKey.delete(key);
    for (const p of old.hnps) if (this.prefixes.get(p) === key) this.prefixes.delete(p);
    return old;
  }

  values(): IterableIterator<Bce> {
    return this.byKey.values();
  }

  clear(): void {
    this.byKey.clear();
    this.prefixes.clear();
  }
}
