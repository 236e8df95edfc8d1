import { describe, expect, it } from 'vitest';
import { loadTopology, parseTopology } from '../../../orchestrator/topology/load.js';
import { planTopology } from '../../../orchestrator/topology/planner.js';
import { policyFromPlan } from '../../../orchestrator/policy/seed.js';
import { allPrefixes, magAllowed, sessionPrefixes } from '../../../nodes/runtime/policy-store.js';

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
        mags: ['*'],
        interfaces: [{ iface: 'wlan0', llId: plan.nodes.find((n) => n.name === 'mn1')!.interfaces[0]!.mac, att: 4, prefixes: [] }],
      },
    ]);
    expect(magAllowed(seed.mns[0]!, 'mag2')).toBe(true);
    expect(magAllowed({ ...seed.mns[0]!, mags: ['mag1'] }, 'mag2')).toBe(false);
  });
});

describe('policy store seed: one profile entry per MN interface (seed 001)', () => {
  const text = (wlan: string, lte: string) => `name: mi
topology:
  nodes:
    lma1: { kind: lma }
    mag1: { kind: mag }
    mag2: { kind: mag }
    mn1:
      kind: mn
      interfaces:
        wlan0: ${wlan}
        lte0: ${lte}
  links:
    - endpoints: ["mag1:eth0", "lma1:eth1"]
    - endpoints: ["mag2:eth0", "lma1:eth2"]
    - endpoints: ["mn1:wlan0", "mag1:acc0"]
    - endpoints: ["mn1:lte0", "mag2:acc0"]
`;

  it('ties each fixed prefix to its interface, and a shared or dormant interface to the one it shares with', () => {
    const plan = planTopology(parseTopology(text('{ att: "802.11", hnp: "2001:db8:a:7::/64" }', '{ att: e-utran, shareWith: wlan0, dormant: true }'), 'mi.yaml'), '/x', 't2');
    const [mn] = policyFromPlan(plan).mns;
    expect(mn!.interfaces).toEqual([
      expect.objectContaining({ iface: 'wlan0', prefixes: ['2001:db8:a:7::/64'] }),
      expect.objectContaining({ iface: 'lte0', prefixes: [], shareWith: 'wlan0', dormant: true }),
    ]);
    const [wlan, lte] = mn!.interfaces;
    expect(sessionPrefixes(mn!, wlan!.llId.toUpperCase())).toEqual(['2001:db8:a:7::/64']);
    expect(sessionPrefixes(mn!, lte!.llId)).toEqual(['2001:db8:a:7::/64']);
    expect(sessionPrefixes(mn!, '02:99:99:99:99:99')).toEqual([]);
    expect(allPrefixes(mn!)).toEqual(['2001:db8:a:7::/64']);
  });

  it('gives a second interface without a fixed prefix nothing of the first one', () => {
    const plan = planTopology(parseTopology(text('{ att: "802.11", hnp: "2001:db8:a:7::/64" }', '{ att: e-utran }'), 'mi.yaml'), '/x', 't3');
    const [mn] = policyFromPlan(plan).mns;
    expect(sessionPrefixes(mn!, mn!.interfaces[1]!.llId)).toEqual([]);
  });

  it.each([
    ['{ att: "802.11" }', '{ att: e-utran, shareWith: wlan0 }', /lte0.shareWith: interface "wlan0" needs a fixed hnp/],
    ['{ att: "802.11", hnp: "2001:db8:a:7::/64" }', '{ att: e-utran, shareWith: eth9 }', /lte0.shareWith: "eth9" is not an interface of this MN/],
    ['{ att: "802.11", hnp: "2001:db8:a:7::/64" }', '{ att: e-utran, shareWith: lte0 }', /lte0.shareWith: an interface cannot share its own prefix/],
    ['{ att: "802.11", hnp: "2001:db8:a:7::/64" }', '{ att: e-utran, dormant: true }', /lte0.dormant: a dormant binding backs up another interface/],
    ['{ att: "802.11", hnp: "2001:db8:a:7::/64" }', '{ att: e-utran, shareWith: wlan0, hnp: "2001:db8:a:8::/64" }', /lte0.hnp: an interface that shares/],
  ])('refuses a bad sharing: %s / %s', (wlan, lte, message) => {
    expect(() => parseTopology(text(wlan, lte), 'mi.yaml')).toThrow(message);
  });
});
