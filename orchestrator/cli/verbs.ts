import type { Command } from 'commander';
import { cleanupCommand } from './cleanup.js';
import { graphCommand } from './graph.js';
import { mhCommand } from './mh.js';
import { validateCommand } from './validate.js';

// One file per verb; each exports a factory returning its commander Command.
// Register them here (one import and one list entry per verb).
export const verbs: Array<() => Command> = [
  validateCommand,
  graphCommand,
  cleanupCommand,
  mhCommand,
];
