import {
  type AttachInfo,
  type BulEntry,
  type BulEvent,
  type Effect,
  entryKey,
  type StepEnv,
  step,
  type TimerName,
} from './bul.js';

// The Binding Update List as a whole: entries by key, their timers (one of
// each name per entry), and the dispatch of a PBA to its entry. It runs the
// pure step() and hands each step's effects to `perform`; timers are plain
// setTimeout (fake-timer friendly), the clock is injected.

export type Perform = (entry: BulEntry, effects: Effect[]) => void;

export interface PbaInput {
  seq: number;
  status: number;
  lifetimeS: number;
  /** the PBA's HNP options (all-zero ones left out) */
  hnps: string[];
  refreshS?: number;
  /** from the PBA's options, to find the entry when the sequence number does not (status 135) */
  mnId?: string;
  llId?: string;
  att?: number;
}

export class BindingUpdateList {
  private readonly entries = new Map<string, BulEntry>();
  private readonly timers = new Map<string, Map<TimerName, NodeJS.Timeout>>();
  private readonly bySeq = new Map<number, string>(); // outstanding sequence numbers -> entry key

  constructor(
    private readonly env: StepEnv,
    private readonly perform: Perform,
    private readonly clock: () => bigint = () => process.hrtime.bigint(),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): BulEntry | undefined {
    return this.entries.get(key);
  }

  list(): BulEntry[] {
    return [...this.entries.values()];
  }

  /** An MN attached (carrier or RS): starts a registration unless one is under way or bound. */
  attach(info: AttachInfo): BulEntry | undefined {
    const key = entryKey(info.mnId, info.llId, info.att);
    return this.run(key, { type: 'attach', info, nowNs: this.clock() });
  }

  detach(key: string): void {
    if (this.entries.has(key)) this.run(key, { type: 'detach', nowNs: this.clock() });
  }

  /** A PBA arrived; returns false when it matches no entry (caller counts it). */
  pba(p: PbaInput, rxNs: bigint = this.clock()): boolean {
    // the identifiers the PBA echoes name the entry; the sequence number is the fallback (sequence numbers of
    // different entries may meet: de-registrations count on from their binding's last number)
    let key: string | undefined;
    if (p.mnId !== undefined && p.llId !== undefined && p.att !== undefined) {
      const k = entryKey(p.mnId, p.llId, p.att);
      if (this.entries.has(k)) key = k;
    }
    key ??= this.bySeq.get(p.seq);
    if (key === undefined || !this.entries.has(key)) return false;
    const ev: Extract<BulEvent, { type: 'pba' }> = { type: 'pba', seq: p.seq, status: p.status, lifetimeS: p.lifetimeS, hnps: p.hnps, nowNs: rxNs };
    if (p.refreshS !== undefined) ev.refreshS = p.refreshS;
    this.run(key, ev);
    return true;
  }

  /** Register a session again at once (Update Notification, interface handover, prefix transfer); false when there is no entry. */
  reregister(key: string, hi: number, hnps?: string[]): boolean {
    if (!this.entries.has(key)) return false;
    this.run(key, hnps === undefined ? { type: 'reregister', hi, nowNs: this.clock() } : { type: 'reregister', hi, hnps, nowNs: this.clock() });
    return true;
  }

  /** Stop every timer (role stop); entries stay as they are. */
  stop(): void {
    for (const t of this.timers.values()) for (const h of t.values()) clearTimeout(h);
    this.timers.clear();
  }

  private run(key: string, ev: BulEvent): BulEntry | undefined {
    const before = this.entries.get(key);
    if (before?.pending) for (const t of before.pending.tx) if (this.bySeq.get(t.seq) === key) this.bySeq.delete(t.seq);
    const { entry, effects } = step(before, ev, this.env);
    if (entry) {
      this.entries.set(key, entry);
      if (entry.pending) for (const t of entry.pending.tx) this.bySeq.set(t.seq, key);
    } else {
      this.entries.delete(key);
    }
    for (const eff of effects) {
      if (eff.kind === 'arm') this.arm(key, eff.timer, eff.ms);
      else if (eff.kind === 'cancel') this.cancel(key, eff.timer);
      else if (eff.kind === 'removed') this.cancelAll(key);
    }
    // the entry object as the effects saw it (also after removal, for reporting)
    this.perform(entry ?? (before as BulEntry) ?? synthetic(key), effects);
    return entry;
  }

  private arm(key: string, timer: TimerName, ms: number): void {
    this.cancel(key, timer);
    let t = this.timers.get(key);
    if (!t) this.timers.set(key, (t = new Map()));
    const h = setTimeout(() => {
      t.delete(timer);
      if (this.entries.has(key)) this.run(key, { type: 'timer', timer, nowNs: this.clock() });
    }, ms);
    h.unref?.();
    t.set(timer, h);
  }

  private cancel(key: string, timer: TimerName): void {
    const t = this.timers.get(key);
    const h = t?.get(timer);
    if (h !== undefined) {
      clearTimeout(h);
      t?.delete(timer);
    }
  }

  private cancelAll(key: string): void {
    const t = this.timers.get(key);
    if (t) for (const h of t.values()) clearTimeout(h);
    this.timers.delete(key);
  }
}

function synthetic(key: string): BulEntry {
  // only reached for an event on no entry (step answers 'ignored'); gives perform something to log
  const [mnId = '', llId = '', att = '0'] = key.split('|');
  return { key, mnId, llId, att: Number(att), iface: '', state: 'registering', requestedHnps: [], hnps: [], dormant: false, lifetimeS: 0, routes: false, seq: 0 };
}
