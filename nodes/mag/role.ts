import type { Logger } from 'pino';
import { openDataPlane, type DataPlane } from '../dataplane/index.js';
import type { Message, MessageOf } from '../protocol/index.js';
import type { BusCommand } from '../runtime/bus.js';
import { publishEvent, type RoleEventName, type RoleEvents } from '../runtime/events.js';
import { LinkMonitor, type LinkState } from '../runtime/link-monitor.js';
import { MhTransport, transportOptionsFor, type Inbound } from '../runtime/mh-transport.js';
import { NdpRouter } from '../runtime/ndp.js';
import { PolicyStore, type MnProfile } from '../runtime/policy-store.js';
import type { Role, RoleContext } from '../runtime/role.js';
import { AccessKernel, linkLocalOf } from './access-kernel.js';
import { accessInterfaces, type AccessIface, type ServedMn } from './access.js';
import { decideAttach } from './attach.js';
import { BindingUpdateList } from './bul-list.js';
import { type BulEntry, type Effect, entryJson, entryKey, type RaReason } from './bul.js';
import { parseMagOptions, timingsOf, type MagOptions } from './config.js';
import { HeartbeatMonitor } from '../runtime/heartbeat.js';
import { eui64, macFromLinkLocal, slaacAddress } from './neighbour.js';
import { NudTracker } from './nud.js';
import { buildCombinedPbu, buildPbu, buildUpa, heartbeatRequest, heartbeatResponse, readPba, readUpn, splitCombinedPba, TimestampClock, type PbuFields } from './messages.js';
import { parseInterfaceCommand, parseSessionCommand, type SessionCommand } from './commands.js';
import { NoPeerSignaling, PEER_KINDS, type MagPeerSignaling } from './peers.js';
import { HANDOFF_INDICATOR, UPA_STATUS } from '../protocol/numbers.js';
import { warmUp } from './warmup.js';

// The Mobile Access Gateway (RFC 5213 section 6). Wiring only: attachment
// detection (carrier from LinkMonitor, Router Solicitations from NdpRouter, a
// probe where the plan names no MN), the policy store lookup, the Binding
// Update List (bul.ts decides, this file performs its effects), the kernel
// (nodes/dataplane for the binding's routes, access-kernel.ts for the rest),
// RAs and the heartbeat.
//
// The handover path is kept short: carrier up -> PBU on the wire (policy
// profile from a copy at most policyTtlMs old, no RS awaited), and while it
// is out the MN's neighbour entry and downlink route; PBA -> one ip batch
// (uplink rule + route) -> routes-programmed -> RA.

export function createRole(): Role {
  return new MagRole();
}

interface Counters {
  pbuSent: number;
  pbuRetransmitted: number;
  pbaOk: number;
  pbaFailed: number;
  pbaUnmatched: number;
  raSent: number;
  raFailed: number;
  rsReceived: number;
  registrationsFailed: number;
  attachRefused: number;
  kernelFailures: number;
  heartbeatsAnswered: number;
  updateNotifications: number;
  commandsRefused: number;
  ignored: number;
}

class MagRole implements Role {
  private ctx!: RoleContext;
  private log!: Logger;
  private opts!: MagOptions;
  private transport: MhTransport | null = null;
  private dp: DataPlane | null = null;
  /** kernel chores on the access links besides the binding's routes (guard, neighbour entry, early downlink route) */
  private links: AccessKernel | null = null;
  private ndp: NdpRouter | null = null;
  private monitor: LinkMonitor | null = null;
  private heartbeat: HeartbeatMonitor | null = null;
  private bul!: BindingUpdateList;
  private policy!: PolicyStore;
  private readonly clock = new TimestampClock();
  private readonly access = new Map<string, AccessIface>();
  /** entry keys per access interface (what a carrier loss there detaches) */
  private readonly onIface = new Map<string, Set<string>>();
  /** entry keys attached at least once (for the Handoff Indicator) */
  private readonly seen = new Set<string>();
  /** the MN's link-local address per entry, learnt from its RS (unicast RAs) */
  private readonly mnLinkLocal = new Map<string, string>();
  /** the MN's MAC per entry (plan or RS source link-layer address): its neighbour entry at attachment */
  private readonly mnMac = new Map<string, string>();
  /** the prefix each entry last had here (kept after the entry goes): the MN's neighbour entry is prepared at its next attachment */
  /** the prefixes programmed per entry now (a further one needs no arrival preparation, one of several going keeps NUD) */
  private readonly programmed = new Map<string, Set<string>>();
  private readonly lastHnp = new Map<string, string>();
  /** kernel changes and RAs of one entry run in order */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly attaching = new Set<string>(); // iface|llId with a policy lookup in flight
  /**
   * MN profiles by MN-LL-ID (null: not in the store) and when they were read
   * (ms, monotonic). A copy younger than policyTtlMs is used as is; those of
   * the MNs the plan puts on our links are re-read every policyTtlMs / 2, so
   * a handover sends its PBU without a Redis round trip and a policy change
   * still shows within policyTtlMs (as at the LMA).
   */
  private readonly profiles = new Map<string, { profile: MnProfile | null; atMs: number }>();
  private policyTimer: NodeJS.Timeout | undefined;
  /** NUD of the bound MNs (nud.ts), probed every nudIntervalMs */
  private readonly nud = new NudTracker();
  private nudTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly counters: Counters = {
    pbuSent: 0,
    pbuRetransmitted: 0,
    pbaOk: 0,
    pbaFailed: 0,
    pbaUnmatched: 0,
    raSent: 0,
    raFailed: 0,
    rsReceived: 0,
    registrationsFailed: 0,
    attachRefused: 0,
    kernelFailures: 0,
    heartbeatsAnswered: 0,
    updateNotifications: 0,
    commandsRefused: 0,
    ignored: 0,
  };
  /** signaling with other MAGs (seed 004 SHI/SHIA, RFC 5949 HI/HAck): none yet (peers.ts) */
  private readonly peers: MagPeerSignaling = new NoPeerSignaling();
  /** per MN interface (MN-LL-ID): its priority from an `interface` update command (seeds 002/003) */
  private readonly priorities = new Map<string, number>();

