import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { buildNative } from './native/build.js';

// Build step (npm run build, after tsc): the node runtime as one minified
// CommonJS file, dist/nodes/runtime/node.bundle.cjs, which the launcher
// starts in every namespace. Measured per node process against the tsc
// output (dist/nodes/runtime/main.js, still there to run a node by hand):
// - one file, no module resolution, minified: about -60 ms CPU to ready;
// - CommonJS, not ESM: Node 20 then skips its ESM loader (-10 to -15 ms, -1 MB);
// - zod's locales left out: zod re-exports them all as `z.locales`, which
//   esbuild cannot shake; nodes only use the English messages, which zod
//   imports on its own (-7 MB RSS).
// Run: node dist/nodes/runtime/build-bundle.js

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BUNDLE = path.join(root, 'dist', 'nodes', 'runtime', 'node.bundle.cjs');

const noZodLocales: Plugin = {
  name: 'no-zod-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) =>
      a.importer.includes(`${path.sep}node_modules${path.sep}zod${path.sep}`) ? { path: 'zod-locales', namespace: 'empty' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

/** One kind's roles registry: the bundle then holds only that role's code (less to parse and keep per process). */
const onlyRole = (kind: string): Plugin => ({
  name: `only-${kind}`,
  setup(b) {
    b.onResolve({ filter: /^\.\/roles\.js$/ }, (a) => (a.importer.endsWith(`runtime${path.sep}node.ts`) ? { path: kind, namespace: 'roles' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'roles' }, (a) => ({
      contents: `export const roles = { ${a.path}: () => import(${JSON.stringify(path.join(root, 'nodes', a.path, 'role.ts'))}).then((m) => m.createRole()) };`,
      loader: 'ts',
      resolveDir: path.join(root, 'nodes', 'runtime'),
    }));
  },
});

const common: BuildOptions = {
  entryPoints: [path.join(root, 'nodes', 'runtime', 'main.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  sourcemap: true, // a file next to it; used only with node --enable-source-maps
  // native addons (dist/native/rawsock.node) stay a runtime require
  external: ['*.node'],
  // import.meta.url (createRequire in raw-socket.ts and resp.ts) as in ESM
  define: { 'import.meta.url': '__importMetaUrl' },
  // "use strict" first: after the banner, esbuild's own directive would not count
  banner: { js: '"use strict";const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: 'warning',
};

/** dist/nodes/runtime/node-<kind>.bundle.cjs: what the launcher starts for a node of that kind. */
export const kindBundle = (kind: string) => path.join(root, 'dist', 'nodes', 'runtime', `node-${kind}.bundle.cjs`);

// the raw socket addon (nodes/runtime/native/rawsock.cc) first: the bundles load it at run time
buildNative(root);
// every role (to run any kind by hand), then one per kind (what the launcher uses)
await build({ ...common, outfile: BUNDLE, plugins: [noZodLocales] });
await Promise.all(['lma', 'mag', 'mn', 'cn'].map((k) => build({ ...common, outfile: kindBundle(k), plugins: [noZodLocales, onlyRole(k)] })));
