import { createWriteStream, type WriteStream } from 'node:fs';
import type { Bus, BusEvent, EventStream } from '../../nodes/runtime/bus.js';
import { checkEvent } from '../../nodes/runtime/events.js';

// Every event of a run, in stream order, into runs/<id>/events.jsonl (one
// JSON object per line: streamId, node, type, tNs, data, replyTo): the report
// reads the signaling timeline from it. The recorder also keeps what the
// runner asks about while playing (the MNs' current addresses). Each event
// is checked against the event contract (nodes/runtime/events.ts): one that
// does not match is still recorded, and counted with its reason.

export class EventRecorder {
  private readonly out: WriteStream;
  private readonly loop: Promise<void>;
  private readonly stream: EventStream;
  private readonly waiters = new Set<(e: BusEvent) => void>();
  /** node -> iface -> global addresses, from `addresses` events */
  readonly addresses = new Map<string, Map<string, string[]>>();
  count = 0;
  /** events whose name or payload is not in the event contract */
  invalid = 0;
  /** the first few reasons, for run.json */
  readonly issues: string[] = [];

  constructor(bus: Bus, file: string) {
    // a run id used again starts a new event log (the old run's events would skew its report)
    this.out = createWriteStream(file, { flags: 'w' });
    // from the start of the run: ready, first registrations and all
    this.stream = bus.events('0-0');
    const stream = this.stream;
    this.loop = (async () => {
      try {
        for await (const ev of stream) this.take(ev);
      } catch {
        // Redis gone: the runner notices through the nodes exiting
      }
    })();
  }

  /** Resolve with the first event (from now on) that `match` accepts. */
  next(match: (e: BusEvent) => boolean, timeoutMs: number, what: string): Promise<BusEvent> {
    return new Promise((resolve, reject) => {
      const f = (e: BusEvent) => {
        if (!match(e)) return;
        this.waiters.delete(f);
        clearTimeout(timer);
        resolve(e);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(f);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(f);
    });
  }

  globalAddress(node: string): string | undefined {
    for (const list of this.addresses.get(node)?.values() ?? []) if (list[0]) return list[0];
    return undefined;
  }

  async close(): Promise<void> {
    this.stream.close();
    await this.loop;
    await new Promise<void>((resolve) => this.out.end(resolve));
  }

  private take(ev: BusEvent): void {
    this.count++;
    this.out.write(`${JSON.stringify(ev)}\n`);
    const c = checkEvent(ev.type, ev.data);
    if (!c.ok) {
      this.invalid++;
      if (this.issues.length < 10) this.issues.push(`${ev.node}: ${c.issue}`);
    } else if (ev.type === 'addresses' && isAddresses(ev.data)) {
      const m = this.addresses.get(ev.node) ?? new Map<string, string[]>();
      m.set(ev.data.iface, ev.data.addresses);
      this.addresses.set(ev.node, m);
    }
    for (const w of [...this.waiters]) w(ev);
  }
}

function isAddresses(d: unknown): d is { iface: string; addresses: string[] } {
  const o = d as { iface?: unknown; addresses?: unknown } | null;
  return typeof o?.iface === 'string' && Array.isArray(o.addresses) && o.addresses.every((a) => typeof a === 'string');
}
