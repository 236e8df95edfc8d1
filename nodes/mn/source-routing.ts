// Source-based policy routing of a multi-interface MN (seed 001,
// docs/seed001.md "The MN's kernel configuration"): a packet from one
// interface's address leaves by that interface, whatever the main table's
// default route says. Interface k of the MN (plan order) has its own routing
// table TABLE_BASE + k holding one default route via the MAGs' access
// link-local address (every MAG answers on fe80::1) out of that interface,
// and a rule `from <address>/128 lookup <table>` at preference RULE_BASE + k
// per global address the interface holds. The rules sit before the main
// table (pref 32766) and after local (pref 0), so delivery to the MN's own
// addresses is untouched (weak host model: any address on any interface).
//
// Pure: update() takes what an interface holds now and returns the ip
// command lines (for `ip -6 -batch`) that bring the kernel there from what
// was applied before. The role runs them in one long-lived ip shell.

export const TABLE_BASE = 101;
export const RULE_BASE = 1000;

export interface SourceRoutingIface {
  name: string;
  index: number; // position among the MN's interfaces: table TABLE_BASE + index
}

export interface IfaceNow {
  up: boolean; // administratively up: the kernel drops a down interface's routes
  addresses: string[]; // global IPv6 addresses (tentative or optimistic ones too: usable as a source)
}

export class SourceRouting {
  private readonly ifaces = new Map<string, SourceRoutingIface>();
  private readonly rules = new Map<string, Set<string>>(); // iface -> addresses with a rule
  private readonly routed = new Set<string>(); // ifaces whose table has its default route

  constructor(
    ifaces: SourceRoutingIface[],
    readonly gateway = 'fe80::1',
  ) {
    for (const i of ifaces) this.ifaces.set(i.name, i);
  }

  table(iface: string): number | undefined {
    const i = this.ifaces.get(iface);
    return i ? TABLE_BASE + i.index : undefined;
  }

  /** Lines that clear what an earlier process (a restart) may have left: every rule at our preferences, every table of ours. */
  reset(): string[] {
    return [...this.ifaces.values()].flatMap((i) => [`rule flush pref ${RULE_BASE + i.index}`, `route flush table ${TABLE_BASE + i.index}`]);
  }

  /** Bring the interface's rules and table to `now`; returns the ip lines (empty: nothing changed). */
  update(iface: string, now: IfaceNow): string[] {
    const i = this.ifaces.get(iface);
    if (!i) return [];
    const table = TABLE_BASE + i.index;
    const pref = RULE_BASE + i.index;
    const lines: string[] = [];
    const want = new Set(now.addresses.map((a) => a.toLowerCase()));
    const have = this.rules.get(iface) ?? new Set<string>();
    for (const a of have) if (!want.has(a)) lines.push(`rule del pref ${pref} from ${a}/128 lookup ${table}`);
    // the route first: a rule pointing at an empty table would send the packet on to main
    if (now.up && want.size > 0 && !this.routed.has(iface)) {
      lines.push(`route replace default via ${this.gateway} dev ${iface} table ${table}`);
      this.routed.add(iface);
    }
    // an admin down removes the interface's routes in the kernel: re-add on the next up
    if (!now.up) this.routed.delete(iface);
    for (const a of want) if (!have.has(a)) lines.push(`rule add pref ${pref} from ${a}/128 lookup ${table}`);
    this.rules.set(iface, want);
    return lines;
  }

  /** The default route of the interface's table did not go in (the interface went down meanwhile): try again on the next update. */
  routeFailed(iface: string): void {
    this.routed.delete(iface);
  }

  /** The rules applied now, per interface (for the `addresses` reply and tests). */
  snapshot(): Record<string, { table: number; addresses: string[]; routed: boolean }> {
    const out: Record<string, { table: number; addresses: string[]; routed: boolean }> = {};
    for (const i of this.ifaces.values()) out[i.name] = { table: TABLE_BASE + i.index, addresses: [...(this.rules.get(i.name) ?? [])].sort(), routed: this.routed.has(i.name) };
    return out;
  }
}