  async start(ctx: RoleContext): Promise<void> {
    this.ctx = ctx;
    this.log = ctx.log.child({ role: 'mag' });
    this.opts = parseMagOptions(ctx.node.options);
    for (const a of accessInterfaces(ctx.plan, ctx.node.name)) this.access.set(a.iface, a);
    this.policy = new PolicyStore(ctx.bus, (key, issue) => this.log.warn({ key, issue }, 'invalid policy store entry ignored'));
    this.bul = new BindingUpdateList(
      {
        timings: timingsOf(this.opts),
        seqStart: () => Number((process.hrtime.bigint() / 1_000_000n) & 0xffffn),
        // RFC 4861 6.2.4: unsolicited RAs uniformly jittered in [MinRtrAdvInterval, MaxRtrAdvInterval]
        raIntervalMs: () => (this.opts.raIntervalMaxMs > 0 ? this.opts.raIntervalMinMs + Math.random() * (this.opts.raIntervalMaxMs - this.opts.raIntervalMinMs) : 0),
        retryAfterMs: this.opts.retryAfterMs,
      },
      (entry, effects) => this.perform(entry, effects),
    );
    const warmMs = warmUp(300);
    // the policy profiles of the MNs the plan puts on our access links, kept fresh
    const planned = [...new Set([...this.access.values()].flatMap((a) => a.mns.map((m) => m.llId)))];
    await Promise.allSettled(planned.map((ll) => this.lookup(ll)));
    if (planned.length && this.opts.policyTtlMs > 0) {
      this.policyTimer = setInterval(() => planned.forEach((ll) => void this.lookup(ll)), this.opts.policyTtlMs / 2);
      this.policyTimer.unref?.();
    }

    this.transport = await MhTransport.open({ ...transportOptionsFor(ctx), bind: this.opts.proxyCoa, log: this.log });
    this.transport.onMessage((m) => this.onMh(m));
    this.dp = await openDataPlane({
      role: 'mag',
      local: this.opts.proxyCoa,
      backhaulIf: this.opts.backhaulIface,
      log: this.log,
      backend: ctx.plan.settings?.tunnel ?? 'auto',
    });
    this.links = new AccessKernel(ctx.plan.pools.hnp, this.log);
    this.ndp = new NdpRouter({
      log: this.log,
      mac: this.opts.accessMac,
      linkLocal: this.opts.accessLinkLocal,
      routerLifetime: this.opts.raRouterLifetimeS,
    });
    await this.ndp.guardHopLimit();
    this.ndp.onSolicit((iface, src, sllao) => this.onRs(iface, src, sllao));
    this.monitor = await LinkMonitor.start(this.log, { neighbours: this.opts.nudIntervalMs > 0 });
    this.monitor.on('link', (l) => this.onLink(l));
    this.monitor.on('neigh', (n) => {
      const key = this.nud.onNeigh(n);
      if (key) this.detachKey(key, 'nud');
    });
    if (this.opts.nudIntervalMs > 0) {
      this.nudTimer = setInterval(() => {
        for (const p of this.nud.probes()) this.links?.probeNeighbour(p.iface, p.address, p.mac);
      }, this.opts.nudIntervalMs);
      this.nudTimer.unref?.();
    }
    for (const iface of this.access.keys()) this.listenRs(iface);

    this.heartbeat = new HeartbeatMonitor({
      intervalMs: this.opts.heartbeatIntervalMs,
      missedAllowed: this.opts.heartbeatMissed,
      send: (seq) => this.transport?.send(heartbeatRequest(seq), this.opts.lmaAddress),
      onState: (state, missed) => {
        this.log[state === 'up' ? 'info' : 'warn']({ peer: this.opts.lmaAddress, state, missed }, 'LMA heartbeat state');
        this.emit('peer-state', { peer: this.opts.lmaAddress, state, missed });
      },
    });
    this.heartbeat.start();

    this.log.info(
      {
        backend: this.dp.backend,
        transport: this.transport.mode,
        lma: this.opts.lmaAddress,
        access: [...this.access.values()].map((a) => ({ iface: a.iface, mns: a.mns.map((m) => m.mnId), startsHere: a.startsHere, shared: a.shared })),
        warmMs: Math.round(warmMs),
      },
      'MAG ready',
    );
    // MNs already on a link at start (initial attachment): no link event will come for them. No await
    // since the RS listeners opened, so a solicitation cannot overtake the carrier here
    for (const a of this.access.values()) if (this.monitor.link(a.iface)?.carrier) this.onCarrierUp(a.iface);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.heartbeat?.stop();
    if (this.combineFlush) clearImmediate(this.combineFlush);
    clearInterval(this.policyTimer);
    clearInterval(this.nudTimer);
    this.bul?.stop();
    this.monitor?.stop();
    this.ndp?.close();
    await Promise.allSettled([...this.queues.values()]);
    await this.transport?.close();
    // kernel state stays: a restarted MAG re-initialises over it
    await Promise.all([this.dp?.close(), this.links?.close()]);
  }

