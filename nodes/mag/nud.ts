import type { NeighbourState } from '../runtime/link-monitor.js';

// Neighbour Unreachability Detection as a detach trigger (RFC 5213 6.9.1.1
// and 6.9.1.4 count NUD, beside link-layer events, among the ways a MAG
// learns that the MN left its access link; RFC 4861 7.3). A silent MN keeps its
// carrier up, so only its neighbour entry tells: the role asks the kernel to
// probe the MN's address every nudIntervalMs (`ip neigh replace ADDR lladdr
// MAC dev IF nud probe`: unicast NSs, ucast_solicit of them, retrans_time
// apart), and the kernel's own state machine says FAILED when none was
// answered. This module is the pure part: which address to probe for which
// binding, and which FAILED entry means which MN is gone.
//
// An address counts only once the kernel has confirmed it (REACHABLE with the
// MN's MAC): until then the candidates are guesses (the link-local of the
// MN's RS, the EUI-64 link-local and SLAAC address of its MAC), probed so
// that one of them gets confirmed, and a guess that fails (an MN with
// privacy or stable-privacy addresses) is no sign of anything. A
// link-local, once confirmed, is kept as the target over a global address
// (an MN may drop a global address; it keeps its link-local).

export interface NudProbe {
  key: string;
  iface: string;
  address: string;
  mac: string;
}

interface Subject {
  iface: string;
  mac: string;
  candidates: string[];
  confirmed?: string;
}

const isLinkLocal = (a: string) => a.startsWith('fe80:');

export class NudTracker {
  private readonly subjects = new Map<string, Subject>();

  /** Watch a binding's MN on an access interface (again: the candidates are replaced, a confirmed address kept if still on that link). */
  watch(key: string, iface: string, mac: string, candidates: string[]): void {
    const before = this.subjects.get(key);
    const s: Subject = { iface, mac: mac.toLowerCase(), candidates: [...new Set(candidates.map((c) => c.toLowerCase()))] };
    if (before?.confirmed && before.iface === iface && before.mac === s.mac) s.confirmed = before.confirmed;
    this.subjects.set(key, s);
  }

  unwatch(key: string): void {
    this.subjects.delete(key);
  }

  watching(key: string): boolean {
    return this.subjects.has(key);
  }

  /** The address the kernel confirmed for this MN, if any. */
  confirmed(key: string): string | undefined {
    return this.subjects.get(key)?.confirmed;
  }

  /** What to probe now: the confirmed address, or every candidate while none is. */
  probes(): NudProbe[] {
    const out: NudProbe[] = [];
    for (const [key, s] of this.subjects) {
      const targets = s.confirmed ? [s.confirmed] : s.candidates;
      for (const address of targets) out.push({ key, iface: s.iface, address, mac: s.mac });
    }
    return out;
  }

  /**
   * A neighbour cache change. Returns the key of the MN found unreachable
   * (its confirmed address went FAILED), which the caller detaches; it is no
   * longer watched then.
   */
  onNeigh(n: NeighbourState): string | undefined {
    if (n.deleted) return undefined;
    const address = n.address.toLowerCase();
    if (n.lladdr && n.states.includes('REACHABLE')) {
      for (const s of this.subjects.values()) {
        if (s.iface !== n.ifname || s.mac !== n.lladdr.toLowerCase()) continue;
        if (!s.confirmed || !isLinkLocal(s.confirmed) || isLinkLocal(address)) s.confirmed = address;
      }
      return undefined;
    }
    if (!n.states.includes('FAILED')) return undefined;
    for (const [key, s] of this.subjects) {
      if (s.iface === n.ifname && s.confirmed === address) {
        this.subjects.delete(key);
        return key;
      }
    }
    return undefined;
  }
}
