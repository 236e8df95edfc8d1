import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ErrorCodes, PmipError } from '../errors.js';
import { procStartTime } from '../launch/proc.js';

// One lock per run folder (runs/<id>/.lock), held across processes while a
// process reads, changes and writes the run's state.json or links.json:
// `pmiplab up` recording its nodes, `capture` adding its tcpdumps, `down`
// marking the run cleaned and `move`/`link` saving where the interfaces are
// may all run at once on one run, and each must see the others' writes.
//
// The lock file is made whole and atomically: its content (pid and process
// start time) goes to a private file first, which is then hard-linked to the
// lock's name; link(2) fails with EEXIST when the lock is taken, so no holder
// is ever seen with an empty file. A holder that died (its pid gone, or reused
// by a process with another start time) left a stale lock: a waiter removes
// it, under a second short lock (.lock.break) so that two waiters cannot both
// remove it and one of them the fresh lock the other just took.
// Node has no flock(2); a `flock` child per update would cost a process spawn
// for each of the hundreds of node processes a bring-up records.

const Holder = z.object({ pid: z.number().int().positive(), startTime: z.string(), at: z.string() }).strict();
type Holder = z.infer<typeof Holder>;

export interface RunLockOptions {
  /** give up waiting after this long (a live holder that never lets go) */
  timeoutMs?: number;
}

let self: { pid: number; startTime: string } | undefined;
function me(): { pid: number; startTime: string } {
  // a forked test worker has its own pid: compare, do not cache blindly
  if (!self || self.pid !== process.pid) self = { pid: process.pid, startTime: procStartTime(process.pid) ?? '0' };
  return self;
}

let counter = 0;
/** Try once to create `file` holding our identity; true when we now hold it. */
function tryCreate(file: string): { ok: true; text: string } | { ok: false } {
  const text = `${JSON.stringify({ ...me(), at: new Date().toISOString() })}\n`;
  const tmp = `${file}.${process.pid}.${counter++}.tmp`;
  writeFileSync(tmp, text);
  try {
    linkSync(tmp, file);
    return { ok: true, text };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { ok: false };
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null; // released meanwhile
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Is the lock whose content is `text` held by a process that is gone? */
function isStale(file: string, text: string): boolean {
  let h: Holder;
  try {
    h = Holder.parse(JSON.parse(text));
  } catch {
    // not ours to read (written by hand, or by a future format): stale once old
    return ageMs(file) > 10_000;
  }
  return procStartTime(h.pid) !== h.startTime;
}

function unlinkIfSame(file: string, text: string): boolean {
  if (readText(file) !== text) return false;
  try {
    unlinkSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Remove a stale lock unless someone changed it since we read `text`; true when it is gone. */
function breakStale(lock: string, text: string): boolean {
  const breaker = `${lock}.break`;
  if (!tryCreate(breaker).ok) {
    // the breaker is held for microseconds; one left behind by a dead process goes the same way
    const b = readText(breaker);
    if (b !== null && isStale(breaker, b)) unlinkIfSame(breaker, b);
    return false;
  }
  try {
    const now = readText(lock);
    return now === text && isStale(lock, now) && unlinkIfSame(lock, now);
  } finally {
    try {
      unlinkSync(breaker);
    } catch {
      // already gone
    }
  }
}

async function acquire(lock: string, timeoutMs: number): Promise<string> {
  const t0 = Date.now();
  for (let round = 0; ; round++) {
    const got = tryCreate(lock);
    if (got.ok) return got.text;
    const text = readText(lock);
    // null: released between our try and our read (or not a file): wait like any other round
    if (text !== null && isStale(lock, text) && breakStale(lock, text)) continue;
    if (Date.now() - t0 > timeoutMs) {
      const holder = text?.trim() ?? 'an unreadable lock';
      throw new PmipError(ErrorCodes.runtime, `run folder ${path.dirname(lock)} is locked by ${holder}`, `if that process is wedged, stop it; the lock is ${lock}`);
    }
    // short waits first (a state update holds the lock for about a millisecond), jittered so waiters do not march in step
    await sleep(Math.min(25, 1 + round) * (0.5 + Math.random()));
  }
}

function release(lock: string, text: string): void {
  // only our own lock: if it was broken as stale (we were taken for dead), the new holder's stays
  unlinkIfSame(lock, text);
}

// Within one process, users of a lock queue here first, so a process never waits on its own lock file.
const queues = new Map<string, Promise<unknown>>();

/**
 * Run `fn` holding the lock of a run folder, across processes. When the
 * folder does not exist there is nothing to protect and `fn` runs unlocked
 * (it will find no state file). Not re-entrant: `fn` must not take it again.
 */
export function withRunLock<T>(runDir: string, fn: () => T | Promise<T>, opts: RunLockOptions = {}): Promise<T> {
  const lock = path.join(runDir, '.lock');
  const prev = queues.get(lock) ?? Promise.resolve();
  const next = prev.then(async () => {
    let text: string;
    try {
      text = await acquire(lock, opts.timeoutMs ?? 30_000);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return fn();
      throw e;
    }
    try {
      return await fn();
    } finally {
      release(lock, text);
    }
  });
  const tail = next.catch(() => undefined);
  queues.set(lock, tail);
  // forget the queue once it drains, so long-lived processes do not keep one per run ever seen
  void tail.then(() => {
    if (queues.get(lock) === tail) queues.delete(lock);
  });
  return next;
}