  async onCommand(cmd: BusCommand): Promise<boolean> {
    if (cmd.type === 'stats') {
      await this.ndp?.refreshCounters();
      await this.ctx.bus.emit('stats', this.stats(), cmd.id);
      return true;
    }
    if (cmd.type === 'session') {
      await this.ctx.bus.emit('session', this.onSessionCommand(cmd.args), cmd.id);
      return true;
    }
    if (cmd.type === 'interface') {
      const c = parseInterfaceCommand(cmd.args);
      if (c.ok && c.value.priority !== undefined) this.priorities.set(c.value.llId, c.value.priority);
      if (!c.ok) this.counters.commandsRefused++;
      await this.ctx.bus.emit('interface', c.ok ? { ok: true } : { ok: false, error: c.error }, cmd.id);
      return true;
    }
    if (cmd.type === 'bul') {
      const now = process.hrtime.bigint();
      await this.ctx.bus.emit('bul', { entries: this.bul.list().map((e) => entryJson(e, now)) }, cmd.id);
      return true;
    }
    return false;
  }

  stats(): Record<string, unknown> {
    return {
      ...this.counters,
      bul: this.bul.size,
      transport: this.transport ? { ...this.transport.counters } : null,
      ndp: this.ndp ? { ...this.ndp.counters } : null,
      dataplane: this.dp ? { backend: this.dp.backend, ...this.dp.counters } : null,
      heartbeat: this.heartbeat ? { state: this.heartbeat.peerState, missed: this.heartbeat.missedCount } : null,
      peers: { ...this.peers.counters },
    };
  }

  // ---- scenario commands (docs/seed001.md)

  /**
   * `session` commands: an interface handover or a prefix transfer sends the
   * named interface's session again at once with HI 2 (RFC 5213 5.4.1: the
   * LMA moves the other interface's prefixes, all of them for an all-zero
   * HNP, the named ones otherwise); the PBA's prefixes are then this
   * session's. The interface must be attached here.
   */
  private onSessionCommand(args: unknown): { ok: true; key: string; seq?: number } | { ok: false; error: string } {
    const c = parseSessionCommand(args);
    if (!c.ok) {
      this.counters.commandsRefused++;
      return c;
    }
    const cmd: SessionCommand = c.value;
    const entry = this.bul.list().find((e) => e.mnId === cmd.mnId && e.llId === cmd.llId && e.state !== 'deregistering');
    const refuse = (error: string) => {
      this.counters.commandsRefused++;
      this.log.warn({ cmd, error }, 'session command refused');
      return { ok: false as const, error };
    };
    if (cmd.op === 'add-session') return refuse('add-session: sessions with a Binding Identifier are not implemented in this MAG yet');
    if (!entry) return refuse(`${cmd.op}: interface ${cmd.llId} of ${cmd.mnId} has no session at this MAG`);
    // named prefixes go with the session's own (docs/seed001.md 2.2); none = all-zero: every prefix of fromLlId moves
    const hnps = cmd.hnps ? [...new Set([...entry.hnps, ...cmd.hnps])] : [];
    this.log.info({ op: cmd.op, mnId: cmd.mnId, llId: cmd.llId, fromLlId: cmd.fromLlId, hnps }, 'session command: re-registering with HI 2');
    this.bul.reregister(entry.key, HANDOFF_INDICATOR.differentInterface, hnps);
    const seq = this.bul.get(entry.key)?.pending?.tx.at(-1)?.seq;
    return seq === undefined ? { ok: true, key: entry.key } : { ok: true, key: entry.key, seq };
  }

  // ---- attachment detection

  private onLink(l: LinkState): void {
    if (this.stopping || l.ifname === this.opts.backhaulIface || l.ifname === 'lo') return;
    if (l.deleted) {
      // netns moves take the interface away: the MN went with it
      this.onCarrierDown(l.ifname);
      this.ndp?.removeInterface(l.ifname);
      return;
    }
    this.listenRs(l.ifname);
    if (l.carrier && l.up) this.onCarrierUp(l.ifname, l.tNs);
    else this.onCarrierDown(l.ifname);
  }

