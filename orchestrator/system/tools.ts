import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { ErrorCodes, PmipError } from '../errors.js';

// Which Debian package provides each external tool pmiplab runs.
const PACKAGE_OF: Record<string, string> = {
  ip: 'iproute2',
  tc: 'iproute2',
  bridge: 'iproute2',
  'redis-server': 'redis-server',
  'redis-cli': 'redis-tools',
  tcpdump: 'tcpdump',
  tshark: 'tshark',
  iperf3: 'iperf3',
  ping: 'iputils-ping',
  nft: 'nftables',
  dot: 'graphviz',
};

const found = new Map<string, string | null>();

/** Absolute path of a tool on PATH (plus the sbin dirs), or null. Cached. */
export function whichTool(name: string): string | null {
  const hit = found.get(name);
  if (hit !== undefined) return hit;
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  let result: string | null = null;
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      result = candidate;
      break;
    } catch {
      // not here
    }
  }
  found.set(name, result);
  return result;
}

/** Path of a required tool; a clear error naming the package when it is missing. */
export function requireTool(name: string): string {
  const p = whichTool(name);
  if (p) return p;
  const pkg = PACKAGE_OF[name] ?? name;
  throw new PmipError(ErrorCodes.missingTool, `'${name}' is not installed`, `apt-get install ${pkg}`);
}

export function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new PmipError(ErrorCodes.notRoot, `${what} needs root (network namespaces)`, 'run it with sudo');
  }
}

export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
