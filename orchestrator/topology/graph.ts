import type { NodeKind, Plan, PlanLink } from './plan.js';

// The plan as a Graphviz DOT graph: nodes shaped and coloured by kind, links
// labelled with their id, kind and subnet, interface names at each end. A
// shared segment is drawn as a small hub node the endpoints connect to.

const NODE_STYLE: Record<NodeKind, string> = {
  lma: 'shape=doubleoctagon, fillcolor="#f4a261"',
  mag: 'shape=box, style="rounded,filled", fillcolor="#8ecae6"',
  mn: 'shape=ellipse, fillcolor="#b7e4c7"',
  cn: 'shape=component, fillcolor="#e9c46a"',
};

const LINK_STYLE: Record<PlanLink['kind'], string> = {
  access: 'style=dashed, color="#2a9d8f"',
  backhaul: 'penwidth=2, color="#264653"',
  core: 'color="#e76f51"',
};

/** Rows from top to bottom: CNs, LMAs, MAGs, MNs. */
const LAYER: Record<NodeKind, number> = { cn: 0, lma: 1, mag: 2, mn: 3 };

/** Quote a DOT id or label (newlines become DOT line breaks). */
const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

export function planToDot(plan: Plan): string {
  const out: string[] = [];
  out.push(`graph ${q(plan.name)} {`);
  out.push('  graph [rankdir=TB, fontname="Helvetica", labelloc=t, label=' + q(`${plan.name} (pmiplab)`) + '];');
  out.push('  node [style=filled, fontname="Helvetica", fontsize=11];');
  out.push('  edge [fontname="Helvetica", fontsize=9];');
  for (const node of plan.nodes) {
    const label = [node.name, node.kind.toUpperCase(), ...node.interfaces.flatMap((i) => i.addresses.filter((a) => !a.startsWith('fe80')))];
    out.push(`  ${q(node.name)} [${NODE_STYLE[node.kind]}, label=${q(label.join('\n'))}];`);
  }
  // Keep the domain's layers on their own rows: LMAs, MAGs, MNs; CNs above the LMAs.
  for (const kind of ['cn', 'lma', 'mag', 'mn'] as const) {
    const names = plan.nodes.filter((n) => n.kind === kind).map((n) => q(n.name));
    if (names.length > 1) out.push(`  { rank=same; ${names.join('; ')}; }`);
  }
  for (const link of plan.links) {
    const extras = [link.rate, link.delayMs !== undefined ? `${link.delayMs}ms` : undefined, link.lossPct !== undefined ? `${link.lossPct}%` : undefined]
      .filter(Boolean)
      .join(' ');
    const label = [`${link.id} ${link.kind}`, link.subnet, extras].filter(Boolean).join('\n');
    const style = LINK_STYLE[link.kind];
    // Edge direction sets the rank in dot: draw every edge from the upper layer down.
    const kindOf = (node: string) => plan.nodes.find((n) => n.name === node)?.kind ?? 'mn';
    const [a, b] = [...link.endpoints].sort((x, y) => LAYER[kindOf(x.node)] - LAYER[kindOf(y.node)]);
    if (link.endpoints.length === 2 && a && b) {
      out.push(`  ${q(a.node)} -- ${q(b.node)} [${style}, label=${q(label)}, taillabel=${q(a.iface)}, headlabel=${q(b.iface)}];`);
      continue;
    }
    const hub = `${link.id}-segment`;
    out.push(`  ${q(hub)} [shape=point, width=0.15, xlabel=${q(label)}];`);
    for (const e of link.endpoints) {
      const edge = LAYER[kindOf(e.node)] <= LAYER.lma ? `${q(e.node)} -- ${q(hub)}` : `${q(hub)} -- ${q(e.node)}`;
      out.push(`  ${edge} [${style}, ${LAYER[kindOf(e.node)] <= LAYER.lma ? 'taillabel' : 'headlabel'}=${q(e.iface)}];`);
    }
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
