import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceRouting } from '../../nodes/mn/source-routing.js';
import { IpShell } from '../../nodes/runtime/ip-shell.js';
import { isRoot } from '../../orchestrator/system/tools.js';

// Root only, run id h6sr: an MN namespace with two interfaces (wlan0, lte0;
// their peers in two router namespaces), the main table's default route via
// wlan0 only (as when one RA's router is preferred), and the MN role's source
// routing lines applied through its ip shell: the kernel must send from
// lte0's address out of lte0, from wlan0's out of wlan0, and forget a rule
// when its address goes.

const root = isRoot();
if (!root) console.warn('test/integration/mn-source-routing.test.ts skipped: needs root (network namespaces)');

const ns = (n: string) => `plh6sr-${n}`;
const MN = ns('mn');
const A1 = '2001:db8:a:51::2';
const A2 = '2001:db8:a:52::2';
const CN = '2001:db8:c:3::2';
const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
const routeGet = (from: string) => ip('-n', MN, '-6', 'route', 'get', CN, 'from', from);

describe.skipIf(!root)('MN source routing in the kernel', () => {
  let shell: IpShell;
  beforeAll(() => {
    for (const n of ['mn', 'r1', 'r2']) spawnSync('ip', ['netns', 'del', ns(n)]);
    for (const n of ['mn', 'r1', 'r2']) ip('netns', 'add', ns(n));
    ip('link', 'add', 'wlan0', 'index', '3101', 'netns', MN, 'type', 'veth', 'peer', 'name', 'acc0', 'index', '3102', 'netns', ns('r1'));
    ip('link', 'add', 'lte0', 'index', '3103', 'netns', MN, 'type', 'veth', 'peer', 'name', 'acc0', 'index', '3104', 'netns', ns('r2'));
    for (const [n, i] of [[MN, 'wlan0'], [MN, 'lte0'], [ns('r1'), 'acc0'], [ns('r2'), 'acc0']] as const) ip('-n', n, 'link', 'set', i, 'up');
    ip('-n', MN, '-6', 'addr', 'add', `${A1}/64`, 'dev', 'wlan0', 'nodad');
    ip('-n', MN, '-6', 'addr', 'add', `${A2}/64`, 'dev', 'lte0', 'nodad');
    ip('-n', MN, '-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'wlan0');
    shell = new IpShell(MN, ['-6']).start();
  });
  afterAll(async () => {
    await shell?.close();
    for (const n of ['mn', 'r1', 'r2']) spawnSync('ip', ['netns', 'del', ns(n)]);
  });

  it('sends from each interface\'s address out of that interface', async () => {
    // without the policy, lte0's address leaves by wlan0 (where the MAG drops it: not its MN's prefix on that link)
    expect(routeGet(A2)).toMatch(/dev wlan0/);
    const sr = new SourceRouting([{ name: 'wlan0', index: 0 }, { name: 'lte0', index: 1 }]);
    const rs = await shell.runAll([...sr.reset(), ...sr.update('wlan0', { up: true, addresses: [A1] }), ...sr.update('lte0', { up: true, addresses: [A2] })]);
    // reset may find nothing to flush; every other line must apply
    expect(rs.filter((r) => !r.ok && !r.line.includes('flush'))).toEqual([]);
    expect(routeGet(A2)).toMatch(/via fe80::1 dev lte0 table 102/);
    expect(routeGet(A1)).toMatch(/via fe80::1 dev wlan0 table 101/);
    // the address goes (its prefix moved away): its rule goes with it
    const gone = await shell.runAll(sr.update('lte0', { up: true, addresses: [] }));
    expect(gone.every((r) => r.ok)).toBe(true);
    expect(routeGet(A2)).toMatch(/dev wlan0/);
    expect(ip('-n', MN, '-6', 'rule', 'show')).not.toContain(A2);
  });
});
