import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { ErrorCodes, PmipError } from '../contract/errors.js';

// A long-lived `ip [-n NS] [global options] -force -batch -` fed one line at a
// time (kernel.md: ~0.2 ms per line against ~1.7 ms for a new ip process).
//
// ip prints nothing on success, so every command is followed by a marker line
// `_m<seq>`: an unknown object, which ip answers on stderr with
// `Object "_m<seq>" is unknown` (pure parsing, no kernel call) and, thanks to
// -force, goes on. stderr is unbuffered and ordered, so everything printed
// between two markers is that command's error. stdout is only drained (it is
// block-buffered in a pipe and cannot serve as a marker).

export interface IpResult {
  line: string;
  ok: boolean;
  error?: string; // ip's message when !ok
  tStartNs: bigint;
  tEndNs: bigint;
}

interface Pending {
  line: string;
  seq: number;
  tStartNs: bigint;
  resolve(r: IpResult): void;
}

const MARK_RE = /^Object "_m(\d+)" is unknown/;
const FAILED_RE = /^Command failed /;

export class IpShell {
  private child: ChildProcessWithoutNullStreams | undefined;
  private seq = 0;
  private readonly pending: Pending[] = [];
  private errLines: string[] = [];
  private skipFailed = false;
  private partial = '';
  private exited: string | undefined;
  private corked = false;

  /** netns null = root namespace; args = global options such as ['-6'] */
  constructor(
    readonly netns: string | null,
    readonly args: string[] = [],
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): this {
    if (this.child) return this;
    const argv = [...(this.netns ? ['-n', this.netns] : []), ...this.args, '-force', '-batch', '-'];
    const child = spawn('ip', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.resume(); // drain: output of show commands is not read here
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => this.onStderr(d));
    child.stdin.on('error', () => undefined); // reported through 'exit'
    child.on('error', (e) => this.fail(`cannot start ip: ${e.message}`));
    child.on('exit', (code, sig) => this.fail(`ip shell of ${this.netns ?? 'root'} exited (${sig ?? code})`));
    return this;
  }

  /** Apply one line; resolves when ip has processed it (never rejects for ip errors: see ok). */
  run(line: string): Promise<IpResult> {
    if (/[\n\r]/.test(line)) throw new PmipError(ErrorCodes.runtime, `ip shell: one line at a time, got ${JSON.stringify(line)}`);
    if (!this.child) this.start();
    const tStartNs = process.hrtime.bigint();
    if (this.exited) return Promise.resolve({ line, ok: false, error: this.exited, tStartNs, tEndNs: tStartNs });
    const seq = ++this.seq;
    return new Promise((resolve) => {
      const stdin = this.child?.stdin;
      // an idle shell gets the line at once; while lines are in flight, those of
      // one event-loop turn leave in one pipe write (a busy LMA binds many per turn)
      if (stdin && !this.corked && this.pending.length > 0) {
        this.corked = true;
        stdin.cork();
        setImmediate(() => {
          this.corked = false;
          stdin.uncork();
        });
      }
      this.pending.push({ line, seq, tStartNs, resolve });
      stdin?.write(`${line}\n_m${seq}\n`);
    });
  }

  /** Several lines written at once (one pipe write), each with its own result. */
  runAll(lines: string[]): Promise<IpResult[]> {
    return Promise.all(lines.map((l) => this.run(l)));
  }

  /** Like runAll, but throws a PmipError naming the first failing line. */
  async apply(lines: string[]): Promise<IpResult[]> {
    const rs = await this.runAll(lines);
    const bad = rs.find((r) => !r.ok);
    if (bad) {
      throw new PmipError(ErrorCodes.runtime, `ip -n ${this.netns ?? '(root)'}: '${bad.line}' failed: ${bad.error ?? ''}`);
    }
    return rs;
  }

  async close(): Promise<void> {
    const c = this.child;
    if (!c || this.exited) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.stdin.end();
    });
  }

  private onStderr(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) {
      if (this.skipFailed && FAILED_RE.test(l)) {
        this.skipFailed = false; // the marker's own "Command failed"
        continue;
      }
      const m = MARK_RE.exec(l);
      if (m) {
        this.skipFailed = true;
        const p = this.pending.shift();
        if (p) {
          const errs = this.errLines.filter((e) => !FAILED_RE.test(e));
          const failed = this.errLines.some((e) => FAILED_RE.test(e));
          p.resolve({
            line: p.line,
            ok: !failed,
            ...(failed ? { error: errs.join(' ').trim() || 'failed' } : {}),
            tStartNs: p.tStartNs,
            tEndNs: process.hrtime.bigint(),
          });
        }
        this.errLines = [];
        continue;
      }
      this.errLines.push(l);
    }
  }

  private fail(why: string): void {
    this.exited ??= why;
    const now = process.hrtime.bigint();
    for (const p of this.pending.splice(0)) p.resolve({ line: p.line, ok: false, error: why, tStartNs: p.tStartNs, tEndNs: now });
  }
}
