import type { Logger } from 'pino';
import type { LmaDataPlane } from '../dataplane/index.js';
import { PrefixQueue } from '../dataplane/prefix-queue.js';
import type { MessageOf } from '../protocol/index.js';
import type { Bus } from '../runtime/bus.js';
import { publishEvent, type RoleEventName, type RoleEvents } from '../runtime/events.js';
import { emptyTransportCounters, MhTransport, type Inbound, type TransportCounters, type TransportOptions } from '../runtime/mh-transport.js';
import type { MagProfile, MnProfile } from '../runtime/policy-store.js';
import { HeartbeatMonitor } from '../runtime/heartbeat.js';
import { type Bce, BindingCache, keyOf } from './binding-cache.js';
import type { LmaConfig } from './config.js';
import { HnpPool } from './hnp-pool.js';
import { BindingStore } from './persistence.js';
import { buildUpdateNotification, type SessionNotice } from './messages.js';
import { type CacheChanges, type DataPlaneAction, expire, llIdText, type LmaBindingEvent, nextHops, processPbuMessage } from './pbu-processing.js';

// The LMA at work: Mobility Header sockets in, the pure state machine
// (pbu-processing.ts) deciding, then the effects in this order per PBU:
// persist the cache changes and program the kernel (both awaited), then the
// PBA, so a PBA always reflects persisted state and a working route. Also the
// expiry timers, RFC 5847 heartbeat with every MAG and recovery after a
// restart. Built from plain options so the benchmark can run it without a
// plan (role.ts builds it from the plan).

export interface LmaPolicy {
  mn(mnId: string): Promise<MnProfile | null>;
  magByAddress(address: string): Promise<MagProfile | null>;
}

export interface LmaServiceOptions {
  cfg: LmaConfig;
  /** plan.pools.hnp */
  pool: string;
  /** addresses to receive on (one socket each in UDP mode); [] = '::' */
  locals: string[];
  transport: Pick<TransportOptions, 'mode' | 'impair' | 'port' | 'peerPort'>;
  /** MAGs to send heartbeats to (their pCoA), the LMA address each uses, the backhaul device toward each (data plane) */
  mags: Array<{ pCoA: string; local?: string; iface?: string }>;
  heartbeat: { intervalMs: number; missedMax: number };
  bus: Pick<Bus, 'call' | 'key' | 'emit'>;
  policy: LmaPolicy;
  /** how long policy store answers are reused (ms); default 0 = read on every PBU (the role passes its option) */
  policyCacheMs?: number;
  /** null: program no kernel state */
  dataplane: LmaDataPlane | null;
  log: Logger;
  /**
   * When the PBA leaves: 'handed-over' (default) once the Redis write and the
   * route change are in their sockets; 'acknowledged' once Redis and ip have
   * answered (one or two process wake-ups later).
   */
  pbaAfter?: 'handed-over' | 'acknowledged';
}

export interface LmaCounters {
  pbuReceived: number;
  pbaSent: number;
  /** PBAs sent by status code */
  byStatus: Record<string, number>;
  heartbeatsAnswered: number;
  heartbeatsSent: number;
  /** decoded messages the LMA has no use for (PBAs, HI, ...) */
  ignored: number;
  expired: number;
  kernelFailures: number;
  persistFailures: number;
  /** seed 001 2.2: Update Notifications to MAGs whose sessions lost prefixes, and their Acks */
  updateNotificationsSent: number;
  updateNotificationsRetransmitted: number;
  updateNotificationAcks: number;
}

const POLICY_CACHE_MAX = 100_000;
/** refused PBUs: the first ones are logged, then one in LOG_REFUSALS_EVERY (all are counted in stats) */
const LOG_FIRST_REFUSALS = 50;
const LOG_REFUSALS_EVERY = 1000;
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
/** Update Notification retransmission: first after this, doubling, this many times (RFC 7077 leaves the numbers open) */
const UPN_RETRY_MS = 500;
const UPN_RETRIES = 3;

