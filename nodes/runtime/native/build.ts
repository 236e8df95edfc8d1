import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';

// Build step for the project's one native addon, rawsock.cc (raw IPv6
// sockets: close-on-exec, packet info both ways; see the file). One compiler
// call against Node's own headers (Node-API: no node-gyp, no headers to
// download): include/node beside the running node binary, where Debian's
// nodejs and the official tarballs put them. Skipped when the output is newer
// than the source. Called from build-bundle.ts (npm run build).

/** Where the addon lands, from the repository root. */
export const RAWSOCK_RELATIVE = path.join('dist', 'native', 'rawsock.node');

export function buildNative(root: string): string {
  const src = path.join(root, 'nodes', 'runtime', 'native', 'rawsock.cc');
  const out = path.join(root, RAWSOCK_RELATIVE);
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) return out;
  const include = path.resolve(path.dirname(process.execPath), '..', 'include', 'node');
  if (!existsSync(path.join(include, 'node_api.h'))) {
    throw new Error(`native build: no Node headers at ${include} (node_api.h); install Node with its headers`);
  }
  mkdirSync(path.dirname(out), { recursive: true });
  const cxx = process.env.CXX ?? 'g++';
  execFileSync(
    cxx,
    ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-std=c++17', '-DNODE_GYP_MODULE_NAME=rawsock', `-I${include}`, src, '-o', `${out}.tmp`],
    { stdio: 'inherit' },
  );
  // rename: a node starting during the build never loads a half-written file
  renameSync(`${out}.tmp`, out);
  return out;
}
