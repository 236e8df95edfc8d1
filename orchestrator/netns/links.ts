import { ErrorCodes, PmipError, badInput } from '../errors.js';
import { z } from 'zod';
import { AirPort, PlanInterface, type Plan, type PlanAir, type PlanNode } from '../topology/plan.js';
import { runJob } from './batch.js';
import { CarrierFolded, CarrierWatch } from './carrier.js';
import { IpShell } from '../../nodes/runtime/ip-shell.js';
import { addressLine, AirSegment, dadOff } from './objects.js';

// L2 events of MN interfaces at run time. The MN keeps its interface (same
// MAC, same addresses) and sees a real carrier loss and return. Two models,
// chosen per access link by the plan (settings.l2Move):
// - bridge (link.air): the MN's veth ends on a bridge in the link's air
//   namespace, next to one standby veth per MAG; a move is one batch of admin
//   down/up lines on bridge ports (about a millisecond);
// - netns: the MAG end of the MN's veth changes namespace (15-30 ms a move).

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
  /** 'bridge': the link has an air segment; `up` is then the admin state of the MN's bridge port */
  mode: 'bridge' | 'netns';
}

/** An air segment as run time knows it: the planned ports plus those made by moves. */
interface AirRuntime {
  plan: PlanAir;
  mtu: number;
  linkId: string;
  ports: AirPort[];
}

export interface MoveRequest {
  node: string;
  iface: string;
  to: string;
  toIface?: string;
}

const key = (node: string, iface: string) => `${node}:${iface}`;

/**
 * Where every MN interface is, for a later process to carry on from (the CLI
 * runs one move per process; runs/<id>/links.json holds this between them).
 */
export const LinkSnapshot = z
  .object({
    version: z.literal(1),
    attachments: z.array(
      z.object({ node: z.string(), iface: z.string(), mag: z.string(), peer: z.string(), up: z.boolean() }).strict(),
    ),
    /** bridge-mode standby ports made at run time (not in the plan) */
    extraPorts: z.array(z.object({ node: z.string(), iface: z.string(), port: AirPort, planned: PlanInterface }).strict()),
  })
  .strict();
export type LinkSnapshot = z.infer<typeof LinkSnapshot>;

export class LinkController {
  private plan: Plan | undefined;
  private readonly shells = new Map<string, IpShell>();
  private readonly watches = new Map<string, CarrierWatch>();
  private readonly where = new Map<string, Attachment>();
  private readonly airs = new Map<string, AirRuntime>(); // by "mn:iface"
  /** MAG interfaces made at run time for standby ports: mag -> name -> interface */
  private readonly extra = new Map<string, Map<string, PlanInterface>>();
  private nextIndex = 0;
  timeoutMs = 3000;
  /** bridge-mode moves whose MN carrier down/up the kernel folded into one event (then redone in two steps) */
  folds = 0;