export class LmaService {
  readonly cache = new BindingCache();
  readonly pool: HnpPool;
  readonly store: BindingStore;
  readonly counters: LmaCounters = {
    pbuReceived: 0,
    pbaSent: 0,
    byStatus: {},
    heartbeatsAnswered: 0,
    heartbeatsSent: 0,
    ignored: 0,
    expired: 0,
    kernelFailures: 0,
    persistFailures: 0,
    updateNotificationsSent: 0,
    updateNotificationsRetransmitted: 0,
    updateNotificationAcks: 0,
  };
  private upnSeq = 0;
  /** Update Notifications awaiting their Ack: sequence -> retransmission timer */
  private readonly upnPending = new Map<number, NodeJS.Timeout>();
  private readonly transports = new Map<string, MhTransport>(); // local address -> socket
  private readonly peers = new Map<string, HeartbeatMonitor>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly devOf = new Map<string, string>();
  /** pCoA -> the LMA address it talks to (from the plan, then from where its messages arrive) */
  private readonly localFor = new Map<string, string>();
  /** kernel changes of one prefix run in order (a bind may wait for a route lookup) */
  private readonly kernelQueue = new PrefixQueue();
  private readonly magCache = new Map<string, { value: Promise<MagProfile | null>; untilMs: number }>();
  private readonly mnCache = new Map<string, { value: Promise<MnProfile | null>; untilMs: number }>();
  private stopped = false;
  private refusedLogged = 0;

  private constructor(private readonly o: LmaServiceOptions) {
    this.pool = new HnpPool(o.pool);
    this.store = new BindingStore(o.bus, o.cfg.name, o.pool);
    for (const m of o.mags) {
      if (m.iface) this.devOf.set(m.pCoA, m.iface);
      if (m.local) this.localFor.set(m.pCoA, m.local);
    }
  }

  /** Recover persisted bindings, reprogram the kernel, open the sockets, start heartbeats. */
  static async start(o: LmaServiceOptions): Promise<LmaService> {
    const s = new LmaService(o);
    try {
      await s.recover();
      await s.open();
      s.startHeartbeats();
    } catch (e) {
      await s.stop();
      throw e;
    }
    return s;
  }

  get transportCounters(): TransportCounters {
    const sum = emptyTransportCounters();
    for (const t of this.transports.values()) {
      for (const k of Object.keys(sum) as Array<keyof TransportCounters>) sum[k] += t.counters[k];
    }
    return sum;
  }

  stats() {
    const transport = this.transportCounters;
    return {
      bindings: this.cache.size,
      pbuReceived: this.counters.pbuReceived,
      pbaSent: this.counters.pbaSent,
      malformed: transport.malformed,
      counters: this.counters,
      transport,
      persistence: this.store.counters,
      pool: { cursor: this.pool.cursor, capacity: this.pool.capacity, assigned: this.pool.owners.size },
      peers: Object.fromEntries([...this.peers].map(([p, h]) => [p, { state: h.peerState, missed: h.missedCount }])),
      ...(this.o.dataplane ? { dataplane: { backend: this.o.dataplane.backend, ...this.o.dataplane.counters } } : {}),
    };
  }

