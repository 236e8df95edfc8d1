import pino, { type Logger } from 'pino';

// One JSON log per node per run (runs/<id>/logs/<node>.log). Asynchronous
// writes keep the event loop free; flush() must run before exit or the tail
// of the log is lost. Every line carries tNs (CLOCK_MONOTONIC, shared by all
// namespaces) so logs of different nodes merge into one timeline.

export interface NodeLog {
  log: Logger;
  /** Write out what is buffered and close the file; bounded by timeoutMs. */
  flush(timeoutMs?: number): Promise<void>;
}

export function createNodeLog(file: string, bindings: Record<string, string>): NodeLog {
  const dest = pino.destination({ dest: file, sync: false, mkdir: true });
  const log = pino({ base: { pid: process.pid, ...bindings }, mixin: () => ({ tNs: process.hrtime.bigint().toString() }) }, dest);
  let flushed: Promise<void> | null = null;
  const flush = (timeoutMs = 2000) =>
    (flushed ??= new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      dest.once('close', done);
      dest.once('error', done);
      dest.end(); // waits for the file to be open, writes the buffer, closes
    }));
  return { log, flush };
}
