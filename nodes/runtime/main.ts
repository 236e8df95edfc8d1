#!/usr/bin/env node
import { parseNodeArgs } from './args.js';
import { ExitCode, runNode } from './node.js';

// Entry of every node process, started by the launcher as
// `ip netns exec <ns> node node.bundle.cjs --run ... --pmiplab-run=<id>`
// (this file bundled by build-bundle.ts); dist/nodes/runtime/main.js is the
// same entry unbundled, to run a node by hand. Bad arguments go to stderr
// (the launcher points it at the node's log).

const parsed = parseNodeArgs(process.argv.slice(2));
if (!parsed.ok) {
  process.stderr.write(`pmiplab node: bad arguments\n${parsed.message}\n`);
  process.exit(ExitCode.badStart);
}
// No top-level await (the bundle is CommonJS): runNode handles its own
// failures; anything it misses reaches its unhandledRejection handler.
void runNode(parsed.args, (code) => process.exit(code));
