import {
  type BusCommand,
  type BusEvent,
  commandFields,
  decodeCommand,
  decodeEvent,
  eventFields,
} from './messages.js';
import { parseRedisUrl } from './redis-url.js';
import { type Reply, RespConnection } from './resp.js';

// The control bus: Redis Streams under `pmiplab:<runId>:`, one command stream
// per node (`cmd:<node>`) and one shared event stream (`events`). Used by the
// orchestrator and by every node process, over the small client in resp.ts.
// Blocking reads (XREAD BLOCK) run on
// their own connections so they never stall XADDs on the main one.

export type { BusCommand, BusEvent } from './messages.js';
export type { Reply } from './resp.js';

export interface MalformedEntry {
  stream: string;
  streamId: string;
  issue: string;
}

export interface BusOptions {
  /** A stream entry failed validation; it is skipped (and counted in stats). */
  onMalformed?: (entry: MalformedEntry) => void;
  /** The connection to Redis dropped while the bus was open (no reconnect). */
  onLost?: (err: Error) => void;
  /** connect() gives up after this long (a stopped or wedged server accepts but never answers); default 5000 */
  connectTimeoutMs?: number;
}

export class BusTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BusTimeoutError';
  }
}

/** A running command reader; stop() ends the XREAD loop. */
export interface CommandReader {
  stop(): Promise<void>;
  /** Settles when the loop ends: resolves after stop(), rejects if Redis failed. */
  done: Promise<void>;
}

/** Async iterable over events; close() (or breaking out of for-await) ends it at once. */
export interface EventStream extends AsyncIterable<BusEvent> {
  close(): void;
}

const CMD_MAXLEN = 1000; // commands are consumed at once; keep a short tail for debugging
const EVENT_MAXLEN = 200_000; // approximate trim; far above ready/pong traffic of 200 nodes
const READ_COUNT = 256;

function newConnection(url: string): RespConnection {
  return RespConnection.open(parseRedisUrl(url));
}

type Entries = Array<[string, string[]]>;

/** Entries of an XRANGE/XREVRANGE reply, or of the one stream of an XREAD reply. */
function entriesOf(reply: Reply, fromXread: boolean): Entries {
  if (reply === null) return [];
  let list: Reply = reply;
  if (fromXread) {
    const first = Array.isArray(reply) ? reply[0] : undefined;
    list = Array.isArray(first) ? (first[1] ?? null) : null;
  }
  if (!Array.isArray(list)) throw new Error('unexpected stream reply from Redis');
  return list.map((e) => {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || !Array.isArray(e[1])) throw new Error('unexpected stream entry from Redis');
    return [e[0], e[1].map(String)];
  });
}

export class Bus {
  readonly stats = { malformed: 0 };
  private closing = false;
  private readonly extra = new Set<RespConnection>(); // blocking connections to drop on close
  private seq = 0;
  private replyFeed: { stream: EventStream; waiters: Map<string, (e: BusEvent) => void> } | null = null;
  private replyFeedStart: Promise<void> | null = null;

  private constructor(
    private readonly url: string,
    private readonly redis: RespConnection,
    readonly runId: string,
    readonly name: string,
    private readonly opts: BusOptions,
  ) {
    redis.onEnd((err) => {
      if (!this.closing) this.opts.onLost?.(err);
    });
  }

  /** Connect (one PING round trip) as `name` (a node name or 'orchestrator'). */
  static async connect(url: string, runId: string, name: string, opts: BusOptions = {}): Promise<Bus> {
    const redis = newConnection(url);
    const ms = opts.connectTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        redis.ready.then(() => redis.call('PING')),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer to PING within ${ms} ms`)), ms);
        }),
      ]);
    } catch (err) {
      redis.close();
      throw new Error(`cannot connect to Redis at ${url}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    return new Bus(url, redis, runId, name, opts);
  }

  key(suffix: string): string {
    return `pmiplab:${this.runId}:${suffix}`;
  }

