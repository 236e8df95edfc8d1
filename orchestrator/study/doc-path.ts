import { formatPath, type PathSeg } from '../topology/issues.js';

// Paths into an experiment document as the loader prints them
// (`topology.links[0].signaling.delay`, `topology.nodes.mag1.options.lifetimeS`,
// `scenario[2].action.rate`, `x["odd.key"]`), parsed and applied to the
// document as written (before defaults), so a sweep changes what a person
// would edit by hand.

export class PathError extends Error {}

const SEG = /^(?:\.?([A-Za-z0-9_$-]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;

export function parsePath(text: string): PathSeg[] {
  const out: PathSeg[] = [];
  let rest = text.trim();
  if (!rest) throw new PathError('empty path');
  while (rest) {
    const m = SEG.exec(rest);
    if (!m || (out.length === 0 && rest.startsWith('.'))) throw new PathError(`cannot read the path at "${rest}" (write it as a.b[0].c)`);
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3] as string) as string);
    rest = rest.slice(m[0].length);
  }
  return out;
}

export { formatPath };

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Set `value` at `path` in `doc` (mutated). A list index must exist (a sweep
 * changes steps and links, it does not add them); a missing field of a map
 * is created (e.g. `signaling` on a link that has none), and the schema
 * check that follows refuses a field the format does not have. A map whose
 * keys are names (topology.nodes, an MN's interfaces) gets no new entry: a
 * name that is not there is an unknown path.
 */
export function setPath(doc: unknown, path: PathSeg[], value: unknown): void {
  if (!path.length) throw new PathError('empty path');
  let node: unknown = doc;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] as PathSeg;
    const last = i === path.length - 1;
    const here = formatPath(path.slice(0, i)) ;
    if (Array.isArray(node)) {
      if (typeof seg !== 'number') throw new PathError(`${here} is a list: index it with [n], not .${seg}`);
      if (seg >= node.length) throw new PathError(`${here} has ${node.length} entries: no [${seg}]`);
      if (last) node[seg] = value;
      else node = node[seg];
    } else if (isMap(node)) {
      if (typeof seg === 'number') throw new PathError(`${here} is a map, not a list: no [${seg}]`);
      if (!(seg in node)) {
        if (NAMED_MAPS.some((m) => matches(path.slice(0, i), m))) {
          const names = Object.keys(node);
          throw new PathError(`${here} has no '${seg}' (it has ${names.join(', ') || 'nothing'})`);
        }
        if (!last) node[seg] = {};
      }
      if (last) node[seg] = value;
      else node = node[seg];
    } else {
      throw new PathError(`${here || '(document)'} is a ${node === null ? 'null' : typeof node} value: no ${formatPath([seg])} in it`);
    }
  }
}

/** Maps keyed by names (creating an entry would invent a node or an interface). */
const NAMED_MAPS: Array<Array<PathSeg | '*'>> = [['topology', 'nodes'], ['topology', 'nodes', '*', 'interfaces']];
const matches = (p: PathSeg[], pattern: Array<PathSeg | '*'>) => p.length === pattern.length && pattern.every((s, i) => s === '*' || s === p[i]);

export function getPath(doc: unknown, path: PathSeg[]): unknown {
  let node: unknown = doc;
  for (const seg of path) {
    if (Array.isArray(node) && typeof seg === 'number') node = node[seg];
    else if (isMap(node) && typeof seg === 'string') node = node[seg];
    else return undefined;
  }
  return node;
}
