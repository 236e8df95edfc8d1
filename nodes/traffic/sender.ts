import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { Pacer, timerDelayMs } from './pacer.js';
import { encodeProbe, flowTag, PROBE_HEADER } from './probe.js';
import { Column, SENDER_COLUMNS, type SamplesHeader, encodeSamples } from './samples.js';

// Sends the probes of one flow on its schedule (pacer.ts) and records every
// probe it hands to the kernel: sequence number, send time, and whether the
// send failed (no route during a handover, ICMP errors). The socket is not
// connected, so each probe takes the source address the kernel picks at that
// moment (the MN's address may come and go with its attachment), unless
// `bind` names the address to send from (seed 001: a flow pinned to one MN
// interface; the MN's source routing then sends it out of that interface).

export interface SenderOptions {
  flow: string;
  node: string;
  dst: string;
  port: number;
  rate: number;
  size: number;
  maxBurst?: number;
  /** local address to bind (send from); default: the kernel's choice per probe */
  bind?: string;
}

export const SENT_OK = 0;
export const SENT_FAILED = 1;

export class ProbeSender {
  private readonly socket: Socket;
  private readonly pacer: Pacer;
  private readonly tag: number;
  private readonly seq = new Column('u32');
  private readonly txNs = new Column('u64');
  private readonly status = new Column('u8');
  private readonly errors: Record<string, number> = {};
  private timer: NodeJS.Timeout | null = null;
  private t0 = 0n;
  private stopNs = 0n;
  private pending = 0;
  private stopped = false;
  private idle: (() => void) | null = null;

  constructor(readonly opts: SenderOptions) {
    if (opts.size < PROBE_HEADER) throw new Error(`probe size ${opts.size} is below ${PROBE_HEADER}`);
    this.pacer = new Pacer(opts.rate, opts.maxBurst);
    this.tag = flowTag(opts.flow);
    this.socket = createSocket({ type: isIPv4(opts.dst) ? 'udp4' : 'udp6' });
    // a send error is reported to the send's callback; an 'error' event must not crash the node
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.countError(err.code ?? 'socket'));
  }

  get sent(): number {
    return this.seq.length;
  }

  get failed(): number {
    return Object.values(this.errors).reduce((a, b) => a + b, 0);
  }

  /** Bind the socket to opts.bind (no-op without it); call before start. */
  async open(): Promise<void> {
    const address = this.opts.bind;
    if (address === undefined) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.socket.once('error', onError);
      this.socket.bind({ address, port: 0, exclusive: true }, () => {
        this.socket.off('error', onError);
        resolve();
      });
    });
  }

  start(): void {
    this.t0 = process.hrtime.bigint();
    this.tick();
  }

  private tick = (): void => {
    this.timer = null;
    if (this.stopped) return;
    const n = this.pacer.take(Number(process.hrtime.bigint() - this.t0));
    for (let k = 0; k < n; k++) this.sendOne();
    const wait = this.pacer.untilNext(Number(process.hrtime.bigint() - this.t0));
    this.timer = setTimeout(this.tick, timerDelayMs(wait));
  };

  private sendOne(): void {
    const i = this.seq.grow();
    this.txNs.grow();
    this.status.grow();
    const buf = Buffer.allocUnsafe(this.opts.size);
    buf.fill(0, PROBE_HEADER);
    const tx = process.hrtime.bigint();
    encodeProbe(buf, this.tag, i, tx);
    this.seq.array[i] = i;
    this.txNs.array[i] = tx;
    this.pending++;
    this.socket.send(buf, this.opts.port, this.opts.dst, (err) => {
      if (err) {
        // .array, not a captured reference: the column may have grown since
        this.status.array[i] = SENT_FAILED;
        this.countError((err as NodeJS.ErrnoException).code ?? 'send');
      }
      if (--this.pending === 0) this.idle?.();
    });
  }

  private countError(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  /** Stop sending; resolves once every send handed to the socket has reported back (bounded wait). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopNs = process.hrtime.bigint();
    if (this.timer) clearTimeout(this.timer);
    if (this.pending > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        this.idle = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  header(): SamplesHeader {
    const { flow, node, dst, port, rate, size, bind } = this.opts;
    return {
      ...(bind !== undefined ? { src: bind } : {}),
      flow,
      role: 'sender',
      node,
      count: this.seq.length,
      columns: SENDER_COLUMNS.map((c) => ({ ...c })),
      port,
      dst,
      rate,
      size,
      startNs: this.t0.toString(),
      stopNs: (this.stopNs || process.hrtime.bigint()).toString(),
      sendErrors: { ...this.errors },
      maxLagMs: Math.round(this.pacer.stats.maxLagNs / 1e3) / 1e3,
      burstLimited: this.pacer.stats.burstLimited,
    };
  }

  /** The samples file's bytes (call after stop). */
  samples(): Buffer {
    return encodeSamples(this.header(), [this.seq.view(), this.txNs.view(), this.status.view()]);
  }
}
