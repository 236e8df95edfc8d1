import type { LinkKind, NodeKind } from './plan.js';
import { ATT_NUMBERS, type MnInterface, type TopologyFile } from './schema.js';

// Small lookups shared by checks.ts, scenario.ts and planner.ts: how an
// endpoint splits, what kind a link is, which LMA a MAG uses. They assume
// nothing has been validated yet and return undefined/null when unsure.

export interface EndpointName {
  node: string;
  iface: string;
}

export function parseEndpoint(ref: string): EndpointName {
  const i = ref.indexOf(':');
  return i < 0 ? { node: ref, iface: '' } : { node: ref.slice(0, i), iface: ref.slice(i + 1) };
}

/** Link ids are 1-based in file order: links[0] is "l1" (and its /64 is subnet 1 of its pool). */
export const linkId = (index: number) => `l${index + 1}`;

/** A shared segment's bridge lives in namespace pl<run>-br-<link id>; no node may take that name. */
export const bridgeNodeName = (index: number) => `br-${linkId(index)}`;

/** An access link's air segment (l2Move bridge) lives in namespace pl<run>-air<k>, k = link number; no node may take that name. */
export const airNodeName = (index: number) => `air${index + 1}`;

/** mn-mag access, mag/lma-only backhaul, lma-cn core; null when the kinds make no sense together. */
export function inferLinkKind(kinds: readonly NodeKind[]): LinkKind | null {
  const set = new Set(kinds);
  const only = (...allowed: NodeKind[]) => [...set].every((k) => allowed.includes(k));
  if (set.has('mn')) return only('mn', 'mag') && set.has('mag') ? 'access' : null;
  if (set.has('cn')) return only('cn', 'lma') && set.has('lma') ? 'core' : null;
  if (only('mag', 'lma')) return 'backhaul';
  return null;
}

/** The RFC 5213 ATT number of an interface; YAML reads `802.11` as a float, so accept that too. */
export function attNumber(att: MnInterface['att']): number | null {
  if (typeof att === 'string') return ATT_NUMBERS[att];
  if (Number.isInteger(att)) return att >= 1 && att <= 255 ? att : null;
  const byName = (ATT_NUMBERS as Record<string, number>)[String(att)];
  return byName ?? null;
}

export const lmaNames = (file: TopologyFile) =>
  Object.entries(file.topology.nodes)
    .filter(([, n]) => n.kind === 'lma')
    .map(([name]) => name);

/** The LMA a MAG registers with: its `lma`, else the only LMA of the file. */
export function magLma(file: TopologyFile, mag: string): string | undefined {
  const node = file.topology.nodes[mag];
  if (node?.kind !== 'mag') return undefined;
  if (node.lma) return node.lma;
  const lmas = lmaNames(file);
  return lmas.length === 1 ? lmas[0] : undefined;
}

export const defaultMnId = (name: string) => `${name}@pmiplab.example`;

export interface ResolvedLink {
  index: number;
  id: string;
  kind: LinkKind;
  endpoints: EndpointName[];
}

/** Links with kinds filled in; only meaningful on a file that passed the checks. */
export function resolveLinks(file: TopologyFile): ResolvedLink[] {
  return file.topology.links.map((link, index) => {
    const endpoints = link.endpoints.map(parseEndpoint);
    const kinds = endpoints.map((e) => file.topology.nodes[e.node]?.kind).filter((k): k is NodeKind => !!k);
    const kind = link.kind ?? inferLinkKind(kinds) ?? 'backhaul';
    return { index, id: linkId(index), kind, endpoints };
  });
}
