import type { Bus } from '../runtime/bus.js';
import type { Reply } from '../runtime/resp.js';
import { type Bce, BceSchema, keyOf } from './binding-cache.js';
import type { CacheChanges } from './pbu-processing.js';

// The binding cache and the prefix pool in the run's Redis, so a restarted
// LMA carries on where it stopped (issue 6: killed mid-experiment, it reloads
// every binding and reprograms its kernel). Layout under bus.key():
//   lma:<name>:bce   hash  cache key -> Bce as JSON
//   lma:<name>:hnp   hash  prefix -> MN-ID it was given to (never reused)
//   lma:<name>:pool  hash  cursor -> allocations so far, pool -> the pool
// A write with nothing in flight goes out at once; while one is in flight, the
// writes of one event-loop turn go out together (one HSET/HDEL per hash, on
// the bus connection, pipelined). write() resolves once Redis has them, and
// the LMA sends its PBA only then, so a PBA always reflects persisted state.

type Redis = Pick<Bus, 'call' | 'key'>;

export interface LoadedState {
  bces: Bce[];
  /** entries that failed validation (dropped) */
  invalid: Array<{ key: string; issue: string }>;
  cursor: number;
  owners: Array<[string, string]>;
  pool: string | null;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

function pairs(reply: Reply): Array<[string, string]> {
  if (!Array.isArray(reply)) return [];
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), String(reply[i + 1])]);
  return out;
}

export class BindingStore {
  readonly keys: { bce: string; hnp: string; pool: string };
  readonly counters = { flushes: 0, fieldsWritten: 0, fieldsDeleted: 0 };
  private bce = new Map<string, string | null>(); // null = delete
  private owners = new Map<string, string>();
  private cursor: number | undefined;
  private waiters: Waiter[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly redis: Redis,
    lmaName: string,
    private readonly pool: string,
  ) {
    this.keys = { bce: redis.key(`lma:${lmaName}:bce`), hnp: redis.key(`lma:${lmaName}:hnp`), pool: redis.key(`lma:${lmaName}:pool`) };
  }

  async load(): Promise<LoadedState> {
    const [bceReply, hnpReply, poolReply] = await Promise.all([
      this.redis.call('HGETALL', this.keys.bce),
      this.redis.call('HGETALL', this.keys.hnp),
      this.redis.call('HGETALL', this.keys.pool),
    ]);
    const bces: Bce[] = [];
    const invalid: LoadedState['invalid'] = [];
    for (const [key, json] of pairs(bceReply)) {
      let raw: unknown;
      try {
        raw = JSON.parse(json);
      } catch {
        invalid.push({ key, issue: 'not JSON' });
        continue;
      }
      const r = BceSchema.safeParse(raw, { jitless: true });
      if (!r.success) invalid.push({ key, issue: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      else if (keyOf(r.data) !== key) invalid.push({ key, issue: `stored under the wrong key (${keyOf(r.data)})` });
      else bces.push(r.data);
    }
    const poolFields = new Map(pairs(poolReply));
    const cursor = Number(poolFields.get('cursor') ?? 0);
    return {
      bces,
      invalid,
      cursor: Number.isInteger(cursor) && cursor >= 0 ? cursor : 0,
      owners: pairs(hnpReply),
      pool: poolFields.get('pool') ?? null,
    };
  }

  /** Queue the changes of one PBU (or expiry); resolves when Redis holds them. */
  write(c: CacheChanges): Promise<void> {
    if (c.put.length === 0 && c.del.length === 0 && c.owners.length === 0 && c.cursor === undefined) return Promise.resolve();
    for (const k of c.del) this.bce.set(k, null);
    for (const b of c.put) this.bce.set(keyOf(b), JSON.stringify(b));
    for (const [p, m] of c.owners) this.owners.set(p, m);
    if (c.cursor !== undefined) this.cursor = c.cursor;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    // nothing in flight (a lone handover): write now; else gather this event-loop turn's changes
    if (this.inFlight === 0) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        if (this.waiters.length) this.flush();
      });
    }
    return done;
  }

  /** Drop everything this LMA stored (tests, a fresh start on request). */
  async clear(): Promise<void> {
    await this.redis.call('DEL', this.keys.bce, this.keys.hnp, this.keys.pool);
  }

  private flush(): void {
    const bce = this.bce;
    const owners = this.owners;
    const cursor = this.cursor;
    const waiters = this.waiters;
    this.bce = new Map();
    this.owners = new Map();
    this.cursor = undefined;
    this.waiters = [];
    const sets: string[] = [];
    const dels: string[] = [];
    for (const [k, v] of bce) {
      if (v === null) dels.push(k);
      else sets.push(k, v);
    }
    const calls: Array<Promise<Reply>> = [];
    // the prefix records first: a binding is never stored before its prefix is recorded as given
    if (owners.size) calls.push(this.redis.call('HSET', this.keys.hnp, ...[...owners].flat()));
    if (cursor !== undefined) calls.push(this.redis.call('HSET', this.keys.pool, 'cursor', cursor, 'pool', this.pool));
    if (sets.length) calls.push(this.redis.call('HSET', this.keys.bce, ...sets));
    if (dels.length) calls.push(this.redis.call('HDEL', this.keys.bce, ...dels));
    this.counters.flushes++;
    this.counters.fieldsWritten += sets.length / 2;
    this.counters.fieldsDeleted += dels.length;
    this.inFlight++;
    Promise.all(calls).then(
      () => {
        this.inFlight--;
        for (const w of waiters) w.resolve();
      },
      (err: unknown) => {
        this.inFlight--;
        const e = err instanceof Error ? err : new Error(String(err));
        for (const w of waiters) w.reject(e);
      },
    );
  }
}
