import type { BusEvent } from '../../nodes/runtime/bus.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A `waitFor(what, pred, timeoutMs?)` for tests that collect a run's bus
 * events: polls the predicate until it holds, and on time-out names what it
 * waited for with the last events seen (what a failing run was doing).
 */
export function eventWaiter(events: readonly BusEvent[], defaults: { timeoutMs: number; everyMs: number }) {
  return async function waitFor(what: string, pred: () => boolean | Promise<boolean>, timeoutMs = defaults.timeoutMs): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await pred())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last events: ${JSON.stringify(events.slice(-14).map((e) => [e.node, e.type, e.data]))}`);
      await sleep(defaults.everyMs);
    }
  };
}
