import { Subnets64 } from './prefix.js';

// Home network prefixes handed out from the plan's pool (a /64 per mobility
// session). Every prefix the LMA ever assigned is recorded with its owner
// (persisted), and the cursor only moves forward, so a prefix is never handed
// to a second MN, across restarts too. Allocation walks the pool from its top
// /64 downward: the planner gives MNs with fixed prefixes subnets 1, 2, ... of
// the same pool, so the two never meet in practice, and any prefix already
// owned (a fixed one bound earlier) is skipped anyway.

export class HnpPool {
  private readonly subnets: Subnets64;
  /** allocations attempted so far (subnet count - 1 - cursor is the next candidate) */
  cursor = 0;
  /** prefix -> MN identifier it was given to (pool allocations and fixed prefixes bound here) */
  readonly owners = new Map<string, string>();

  constructor(pool: string) {
    this.subnets = new Subnets64(pool);
  }

  get capacity(): number {
    return this.subnets.count;
  }

  ownerOf(prefix: string): string | undefined {
    return this.owners.get(prefix);
  }

  /** The next never-assigned /64 for mnId, or null when the pool is used up. */
  allocate(mnId: string): string | null {
    while (this.cursor < this.subnets.count) {
      const p = this.subnets.at(this.subnets.count - 1 - this.cursor);
      this.cursor++;
      if (this.owners.has(p)) continue;
      this.owners.set(p, mnId);
      return p;
    }
    return null;
  }

  /** Record a fixed prefix as mnId's; false when another MN owns it. */
  claim(prefix: string, mnId: string): boolean {
    const o = this.owners.get(prefix);
    if (o !== undefined) return o === mnId;
    this.owners.set(prefix, mnId);
    return true;
  }

  /** Restore persisted state (after a restart). */
  restore(cursor: number, owners: Iterable<[string, string]>): void {
    this.cursor = cursor;
    this.owners.clear();
    for (const [p, m] of owners) this.owners.set(p, m);
  }
}