  /** Listen for RSs (and be able to send RAs) on an interface: the plan's access ones, or one that appeared (netns moves). */
  private listenRs(iface: string): void {
    if (!this.ndp || this.ndp.interfaces().includes(iface)) return;
    if (!this.access.has(iface) && !this.monitor?.link(iface)) return;
    this.links?.guard(iface);
    try {
      this.ndp.addInterface(iface);
    } catch (e) {
      this.log.warn({ iface, err: (e as Error).message }, 'cannot listen for router solicitations');
    }
  }

  /**
   * Carrier came up on an access interface the plan names no MN for (netns
   * moves bring interfaces this MAG's plan view never listed), and an MN that
   * keeps its addresses across the carrier loss sends no RS: ask who is there
   * with one echo request to all nodes (ping -L: not our own answer), and
   * take each answering EUI-64 link-local's MAC as the MN-LL-ID to look up,
   * as a real access network learns it from the L2 attachment. An RS, when
   * one comes, identifies the MN as well.
   */
  private probe(iface: string): void {
    this.log.info({ iface }, 'carrier up on an interface the plan names no MN for: asking the link who is there');
    void this.links?.probe(iface).then((answered) => {
      if (this.stopping || this.monitor?.link(iface)?.carrier !== true) return;
      const found = answered.filter((ll) => ll !== this.opts.accessLinkLocal);
      for (const ll of found) {
        const mac = macFromLinkLocal(ll);
        if (mac) void this.attach(iface, mac, 'carrier', undefined, ll);
        else this.log.info({ iface, ll }, 'a node answered whose link-local does not give its MAC: waiting for its RS');
      }
      if (!found.length) this.log.info({ iface }, 'nobody answered on the access link: waiting for a router solicitation');
    });
  }

  private onCarrierUp(iface: string, tLinkNs?: bigint): void {
    const a = this.access.get(iface);
    if (!a || a.mns.length === 0) {
      this.probe(iface);
      return;
    }
    for (const mn of a.mns) void this.attach(iface, mn.llId, 'carrier', mn, undefined, tLinkNs);
  }

  private onCarrierDown(iface: string): void {
    const keys = this.onIface.get(iface);
    if (!keys?.size) return;
    for (const key of [...keys]) this.detachKey(key, 'carrier');
  }

  /** The MN of an entry left its access link (carrier gone, or NUD found it unreachable), or the LMA asked: de-register it. */
  private detachKey(key: string, trigger: 'carrier' | 'nud' | 'lma'): void {
    const e = this.bul.get(key);
    const iface = e?.iface;
    if (iface) this.onIface.get(iface)?.delete(key);
    else for (const keys of this.onIface.values()) keys.delete(key);
    this.mnLinkLocal.delete(key);
    this.nud.unwatch(key);
    if (!e) return;
    if (!e.routes) this.links?.drop(key);
    if (trigger === 'nud') this.log.info({ mnId: e.mnId, iface, address: this.nud.confirmed(key) }, 'MN unreachable (NUD failed): detaching');
    // an LMA's de-registration request (Update Notification with D) is no detachment of the MN from the link:
    // the MN is still there and must stop using the prefixes (RA at lifetime 0) before they stop working
    if (trigger !== 'lma') this.emit('mn-detach', { iface: e.iface, mnId: e.mnId, llId: e.llId, trigger });
    else if (e.routes) {
      const hnps = [...e.hnps];
      this.enqueue(key, () => this.sendRa(e, 'deregistration', hnps));
    }
    this.bul.detach(key);
  }

  /**
   * The downlink gateway: the MN's link-local on its access link (RFC 5213:
   * the MN-MAG link is a point-to-point link), from its RS, else formed from
   * its MAC. Undefined: no MAC known, the route stays on-link.
   */
  private mnVia(key: string): string | undefined {
    const heard = this.mnLinkLocal.get(key)?.split('%')[0];
    if (heard && /^fe80:/i.test(heard)) return heard.toLowerCase();
    const mac = this.mnMac.get(key);
    return (mac && linkLocalOf(mac)) || undefined;
  }

  /** The addresses whose neighbour entry tells whether the MN is still there (nud.ts: guesses until the kernel confirms one). */
  private nudCandidates(key: string, hnp: string, mac: string): string[] {
    const iid = eui64(mac);
    return [this.mnLinkLocal.get(key), iid ? `fe80::${iid}` : undefined, slaacAddress(hnp, mac) ?? undefined].filter((a): a is string => a !== undefined);
  }

  private onRs(iface: string, src: string, sllao: string | undefined): void {
    if (this.stopping) return;
    this.counters.rsReceived++;
    this.emit('rs-received', { iface, src });
    const a = this.access.get(iface);
    let served: ServedMn | undefined;
    if (sllao) served = a?.mns.find((m) => m.mac === sllao.toLowerCase());
    else if (a?.mns.length === 1) served = a.mns[0];
    const llId = served?.llId ?? sllao?.toLowerCase();
    if (!llId) {
      this.log.info({ iface, src }, 'RS without a source link-layer address on a link of several MNs: cannot tell who');
      return;
    }
    const entry = this.bul.list().find((e) => e.llId === llId);
    if (entry && src !== '::') this.mnLinkLocal.set(entry.key, src);
    if (entry && entry.iface === iface && entry.state !== 'deregistering' && entry.state !== 'waiting') {
      // registering: the RA goes out when the PBA is in (to this MN's address now)
      if (entry.routes) this.enqueue(entry.key, () => this.sendRa(entry, 'rs'));
      return;
    }
    void this.attach(iface, llId, 'rs', served, src);
  }

