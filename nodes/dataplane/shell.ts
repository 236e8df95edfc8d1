import type { Logger } from 'pino';
import { ErrorCodes, PmipError } from '../contract/errors.js';
import { IpShell, type IpResult } from '../runtime/ip-shell.js';
import type { Applied, DataPlaneCounters } from './types.js';

// One long-lived `ip -6 -force -batch -` per node (kernel.md: ~0.2 ms per
// change). Each call sends its lines in one write and resolves when ip has
// processed the last one. Idempotence: an `add` of what exists or a `del` of
// what is gone is the state we wanted, counted as tolerated, not an error.

export interface Line {
  cmd: string;
  /** 'exists': EEXIST is fine (add of present state); 'missing': ENOENT/ESRCH is fine (delete). */
  ok?: 'exists' | 'missing';
}

const EXISTS_RE = /File exists/;
const SHELL_GONE_RE = /^ip shell of .* exited|^cannot start ip/;
const MISSING_RE = /No such file or directory|No such process|Cannot find device|not found/i;

export class DataPlaneShell {
  readonly counters: DataPlaneCounters = { changes: 0, failures: 0, tolerated: 0 };
  private shell: IpShell;
  private closed = false;

  constructor(
    readonly netns: string | null,
    private readonly log: Logger,
  ) {
    this.shell = new IpShell(netns, ['-6']).start();
  }

  /** The lines' results; a shell that died (killed ip) is replaced once and the lines sent again. */
  private async run(cmds: string[]): Promise<IpResult[]> {
    const rs = await this.shell.runAll(cmds);
    const gone = rs.find((r) => !r.ok && SHELL_GONE_RE.test(r.error ?? ''));
    if (!gone || this.closed) return rs;
    this.log.warn({ error: gone.error }, 'data plane: ip shell gone, starting a new one');
    this.shell = new IpShell(this.netns, ['-6']).start();
    return this.shell.runAll(cmds); // every line is idempotent (replace, or add/del with tolerance)
  }

  /** quiet: failures are expected answers (probes), not worth a warning */
  async apply(lines: Line[], quiet = false): Promise<Applied> {
    const tStartNs = process.hrtime.bigint();
    const rs = await this.run(lines.map((l) => l.cmd));
    let failure: IpResult | undefined;
    rs.forEach((r, i) => {
      if (r.ok) {
        this.counters.changes++;
        return;
      }
      const want = lines[i]?.ok;
      const msg = r.error ?? '';
      if ((want === 'exists' && EXISTS_RE.test(msg)) || (want === 'missing' && MISSING_RE.test(msg))) {
        this.counters.tolerated++;
        return;
      }
      this.counters.failures++;
      failure ??= r;
    });
    if (failure) {
      if (!quiet) this.log.warn({ line: failure.line, error: failure.error }, 'data plane: ip line failed');
      throw new PmipError(ErrorCodes.runtime, `data plane (${this.netns ?? 'this namespace'}): 'ip -6 ${failure.line}' failed: ${failure.error ?? ''}`);
    }
    return { tStartNs, tEndNs: rs.at(-1)?.tEndNs ?? process.hrtime.bigint() };
  }

  close(): Promise<void> {
    this.closed = true;
    return this.shell.close();
  }
}
