import { ErrorCodes, PmipError, badInput } from '../errors.js';
import type { Plan, PlanInterface, PlanNode } from '../topology/plan.js';
import { CarrierWatch } from './carrier.js';
import { IpShell } from './ip-shell.js';
import { addressLine, dadOff } from './objects.js';

// L2 events of MN interfaces at run time: move the MAG end of an MN's veth to
// another MAG's namespace, or take it down and up. The MN keeps its interface
// (same MAC, same addresses) and sees a real carrier loss and return.

export interface L2Event {
  type: 'l2-move' | 'l2-down' | 'l2-up';
  node: string; // the MN
  iface: string; // the MN's interface
  from: string; // MAG node before
  to: string; // MAG node after
  /** monotonic clock (process.hrtime.bigint(), shared by all namespaces), ns, as decimal strings */
  tStartNs: string;
  tDownNs: string; // the MN saw carrier down
  tUpNs: string; // the MN saw carrier up
}

/** Where an MN interface's peer end is now. */
export interface Attachment {
  node: string;
  iface: string;
  mag: string; // node holding the peer end
  peer: string; // peer end's current name there
  up: boolean; // admin state of the peer end
  planned: PlanInterface; // the peer end as planned (addresses, mtu)
  plannedNode: PlanNode; // its planned node (for the DAD choice)
}

export interface MoveRequest {
  node: string;
  iface: string;
  to: string;
  toIface?: string;
}

const key = (node: string, iface: string) => `${node}:${iface}`;

export class LinkController {
  private plan: Plan | undefined;
  private readonly shells = new Map<string, IpShell>();
  private readonly watches = new Map<string, CarrierWatch>();
  private readonly where = new Map<string, Attachment>();
  timeoutMs = 3000;

  /** Start ip shells for the MNs and MAGs, and a carrier monitor per MN with an access link. */
  async open(plan: Plan): Promise<void> {
    this.plan = plan;
    const byName = new Map(plan.nodes.map((n) => [n.name, n]));
    for (const link of plan.links) {
      if (link.kind !== 'access' || link.endpoints.length !== 2 || link.bridge) continue;
      const ends = link.endpoints.map((e) => ({ ep: e, node: byName.get(e.node) }));
      const mn = ends.find((e) => e.node?.kind === 'mn');
      const other = ends.find((e) => e !== mn);
      if (!mn?.node || !other?.node) continue;
      const planned = other.node.interfaces.find((i) => i.name === other.ep.iface);
      if (!planned) continue;
      this.where.set(key(mn.node.name, mn.ep.iface), {
        node: mn.node.name,
        iface: mn.ep.iface,
        mag: other.node.name,
        peer: other.ep.iface,
        up: true,
        planned,
        plannedNode: other.node,
      });
    }
    for (const n of plan.nodes) if (n.kind === 'mag' || n.kind === 'mn') this.shell(n.name);
    const mns = new Set([...this.where.values()].map((a) => a.node));
    await Promise.all(
      [...mns].map(async (mn) => {
        const w = new CarrierWatch(this.nodeOf(mn).netns);
        this.watches.set(mn, w);
        await w.start(this.shell(mn));
      }),
    );
  }

  /** Where every tracked MN interface is attached now. */
  attachments(): Attachment[] {
    return [...this.where.values()].map((a) => ({ ...a }));
  }

  attachment(node: string, iface: string): Attachment | undefined {
    const a = this.where.get(key(node, iface));
    return a && { ...a };
  }

  async move(req: MoveRequest): Promise<L2Event> {
    const tStart = process.hrtime.bigint();
    const att = this.tracked(req.node, req.iface);
    const dst = this.nodeOf(req.to);
    if (dst.kind === 'mn') throw badInput(`cannot move ${req.node}:${req.iface} to ${req.to}: it is an MN`);
    if (req.to === att.mag) throw badInput(`${req.node}:${req.iface} is already attached to ${req.to}`);
    const name = req.toIface ?? this.freeName(req.to, att.peer);
    if (name.length > 15) throw badInput(`interface name '${name}' is longer than 15 characters`);
    // The MN must see the carrier loss before the end comes up again: the
    // kernel reports carrier from a deferred work item, and an up sent too
    // early folds the down away (seen on this kernel: no down event at all).
    const wasUp = att.up;
    const down = wasUp ? this.watch(att.node).waitFor(att.iface, ['down'], this.timeoutMs) : Promise.resolve([tStart]);
    down.catch(() => undefined); // awaited below; no unhandled rejection if a command fails first
    // One request moves and renames (the kernel accepts both in one RTM_NEWLINK).
    const mv = await this.shell(att.mag).run(`link set dev ${att.peer} netns ${dst.netns}${name !== att.peer ? ` name ${name}` : ''}`);
    if (!mv.ok) throw new PmipError(ErrorCodes.runtime, `moving ${att.mag}:${att.peer} to ${req.to}: ${mv.error ?? ''}`);
    const from = att.mag;
    att.mag = req.to;
    att.peer = name;
    att.up = false;
    // Moving deleted the addresses (added back while down, so they are there at carrier up).
    const addrs = this.shell(req.to).apply(this.addressLines(att));
    const [tDown] = await down;
    await addrs;
    const up = this.watch(att.node).waitFor(att.iface, ['up'], this.timeoutMs);
    up.catch(() => undefined);
    await this.shell(req.to).apply([`link set dev ${name} mtu ${att.planned.mtu} up`]);
    att.up = true;
    const [tUp] = await up;
    return this.event('l2-move', att, from, tStart, tDown, tUp);
  }