  /** Look the MN up in the policy store (RFC 5213 6.2) and start its registration. */
  private async attach(
    iface: string,
    llId: string,
    trigger: 'carrier' | 'rs',
    served?: ServedMn,
    rsSrc?: string,
    tLinkNs?: bigint,
  ): Promise<void> {
    const flight = `${iface}|${llId}`;
    if (this.attaching.has(flight)) return;
    const t0 = process.hrtime.bigint();
    const copy = this.profiles.get(llId);
    let profile: MnProfile | null;
    if (copy && Number(t0) / 1e6 - copy.atMs < this.opts.policyTtlMs) {
      profile = copy.profile;
    } else {
      this.attaching.add(flight);
      try {
        profile = await this.lookup(llId);
      } finally {
        this.attaching.delete(flight);
      }
    }
    if (this.stopping) return;
    const d = decideAttach({
      mag: this.ctx.node.name,
      lma: this.opts.lma,
      iface,
      ...(this.access.get(iface) ? { access: this.access.get(iface) as AccessIface } : {}),
      llId,
      ...(served ? { served } : {}),
      profile,
      seenBefore: profile ? this.seen.has(entryKey(profile.mnId, llId, profile.interfaces.find((i) => i.llId.toLowerCase() === llId)?.att ?? served?.att ?? 0)) : false,
      // an entry waiting to retry (no PBA came) for an MN that never left: registered as the retry would (bul.ts lose)
      ...(this.waitingHi(profile, llId, iface) !== undefined ? { retryHi: this.waitingHi(profile, llId, iface) as number } : {}),
      combinePbu: this.opts.combinePbu,
      heldPrefixes: (other) => this.bul.list().find((e) => e.llId === other && e.mnId === profile?.mnId)?.hnps ?? [],
    });
    if (d.kind === 'refuse') {
      this.counters.attachRefused++;
      this.log.warn({ iface, llId, mnId: d.mnId, trigger, reason: d.reason }, 'MN not registered');
      this.emit('registration-failed', { mnId: d.mnId, llId, iface, reason: d.reason });
      return;
    }
    // the link may have gone while we looked (a quick flap): the carrier says
    if (trigger === 'carrier' && this.monitor?.link(iface)?.carrier !== true) return;
    const { key, hi } = d;
    this.seen.add(key);
    if (rsSrc && rsSrc !== '::') this.mnLinkLocal.set(key, rsSrc);
    const mac = served?.mac ?? (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(llId) ? llId : undefined);
    if (mac) this.mnMac.set(key, mac);
    let keys = this.onIface.get(iface);
    if (!keys) this.onIface.set(iface, (keys = new Set()));
    keys.add(key);
    const existing = this.bul.get(key);
    if (!existing || existing.state === 'deregistering' || existing.iface !== iface) {
      this.emit('mn-attach', { iface, mnId: d.mnId, llId, trigger });
    }
    this.bul.attach({ mnId: d.mnId, llId, att: d.att, iface, requestedHnps: d.hnps, hi, dormant: d.dormant, ...(d.bid !== undefined ? { bid: d.bid } : {}) });
    // while the PBU is out: ready for the prefix the MN had (a handover keeps it)
    const now = this.bul.get(key);
    const known = now?.hnps[0] ?? this.lastHnp.get(key) ?? d.hnps[0];
    // not over the route of another interface of the MN here that holds the prefix (shared, dormant): the PBA adds this link to it
    const heldHere = known !== undefined && this.bul.list().some((e) => e.key !== key && e.routes && e.hnps.includes(known));
    if (known && now && !now.routes) this.links?.prepare(key, iface, known, this.mnMac.get(key), !heldHere, this.mnVia(key));
    const t1 = process.hrtime.bigint();
    this.log.debug(
      { iface, trigger, linkToAttachUs: tLinkNs === undefined ? null : Number(t0 - tLinkNs) / 1e3, attachToPbuUs: Number(t1 - t0) / 1e3 },
      'attach timing',
    );
  }

  private waitingHi(profile: MnProfile | null, llId: string, iface: string): number | undefined {
    const e = profile ? this.bul.list().find((x) => x.mnId === profile.mnId && x.llId === llId) : undefined;
    return e?.state === 'waiting' && e.iface === iface ? e.retryHi : undefined;
  }

  /** The policy profile of an MN-LL-ID (null: not in the store, or the store failed); refreshes the copy. */
  private async lookup(llId: string): Promise<MnProfile | null> {
    const atMs = Number(process.hrtime.bigint()) / 1e6;
    try {
      const p = await this.policy.mnByLinkLayerId(llId);
      this.profiles.set(llId, { profile: p, atMs });
      return p;
    } catch (e) {
      this.log.error({ llId, err: (e as Error).message }, 'policy store lookup failed');
      return null;
    }
  }

  // ---- effects of the BUL

