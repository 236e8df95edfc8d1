import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { badInput, ErrorCodes, PmipError } from '../errors.js';
import { listNetns } from '../netns/index.js';
import { nsPrefix, RUN_ID_RE, runPaths } from '../run/paths.js';
import { readState } from '../netns/index.js';

// Run ids are short (they go into every namespace name) and never reused while
// anything of an earlier run with the same id is left.

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomId(len = 4): string {
  const bytes = randomBytes(len);
  let id = '';
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return id;
}

function inUse(id: string): string | null {
  const prefix = nsPrefix(id);
  const ns = [...listNetns()].find((n) => n.startsWith(prefix));
  if (ns) return `namespace ${ns} exists`;
  const state = readState(id);
  if (state && !state.cleanedAt) return `runs/${id}/state.json lists a run that was not torn down`;
  return null;
}

/** The id for a new run: the one asked for (checked) or a fresh random one. */
export function chooseRunId(asked?: string): string {
  if (asked !== undefined) {
    if (!RUN_ID_RE.test(asked)) throw badInput(`run id '${asked}' is not 1-8 characters of [a-z0-9]`);
    const why = inUse(asked);
    if (why) {
      throw new PmipError(ErrorCodes.runtime, `run id '${asked}' is in use: ${why}`, `pmiplab down ${asked} or pmiplab cleanup --run ${asked}`);
    }
    return asked;
  }
  for (let i = 0; i < 100; i++) {
    const id = randomId();
    if (!/^[0-9]/.test(id) && !inUse(id) && !existsSync(runPaths(id).dir)) return id;
  }
  throw new PmipError(ErrorCodes.runtime, 'could not find a free run id');
}
