import { describe, expect, it } from 'vitest';
import { loadTopology } from '../../../orchestrator/topology/load.js';
import { planTopology } from '../../../orchestrator/topology/planner.js';
import { policyFromPlan } from '../../../orchestrator/policy/seed.js';
import { magAllowed } from '../../../nodes/runtime/policy-store.js';

describe('policy store seed from a plan', () => {
  it('lists every MAG with its proxy CoA and every MN with its interfaces, pool-allocated by default', () => {
    const plan = planTopology(loadTopology('topologies/handover-basic.yaml'), '/x', 't1');
    const seed = policyFromPlan(plan);
    expect(seed.mags).toEqual([
      { name: 'mag1', address: '2001:db8:b:1::1', lma: 'lma1' },
      { name: 'mag2', address: '2001:db8:b:2::1', lma: 'lma1' },
    ]);
    expect(seed.mns).toEqual([
      {
        mnId: 'mn1@pmiplab.example',
        lma: 'lma1',
        prefixes: [],
        mags: ['*'],
        interfaces: [{ iface: 'wlan0', llId: plan.nodes.find((n) => n.name === 'mn1')!.interfaces[0]!.mac, att: 4 }],
      },
    ]);
    expect(magAllowed(seed.mns[0]!, 'mag2')).toBe(true);
    expect(magAllowed({ ...seed.mns[0]!, mags: ['mag1'] }, 'mag2')).toBe(false);
  });
});
