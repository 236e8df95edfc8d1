import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../../../orchestrator/topology/load.js';
import { Plan, planView } from '../../../orchestrator/topology/plan.js';
import { planTopology } from '../../../orchestrator/topology/planner.js';

const file = path.resolve(import.meta.dirname, '../../../topologies/handover-basic.yaml');
const plan = planTopology(loadTopology(file), file, 'pv1');
const names = (p: Plan) => p.nodes.map((n) => n.name).sort();

describe('planView: what one node process reads', () => {
  it('holds the node, the links it is on and the nodes on those links (standby MAGs too)', () => {
    expect(names(planView(plan, 'cn1'))).toEqual(['cn1', 'lma1']);
    expect(names(planView(plan, 'lma1'))).toEqual(['cn1', 'lma1', 'mag1', 'mag2']);
    // mn1's access link starts on mag1; mag2 has a standby interface on it (bridge mode)
    expect(names(planView(plan, 'mn1'))).toEqual(['mag1', 'mag2', 'mn1']);
    expect(names(planView(plan, 'mag2'))).toEqual(['lma1', 'mag1', 'mag2', 'mn1']);
    expect(planView(plan, 'cn1').links.map((l) => l.id)).toEqual(['l3']);
  });

  it('is still a valid Plan and keeps run id, pools, settings and scenario', () => {
    const v = Plan.parse(planView(plan, 'mag1'));
    expect(v.runId).toBe('pv1');
    expect(v.pools).toEqual(plan.pools);
    expect(v.scenario).toEqual(plan.scenario);
  });

  it('refuses a node that is not in the plan', () => {
    expect(() => planView(plan, 'nope')).toThrow(/no node 'nope'/);
  });
});