  private perform(entry: BulEntry, effects: Effect[]): void {
    const key = entry.key;
    // Order: the PBA's report (its event is stamped when emitted: as close to
    // the reception as can be), then what changes the wire or the kernel,
    // then the other reports. Bus writes and ip lines both leave at the end
    // of this event-loop turn (corked), so the order costs the kernel nothing.
    const rank = (e: Effect) => (e.kind === 'pba' ? 0 : e.kind === 'send' || e.kind === 'program' || e.kind === 'unprogram' || e.kind === 'advertise' ? 1 : 2);
    for (const eff of [...effects].sort((a, b) => rank(a) - rank(b))) {
      switch (eff.kind) {
        case 'send':
          this.sendPbu(entry, eff);
          break;
        case 'program': {
          const { hnp, iface } = eff;
          const tDecided = process.hrtime.bigint();
          this.enqueue(key, async () => {
            const tStart = process.hrtime.bigint();
            this.lastHnp.set(key, hnp);
            const live = this.programmed.get(key);
            if (this.links?.preparedFor(key, iface, hnp)) this.links.settle(key); // the route is the binding's now
            // a further prefix of a binding already here (an interface handover or
            // prefix transfer brought it, seed 001 2.2): the MN has not moved, and
            // preparing would flush its live neighbour entry, which the kernel
            // reports as FAILED and NUD would take for the MN leaving
            else if (!live?.size) this.links?.prepare(key, iface, hnp, this.mnMac.get(key), false, this.mnVia(key));
            if (live) live.add(hnp);
            else this.programmed.set(key, new Set([hnp]));
            await this.kernel(() => (this.dp as DataPlane).magAttach(hnp, iface, this.opts.lmaAddress, this.mnVia(key)), 'magAttach', hnp);
            this.emit('routes-programmed', { mnId: entry.mnId, llId: entry.llId, iface, hnp, peer: this.opts.lmaAddress });
            const mac = this.mnMac.get(key);
            if (mac && this.opts.nudIntervalMs > 0 && this.bul.get(key)?.routes) this.nud.watch(key, iface, mac, this.nudCandidates(key, hnp, mac));
            const tEnd = process.hrtime.bigint();
            this.log.debug({ hnp, iface, queuedUs: Number(tStart - tDecided) / 1e3, kernelUs: Number(tEnd - tStart) / 1e3 }, 'routes programmed');
          });
          break;
        }
        case 'unprogram': {
          const { hnp, iface } = eff;
          // the binding keeps other prefixes (an Update Notification's re-registration
          // after a prefix transfer): the MN is still here, NUD and its neighbour entry stay
          const keeps = entry.routes && entry.iface === iface && entry.hnps.some((h) => h !== hnp);
          if (!keeps) this.nud.unwatch(key);
          this.enqueue(key, async () => {
            const live = this.programmed.get(key);
            live?.delete(hnp);
            if (!live?.size) this.programmed.delete(key);
            await this.kernel(() => (this.dp as DataPlane).magDetach(hnp, iface), 'magDetach', hnp);
            if (!keeps) await this.links?.left(key, iface);
          });
          break;
        }
        case 'advertise': {
          const { hnps, withdrawn, iface, reason } = eff;
          this.enqueue(key, () => this.sendRa(entry, reason, hnps, iface, withdrawn));
          break;
        }
        case 'pba': {
          if (eff.status < 128) this.counters.pbaOk++;
          else this.counters.pbaFailed++;
          const ev: RoleEvents['pba-received'] = { mnId: entry.mnId, llId: entry.llId, iface: entry.iface, seq: eff.seq, status: eff.status, lifetime: eff.lifetimeS, rttUs: eff.rttUs };
          if (eff.status < 128 && eff.hnps.length) {
            ev.hnp = eff.hnps[0] as string;
            ev.hnps = [...eff.hnps];
          }
          this.emit('pba-received', ev);
          break;
        }
        case 'failed': {
          this.counters.registrationsFailed++;
          this.log.warn({ mnId: entry.mnId, reason: eff.reason, status: eff.status }, 'registration failed');
          const who = { mnId: entry.mnId, llId: entry.llId, iface: entry.iface };
          this.emit('registration-failed', eff.status === undefined ? { ...who, reason: eff.reason } : { ...who, reason: eff.reason, status: eff.status });
          // a prepared downlink route no binding took over goes (a waiting entry retries on its own timer, bul.ts)
          if (!this.bul.get(key)?.routes) this.links?.drop(key);
          break;
        }
        case 'removed':
          this.programmed.delete(key);
          this.nud.unwatch(key);
          this.onIface.get(entry.iface)?.delete(key);
          this.links?.drop(key);
          break;
        case 'ignored':
          this.counters.ignored++;
          this.log.debug({ key, why: eff.why }, 'BUL ignored an event');
          break;
        case 'arm':
        case 'cancel':
          break; // the list runs its timers
      }
    }
  }

  /** combinePbu: first PBUs of one MN waiting for the end of this event-loop turn, and the combined ones sent (wire seq -> each part's own) */
  private readonly combining = new Map<string, Array<{ entry: BulEntry; s: Extract<Effect, { kind: 'send' }> }>>();
  private combineFlush: NodeJS.Immediate | undefined;
  private readonly combinedSent = new Map<number, Array<{ llId: string; seq: number }>>();

