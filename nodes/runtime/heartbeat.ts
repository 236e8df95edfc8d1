// RFC 5847 heartbeat toward one peer (a MAG's LMA, or an LMA's MAG): a request every
// interval; a peer that leaves `missedAllowed` requests in a row unanswered is
// failed, and up again at its next answer. Any heartbeat from the peer (its
// own requests too) proves it alive. Timers are plain setInterval.

export type PeerState = 'unknown' | 'up' | 'failed';

export interface HeartbeatOptions {
  intervalMs: number; // 0 = send none (only answer the peer's)
  missedAllowed: number;
  send(seq: number): void;
  onState(state: 'up' | 'failed', missed: number): void;
}

export class HeartbeatMonitor {
  private seq = 0;
  private outstanding = false;
  private missed = 0;
  private state: PeerState = 'unknown';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: HeartbeatOptions) {}

  get peerState(): PeerState {
    return this.state;
  }

  get missedCount(): number {
    return this.missed;
  }

  start(): void {
    if (this.o.intervalMs <= 0 || this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A Heartbeat Response with this sequence number arrived. */
  onResponse(seq: number): boolean {
    // an answer to one of the last few requests: alive, if slow; anything older is not ours
    if (((this.seq - seq) >>> 0) > this.o.missedAllowed) return false;
    this.alive();
    return true;
  }

  /** The peer sent its own request: alive. */
  onPeerRequest(): void {
    this.alive();
  }

  private alive(): void {
    this.outstanding = false;
    this.missed = 0;
    if (this.state !== 'up') {
      this.state = 'up';
      this.o.onState('up', 0);
    }
  }

  private tick(): void {
    if (this.outstanding) {
      this.missed++;
      if (this.missed >= this.o.missedAllowed && this.state !== 'failed') {
        this.state = 'failed';
        this.o.onState('failed', this.missed);
      }
    }
    this.seq = (this.seq + 1) >>> 0;
    this.outstanding = true;
    this.o.send(this.seq);
  }
}
