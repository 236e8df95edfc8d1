// Tear a run down whatever ends the orchestrator: Ctrl-C, SIGTERM, an
// uncaught error. As Mininet's bin/mn calls cleanup on any exception; a second
// Ctrl-C while tearing down is ignored so teardown is never cut in half.

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export interface Guard {
  /** stop guarding (the run was torn down normally, or handed over) */
  release(): void;
}

/**
 * An error from writing to our own stdout or stderr: the reader went away (a
 * closed pipe, a parent that exited). Output is lost; the run is not at fault.
 */
export function isOutputGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'EIO';
}

export function guardTeardown(
  label: string,
  teardown: () => Promise<void>,
  say?: (msg: string) => void,
): Guard {
  let running = false;
  // Once stderr's reader is gone, nothing more is written to it. Without this,
  // a write to a broken pipe raised EPIPE as an uncaught exception, whose
  // report was another write, another EPIPE... (a `pmiplab up` whose caller
  // had exited spun at 100% CPU for minutes and never finished).
  let stderrGone = false;
  const tell =
    say ??
    ((m: string) => {
      if (stderrGone || !process.stderr.writable) return;
      try {
        process.stderr.write(`${m}\n`);
      } catch {
        stderrGone = true;
      }
    });
  const finish = async (why: string, code: number) => {
    if (running) {
      tell(`pmiplab: still tearing down ${label}, please wait`);
      return;
    }
    running = true;
    tell(`pmiplab: ${why}: tearing down ${label}`);
    try {
      await teardown();
    } catch (err) {
      tell(`pmiplab: teardown of ${label} failed: ${(err as Error).message}; run 'pmiplab cleanup'`);
      code = code || 1;
    }
    process.exit(code);
  };
  const onSignal = (sig: NodeJS.Signals) => void finish(`${sig}`, SIGNAL_EXIT[sig] ?? 1);
  const onError = (err: unknown) => {
    if (isOutputGone(err)) return; // a stream without its own 'error' listener: output lost, the run goes on
    tell(`pmiplab: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void finish('uncaught error', 1);
  };
  // With a listener, a broken stdout or stderr is an event here, not an uncaught exception.
  const onStdoutError = () => undefined;
  const onStderrError = () => {
    stderrGone = true;
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  process.stdout.on('error', onStdoutError);
  process.stderr.on('error', onStderrError);
  return {
    release() {
      for (const s of signals) process.off(s, onSignal);
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
      process.stdout.off('error', onStdoutError);
      process.stderr.off('error', onStderrError);
    },
  };
}