  private sendPbu(entry: BulEntry, s: Extract<Effect, { kind: 'send' }>): void {
    if (this.opts.combinePbu && s.attempt === 1 && s.lifetimeS > 0 && s.bid !== undefined) {
      let batch = this.combining.get(entry.mnId);
      if (!batch) this.combining.set(entry.mnId, (batch = []));
      batch.push({ entry, s });
      this.combineFlush ??= setImmediate(() => this.flushCombined());
      return;
    }
    this.sendOne(entry, s);
  }

  private pbuFields(entry: BulEntry, s: Extract<Effect, { kind: 'send' }>): PbuFields {
    return {
      seq: s.seq,
      lifetimeS: s.lifetimeS,
      hi: s.hi,
      hnps: s.hnps,
      dormant: s.dormant,
      ...(s.bid !== undefined ? { bid: s.bid } : {}),
      mnId: entry.mnId,
      llId: entry.llId,
      att: entry.att,
      ...(s.lifetimeS > 0 ? { linkLocal: this.opts.accessLinkLocal } : {}),
      ...(this.opts.timestamps ? { timestamp: this.clock.next() } : {}),
    };
  }

  /** Seed 001 section 4: one PBU for the interfaces of an MN that registered in the same turn (retransmissions go one by one). */
  private flushCombined(): void {
    this.combineFlush = undefined;
    for (const batch of this.combining.values()) {
      if (batch.length < 2) {
        for (const b of batch) this.sendOne(b.entry, b.s);
        continue;
      }
      const parts = batch.map((b) => ({ ...this.pbuFields(b.entry, b.s), bid: b.s.bid as number }));
      const msg = buildCombinedPbu(parts);
      this.combinedSent.set(msg.sequence, batch.map((b) => ({ llId: b.entry.llId, seq: b.s.seq })));
      if (this.combinedSent.size > 64) this.combinedSent.delete(this.combinedSent.keys().next().value as number);
      this.transport?.send(msg, this.opts.lmaAddress);
      this.counters.pbuSent++;
      for (const b of batch) {
        this.emit('pbu-sent', { mnId: b.entry.mnId, llId: b.entry.llId, iface: b.entry.iface, seq: msg.sequence, lifetime: b.s.lifetimeS, hi: b.s.hi, attempt: 1, lma: this.opts.lmaAddress, bid: b.s.bid as number });
      }
      this.log.debug({ mnId: batch[0]?.entry.mnId, seq: msg.sequence, parts: batch.length }, 'combined PBU sent');
    }
    this.combining.clear();
  }

  private sendOne(entry: BulEntry, s: Extract<Effect, { kind: 'send' }>): void {
    const msg = buildPbu(this.pbuFields(entry, s));
    this.transport?.send(msg, this.opts.lmaAddress);
    this.counters.pbuSent++;
    if (s.attempt > 1) this.counters.pbuRetransmitted++;
    this.emit('pbu-sent', { mnId: entry.mnId, llId: entry.llId, iface: entry.iface, seq: s.seq, lifetime: s.lifetimeS, hi: s.hi, attempt: s.attempt, lma: this.opts.lmaAddress, ...(s.bid !== undefined ? { bid: s.bid } : {}) });
  }

  private async kernel(fn: () => Promise<unknown>, what: string, hnp: string): Promise<void> {
    try {
      await fn();
    } catch (e) {
      this.counters.kernelFailures++;
      this.log.error({ what, hnp, err: (e as Error).message }, 'kernel programming failed');
      throw e;
    }
  }

