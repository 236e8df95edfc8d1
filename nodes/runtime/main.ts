#!/usr/bin/env node
import { parseNodeArgs } from './args.js';
import { ExitCode, runNode } from './node.js';

// Entry of every node process (dist/nodes/runtime/main.js), started by the
// launcher as `ip netns exec <ns> node main.js --run ... --pmiplab-run=<id>`.
// Bad arguments go to stderr (the launcher points it at the node's log).

const parsed = parseNodeArgs(process.argv.slice(2));
if (!parsed.ok) {
  process.stderr.write(`pmiplab node: bad arguments\n${parsed.message}\n`);
  process.exit(ExitCode.badStart);
}
await runNode(parsed.args, (code) => process.exit(code));
