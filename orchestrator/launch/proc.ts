import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

// Small process helpers shared by the launcher, the capture engine and the
// Redis server module.

/** Settles (never rejects) when an execa subprocess has exited. */
export function exitedPromise(child: PromiseLike<unknown>): Promise<void> {
  return Promise.resolve(child).then(
    () => undefined,
    () => undefined,
  );
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Start time of a process (clock ticks since boot), or null if it does not exist or is a zombie. */
export function procStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: fields start after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return null;
    return rest[19] ?? null; // field 22 overall; rest[0] is field 3
  } catch {
    return null;
  }
}

/** Signal a process group (the launcher starts every child as a group leader); ignores "no such process". */
/** Send a signal to one process; false when it is already gone (no raw ESRCH for a race). */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
      return;
    } catch {
      // not a group leader, or already gone: try the pid itself
    }
  }
}

/** Resident set of a process in MB, from /proc/<pid>/status (VmRSS), or null if it is gone. */
export function rssMbOf(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

/** The last `lines` lines of a file (reads at most its last 8 KiB); [] if missing. */
export function tailFile(file: string, lines: number, maxLine = 300): string[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = statSync(file).size;
    const len = Math.min(size, 8192);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-lines)
      .map((l) => (l.length > maxLine ? `${l.slice(0, maxLine)}...` : l));
  } finally {
    closeSync(fd);
  }
}
