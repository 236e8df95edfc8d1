// The send schedule of a flow: probe i is due at start + i / rate, exactly,
// whatever the timers do. A tick sends every probe already due, at most
// maxBurst of them, so after a stall (GC, a busy event loop) the sender
// catches up at up to maxBurst per tick instead of flushing everything at
// once. Pure: the caller passes the elapsed time.

export interface PacerStats {
  /** ticks that had more probes due than maxBurst */
  burstLimited: number;
  /** largest lateness of a probe behind its due time, ns */
  maxLagNs: number;
}

export class Pacer {
  readonly intervalNs: number;
  /** probes handed out so far (the next one's sequence number) */
  taken = 0;
  readonly stats: PacerStats = { burstLimited: 0, maxLagNs: 0 };

  constructor(
    rate: number,
    readonly maxBurst = defaultBurst(rate),
  ) {
    if (!(rate > 0)) throw new Error(`rate must be positive, got ${rate}`);
    this.intervalNs = 1e9 / rate;
  }

  /** How many probes to send now, `elapsedNs` after the start. */
  take(elapsedNs: number): number {
    const due = Math.floor(elapsedNs / this.intervalNs) + 1 - this.taken;
    if (due <= 0) return 0;
    const n = Math.min(due, this.maxBurst);
    if (due > this.maxBurst) this.stats.burstLimited++;
    const lag = elapsedNs - this.taken * this.intervalNs; // the oldest probe of this batch
    if (lag > this.stats.maxLagNs) this.stats.maxLagNs = lag;
    this.taken += n;
    return n;
  }

  /** ns from `elapsedNs` until the next probe is due (<= 0: already due). */
  untilNext(elapsedNs: number): number {
    return this.taken * this.intervalNs - elapsedNs;
  }
}

/**
 * 5 ms of the schedule per tick, at least 4: ticks that come late on a busy
 * host (2-4 ms instead of 1) still keep the rate, and after a longer stall the
 * backlog drains at several times the rate without leaving in one burst.
 */
export function defaultBurst(rate: number): number {
  return Math.max(4, Math.ceil((rate * 5) / 1000));
}

/** Timer delay (ms) for a wait of `ns`: Node timers have 1 ms resolution and fire late, never early. */
export function timerDelayMs(ns: number): number {
  return Math.max(1, Math.floor(ns / 1e6));
}