  bindings(): Bce[] {
    return [...this.cache.values()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const h of this.peers.values()) h.stop();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const t of this.upnPending.values()) clearTimeout(t);
    this.upnPending.clear();
    await Promise.all([...this.transports.values()].map((t) => t.close()));
    this.transports.clear();
    await this.kernelQueue.drain();
  }

  // ---- start-up

  private async recover(): Promise<void> {
    const st = await this.store.load();
    for (const bad of st.invalid) this.o.log.warn(bad, 'invalid persisted binding dropped');
    this.pool.restore(st.cursor, st.owners);
    const now = nowMs();
    const expired: CacheChanges = { put: [], del: [], owners: [] };
    const binds: Array<Promise<void>> = [];
    for (const b of st.bces) {
      this.cache.put(b);
      if (b.deadlineMs <= now) {
        const out = expire(this.cache, keyOf(b), now);
        if (out) {
          expired.del.push(...out.changes.del);
          this.kernel(out.actions);
          this.emitBindingEvents(out.events);
        }
        continue;
      }
      this.arm(keyOf(b), b.deadlineMs);
    }
    // every live prefix's route from its active holders (one MAG, or several: shared)
    const prefixes = new Set([...this.cache.values()].flatMap((b) => b.hnps));
    for (const hnp of prefixes) {
      const hops = nextHops(this.cache, hnp);
      const mnId = this.cache.byPrefix(hnp)?.mnId ?? '';
      if (hops.length === 1) binds.push(this.kernel([{ op: 'bind', hnp, pCoA: hops[0]!, mnId }]));
      else if (hops.length > 1) binds.push(this.kernel([{ op: 'bind', hnp, pCoA: hops[0]!, mnId, pCoAs: hops }]));
    }
    for (const k of st.invalid) expired.del.push(k.key);
    await Promise.all([this.store.write(expired), ...binds]);
    this.o.log.info(
      { count: this.cache.size, expired: expired.del.length - st.invalid.length, invalid: st.invalid.length, poolCursor: st.cursor },
      'bindings recovered',
    );
    this.emit('bindings-recovered', { count: this.cache.size });
  }

  private async open(): Promise<void> {
    const locals = this.o.locals.length ? [...new Set(this.o.locals)] : ['::'];
    // a raw socket of protocol 135 sees every MH of the namespace: one is enough
    const binds = this.o.transport.mode === 'raw' ? ['::'] : locals;
    for (const bind of binds) {
      const t = await MhTransport.open({ ...this.o.transport, bind, log: this.o.log });
      t.onMessage((m) => this.onMessage(t, m));
      this.transports.set(bind, t);
    }
    this.o.log.info({ mode: this.o.transport.mode, bound: binds }, 'Mobility Header sockets open');
  }

  private startHeartbeats(): void {
    const { intervalMs, missedMax } = this.o.heartbeat;
    for (const m of this.o.mags) {
      if (this.peers.has(m.pCoA)) continue;
      const h = new HeartbeatMonitor({
        intervalMs,
        missedAllowed: missedMax,
        send: (seq) => {
          this.counters.heartbeatsSent++;
          const hb = { kind: 'heartbeat' as const, flags: { U: false, R: false }, sequence: seq >>> 0, options: [] };
          this.transportFor(m.pCoA).send(hb, m.pCoA, undefined, this.localFor.get(m.pCoA));
        },
        onState: (state, missed) => {
          const level = state === 'failed' ? 'warn' : 'info';
          this.o.log[level]({ peer: m.pCoA, state, missed }, `MAG heartbeat: ${state}`);
          this.emit('peer-state', { peer: m.pCoA, state, missed });
        },
      });
      this.peers.set(m.pCoA, h);
      h.start();
    }
  }

  /** The socket whose address faces this peer (UDP: one per backhaul address). */
  private transportFor(peer: string): MhTransport {
    const local = this.localFor.get(peer);
    return (local !== undefined && this.transports.get(local)) || (this.transports.values().next().value as MhTransport);
  }

  // ---- messages

  private onMessage(t: MhTransport, m: Inbound): void {
    if (this.stopped) return;
    // the LMA address this peer talks to: where its messages arrive (RFC 5213 5.3.6 answers from it)
    if (m.dst !== '' && this.localFor.get(m.src) !== m.dst) this.localFor.set(m.src, m.dst);
    switch (m.msg.kind) {
      case 'pbu':
        void this.onPbu(t, m, m.msg).catch((err: unknown) => this.o.log.error({ err, src: m.src }, 'PBU handling failed'));
        return;
      case 'heartbeat':
        this.onHeartbeat(t, m, m.msg);
        return;
      case 'updateNotificationAck':
        this.counters.updateNotificationAcks++;
        clearTimeout(this.upnPending.get(m.msg.sequence));
        this.upnPending.delete(m.msg.sequence);
        this.o.log.info({ mag: m.src, seq: m.msg.sequence, status: m.msg.status }, 'Update Notification Ack');
        return;
      default:
        this.counters.ignored++;
        this.o.log.debug({ kind: m.msg.kind, src: m.src }, 'message ignored');
    }
  }

  private onHeartbeat(t: MhTransport, m: Inbound, hb: MessageOf<'heartbeat'>): void {
    const peer = this.peers.get(m.src);
    if (hb.flags.R) {
      peer?.onResponse(hb.sequence);
      return;
    }
    peer?.onPeerRequest();
    this.counters.heartbeatsAnswered++;
    t.send({ kind: 'heartbeat', flags: { U: false, R: true }, sequence: hb.sequence, options: [] }, m.src, m.port, m.dst);
  }

  private async onPbu(t: MhTransport, m: Inbound, pbu: MessageOf<'pbu'>): Promise<void> {
    this.counters.pbuReceived++;
    let mnId: string | undefined;
    let hi = 0;
    let llIdHex: string | undefined;
    for (const o of pbu.options) {
      if (o.kind === 'mnId') mnId ??= o.nai;
      else if (o.kind === 'handoffIndicator') hi = o.value;
      else if (o.kind === 'mnLinkLayerId' || o.kind === 'mnLinkLayerIdExt') llIdHex ??= o.identifier;
    }
    const llId = llIdHex === undefined ? '' : llIdText(llIdHex);
    this.emit('pbu-received', { mag: m.src, mnId: mnId ?? '', llId, seq: pbu.sequence, hi, lifetime: pbu.lifetime * 4 });
    // the MAG first (cached: no round trip): a source that is no MAG costs no MN lookup
    const mag = await this.magPolicy(m.src);
    const mn = mag && mnId !== undefined ? await this.mnPolicy(mnId) : null;
    if (this.stopped) return;
    const tPolicy = process.hrtime.bigint();
    const out = processPbuMessage(this.cache, this.pool, this.o.cfg, { pbu, src: m.src, mag, mn, nowMs: nowMs(), wallMs: Date.now() });
    this.rearm(out.changes);
    let tPersisted = tPolicy;
    const persisted = this.store.write(out.changes).then(
      () => void (tPersisted = process.hrtime.bigint()),
      (err: unknown) => {
        this.counters.persistFailures++;
        this.o.log.error({ err, mnId }, 'binding cache write failed');
      },
    );
    let tKernel = tPolicy;
    const queued = out.actions.some((a) => a.op === 'bind' && !this.devOf.has(a.pCoA) && this.kernelQueue.busy(a.hnp));
    const kernel = this.kernel(out.actions).then(() => void (tKernel = process.hrtime.bigint()));
    // The PBA leaves once the Redis write and the route change have been handed
    // to their sockets (redis-server, the ip process), not after both answered:
    // what is in those sockets is applied even if this process dies next, so a
    // PBA still never announces state a restarted LMA would not have, and the
    // handover saves two process wake-ups. Writes leave at the latest on the
    // second check phase (persistence and the RESP / ip clients coalesce one
    // event-loop turn into one write: see their cork/flush). A change waiting
    // behind another one of the same prefix is awaited in full.
    if (queued || this.o.pbaAfter === 'acknowledged') await Promise.all([persisted, kernel]);
    else await twoTurns();
    if (this.stopped) return;
    // from the address the PBU was sent to (RFC 5213 5.3.6): raw names it per packet, UDP by the socket bound to it
    t.send(out.pba, m.src, m.port, m.dst);
    for (const n of out.notices) this.notify(n);
    const tSent = process.hrtime.bigint();
    await Promise.all([persisted, kernel]);
    this.emitBindingEvents(out.events);
    this.counters.pbaSent++;
    this.counters.byStatus[out.status] = (this.counters.byStatus[out.status] ?? 0) + 1;
    this.emit('pba-sent', { mag: m.src, mnId: mnId ?? '', llId, seq: out.pba.sequence, status: out.status, lifetime: out.pba.lifetime * 4 });
    // where the time went, from the datagram's arrival (us): policy lookup, Redis write, kernel route, PBA out
    const us = (t: bigint) => Math.round(Number(t - m.rxNs) / 100) / 10;
    const logged = {
      src: m.src, mnId, seq: pbu.sequence, hi, lifetime: pbu.lifetime * 4, status: out.status, note: out.note,
      us: { policy: us(tPolicy), persisted: us(tPersisted), kernel: us(tKernel), sent: us(tSent) },
    };
    if (out.status >= 128) {
      // a flood of bad PBUs (a rogue MAG, a fuzzer) must not become a flood of log lines
      const n = ++this.refusedLogged;
      if (n <= LOG_FIRST_REFUSALS || n % LOG_REFUSALS_EVERY === 0) this.o.log.info({ ...logged, refusals: n }, 'PBU refused');
    }
    else if (out.note === 'refresh') this.o.log.debug(logged, 'PBU accepted');
    else this.o.log.info(logged, 'PBU accepted');
  }

  /**
   * Policy profiles are read on every PBU, and a handover is one more PBU for
   * an MN already seen: answers (absences too) are kept for policyCacheMs, so
   * a handover costs no Redis round trip before the state machine, and a
   * policy change shows within that time.
   */
  private magPolicy(address: string): Promise<MagProfile | null> {
    return this.cached(this.magCache, address, () => this.o.policy.magByAddress(address));
  }

  private mnPolicy(mnId: string): Promise<MnProfile | null> {
    return this.cached(this.mnCache, mnId, () => this.o.policy.mn(mnId));
  }

  private cached<T>(cache: Map<string, { value: Promise<T>; untilMs: number }>, key: string, read: () => Promise<T>): Promise<T> {
    const now = nowMs();
    const hit = cache.get(key);
    if (hit && hit.untilMs > now) return hit.value;
    const value = read();
    const ttl = this.o.policyCacheMs ?? 0;
    if (ttl > 0) {
      if (cache.size >= POLICY_CACHE_MAX) cache.clear(); // many MNs: start over rather than grow without bound
      cache.set(key, { value, untilMs: now + ttl });
      value.catch(() => cache.delete(key));
    }
    return value;
  }

  // ---- effects

  /** Apply data plane actions (each prefix's changes in order); failures are logged and counted. */
  private kernel(actions: DataPlaneAction[]): Promise<void> {
    const dp = this.o.dataplane;
    if (!dp || actions.length === 0) return Promise.resolve();
    return Promise.all(
      actions.map((a) => {
        const run = async () => {
          try {
            if (a.op === 'bind' && a.pCoAs && a.pCoAs.length > 1) {
              await dp.lmaBindMulti(a.hnp, a.pCoAs.map((p) => ({ pCoA: p, ...(this.devOf.has(p) ? { dev: this.devOf.get(p) as string } : {}) })));
              for (const p of a.pCoAs) this.emit('routes-programmed', { mnId: a.mnId, llId: this.cache.holders(a.hnp).find((b) => b.pCoA === p)?.llId ?? '', hnp: a.hnp, peer: p });
            } else if (a.op === 'bind') {
              await dp.lmaBind(a.hnp, a.pCoA, this.devOf.get(a.pCoA));
              this.emit('routes-programmed', { mnId: a.mnId, llId: this.cache.byPrefix(a.hnp)?.llId ?? '', hnp: a.hnp, peer: a.pCoA });
            } else await dp.lmaUnbind(a.hnp);
          } catch (err) {
            this.counters.kernelFailures++;
            this.o.log.error({ err: (err as Error).message, action: a }, 'data plane change failed');
          }
        };
        // no route lookup needed: straight to the ip shell (see PrefixQueue)
        const direct = a.op === 'unbind' || (this.devOf.has(a.pCoA) && !a.pCoAs);
        return this.kernelQueue.run(a.hnp, run, direct);
      }),
    ).then(() => undefined);
  }

  private rearm(c: CacheChanges): void {
    for (const k of c.del) {
      clearTimeout(this.timers.get(k));
      this.timers.delete(k);
    }
    for (const b of c.put) this.arm(keyOf(b), b.deadlineMs);
  }

  private arm(key: string, deadlineMs: number): void {
    clearTimeout(this.timers.get(key));
    const t = setTimeout(() => this.onDeadline(key), Math.min(2 ** 31 - 1, Math.max(0, Math.ceil(deadlineMs - nowMs()))));
    t.unref?.();
    this.timers.set(key, t);
  }

  private onDeadline(key: string): void {
    this.timers.delete(key);
    if (this.stopped) return;
    const out = expire(this.cache, key, nowMs());
    if (!out) {
      // a timer may fire a little before the monotonic deadline: try again
      const b = this.cache.get(key);
      if (b) this.arm(key, b.deadlineMs);
      return;
    }
    this.counters.expired++;
    this.o.log.info({ mnId: out.bce.mnId, hnps: out.bce.hnps, pCoA: out.bce.pCoA, reason: out.reason }, 'binding deleted');
    void Promise.all([
      this.store.write(out.changes).catch((err: unknown) => {
        this.counters.persistFailures++;
        this.o.log.error({ err }, 'binding cache write failed');
      }),
      this.kernel(out.actions),
    ]).then(() => this.emitBindingEvents(out.events));
  }

  /**
   * Seed 001 2.2: tell a MAG whose session lost prefixes to another interface
   * (Update Notification, RFC 7077, FORCE-REREGISTRATION; D when nothing is
   * left). Sent once; the MAG's Update Notification Ack is counted.
   */
  private notify(n: SessionNotice): void {
    this.upnSeq = (this.upnSeq + 1) & 0xffff;
    const seq = this.upnSeq;
    const msg = buildUpdateNotification(n, seq);
    // A is set: until the MAG's Ack (same sequence number) arrives, the same
    // notification goes again after UPN_RETRY_MS, doubling, UPN_RETRIES times
    // (RFC 7077 asks the LMA to retransmit an unacknowledged UPN)
    const send = (attempt: number) => {
      if (this.stopped) return;
      this.transportFor(n.pCoA).send(msg, n.pCoA, undefined, this.localFor.get(n.pCoA));
      this.counters.updateNotificationsSent++;
      if (attempt > 0) this.counters.updateNotificationsRetransmitted++;
      if (attempt >= UPN_RETRIES) {
        this.upnPending.delete(seq);
        return;
      }
      const t = setTimeout(() => send(attempt + 1), UPN_RETRY_MS * 2 ** attempt);
      t.unref?.();
      this.upnPending.set(seq, t);
    };
    send(0);
    this.o.log.info({ mag: n.pCoA, mnId: n.mnId, llId: n.llId, keeps: n.keeps, seq }, 'Update Notification sent');
  }

  private emitBindingEvents(events: LmaBindingEvent[]): void {
    for (const e of events) this.emit(e.type, e.data);
  }

  private emit<N extends RoleEventName>(type: N, data: RoleEvents[N]): void {
    publishEvent(this.o.bus, this.o.log, type, data);
  }
}

/** Resolves after two check phases of the event loop (setImmediate twice). */
function twoTurns(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