  /** Start ip shells for the MNs and MAGs, and a carrier monitor per MN with an access link. */
  async open(plan: Plan): Promise<void> {
    this.plan = plan;
    const byName = new Map(plan.nodes.map((n) => [n.name, n]));
    const indexes = plan.nodes.flatMap((n) => n.interfaces.map((i) => i.ifindex));
    for (const l of plan.links) if (l.air) indexes.push(l.air.mnPort.ifindex, ...l.air.ports.map((p) => p.ifindex));
    this.nextIndex = 1 + Math.max(0, ...indexes) + 1000; // above the build's own extra indexes (shared-bridge ports)
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
        mode: link.air ? 'bridge' : 'netns',
      });
      if (link.air) {
        this.airs.set(key(mn.node.name, mn.ep.iface), { plan: link.air, mtu: link.mtu, linkId: link.id, ports: [...link.air.ports] });
        this.nsShell(link.air.netns);
      }
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
  snapshot(): LinkSnapshot {
    const planned = new Set(this.plan?.links.flatMap((l) => l.air?.ports.map((p) => `${p.mag}:${p.iface}`) ?? []));
    const extraPorts: LinkSnapshot['extraPorts'] = [];
    for (const [k, air] of this.airs) {
      const [node = '', iface = ''] = k.split(':');
      for (const port of air.ports) {
        const made = this.extra.get(port.mag)?.get(port.iface);
        if (made && !planned.has(`${port.mag}:${port.iface}`)) extraPorts.push({ node, iface, port, planned: made });
      }
    }
    return {
      version: 1,
      attachments: [...this.where.values()].map((a) => ({ node: a.node, iface: a.iface, mag: a.mag, peer: a.peer, up: a.up })),
      extraPorts,
    };
  }

  /** After open(): take up where an earlier controller (another process) left the interfaces. */
  restore(snap: LinkSnapshot): void {
    for (const x of snap.extraPorts) {
      const air = this.airs.get(key(x.node, x.iface));
      if (!air || air.ports.some((p) => p.port === x.port.port)) continue;
      air.ports.push(x.port);
      (this.extra.get(x.port.mag) ?? this.extra.set(x.port.mag, new Map()).get(x.port.mag)!).set(x.port.iface, x.planned);
      this.nextIndex = Math.max(this.nextIndex, x.port.ifindex + 1, x.planned.ifindex + 1);
    }
    for (const s of snap.attachments) {
      const att = this.where.get(key(s.node, s.iface));
      if (!att) continue;
      const air = this.airs.get(key(s.node, s.iface));
      const port = air?.ports.find((p) => p.mag === s.mag && p.iface === s.peer);
      if (port) this.attachTo(att, port, this.nodeOf(s.mag));
      else {
        att.mag = s.mag;
        att.peer = s.peer;
      }
      att.up = s.up;
    }
  }

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
    if (dst.kind !== 'mag') throw badInput(`cannot move ${req.node}:${req.iface} to ${req.to}: it is a${dst.kind === 'lma' ? 'n' : ''} ${dst.kind.toUpperCase()}, not a MAG`);
    if (req.to === att.mag) throw badInput(`${req.node}:${req.iface} is already attached to ${req.to}`);
    const air = this.airs.get(key(req.node, req.iface));
    if (air) return this.moveAir(req, att, air, dst, tStart);
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
    // Moving deleted the addresses and the addrgenmode (added back while down, so they are there at carrier up).
    const addrs = this.shell(req.to).apply([`link set dev ${name} addrgenmode none`, ...this.addressLines(att)]);
    const [tDown] = await down;
    await addrs;
    const up = this.watch(att.node).waitFor(att.iface, ['up'], this.timeoutMs);
    up.catch(() => undefined);
    await this.shell(req.to).apply([`link set dev ${name} mtu ${att.planned.mtu} up`]);
    att.up = true;
    const [tUp] = await up;
    return this.event('l2-move', att, from, tStart, tDown, tUp);
  }

  /**
   * Bridge mode: one batch in the air namespace (MN port down, old MAG port
   * down, new MAG port up, MN port up). The MN must see carrier down before up;
   * should the kernel fold the two (its link watcher had not run yet when the
   * port came back), the MN port goes down again, and up once the MN saw it.
   */
  private async moveAir(req: MoveRequest, att: Attachment, air: AirRuntime, dst: PlanNode, tStart: bigint): Promise<L2Event> {
    const target = air.ports.find((p) => p.mag === req.to) ?? (await this.addStandby(att, air, dst, req.toIface));
    const cur = air.ports.find((p) => p.mag === att.mag);
    if (!cur) throw new PmipError(ErrorCodes.runtime, `air segment ${air.plan.netns} has no port for ${att.mag}`);
    const sh = this.nsShell(air.plan.netns);
    const mnPort = air.plan.mnPort.name;
    const watch = this.watch(att.node);
    const wasUp = att.up;
    const seen = watch.waitFor(att.iface, wasUp ? ['down', 'up'] : ['up'], this.timeoutMs, { strict: wasUp });
    seen.catch(() => undefined);
    const lines = [`link set dev ${cur.port} down`, `link set dev ${target.port} up`, `link set dev ${mnPort} up`];
    if (wasUp) lines.unshift(`link set dev ${mnPort} down`);
    const from = att.mag;
    this.attachTo(att, target, dst);
    att.up = false;
    await sh.apply(lines);
    let times: bigint[];
    try {
      times = await seen;
    } catch (err) {
      if (!(err instanceof CarrierFolded)) throw err;
      this.folds++;
      const down = watch.waitFor(att.iface, ['down'], this.timeoutMs);
      down.catch(() => undefined);
      await sh.apply([`link set dev ${mnPort} down`]);
      const [tDown] = await down;
      const up = watch.waitFor(att.iface, ['up'], this.timeoutMs);
      up.catch(() => undefined);
      await sh.apply([`link set dev ${mnPort} up`]);
      times = [tDown!, ...(await up)];
    }
    att.up = true;
    const [tDown, tUp] = wasUp ? times : [tStart, times[0]];
    return this.event('l2-move', att, from, tStart, tDown, tUp);
  }

  /**
   * A move to a MAG the plan gave no standby port for (no scenario step sends
   * the interface there): make one now. Slower than a planned move (a veth, a
   * sysctl job and a batch in the MAG: several ms), which is why the planner
   * makes them in advance for every MAG of the scenario.
   */
  private async addStandby(att: Attachment, air: AirRuntime, dst: PlanNode, wanted: string | undefined): Promise<AirPort> {
    const taken = new Set([...dst.interfaces.map((i) => i.name), ...(this.extra.get(dst.name)?.keys() ?? [])]);
    let name = wanted ?? att.planned.name;
    if (wanted !== undefined && taken.has(wanted)) throw badInput(`${dst.name} already has an interface '${wanted}'`);
    for (let k = 1; taken.has(name); k++) name = `acc${k}`;
    if (name.length > 15) throw badInput(`interface name '${name}' is longer than 15 characters`);
    const iface: PlanInterface = { ...att.planned, name, ifindex: this.nextIndex++, mtu: air.mtu, link: air.linkId };
    const used = new Set(air.ports.map((p) => p.port));
    let j = air.ports.length + 1;
    while (used.has(`p${j}`)) j++;
    const port: AirPort = { mag: dst.name, iface: name, port: `p${j}`, ifindex: this.nextIndex++ };
    const sh = this.nsShell(air.plan.netns);
    const pair = AirSegment.portPair(air.plan.netns, port.port, port.ifindex, {
      netns: dst.netns,
      name,
      ifindex: iface.ifindex,
      mac: iface.mac,
      mtu: iface.mtu,
    });
    // run from inside the air namespace: the port stays here, the peer goes to the MAG
    await sh.apply([
      ...pair.createLines().map((l) => l.replace(` netns ${air.plan.netns} type veth`, ' type veth')),
      `link set dev ${port.port} addrgenmode none`,
      `link set dev ${port.port} master ${air.plan.bridge}`,
    ]);
    // the MAG's per-interface sysctls as planned for its other interfaces (its `default` ones, for this name)
    const sysctls = Object.entries(dst.sysctls).flatMap(([k, v]): Array<[string, string]> => {
      const m = /^net\.ipv6\.conf\.default\.([a-z_]+)$/.exec(k);
      return m ? [[`net/ipv6/conf/${name}/${m[1]}`, v]] : [];
    });
    const nodad = dadOff(dst, name);
    await runJob({
      netns: dst.netns,
      sysctls,
      ipLines: [
        `link set dev ${name} addrgenmode none`,
        ...iface.addresses.map((a) => addressLine('add', a, name, nodad)),
        `link set dev ${name} up`,
      ],
      tcLines: [],
    });
    (this.extra.get(dst.name) ?? this.extra.set(dst.name, new Map()).get(dst.name)!).set(name, iface);
    air.ports.push(port);
    return port;
  }

  /** Point an attachment at a MAG's standby interface (bridge mode). */
  private attachTo(att: Attachment, port: AirPort, dst: PlanNode): void {
    att.mag = port.mag;
    att.peer = port.iface;
    att.plannedNode = dst;
    att.planned = dst.interfaces.find((i) => i.name === port.iface) ?? this.extra.get(dst.name)?.get(port.iface) ?? att.planned;
  }

  /**
   * Admin down of the MAG end: the MN sees carrier loss and so does the MAG
   * (its link goes down: it de-registers). Bridge mode: the MN's bridge port
   * and the serving MAG's, so both modes look the same to the MAG.
   */
  async down(node: string, iface: string): Promise<L2Event> {
    const tStart = process.hrtime.bigint();
    const att = this.tracked(node, iface);
    const seen = this.watch(node).waitFor(iface, ['down'], this.timeoutMs);
    seen.catch(() => undefined);
    const air = this.airs.get(key(node, iface));
    if (air) await this.nsShell(air.plan.netns).apply([`link set dev ${air.plan.mnPort.name} down`, ...this.magPortLines(air, att, 'down')]);
    else await this.shell(att.mag).apply([`link set dev ${att.peer} down`]);
    att.up = false;
    const [tDown] = await seen;
    return this.event('l2-down', att, att.mag, tStart, tDown, undefined);
  }

  /** Admin up of the MAG end, addresses re-added (a down deleted them); bridge mode: of the MN's bridge port. */
  async up(node: string, iface: string): Promise<L2Event> {
    const tStart = process.hrtime.bigint();
    const att = this.tracked(node, iface);
    const seen = this.watch(node).waitFor(iface, ['up'], this.timeoutMs);
    seen.catch(() => undefined);
    const air = this.airs.get(key(node, iface));
    if (air) await this.nsShell(air.plan.netns).apply([...this.magPortLines(air, att, 'up'), `link set dev ${air.plan.mnPort.name} up`]);
    else await this.shell(att.mag).apply([...this.addressLines(att), `link set dev ${att.peer} up`]);
    att.up = true;
    const [tUp] = await seen;
    return this.event('l2-up', att, att.mag, tStart, undefined, tUp);
  }

  /** Bridge mode: the serving MAG's port of the air segment, down or up (none when the plan has no port for it). */
  private magPortLines(air: AirRuntime, att: Attachment, state: 'down' | 'up'): string[] {
    const port = air.ports.find((p) => p.mag === att.mag);
    return port ? [`link set dev ${port.port} ${state}`] : [];
  }

  async close(): Promise<void> {
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
    await Promise.all([...this.shells.values()].map((s) => s.close()));
    this.shells.clear();
    this.airs.clear();
    this.extra.clear();
    this.where.clear();
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
    return this.nsShell(this.nodeOf(node).netns);
  }

  /** One long-lived ip shell per namespace (nodes and air segments). */
  private nsShell(netns: string): IpShell {
    let s = this.shells.get(netns);
    if (!s) this.shells.set(netns, (s = new IpShell(netns).start()));
    return s;
  }

  private watch(mn: string): CarrierWatch {
    const w = this.watches.get(mn);
    if (!w) throw new PmipError(ErrorCodes.runtime, `no carrier monitor for ${mn}`);
    return w;
  }
}
