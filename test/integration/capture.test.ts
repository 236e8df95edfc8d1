import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTargets, startCapture } from '../../orchestrator/launch/capture.js';
import { runPaths } from '../../orchestrator/run/paths.js';
import { isRoot, whichTool } from '../../orchestrator/system/tools.js';
import { Plan } from '../../orchestrator/topology/plan.js';

const root = isRoot();
if (!root) console.warn('capture integration tests skipped: they need root (network namespaces)');

const A = 'plh5c-a';
const B = 'plh5c-b';
const ip = (...args: string[]) => execFileSync('ip', args);

const plan = Plan.parse({
  version: 1, runId: 'plh5c1', name: 'capture-test', source: '/dev/null',
  pools: { backhaul: '2001:db8:b::/48', hnp: '2001:db8:1::/48', cn: '2001:db8:c::/48' },
  nodes: [
    { name: 'a', kind: 'mag', netns: A, routes: [], sysctls: {}, options: {},
      interfaces: [{ name: 'eth1', ifindex: 10, mac: '02:00:00:00:00:0a', mtu: 1500, addresses: ['2001:db8:ff::a/64'], link: 'l1' }] },
    { name: 'b', kind: 'lma', netns: B, routes: [], sysctls: {}, options: {},
      interfaces: [{ name: 'eth1', ifindex: 11, mac: '02:00:00:00:00:0b', mtu: 1500, addresses: ['2001:db8:ff::b/64'], link: 'l1' }] },
  ],
  links: [{ id: 'l1', kind: 'backhaul', mtu: 1500, endpoints: [{ node: 'a', iface: 'eth1' }, { node: 'b', iface: 'eth1' }] }],
  scenario: [],
});

describe.skipIf(!root || !whichTool('tcpdump'))('capture (root)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'plh5-'));
    ip('netns', 'add', A);
    ip('netns', 'add', B);
    ip('link', 'add', 'plh5c-va', 'netns', A, 'type', 'veth', 'peer', 'plh5c-vb', 'netns', B);
    for (const [ns, dev, addr] of [[A, 'plh5c-va', '2001:db8:ff::a/64'], [B, 'plh5c-vb', '2001:db8:ff::b/64']] as const) {
      ip('-n', ns, 'link', 'set', dev, 'name', 'eth1');
      ip('-n', ns, 'addr', 'add', addr, 'dev', 'eth1', 'nodad');
      ip('-n', ns, 'link', 'set', 'eth1', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  });
  afterAll(() => {
    for (const ns of [A, B]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // not created
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('checks targets against the plan', () => {
    expect(resolveTargets(plan, 'all')).toHaveLength(2);
    expect(resolveTargets(plan, [{ node: 'a', iface: 'lo' }])).toEqual([{ node: 'a', iface: 'lo', netns: A }]);
    expect(() => resolveTargets(plan, [{ node: 'zz', iface: 'eth1' }])).toThrow(/no node 'zz'/);
    expect(() => resolveTargets(plan, [{ node: 'a', iface: 'eth9' }])).toThrow(/no interface 'eth9'/);
  });

  it('captures a ping6 over a veth and on lo into non-empty pcaps', async () => {
    const paths = runPaths('plh5c1', dir);
    const caps = await startCapture(plan, paths, [...resolveTargets(plan, 'all'), { node: 'a', iface: 'lo' }]);
    expect(caps.handles).toHaveLength(3);
    const cmd = execFileSync('ps', ['-o', 'args=', '-p', String(caps.handles[0]?.pid)], { encoding: 'utf8' });
    expect(cmd).toContain(paths.pcaps); // the run folder is in tcpdump's argv
    execFileSync('ip', ['netns', 'exec', A, 'ping', '-6', '-c', '3', '-i', '0.2', '-W', '1', '2001:db8:ff::b']);
    execFileSync('ip', ['netns', 'exec', A, 'ping', '-6', '-c', '2', '-i', '0.2', '::1']);
    const counts = await Promise.all(caps.handles.map((h) => h.stop()));
    for (const h of caps.handles) expect(statSync(h.file).size).toBeGreaterThan(24 + 3 * 16); // header + packets
    expect(counts.every((c) => (c.packets ?? 0) >= 3)).toBe(true);
    if (whichTool('tshark')) {
      const out = execFileSync('tshark', ['-r', path.join(paths.pcaps, 'b-eth1.pcap'), '-Y', 'icmpv6.type == 128'], { encoding: 'utf8' });
      expect(out.trim().split('\n').length).toBe(3);
    }
  });

  it('fails clearly when the interface does not exist in the namespace', async () => {
    const bad = Plan.parse({ ...plan, nodes: [{ ...plan.nodes[0], interfaces: [{ ...plan.nodes[0]?.interfaces[0], name: 'eth7' }] }] });
    await expect(startCapture(bad, runPaths('plh5c2', dir), 'all')).rejects.toThrow(/tcpdump on a:eth7 exited/);
  });
});
