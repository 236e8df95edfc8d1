import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { ErrorCodes, PmipError } from '../errors.js';
import type { IpShell } from './ip-shell.js';

// Watches carrier changes of interfaces in one namespace with a long-lived
// `ip -n NS -o monitor link` (event-driven: ip flushes each event, so the
// timestamp is when the kernel told us, not when a poll happened to look).

export type CarrierState = 'up' | 'down';

interface Waiter {
  iface: string;
  steps: CarrierState[]; // states to see in this order
  times: bigint[];
  resolve(times: bigint[]): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

// "3001: wlan0@if3002: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ..." (Deleted lines are ignored)
const LINE_RE = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>/;

export class CarrierWatch {
  private child: ChildProcessWithoutNullStreams | undefined;
  private partial = '';
  private waiters: Waiter[] = [];
  private readonly last = new Map<string, { state: CarrierState; tNs: bigint }>();
  private seenLo: (() => void) | undefined;

  constructor(readonly netns: string) {}

  /** Start the monitor and wait until it is subscribed (a no-op alias change on lo comes back as an event). */
  async start(shell: IpShell): Promise<void> {
    if (this.child) return;
    const child = spawn('ip', ['-n', this.netns, '-o', 'monitor', 'link'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => this.onData(d, process.hrtime.bigint()));
    child.stderr.resume();
    child.on('exit', () => this.failAll(`link monitor of ${this.netns} exited`));
    const ready = new Promise<void>((resolve) => (this.seenLo = resolve));
    for (let i = 0; i < 50; i++) {
      await shell.run('link set dev lo alias ""');
      const ok = await Promise.race([ready.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20))]);
      if (ok) return;
    }
    throw new PmipError(ErrorCodes.timeout, `link monitor of ${this.netns} did not start`);
  }

  /**
   * Resolves with the monotonic times (ns) at which `iface` was seen in each
   * state of `steps`, in order (e.g. ['down', 'up'] for a move). Matching is
   * synchronous per event, so a down and an up in one read are both caught.
   */
  waitFor(iface: string, steps: CarrierState[], timeoutMs = 3000): Promise<bigint[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const missing = steps.slice(waiter.times.length).join(' then ');
        reject(new PmipError(ErrorCodes.timeout, `${this.netns}: ${iface} did not report carrier ${missing} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = { iface, steps, times: [], resolve, reject, timer };
      this.waiters.push(waiter);
    });
  }

  /** Last carrier state seen for an interface (undefined before any event). */
  state(iface: string): CarrierState | undefined {
    return this.last.get(iface)?.state;
  }

  close(): void {
    this.failAll('closed');
    this.child?.kill('SIGTERM');
    this.child = undefined;
  }

  private onData(chunk: string, tNs: bigint): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) {
      const m = LINE_RE.exec(l);
      if (!m) continue;
      const [, name = '', flags = ''] = m;
      if (name === 'lo') this.seenLo?.();
      const set = flags.split(',');
      // LOWER_UP is the carrier; an admin-down interface has no carrier either
      const state: CarrierState = set.includes('LOWER_UP') && !set.includes('NO-CARRIER') ? 'up' : 'down';
      this.last.set(name, { state, tNs });
      for (const w of this.waiters) {
        if (w.iface !== name || w.steps[w.times.length] !== state) continue;
        w.times.push(tNs);
        if (w.times.length === w.steps.length) {
          clearTimeout(w.timer);
          w.resolve(w.times);
        }
      }
      this.waiters = this.waiters.filter((w) => w.times.length < w.steps.length);
    }
  }

  private failAll(why: string): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new PmipError(ErrorCodes.runtime, `${this.netns}: ${why}`));
    }
  }
}
