import { describe, expect, it } from 'vitest';
import { ip6tnlReleaseLines, tunnelName } from '../../../nodes/dataplane/ip6tnl.js';
import { ROUTE_TABLE, RULE_PREF } from '../../../nodes/dataplane/kernel-numbers.js';
import { PeerRefs } from '../../../nodes/dataplane/peer-refs.js';
import { PrefixQueue } from '../../../nodes/dataplane/prefix-queue.js';
import { seg6InitLines, seg6MultipathLines } from '../../../nodes/dataplane/seg6.js';

const A = '2001:db8:b:1::1';
const B = '2001:db8:b:2::1';

describe('per-peer tunnels with a reference count', () => {
  it('a peer is released when its last prefix moves away or goes, not before', () => {
    const r = new PeerRefs();
    expect(r.set('p1', [A])).toEqual([]);
    expect(r.set('p2', [A])).toEqual([]);
    expect(r.count(A)).toBe(2);
    expect(r.set('p1', [B])).toEqual([]); // A still has p2
    expect(r.set('p2', [])).toEqual([A]);
    expect(r.count(A)).toBe(0);
    // a shared prefix holds both; dropping one next hop releases only that one
    expect(r.set('p3', [A, B])).toEqual([]);
    expect(r.set('p1', [])).toEqual([]);
    expect(r.set('p3', [A])).toEqual([B]);
  });

  it('releasing an ip6tnl device is one idempotent delete', () => {
    expect(ip6tnlReleaseLines(tunnelName(A))).toEqual([{ cmd: `link del ${tunnelName(A)}`, ok: 'missing' }]);
  });
});

describe('one table of rule preferences and routing tables', () => {
  it('the seg6 recipe takes its numbers from it, and none collides', () => {
    const prefs = Object.values(RULE_PREF);
    expect(new Set(prefs).size).toBe(prefs.length);
    // the MAG's uplink tables (100, 101, ...) and the MN's (101 + k) overlap in number, but live in different namespaces
    const { mnSourceBase: _mn, ...sameNamespace } = ROUTE_TABLE;
    expect(new Set(Object.values(sameNamespace)).size).toBe(Object.values(sameNamespace).length);
    const lines = seg6InitLines('lma', [A], 'eth0').map((l) => l.cmd);
    expect(lines).toContain(`rule add pref ${RULE_PREF.decap} to ${A}/128 ipproto 41 lookup ${ROUTE_TABLE.decap}`);
    expect(lines).toContain(`rule add pref ${RULE_PREF.local} lookup local`);
  });
});

describe('multipath route lines (seed 001 section 3)', () => {
  it('a seg6 next hop per MAG, each with its gateway (the kernel wants one)', () => {
    expect(seg6MultipathLines('2001:db8:a:1::/64', [{ pCoA: A, dev: 'eth0' }, { pCoA: B, dev: 'eth1' }])).toEqual([
      {
        cmd: `route replace 2001:db8:a:1::/64 nexthop via ${A} encap seg6 mode encap.red segs ${A} dev eth0 nexthop via ${B} encap seg6 mode encap.red segs ${B} dev eth1`,
      },
    ]);
  });
});

describe('kernel changes of one prefix in order (PrefixQueue)', () => {
  it('a change that waits for a lookup runs after the one before it; a direct one starts at once', async () => {
    const q = new PrefixQueue();
    const log: string[] = [];
    let release: () => void = () => undefined;
    const slow = new Promise<void>((r) => (release = r));
    const first = q.run('p', async () => {
      log.push('first start');
      await slow;
      log.push('first end');
    }, true);
    const second = q.run('p', async () => void log.push('second'), false); // waits
    const direct = q.run('p', async () => void log.push('direct'), true); // starts now
    const other = q.run('q', async () => void log.push('other prefix'), false);
    await other;
    expect(log).toEqual(['first start', 'direct', 'other prefix']);
    expect(q.busy('p')).toBe(true);
    release();
    await Promise.all([first, second, direct]);
    expect(log).toEqual(['first start', 'direct', 'other prefix', 'first end', 'second']);
    await q.drain();
    expect(q.busy('p')).toBe(false);
  });
});
