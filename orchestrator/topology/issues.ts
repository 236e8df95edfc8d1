import type { z } from 'zod';

// One problem found in a topology file: where (a path into the document) and
// what. load.ts adds the file name and line:column; tests assert on both.

export type PathSeg = string | number;
export interface Issue {
  path: PathSeg[];
  message: string;
  /** point at the map key itself (a bad or unknown name), not at its value */
  atKey?: boolean;
}

const PLAIN_KEY = /^[A-Za-z0-9_$-]+$/;

/** `topology.links[3].endpoints[1]`, `topology.nodes.mn1.interfaces.wlan0.att` */
export function formatPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || '(document)';
}

type ZodIssue = z.core.$ZodIssue;

/** zod issues as Issues with messages a user can act on, one per problem. */
export function fromZodIssues(issues: readonly ZodIssue[], prefix: PathSeg[] = []): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...(issue.path as PathSeg[])];
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) out.push({ path: [...path, key], message: 'unknown field', atKey: true });
        break;
      case 'invalid_key':
        for (const inner of issue.issues) out.push({ path, message: `invalid name: ${inner.message}`, atKey: true });
        break;
      case 'invalid_union': {
        if (issue.discriminator !== undefined || issue.errors.length === 0) {
          const options = (issue as { options?: unknown[] }).options;
          const list = Array.isArray(options) ? options.map(String).join(', ') : '';
          out.push({ path, message: list ? `must be one of: ${list}` : issue.message });
          break;
        }
        // Every branch failed: if all failed on the type itself, say which types
        // would do; otherwise report the branch that got furthest.
        const rootTypes = issue.errors.every((e) => e.length === 1 && e[0]?.code === 'invalid_type' && e[0].path.length === 0);
        if (rootTypes) {
          const expected = issue.errors.map((e) => (e[0] as { expected?: string }).expected ?? '?');
          out.push({ path, message: describeType(expected.join(' or '), issue.input) });
          break;
        }
        const depth = (e: readonly ZodIssue[]) => Math.max(...e.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 1)));
        const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0] ?? [];
        out.push(...fromZodIssues(best, path));
        break;
      }
      case 'invalid_type':
        out.push({ path, message: describeType(issue.expected, issue.input, issue.message) });
        break;
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}

function describeType(expected: string, input: unknown, fallback?: string): string {
  if (input === undefined && (fallback === undefined || /received undefined/.test(fallback))) {
    return `required field is missing (expected ${expected})`;
  }
  if (fallback && input === undefined) return fallback.replace(/^Invalid input: /, '');
  const got = input === null ? 'null' : Array.isArray(input) ? 'array' : typeof input;
  return `expected ${expected}, got ${got}`;
}
