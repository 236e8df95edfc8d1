import type { BackendName } from './types.js';
import type { DataPlaneShell } from './shell.js';

// Which IPv6-in-IPv6 mechanism this kernel offers, asked of the kernel itself
// in the node's namespace: create a throw-away object and delete it.

const PROBE_TABLE = 4242; // a table nothing else uses; emptied again below

export interface ProbeResult {
  ip6tnl: string | true; // true, or why not (ip's message)
  seg6: string | true;
}

async function tryLines(shell: DataPlaneShell, add: string[], del: string[]): Promise<string | true> {
  try {
    await shell.apply(add.map((cmd) => ({ cmd })), true);
    return true;
  } catch (e) {
    return /failed: (.*)$/.exec((e as Error).message)?.[1] ?? (e as Error).message; // ip's own words
  } finally {
    await shell.apply(del.map((cmd) => ({ cmd, ok: 'missing' as const })), true).catch(() => undefined);
  }
}

export async function probeIp6tnl(shell: DataPlaneShell): Promise<string | true> {
  const name = `plpr${process.pid % 100000}`;
  return tryLines(shell, [`link add name ${name} type ip6tnl mode ip6ip6 local 2001:db8:ffff::1 remote 2001:db8:ffff::2`], [`link del ${name}`]);
}

export async function probeSeg6(shell: DataPlaneShell): Promise<string | true> {
  return tryLines(
    shell,
    [
      `route add 2001:db8:ffff::10/128 encap seg6 mode encap.red segs 2001:db8:ffff::11 dev lo table ${PROBE_TABLE}`,
      `route add 2001:db8:ffff::12/128 encap seg6local action End.DT6 table main dev lo table ${PROBE_TABLE}`,
    ],
    [`route flush table ${PROBE_TABLE}`],
  );
}

export async function chooseBackend(shell: DataPlaneShell, want: 'auto' | BackendName): Promise<{ backend: BackendName | null; probe: Partial<ProbeResult> }> {
  const probe: Partial<ProbeResult> = {};
  if (want !== 'seg6') {
    probe.ip6tnl = await probeIp6tnl(shell);
    if (probe.ip6tnl === true) return { backend: 'ip6tnl', probe };
    if (want === 'ip6tnl') return { backend: null, probe };
  }
  probe.seg6 = await probeSeg6(shell);
  return { backend: probe.seg6 === true ? 'seg6' : null, probe };
}
