// Progress of long steps on the terminal (stderr, so stdout stays parseable).
// On a terminal a step's counter rewrites one line; elsewhere (CI, pipes) each
// step prints one line when it ends, so logs stay short.

export interface Progress {
  step(name: string): StepHandle;
  info(message: string): void;
}

export interface StepHandle {
  update(done: number, total: number, detail?: string): void;
  done(detail?: string): void;
  fail(detail?: string): void;
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): Progress {
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  const write = (s: string) => {
    if (!quiet) stream.write(s);
  };
  return {
    info: (message) => write(`${message}\n`),
    step(name) {
      const t0 = performance.now();
      const secs = () => ((performance.now() - t0) / 1000).toFixed(2);
      let open = false;
      return {
        update(done, total, detail) {
          if (!tty) return;
          open = true;
          write(`\r\x1b[2K  ${name} ${done}/${total}${detail ? ` ${detail}` : ''}`);
        },
        done(detail) {
          write(`${open ? '\r\x1b[2K' : ''}  ✓ ${name} (${secs()} s)${detail ? ` ${detail}` : ''}\n`);
        },
        fail(detail) {
          write(`${open ? '\r\x1b[2K' : ''}  ✗ ${name} (${secs()} s)${detail ? `: ${detail}` : ''}\n`);
        },
      };
    },
  };
}

export const silentProgress: Progress = {
  info: () => undefined,
  step: () => ({ update: () => undefined, done: () => undefined, fail: () => undefined }),
};

/** Render rows as an aligned text table (first row is the header). */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const [head, ...body] = rows;
  if (!head) return '';
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
