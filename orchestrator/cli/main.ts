#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { PmipError } from '../errors.js';
import { isOutputGone } from '../lab/guard.js';
import { verbs } from './verbs.js';

// The only place that turns results and errors into an exit code:
// 0 success, 1 runtime failure, 2 bad input.
async function main(argv: string[]): Promise<number> {
  const program = new Command('pmiplab')
    .description('Proxy Mobile IPv6 testbed on Linux network namespaces')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });
  for (const make of verbs) program.addCommand(make());
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
    return 2; // commander already printed the usage problem
  }
  if (err instanceof PmipError) {
    process.stderr.write(`pmiplab: ${err.message}\n`);
    if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`pmiplab: ${e.stack ?? e.message}\n`);
  return 1;
}

// A reader that went away (`pmiplab ls | head -1`, a caller that exited) loses
// the output, not the command: its outcome and exit code stand.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (err) => {
    if (!isOutputGone(err)) throw err;
  });
}

main(process.argv).then(
  (code) => process.exit(code),
  (err) => process.exit(reportError(err)),
);
