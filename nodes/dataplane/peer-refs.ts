// Which prefixes are routed to which peer (a MAG at the LMA), so a per-peer
// tunnel lives exactly as long as a binding uses it: bind and unbind say
// which peer, if any, has just lost its last prefix (its tunnel can go).
// Pure bookkeeping; the data plane turns a release into kernel lines.

export class PeerRefs {
  private readonly peersOf = new Map<string, Set<string>>(); // prefix -> peers
  private readonly prefixesOf = new Map<string, Set<string>>(); // peer -> prefixes

  /** The prefix now goes to exactly these peers; returns the peers left with no prefix. */
  set(prefix: string, peers: readonly string[]): string[] {
    const before = this.peersOf.get(prefix) ?? new Set<string>();
    const after = new Set(peers);
    const released: string[] = [];
    for (const p of before) {
      if (after.has(p)) continue;
      const set = this.prefixesOf.get(p);
      set?.delete(prefix);
      if (set && set.size === 0) {
        this.prefixesOf.delete(p);
        released.push(p);
      }
    }
    for (const p of after) {
      let set = this.prefixesOf.get(p);
      if (!set) this.prefixesOf.set(p, (set = new Set()));
      set.add(prefix);
    }
    if (after.size) this.peersOf.set(prefix, after);
    else this.peersOf.delete(prefix);
    return released;
  }

  /** How many prefixes go to the peer. */
  count(peer: string): number {
    return this.prefixesOf.get(peer)?.size ?? 0;
  }
}
