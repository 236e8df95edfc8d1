import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { badInput } from '../errors.js';
import { checkTopology } from './checks.js';
import { formatPath, fromZodIssues, type Issue, type PathSeg } from './issues.js';
import { TopologyFile } from './schema.js';

// File -> validated TopologyFile, or one PmipError (bad-input) listing every
// problem as `file:line:col: path: what is wrong`. Nothing is built from a
// file that fails here.

export function loadTopology(file: string): TopologyFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw badInput(`${file}: cannot read the topology file (${code ?? String(err)})`);
  }
  return parseTopology(text, file);
}

/** Validate YAML text; `source` names it in messages. */
export function parseTopology(text: string, source: string): TopologyFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `${source}:${line}:${col}`;
  };

  if (doc.errors.length > 0) {
    const msgs = doc.errors.map((e) => {
      if (e.code !== 'DUPLICATE_KEY') return `${where(e.pos[0])}: YAML syntax error: ${e.message}`;
      const path = keyPathAt(doc.contents, e.pos[0]);
      const key = path?.[path.length - 1] ?? text.slice(e.pos[0]).split(/[:\n]/)[0]?.trim();
      return `${where(e.pos[0])}: ${path ? `${formatPath(path)}: ` : ''}duplicate key "${key}": names must be unique`;
    });
    throw report(source, msgs, { yamlErrors: doc.errors.map((e) => e.code) });
  }

  const parsed = TopologyFile.safeParse(doc.toJS() ?? {}, { reportInput: true });
  const issues: Issue[] = parsed.success ? checkTopology(parsed.data) : fromZodIssues(parsed.error.issues);
  if (issues.length === 0 && parsed.success) return parsed.data;

  const msgs = issues.map((i) => {
    const off = locate(doc, i);
    return `${off === undefined ? source : where(off)}: ${formatPath(i.path)}: ${i.message}`;
  });
  throw report(source, msgs, { issues });
}

function report(source: string, msgs: string[], context: Record<string, unknown>) {
  const head = msgs.length === 1 ? '' : `${source}: ${msgs.length} problems\n`;
  return badInput(`${head}${msgs.join('\n')}`, 'see the topology format in topologies/README.md; editors complete it from topologies/topology.schema.json', context);
}

/** Offset of the YAML node an issue points at: the deepest one of its path that exists. */
function locate(doc: Document, issue: Issue): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  issue.path.forEach((seg, i) => {
    if (node === undefined) return;
    const last = i === issue.path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return (node = undefined);
      const keyOff = rangeStart(pair.key);
      const valOff = rangeStart(pair.value);
      offset = (last && issue.atKey) || valOff === undefined ? keyOff ?? offset : valOff;
      node = pair.value ?? undefined;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return (node = undefined);
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      node = undefined;
    }
  });
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as YamlNode | null | undefined)?.range;
  return range ? range[0] : undefined;
}

/** Path of the map key that starts at `offset` (the second of two duplicate keys). */
function keyPathAt(node: unknown, offset: number, path: PathSeg[] = []): PathSeg[] | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      if (rangeStart(pair.key) === offset) return [...path, key];
      const found = keyPathAt(pair.value, offset, [...path, key]);
      if (found) return found;
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const found = keyPathAt(item, offset, [...path, i]);
      if (found) return found;
    }
  }
  return undefined;
}