  /** Admin down of the MAG end: the MN sees carrier loss. */
  async down(node: string, iface: string): Promise<L2Event> {
    const tStart = process.hrtime.bigint();
    const att = this.tracked(node, iface);
    const seen = this.watch(node).waitFor(iface, ['down'], this.timeoutMs);
    seen.catch(() => undefined);
    await this.shell(att.mag).apply([`link set dev ${att.peer} down`]);
    att.up = false;
    const [tDown] = await seen;
    return this.event('l2-down', att, att.mag, tStart, tDown, undefined);
  }

  /** Admin up of the MAG end, addresses re-added (a down deleted them). */
  async up(node: string, iface: string): Promise<L2Event> {
    const tStart = process.hrtime.bigint();
    const att = this.tracked(node, iface);
    const seen = this.watch(node).waitFor(iface, ['up'], this.timeoutMs);
    seen.catch(() => undefined);
    await this.shell(att.mag).apply([...this.addressLines(att), `link set dev ${att.peer} up`]);
    att.up = true;
    const [tUp] = await seen;
    return this.event('l2-up', att, att.mag, tStart, undefined, tUp);
  }

  async close(): Promise<void> {
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
    await Promise.all([...this.shells.values()].map((s) => s.close()));
    this.shells.clear();
  }

  private event(
    type: L2Event['type'],
    att: Attachment,
    from: string,
    tStart: bigint,
    tDown: bigint | undefined,
    tUp: bigint | undefined,
  ): L2Event {
    return {
      type,
      node: att.node,
      iface: att.iface,
      from,
      to: att.mag,
      tStartNs: tStart.toString(),
      tDownNs: (tDown ?? 0n).toString(),
      tUpNs: (tUp ?? 0n).toString(),
    };
  }

  private addressLines(att: Attachment): string[] {
    const nodad = dadOff(att.plannedNode, att.planned.name);
    return att.planned.addresses.map((a) => addressLine('replace', a, att.peer, nodad));
  }

  /** The wanted name if nothing in the target holds it now, else acc<k>. */
  private freeName(target: string, wanted: string): string {
    const taken = new Set(this.nodeOf(target).interfaces.map((i) => i.name));
    // planned access ends of the target that are elsewhere now (or moving now) free their names
    for (const a of this.where.values()) if (a.plannedNode.name === target) taken.delete(a.planned.name);
    for (const a of this.where.values()) if (a.mag === target) taken.add(a.peer);
    if (!taken.has(wanted)) return wanted;
    for (let k = 1; ; k++) if (!taken.has(`acc${k}`)) return `acc${k}`;
  }

  private tracked(node: string, iface: string): Attachment {
    if (!this.plan) throw new PmipError(ErrorCodes.runtime, 'LinkController: open(plan) first');
    const a = this.where.get(key(node, iface));
    if (!a) throw badInput(`${node}:${iface} is not an MN interface on an access link of run ${this.plan.runId}`);
    return a;
  }

  private nodeOf(name: string): PlanNode {
    const n = this.plan?.nodes.find((x) => x.name === name);
    if (!n) throw badInput(`no node '${name}' in the plan`);
    return n;
  }

  private shell(node: string): IpShell {
    let s = this.shells.get(node);
    if (!s) this.shells.set(node, (s = new IpShell(this.nodeOf(node).netns).start()));
    return s;
  }

  private watch(mn: string): CarrierWatch {
    const w = this.watches.get(mn);
    if (!w) throw new PmipError(ErrorCodes.runtime, `no carrier monitor for ${mn}`);
    return w;
  }
}
