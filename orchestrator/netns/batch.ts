import { ErrorCodes, PmipError } from '../errors.js';
import { whichTool } from '../system/tools.js';
import { execInput } from './exec.js';
import type { NsJob } from './script.js';

// Runs batches and turns ip's "Command failed -:N" into an error naming the
// failing line and ip's own message.

const FAILED_RE = /^Command failed (?:-|\S+):(\d+)$/;

/** First failing line of a batch: its 1-based number and the error text ip printed before it. */
export function firstFailure(stderr: string): { line: number; text: string } | null {
  const text: string[] = [];
  for (const l of stderr.split('\n')) {
    const m = FAILED_RE.exec(l.trim());
    if (m) return { line: Number(m[1]), text: text.join(' ').trim() };
    if (l.trim()) text.push(l.trim());
  }
  return null;
}

export function batchError(what: string, lines: string[], stderr: string, code: number): PmipError {
  const f = firstFailure(stderr);
  if (f) {
    const line = lines[f.line - 1] ?? '?';
    return new PmipError(ErrorCodes.runtime, `${what}: line ${f.line} '${line}' failed: ${f.text || 'no message'}`, undefined, {
      batch: what,
      line,
    });
  }
  return new PmipError(ErrorCodes.runtime, `${what} failed (exit ${code}): ${stderr.trim() || 'no message'}`);
}

/** `ip [args] -batch -` with the lines on stdin; throws a PmipError naming the failing line. */
export async function runIpBatch(args: string[], lines: string[], what: string): Promise<void> {
  if (!lines.length) return;
  const r = await execInput('ip', [...args, '-batch', '-'], lines.join('\n') + '\n');
  if (r.code !== 0) throw batchError(what, lines, r.stderr, r.code);
}

const TC_MARK = '@@pmiplab tc';
const IP_FAIL = '@@pmiplab ip';
const SYSCTL_FAIL = '@@pmiplab sysctl ';
const EOF_MARK = '@@PMIPLAB_EOF';

const shq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The shell script of a namespace job: sysctls with shell builtins, the ip
 * batch from stdin, the tc batch from a here-document. One process chain per
 * namespace instead of one per kind of work (measured: 3.4 ms vs 4.7 ms).
 */
export function jobScript(job: NsJob): string {
  const s = [`w() { printf '%s\\n' "$2" > "/proc/sys/$1" || { echo "${SYSCTL_FAIL}$1" >&2; exit 3; }; }`];
  for (const [p, v] of job.sysctls) s.push(`w ${shq(p)} ${shq(v)}`);
  if (job.ipLines.length) s.push(`ip -batch - || { echo "${IP_FAIL}" >&2; exit 4; }`);
  if (job.tcLines.length) {
    s.push(`echo "${TC_MARK}" >&2`, `tc -batch - <<'${EOF_MARK}' || exit 5`, ...job.tcLines, EOF_MARK);
  }
  return s.join('\n') + '\n';
}

/** Command line that enters a namespace's network stack only (nsenter is lighter than ip netns exec). */
export function enterArgs(netns: string): [string, string[]] {
  if (whichTool('nsenter')) return ['nsenter', [`--net=/run/netns/${netns}`, '--']];
  return ['ip', ['netns', 'exec', netns]];
}

export async function runJob(job: NsJob): Promise<void> {
  const what = `batch of ${job.netns}`;
  if (!job.sysctls.length && !job.tcLines.length) {
    await runIpBatch(['-n', job.netns], job.ipLines, what);
    return;
  }
  const [cmd, pre] = enterArgs(job.netns);
  const input = job.ipLines.length ? job.ipLines.join('\n') + '\n' : '';
  const r = await execInput(cmd, [...pre, 'sh', '-c', jobScript(job)], input);
  if (r.code === 0) return;
  const tcAt = r.stderr.indexOf(TC_MARK);
  if (r.code === 5 && tcAt >= 0) {
    throw batchError(`tc batch of ${job.netns}`, job.tcLines, r.stderr.slice(tcAt + TC_MARK.length), r.code);
  }
  const sys = r.stderr.indexOf(SYSCTL_FAIL);
  if (r.code === 3 && sys >= 0) {
    const key = r.stderr.slice(sys + SYSCTL_FAIL.length).split('\n')[0] ?? '';
    const why = r.stderr.slice(0, sys).trim().split('\n').pop() ?? '';
    throw new PmipError(ErrorCodes.runtime, `sysctls of ${job.netns}: cannot write /proc/sys/${key}: ${why}`);
  }
  throw batchError(what, job.ipLines, r.stderr.replace(IP_FAIL, ''), r.code);
}
