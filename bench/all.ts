// `npm run bench`: every benchmark, one after the other (never side by side:
// they would disturb each other's timings). Each prints its table and writes
// its JSON to bench/results/.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const benches = ['codec.js', 'bringup.js', 'tunnel.js', 'handover.js', 'lma.js', 'pbu-rtt.js', 'report-open.js', 'seed001.js'];
let failed = 0;
for (const b of benches) {
  process.stdout.write(`\n== ${b.replace(/\.js$/, '')}\n`);
  const r = spawnSync(process.execPath, [path.join(here, b)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