  private enqueue(key: string, fn: () => Promise<void>): void {
    const prev = this.queues.get(key);
    // an idle queue starts the step now (its ip line is written before we return), not in a later microtask
    const next = (prev ? prev.then(fn) : fn()).catch(() => undefined); // logged where it failed; the next step still runs
    this.queues.set(key, next);
    void next.then(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
  }

  // ---- router advertisements

  /**
   * One RA to the MN with the session's prefixes (RFC 5213 6.7: valid and
   * preferred lifetime = what is left of the binding; a de-registration
   * deprecates them) and, at lifetime 0, the prefixes it no longer has
   * (an Update Notification's re-registration or a prefix transfer took
   * them: the MN stops using them here).
   */
  private async sendRa(entry: BulEntry, reason: RaReason | 'rs', hnps = entry.hnps, iface = entry.iface, withdrawn: string[] = []): Promise<void> {
    if (!this.ndp || (!hnps.length && !withdrawn.length)) return;
    const dst = this.mnLinkLocal.get(entry.key);
    try {
      const left = entry.expiresNs === undefined ? entry.lifetimeS : Math.max(0, Math.floor(Number(entry.expiresNs - process.hrtime.bigint()) / 1e9));
      const prefixes = [
        ...hnps.map((hnp) => (reason === 'deregistration' ? { hnp, validLifetime: 0, preferredLifetime: 0 } : { hnp, validLifetime: left, preferredLifetime: left })),
        ...withdrawn.map((hnp) => ({ hnp, validLifetime: 0, preferredLifetime: 0 })),
      ];
      await this.ndp.sendRa(iface, prefixes, dst);
      this.counters.raSent++;
      for (const hnp of hnps) this.emit('ra-sent', { iface, mnId: entry.mnId, llId: entry.llId, hnp, reason: reason === 'rs' ? 'rs' : reason });
      for (const hnp of withdrawn) this.emit('ra-sent', { iface, mnId: entry.mnId, llId: entry.llId, hnp, reason: 'deregistration' });
    } catch (e) {
      this.counters.raFailed++;
      this.log.warn({ iface, hnps, withdrawn, reason, err: (e as Error).message }, 'RA not sent');
    }
  }

  // ---- Mobility Header input

  private onMh(m: Inbound): void {
    const msg: Message = m.msg;
    switch (msg.kind) {
      case 'pba': {
        if (m.src !== this.opts.lmaAddress) {
          this.counters.ignored++;
          this.log.warn({ src: m.src }, 'PBA from an address that is not our LMA dropped');
          return;
        }
        const groups = splitCombinedPba(msg);
        if (groups) {
          // a combined PBA: each interface's part to its entry, under the sequence number that entry sent
          const sent = this.combinedSent.get(msg.sequence);
          for (const g of groups) {
            const own = sent?.find((x) => x.llId === g.llId)?.seq ?? g.seq;
            if (!this.bul.pba({ ...g, seq: own }, m.rxNs)) this.counters.pbaUnmatched++;
          }
          return;
        }
        const p = readPba(msg);
        if (!p) {
          this.counters.ignored++;
          this.log.warn({ src: m.src, seq: msg.sequence }, 'Binding Acknowledgement without the P flag dropped');
          return;
        }
        const tIn = process.hrtime.bigint();
        const matched = this.bul.pba(p, m.rxNs);
        this.log.debug({ seq: p.seq, status: p.status, socketToHandlerUs: Number(tIn - m.rxNs) / 1e3, handleUs: Number(process.hrtime.bigint() - tIn) / 1e3 }, 'PBA handled');
        if (!matched) {
          this.counters.pbaUnmatched++;
          this.log.debug({ seq: p.seq, status: p.status }, 'PBA matches no outstanding PBU (late or duplicate)');
        }
        return;
      }
      case 'heartbeat':
        this.onHeartbeat(msg, m);
        return;
      case 'updateNotification':
        this.onUpdateNotification(msg, m);
        return;
      case 'bindingError':
        this.counters.ignored++;
        this.log.warn({ src: m.src, status: msg.status }, 'Binding Error received');
        return;
      default:
        if (PEER_KINDS.has(msg.kind)) {
          for (const eff of this.peers.receive({ msg, src: m.src, port: m.port })) {
            if (eff.kind === 'send') this.transport?.send(eff.msg, eff.to);
            else this.log.debug({ why: eff.why }, 'peer signaling ignored');
          }
          return;
        }
        this.counters.ignored++;
        this.log.debug({ src: m.src, kind: msg.kind }, 'Mobility Header message the MAG does not handle');
    }
  }

  /**
   * RFC 7077: the LMA asks the MAG to register the named sessions again (the
   * LMA changed them: a prefix moved to another interface, seed 001 2.2).
   * Each is re-registered at once with HI 5 and an all-zero HNP (naming a
   * prefix the LMA moved to another session would be refused); the PBA's
   * prefixes are the session's from then on (bul.ts: the others are
   * unprogrammed and withdrawn in an RA at lifetime 0). D asks for a
   * de-registration instead. Acknowledged when A is set: 0, or 132 (MN not
   * attached) when no session matches.
   */
  private onUpdateNotification(msg: MessageOf<'updateNotification'>, m: Inbound): void {
    if (m.src !== this.opts.lmaAddress) {
      this.counters.ignored++;
      this.log.warn({ src: m.src }, 'Update Notification from an address that is not our LMA dropped');
      return;
    }
    this.counters.updateNotifications++;
    const u = readUpn(msg);
    const entries = this.bul
      .list()
      .filter((e) => (u.mnId === undefined || e.mnId === u.mnId) && (u.llId === undefined || e.llId === u.llId) && (u.att === undefined || e.att === u.att));
    this.log.info({ seq: u.seq, reason: u.reason, deregister: u.deregister, sessions: entries.map((e) => e.key) }, 'Update Notification');
    for (const e of entries) {
      if (u.deregister) this.detachKey(e.key, 'lma');
      else this.bul.reregister(e.key, HANDOFF_INDICATOR.notChanged, []);
    }
    if (u.ackRequested) this.transport?.send(buildUpa(u, entries.length ? UPA_STATUS.success : UPA_STATUS.mnNotAttached), m.src, m.port);
  }

  private onHeartbeat(msg: MessageOf<'heartbeat'>, m: Inbound): void {
    if (msg.flags.R) {
      if (m.src === this.opts.lmaAddress) this.heartbeat?.onResponse(msg.sequence);
      return;
    }
    this.transport?.send(heartbeatResponse(msg), m.src, m.port);
    this.counters.heartbeatsAnswered++;
    if (m.src === this.opts.lmaAddress) this.heartbeat?.onPeerRequest();
  }

  private emit<K extends RoleEventName>(type: K, data: RoleEvents[K]): void {
    publishEvent(this.ctx.bus, this.log, type, data);
  }
}