  /**
   * A raw Redis command on the bus connection (pipelined with the bus's own
   * writes, in order). Roles use it for state of their own under key(...):
   * the policy store, the LMA's binding cache.
   */
  call(...args: Array<string | number>): Promise<Reply> {
    return this.redis.call(...args);
  }

  /** Send a command to a node; returns its id (events answering it carry replyTo = id). */
  async sendCommand(node: string, type: string, args?: unknown): Promise<string> {
    const id = `${this.name}.${process.pid}.${++this.seq}`;
    await this.redis.call('XADD', this.key(`cmd:${node}`), 'MAXLEN', '~', CMD_MAXLEN, '*', ...commandFields(id, type, args));
    return id;
  }

  /** Publish an event from this bus's name, stamped with the shared monotonic clock. */
  async emit(type: string, data?: unknown, replyTo?: string): Promise<void> {
    const fields = eventFields(this.name, type, process.hrtime.bigint(), data, replyTo);
    await this.redis.call('XADD', this.key('events'), 'MAXLEN', '~', EVENT_MAXLEN, '*', ...fields);
  }

  /** Send a command and wait for the first event answering it. */
  async request(node: string, type: string, args: unknown, timeoutMs: number): Promise<BusEvent> {
    const feed = await this.startReplyFeed();
    // register the waiter before sending: the feed started earlier, so even an
    // immediate reply is seen
    const id = `${this.name}.${process.pid}.${++this.seq}`;
    const got = new Promise<BusEvent>((resolve) => feed.waiters.set(id, resolve));
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.redis.call('XADD', this.key(`cmd:${node}`), 'MAXLEN', '~', CMD_MAXLEN, '*', ...commandFields(id, type, args));
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new BusTimeoutError(`no reply from ${node} to '${type}' within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      return await Promise.race([got, timeout]);
    } finally {
      clearTimeout(timer);
      feed.waiters.delete(id);
    }
  }

  private startReplyFeed(): Promise<NonNullable<Bus['replyFeed']>> {
    if (!this.replyFeedStart) {
      this.replyFeedStart = (async () => {
        const from = await this.lastId('events');
        const stream = this.events(from);
        const waiters = new Map<string, (e: BusEvent) => void>();
        this.replyFeed = { stream, waiters };
        void (async () => {
          try {
            for await (const ev of stream) if (ev.replyTo) waiters.get(ev.replyTo)?.(ev);
          } catch {
            // closed or Redis gone: pending requests time out
          }
        })();
      })();
    }
    return this.replyFeedStart.then(() => this.replyFeed as NonNullable<Bus['replyFeed']>);
  }

  /** Id of the newest entry of a stream (`events`, `cmd:<node>`), or 0-0 if empty. */
  async lastId(suffix: string): Promise<string> {
    const last = entriesOf(await this.redis.call('XREVRANGE', this.key(suffix), '+', '-', 'COUNT', 1), false);
    return last[0]?.[0] ?? '0-0';
  }

  /**
   * Handle commands sent to `node`, in order, from now on (entries older than
   * the call are not replayed: a restarted node must not redo old commands).
   * Resolves once the read position is fixed, so a command sent afterwards is
   * never missed. A handler error is reported through onError and does not
   * stop the loop.
   */
  async readCommands(
    node: string,
    handler: (cmd: BusCommand) => Promise<void> | void,
    onError: (err: unknown, cmd: BusCommand) => void = () => {},
  ): Promise<CommandReader> {
    const stream = this.key(`cmd:${node}`);
    let last = await this.lastId(`cmd:${node}`);
    const conn = this.blockingConnection();
    let stopped = false;
    const done = (async () => {
      while (!stopped) {
        let entries: Entries;
        try {
          entries = entriesOf(await conn.call('XREAD', 'COUNT', READ_COUNT, 'BLOCK', 0, 'STREAMS', stream, last), true);
        } catch (err) {
          if (stopped || this.closing) return;
          throw err;
        }
        for (const [id, fields] of entries) {
          last = id;
          const cmd = decodeCommand(id, fields);
          if (!cmd.ok) {
            this.malformed(stream, id, cmd.issue);
            continue;
          }
          try {
            await handler(cmd.value);
          } catch (err) {
            onError(err, cmd.value);
          }
          if (stopped) return;
        }
      }
    })();
    done.catch(() => {}); // the caller may only await it at shutdown
    return {
      done,
      stop: async () => {
        stopped = true;
        this.dropConnection(conn);
        await done.catch(() => {});
      },
    };
  }

  /**
   * Events after `fromId` ('$' = from now on, '0-0' = from the start of the
   * run), in order, on a connection of their own. Malformed entries are skipped.
   */
  events(fromId = '$'): EventStream {
    const stream = this.key('events');
    const conn = this.blockingConnection();
    let closed = false;
    let buffer: BusEvent[] = [];
    // '$' is fixed now, not at the first next(): XREVRANGE is queued on the main
    // connection before any later XADD of this bus, so nothing emitted after
    // this call is missed
    const start = fromId === '$' ? this.lastId('events') : Promise.resolve(fromId);
    start.catch(() => {});
    let last: string | null = null;
    const close = () => {
      closed = true;
      this.dropConnection(conn);
    };
    const next = async (): Promise<IteratorResult<BusEvent>> => {
      for (;;) {
        const ev = buffer.shift();
        if (ev) return { value: ev, done: false };
        if (closed) return { value: undefined, done: true };
        if (last === null) last = await start;
        let entries: Entries;
        try {
          entries = entriesOf(await conn.call('XREAD', 'COUNT', READ_COUNT, 'BLOCK', 0, 'STREAMS', stream, last), true);
        } catch (err) {
          if (closed || this.closing) return { value: undefined, done: true };
          throw err;
        }
        const batch: BusEvent[] = [];
        for (const [id, fields] of entries) {
          last = id;
          const e = decodeEvent(id, fields);
          if (e.ok) batch.push(e.value);
          else this.malformed(stream, id, e.issue);
        }
        buffer = batch;
      }
    };
    return {
      close,
      [Symbol.asyncIterator]: () => ({
        next,
        return: async () => {
          close();
          return { value: undefined, done: true };
        },
      }),
    };
  }

  /**
   * Feed events from `fromId` (default: the start of the run) to `done` until
   * it returns true; resolves with that event. `done` may keep its own state
   * (e.g. the set of nodes seen ready).
   */
  async waitForEvents(done: (e: BusEvent) => boolean, timeoutMs: number, fromId = '0-0'): Promise<BusEvent> {
    const stream = this.events(fromId);
    const timer = setTimeout(() => stream.close(), timeoutMs);
    try {
      for await (const ev of stream) if (done(ev)) return ev;
      throw new BusTimeoutError(`events awaited did not arrive within ${timeoutMs} ms`);
    } finally {
      clearTimeout(timer);
      stream.close();
    }
  }

  /** Delete every key of this run (used when the Redis server is shared). */
  async deleteRunKeys(): Promise<number> {
    let cursor = '0';
    let n = 0;
    do {
      const reply = await this.redis.call('SCAN', cursor, 'MATCH', `pmiplab:${this.runId}:*`, 'COUNT', 500);
      if (!Array.isArray(reply) || !Array.isArray(reply[1])) throw new Error('unexpected SCAN reply from Redis');
      cursor = String(reply[0]);
      const keys = reply[1].map(String);
      if (keys.length) n += Number(await this.redis.call('DEL', ...keys));
    } while (cursor !== '0');
    return n;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.replyFeed?.stream.close();
    for (const c of this.extra) c.close();
    this.extra.clear();
    // every write is acknowledged before its promise resolves, so nothing is lost
    this.redis.close();
  }

  private blockingConnection(): RespConnection {
    const conn = newConnection(this.url);
    conn.onEnd((err) => {
      if (!this.closing && this.extra.has(conn)) this.opts.onLost?.(err);
    });
    this.extra.add(conn);
    return conn;
  }

  private dropConnection(conn: RespConnection): void {
    this.extra.delete(conn);
    conn.close();
  }

  private malformed(stream: string, streamId: string, issue: string): void {
    this.stats.malformed++;
    this.opts.onMalformed?.({ stream, streamId, issue });
  }
}
