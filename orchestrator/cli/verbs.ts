import type { Command } from 'commander';
import { captureCommand } from './capture.js';
import { cleanupCommand } from './cleanup.js';
import { downCommand } from './down.js';
import { execCommand } from './exec.js';
import { inspectCommand } from './inspect.js';
import { lsCommand } from './ls.js';
import { linkCommand, moveCommand } from './move.js';
import { upCommand } from './up.js';
import { runCommand } from './run.js';
import { graphCommand } from './graph.js';
import { mhCommand } from './mh.js';
import { reportCommand } from './report.js';
import { validateCommand } from './validate.js';
import { sweepCommand } from './sweep.js';
import { compareCommand } from './compare.js';
import { rerunCommand } from './rerun.js';
import { ladderCommand } from './ladder.js';

// One file per verb; each exports a factory returning its commander Command.
// Register them here (one import and one list entry per verb).
export const verbs: Array<() => Command> = [
  runCommand,
  upCommand,
  downCommand,
  lsCommand,
  inspectCommand,
  execCommand,
  captureCommand,
  moveCommand,
  linkCommand,
  validateCommand,
  graphCommand,
  cleanupCommand,
  mhCommand,
  reportCommand,
  sweepCommand,
  compareCommand,
  rerunCommand,
  ladderCommand,
];
