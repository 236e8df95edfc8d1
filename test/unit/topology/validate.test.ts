import { describe, expect, it } from 'vitest';
import { describePlan, loadPlan } from '../../../orchestrator/cli/validate.js';

describe('pmiplab validate output', () => {
  it('says ok with counts and prints the address plan', () => {
    const out = describePlan(loadPlan('topologies/handover-basic.yaml'));
    const lines = out.split('\n');
    expect(lines[0]).toBe('ok: 5 nodes, 4 links, 14 scenario steps');
    expect(out).toMatch(/^mag1 +mag +acc0 +\d+ +02:00:00:00:00:01 +1500 +l4 +fe80::1\/64$/m);
    expect(out).toMatch(/^l1 +backhaul +mag1:eth0 lma1:eth1 +2001:db8:b:1::\/64 +1600/m);
    expect(out).toContain('cn1: default via 2001:db8:c:3::1 dev eth0');
  });
});
