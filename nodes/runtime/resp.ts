import { createRequire } from 'node:module';
import net from 'node:net';
import type { RedisTarget } from './redis-url.js';

// A minimal Redis client (RESP2): one socket, commands pipelined in order,
// replies matched FIFO. The bus needs only a handful of commands, and every
// node process loads this at start-up: ioredis costs ~45 ms of module
// loading and ~15 MB RSS per process, which 200 nodes on 2 cores cannot
// afford. No reconnect: a node whose Redis is gone exits (the runtime's rule).

export type Reply = string | number | null | Reply[];

export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
  }
}

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
}

type Parsed = { value: Reply | RedisReplyError; end: number } | null;

const CRLF = 0x0d;

/** Parse one reply at `pos`; null when the buffer does not hold all of it yet. */
function parse(buf: Buffer, pos: number): Parsed {
  const eol = buf.indexOf(CRLF, pos);
  if (eol < 0 || eol + 1 >= buf.length) return null;
  const line = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (buf[pos]) {
    case 0x2b: // +
      return { value: line, end: next };
    case 0x2d: // -
      return { value: new RedisReplyError(line), end: next };
    case 0x3a: // :
      return { value: Number(line), end: next };
    case 0x24: { // $
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return null;
      return { value: buf.toString('utf8', next, next + len), end: next + len + 2 };
    }
    case 0x2a: { // *
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, at);
        if (!item) return null;
        // an error inside an array (e.g. EXEC) is kept as its message
        items.push(item.value instanceof RedisReplyError ? item.value.message : item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`bad RESP type byte 0x${(buf[pos] ?? 0).toString(16)}`);
  }
}

function encode(args: ReadonlyArray<string | number>): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const s = String(a);
    out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  }
  return out;
}

// node:tls (and node:crypto under it) costs every node ~10 ms of start-up
// CPU; only rediss:// needs it, so it is loaded on first use.
const loadTls = () => createRequire(import.meta.url)('node:tls') as typeof import('node:tls');

export class RespConnection {
  private buf: Buffer = Buffer.alloc(0);
  private corked = false;
  private readonly uncork = () => {
    this.corked = false;
    this.socket.uncork();
  };
  private readonly pending: Pending[] = [];
  private ended = false;
  private readonly endListeners: Array<(err: Error) => void> = [];
  readonly ready: Promise<void>;

  private constructor(
    private readonly socket: net.Socket,
    connectEvent: 'connect' | 'secureConnect' = 'connect',
  ) {
    this.ready = new Promise((resolve, reject) => {
      socket.once(connectEvent, () => resolve());
      socket.once('error', reject);
    });
    this.ready.catch(() => {});
    socket.setNoDelay?.(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('connection to Redis closed')));
  }

  /**
   * Open a connection; commands may be issued at once (the socket buffers
   * them until connected). For redis:// URLs, AUTH and SELECT go first.
   */
  static open(target: RedisTarget): RespConnection {
    if ('path' in target) return new RespConnection(net.createConnection(target.path));
    const u = new URL(target.url);
    const port = Number(u.port || 6379);
    const host = u.hostname.replace(/^\[|\]$/g, '') || 'localhost';
    const conn =
      u.protocol === 'rediss:'
        ? new RespConnection(loadTls().connect({ host, port, servername: host }), 'secureConnect')
        : new RespConnection(net.createConnection({ host, port }));
    const pass = decodeURIComponent(u.password);
    const user = decodeURIComponent(u.username);
    if (pass) void conn.call('AUTH', ...(user ? [user] : []), pass).catch(() => {});
    const db = u.pathname.slice(1);
    if (db) void conn.call('SELECT', db).catch(() => {});
    return conn;
  }

  call(...args: Array<string | number>): Promise<Reply> {
    if (this.ended) return Promise.reject(new Error('connection to Redis closed'));
    return new Promise((resolve, reject) => {
      // Nagle-like: on an idle connection a command leaves at once; while
      // replies are outstanding, what this event-loop turn issues leaves in
      // one write (a busy LMA spent 13% of its CPU in one writev per command)
      if (!this.corked && this.pending.length > 0) {
        this.corked = true;
        this.socket.cork();
        setImmediate(this.uncork);
      }
      this.pending.push({ resolve, reject });
      this.socket.write(encode(args));
    });
  }

  /** Called once when the connection ends for any reason but close(). */
  onEnd(cb: (err: Error) => void): void {
    this.endListeners.push(cb);
  }

  /** Close now; pending commands (e.g. a blocked XREAD) are rejected. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.destroy();
    this.rejectAll(new Error('connection closed'));
  }

  get closed(): boolean {
    return this.ended;
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let pos = 0;
    for (;;) {
      let r: Parsed;
      try {
        r = parse(this.buf, pos);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      if (!r) break;
      pos = r.end;
      const p = this.pending.shift();
      if (r.value instanceof RedisReplyError) p?.reject(r.value);
      else p?.resolve(r.value);
    }
    this.buf = pos >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
  }

  private fail(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.destroy();
    this.rejectAll(err);
    for (const cb of this.endListeners) cb(err);
  }

  private rejectAll(err: Error): void {
    for (const p of this.pending.splice(0)) p.reject(err);
  }
}
