// Tear a run down whatever ends the orchestrator: Ctrl-C, SIGTERM, an
// uncaught error. As Mininet's bin/mn calls cleanup on any exception; a second
// Ctrl-C while tearing down is ignored so teardown is never cut in half.

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export interface Guard {
  /** stop guarding (the run was torn down normally, or handed over) */
  release(): void;
}

export function guardTeardown(
  label: string,
  teardown: () => Promise<void>,
  say: (msg: string) => void = (m) => process.stderr.write(`${m}\n`),
): Guard {
  let running = false;
  const finish = async (why: string, code: number) => {
    if (running) {
      say(`pmiplab: still tearing down ${label}, please wait`);
      return;
    }
    running = true;
    say(`pmiplab: ${why}: tearing down ${label}`);
    try {
      await teardown();
    } catch (err) {
      say(`pmiplab: teardown of ${label} failed: ${(err as Error).message}; run 'pmiplab cleanup'`);
      code = code || 1;
    }
    process.exit(code);
  };
  const onSignal = (sig: NodeJS.Signals) => void finish(`${sig}`, SIGNAL_EXIT[sig] ?? 1);
  const onError = (err: unknown) => {
    say(`pmiplab: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void finish('uncaught error', 1);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    release() {
      for (const s of signals) process.off(s, onSignal);
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}
