import { execInput } from './exec.js';

// Whether this kernel has sch_netem. Probed once per process in a throwaway
// network namespace (unshare -n: nothing named is created, nothing to clean).

let probe: Promise<boolean> | undefined;

export function netemAvailable(): Promise<boolean> {
  probe ??= execInput('unshare', ['-n', 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], '').then(
    (r) => r.code === 0,
    () => false,
  );
  return probe;
}
