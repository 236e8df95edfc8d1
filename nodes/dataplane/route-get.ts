import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ErrorCodes, PmipError } from '../contract/errors.js';

const run = promisify(execFile);

export interface RouteTo {
  dev: string;
  src?: string;
}

/** Parse one line of `ip -6 -o route get ADDR`. */
export function parseRouteGet(text: string): RouteTo | null {
  const dev = /\bdev (\S+)/.exec(text)?.[1];
  if (!dev) return null;
  const src = /\bsrc (\S+)/.exec(text)?.[1];
  return src ? { dev, src } : { dev };
}

/** The device (and source) the kernel would use toward addr; asked once per peer (a new ip process: ~2 ms). */
export async function routeGet(netns: string | null, addr: string): Promise<RouteTo> {
  const argv = [...(netns ? ['-n', netns] : []), '-6', '-o', 'route', 'get', addr];
  let out: string;
  try {
    out = (await run('ip', argv)).stdout;
  } catch (e) {
    throw new PmipError(ErrorCodes.runtime, `data plane: no route toward ${addr}: ${(e as Error).message.trim()}`);
  }
  const r = parseRouteGet(out);
  if (!r) throw new PmipError(ErrorCodes.runtime, `data plane: cannot read the route toward ${addr} from '${out.trim()}'`);
  return r;
}
