import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

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

await build({
  entryPoints: [path.join(root, 'nodes', 'runtime', 'main.ts')],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  sourcemap: true, // a file next to it; used only with node --enable-source-maps
  // native addons (raw-socket) stay a runtime require from node_modules
  external: ['*.node'],
  // import.meta.url (createRequire in raw-socket.ts and resp.ts) as in ESM
  define: { 'import.meta.url': '__importMetaUrl' },
  // "use strict" first: after the banner, esbuild's own directive would not count
  banner: { js: '"use strict";const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [noZodLocales],
  logLevel: 'warning',
});
