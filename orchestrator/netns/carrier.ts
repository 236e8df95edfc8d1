import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { ErrorCodes, PmipError } from '../errors.js';
import type { IpShell } from '../../nodes/runtime/ip-shell.js';

// Watches carrier changes of interfaces in one namespace with a long-lived
// `ip -n NS -o monitor link` (event-driven: ip flushes each event, so the
// timestamp is when the kernel told us, not when a poll happened to look).

export type CarrierState = 'up' | 'down';

/**
 * A strict waiter saw a state other than the one it waited for (e.g. carrier
 * up while waiting for down): the kernel folded a fast down/up into one event.
 */
export class CarrierFolded extends PmipError {
  constructor(
    readonly netns: string,
    readonly iface: string,
    readonly seen: CarrierState,
  ) {
    super(ErrorCodes.runtime, `${netns}: ${iface} reported carrier ${seen} where another state was expected (down/up folded)`);
  }
}

interface Waiter {
  iface: string;
  strict: boolean;
  failed?: boolean;
  steps: CarrierState[]; // states to see in this order
  times: bigint[];
  resolve(times: bigint[]): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

// "[2026-11-24T21:56:01.301584] 3001: wlan0@if3002: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ..."
// (-ts: when ip received it, microseconds; Deleted lines are ignored)
const LINE_RE = /^(?:\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\]\s*)?\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>/;

export class CarrierWatch {
  private child: ChildProcessWithoutNullStreams | undefined;
  private partial = '';
  private waiters: Waiter[] = [];
  private readonly last = new Map<string, { state: CarrierState; tNs: bigint }>();
  private seenLo: (() => void) | undefined;
  private lastNs = 0n;

  constructor(readonly netns: string) {}

  /** Start the monitor and wait until it is subscribed (a no-op alias change on lo comes back as an event). */
  async start(shell: IpShell): Promise<void> {
    if (this.child) return;
    const child = spawn('ip', ['-n', this.netns, '-o', '-ts', 'monitor', 'link'], { stdio: ['pipe', 'pipe', 'pipe'] });
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
   * strict: an event of that interface in another state than the next one
   * expected rejects at once with CarrierFolded (instead of being skipped).
   */
  waitFor(iface: string, steps: CarrierState[], timeoutMs = 3000, opts: { strict?: boolean } = {}): Promise<bigint[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const missing = steps.slice(waiter.times.length).join(' then ');
        reject(new PmipError(ErrorCodes.timeout, `${this.netns}: ${iface} did not report carrier ${missing} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = { iface, strict: opts.strict ?? false, steps, times: [], resolve, reject, timer };
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

  /**
   * Events read together (a down and an up of a fast move often are) get the
   * read time moved back by how much earlier ip received each, from its -ts
   * stamps (microseconds), so their order shows in the times too.
   */
  private onData(chunk: string, tRead: bigint): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    const parsed = lines.flatMap((l) => {
      const m = LINE_RE.exec(l);
      if (!m) return [];
      const [, wall, usec, name = '', flags = ''] = m;
      const us = wall && usec ? BigInt(Date.parse(wall)) * 1000n + BigInt(usec) : undefined;
      return [{ name, flags, us }];
    });
    const lastUs = parsed.at(-1)?.us;
    for (const { name, flags, us } of parsed) {
      let tNs = us !== undefined && lastUs !== undefined && lastUs >= us ? tRead - (lastUs - us) * 1000n : tRead;
      if (tNs < this.lastNs) tNs = this.lastNs; // never before an event already reported
      this.lastNs = tNs;
      if (name === 'lo') this.seenLo?.();
      const set = flags.split(',');
      // LOWER_UP is the carrier; an admin-down interface has no carrier either
      const state: CarrierState = set.includes('LOWER_UP') && !set.includes('NO-CARRIER') ? 'up' : 'down';
      this.last.set(name, { state, tNs });
      for (const w of this.waiters) {
        if (w.iface !== name) continue;
        if (w.steps[w.times.length] !== state) {
          if (w.strict) {
            clearTimeout(w.timer);
            w.failed = true; // dropped below
            w.reject(new CarrierFolded(this.netns, name, state));
          }
          continue;
        }
        w.times.push(tNs);
        if (w.times.length === w.steps.length) {
          clearTimeout(w.timer);
          w.resolve(w.times);
        }
      }
      this.waiters = this.waiters.filter((w) => !w.failed && w.times.length < w.steps.length);
    }
  }

  private failAll(why: string): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new PmipError(ErrorCodes.runtime, `${this.netns}: ${why}`));
    }
  }
}
