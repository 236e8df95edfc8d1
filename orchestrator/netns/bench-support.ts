import type { Plan } from '../topology/plan.js';
import { jobScript } from './batch.js';
import { planScript } from './script.js';

// For the bring-up benchmark: the exact text buildNetwork runs for a plan, so
// a bare `ip -batch` can be timed side by side with buildNetwork.

export interface BareBatches {
  /** stdin of `ip -batch -` in the root namespace */
  root: string;
  /** per namespace: stdin of `ip -n <netns> -batch -` (addresses, links up, routes) */
  perNs: Array<{ netns: string; ip: string; sysctlsAndTc?: string }>;
  /** stdin of `ip -force -batch -` removing it all */
  teardown: string;
}

export function bareBatches(plan: Plan): BareBatches {
  const s = planScript(plan, { netem: false });
  const text = (lines: string[]) => (lines.length ? lines.join('\n') + '\n' : '');
  return {
    root: text(s.root),
    perNs: s.jobs.map((j) => ({
      netns: j.netns,
      ip: text(j.ipLines),
      // what buildNetwork runs through `nsenter --net=... sh -c` when a node has sysctls or shaping
      ...(j.sysctls.length || j.tcLines.length ? { sysctlsAndTc: jobScript(j) } : {}),
    })),
    teardown: text(s.teardown),
  };
}
