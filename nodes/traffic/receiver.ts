import { createSocket, type Socket } from 'node:dgram';
import { decodeProbe, flowTag } from './probe.js';
import { Column, RECEIVER_COLUMNS, type SamplesHeader, encodeSamples } from './samples.js';

// Receives the probes of one flow on [::]:port and records each arrival
// (sequence number, the probe's send time, arrival time) in arrival order.
// The arrival time is taken when the datagram reaches JavaScript, so it
// includes this process's event-loop latency (tens of µs when idle).
// Datagrams that are not probes of this flow are counted as strays, by reason.

export interface ReceiverOptions {
  flow: string;
  node: string;
  port: number;
  /** socket receive buffer, octets (bounded by net.core.rmem_max) */
  recvBuffer?: number;
}

export class ProbeReceiver {
  private readonly socket: Socket;
  private readonly tag: number;
  private readonly seq = new Column('u32');
  private readonly txNs = new Column('u64');
  private readonly rxNs = new Column('u64');
  readonly strays = { short: 0, magic: 0, flow: 0 };
  private t0 = 0n;
  private stopNs = 0n;
  private closed = false;
  private boundPort = 0;

  private constructor(readonly opts: ReceiverOptions) {
    this.tag = flowTag(opts.flow);
    this.socket = createSocket({ type: 'udp6', ipv6Only: false });
    this.socket.on('message', this.onMessage);
  }

  /** Bind and start recording; rejects when the port cannot be bound. */
  static async listen(opts: ReceiverOptions): Promise<ProbeReceiver> {
    const r = new ProbeReceiver(opts);
    await new Promise<void>((resolve, reject) => {
      r.socket.once('error', reject);
      r.socket.bind({ port: opts.port, address: '::', exclusive: true }, () => {
        r.socket.off('error', reject);
        resolve();
      });
    });
    r.socket.on('error', () => undefined); // receive errors are not fatal; nothing to record
    try {
      r.socket.setRecvBufferSize(opts.recvBuffer ?? 4 << 20);
    } catch {
      // capped by rmem_max: the kernel default still serves 1000s of pps
    }
    r.boundPort = r.socket.address().port;
    r.t0 = process.hrtime.bigint();
    return r;
  }

  /** the bound port (the one asked for, or the kernel's pick for 0) */
  get port(): number {
    return this.boundPort;
  }

  get received(): number {
    return this.seq.length;
  }

  get strayCount(): number {
    return this.strays.short + this.strays.magic + this.strays.flow;
  }

  private onMessage = (msg: Buffer): void => {
    const rx = process.hrtime.bigint();
    const d = decodeProbe(msg, this.tag);
    if (!d.ok) {
      this.strays[d.reason]++;
      return;
    }
    const i = this.seq.grow();
    this.txNs.grow();
    this.rxNs.grow();
    this.seq.array[i] = d.seq;
    this.txNs.array[i] = d.txNs;
    this.rxNs.array[i] = rx;
  };

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopNs = process.hrtime.bigint();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  header(): SamplesHeader {
    return {
      flow: this.opts.flow,
      role: 'receiver',
      node: this.opts.node,
      count: this.seq.length,
      columns: RECEIVER_COLUMNS.map((c) => ({ ...c })),
      port: this.boundPort,
      startNs: this.t0.toString(),
      stopNs: (this.stopNs || process.hrtime.bigint()).toString(),
      strays: this.strayCount,
    };
  }

  samples(): Buffer {
    return encodeSamples(this.header(), [this.seq.view(), this.txNs.view(), this.rxNs.view()]);
  }
}
