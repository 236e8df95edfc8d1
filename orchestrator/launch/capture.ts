import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { badInput, ErrorCodes, PmipError } from '../errors.js';
import type { RunPaths } from '../run/paths.js';
import { requireTool } from '../system/tools.js';
import type { Plan } from '../topology/plan.js';
import { killGroup } from './proc.js';

// One tcpdump per (node, interface), inside the node's namespace, writing
// runs/<id>/pcaps/<node>-<iface>.pcap (the run folder in its argv lets a
// cleanup find it). --immediate-mode + -U put each packet in the file at once
// (without immediate mode libpcap holds packets in a ring block for up to 1 s
// and a SIGINT loses them: "8 received by filter, 0 captured"); -s 0 keeps whole packets;
// -Z root because Debian's tcpdump otherwise drops to user tcpdump, which may
// not write into a root-owned run folder. Each tcpdump is its own process
// group so a terminal Ctrl-C does not cut the capture before the lab stops it.

export interface CaptureTarget {
  node: string;
  iface: string;
}

export interface CaptureHandle extends CaptureTarget {
  pid: number;
  file: string;
  /** SIGINT (tcpdump finishes the file), then SIGKILL after timeoutMs; packets as tcpdump counted them. */
  stop(timeoutMs?: number): Promise<{ packets: number | null }>;
}

export interface Captures {
  handles: CaptureHandle[];
  stopAll(timeoutMs?: number): Promise<void>;
}

/** Targets named by the user, checked against the plan; 'all' = every interface of every node. */
export function resolveTargets(plan: Plan, targets: CaptureTarget[] | 'all'): Array<CaptureTarget & { netns: string }> {
  const byName = new Map(plan.nodes.map((n) => [n.name, n]));
  if (targets === 'all') return plan.nodes.flatMap((n) => n.interfaces.map((i) => ({ node: n.name, iface: i.name, netns: n.netns })));
  return targets.map((t) => {
    const node = byName.get(t.node);
    if (!node) throw badInput(`capture: no node '${t.node}' in the plan`, `nodes: ${[...byName.keys()].join(', ')}`);
    // lo is in every namespace without being in the plan
    if (t.iface !== 'lo' && !node.interfaces.some((i) => i.name === t.iface)) {
      throw badInput(`capture: node '${t.node}' has no interface '${t.iface}'`, `interfaces: ${['lo', ...node.interfaces.map((i) => i.name)].join(', ')}`);
    }
    return { ...t, netns: node.netns };
  });
}

export async function startCapture(
  plan: Plan,
  paths: RunPaths,
  targets: CaptureTarget[] | 'all',
  opts: { timeoutMs?: number } = {},
): Promise<Captures> {
  const ip = requireTool('ip');
  const tcpdump = requireTool('tcpdump');
  const list = resolveTargets(plan, targets);
  mkdirSync(paths.pcaps, { recursive: true });
  const started = await Promise.allSettled(list.map((t) => startOne(ip, tcpdump, paths, t, opts.timeoutMs ?? 5000)));
  const handles = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(handles.map((h) => h.stop()));
    throw failed.reason;
  }
  return { handles, stopAll: async (ms) => void (await Promise.all(handles.map((h) => h.stop(ms)))) };
}

function startOne(
  ip: string,
  tcpdump: string,
  paths: RunPaths,
  t: CaptureTarget & { netns: string },
  timeoutMs: number,
): Promise<CaptureHandle> {
  const file = path.join(paths.pcaps, `${t.node}-${t.iface}.pcap`);
  const sub = execa(ip, ['netns', 'exec', t.netns, tcpdump, '-i', t.iface, '-U', '--immediate-mode', '-s', '0', '-n', '-Z', 'root', '-w', file], {
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    detached: true,
    cleanup: false,
    reject: false,
    buffer: false,
  });
  const pid = sub.pid;
  let stderr = '';
  sub.stderr?.setEncoding('utf8');
  sub.stderr?.on('data', (d: string) => {
    stderr += d;
  });
  const exited = sub.then((r) => r);
  const what = `tcpdump on ${t.node}:${t.iface}`;

  return new Promise<CaptureHandle>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (pid) killGroup(pid, 'SIGKILL');
      reject(new PmipError(ErrorCodes.timeout, `${what} did not start capturing within ${timeoutMs} ms`, undefined, { stderr }));
    }, timeoutMs);
    const onData = () => {
      if (!stderr.includes('listening on')) return;
      clearTimeout(timer);
      sub.stderr?.off('data', onData);
      resolve(handle);
    };
    sub.stderr?.on('data', onData);
    void exited.then((r) => {
      clearTimeout(timer);
      reject(new PmipError(ErrorCodes.runtime, `${what} exited (code ${r.exitCode ?? r.signal}): ${stderr.trim()}`, 'is the namespace and interface there?'));
    });
    let stopping: Promise<{ packets: number | null }> | null = null;
    const handle: CaptureHandle = {
      node: t.node,
      iface: t.iface,
      pid: pid ?? -1,
      file,
      stop: (ms = 3000) =>
        (stopping ??= (async () => {
          if (pid) killGroup(pid, 'SIGINT');
          const kill = setTimeout(() => pid && killGroup(pid, 'SIGKILL'), ms);
          await exited;
          clearTimeout(kill);
          const m = /(\d+) packets? captured/.exec(stderr);
          return { packets: m?.[1] ? Number(m[1]) : null };
        })()),
    };
  });
}
