import { describe, expect, it } from 'vitest';
import { renderSvg } from '../../../orchestrator/cli/graph.js';
import { whichTool } from '../../../orchestrator/system/tools.js';
import { planToDot } from '../../../orchestrator/topology/graph.js';
import { loadTopology } from '../../../orchestrator/topology/load.js';
import { planTopology } from '../../../orchestrator/topology/planner.js';

describe.each(['topologies/handover-basic.yaml', 'topologies/sample-domain.yaml'])('graph of %s', (file) => {
  const plan = planTopology(loadTopology(file), file, 'g1');
  const dot = planToDot(plan);

  it('contains every node and every link with its kind and interface names', () => {
    expect(dot.startsWith(`graph "${plan.name}" {`)).toBe(true);
    for (const n of plan.nodes) expect(dot).toMatch(new RegExp(`^  "${n.name}" \\[`, 'm'));
    for (const l of plan.links) {
      expect(dot).toContain(`${l.id} ${l.kind}`);
      for (const e of l.endpoints) {
        expect(dot).toMatch(new RegExp(`"${e.node}".*(tail|head)label="${e.iface}"|(tail|head)label="${e.iface}".*`));
      }
    }
    const edges = dot.split('\n').filter((l) => l.includes(' -- '));
    const expected = plan.links.reduce((s, l) => s + (l.endpoints.length === 2 ? 1 : l.endpoints.length), 0);
    expect(edges).toHaveLength(expected);
  });

  it.runIf(whichTool('dot'))('renders to SVG with graphviz', async () => {
    const svg = await renderSvg(dot);
    expect(svg).toContain('<svg');
    for (const n of plan.nodes) expect(svg).toContain(n.name);
  });
});
