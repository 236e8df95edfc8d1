import { describe, expect, it } from 'vitest';
import { ifName, ipv6Address, ipv6Prefix } from '../../../nodes/dataplane/addr.js';
import { tunnelName } from '../../../nodes/dataplane/ip6tnl.js';
import { parseRouteGet } from '../../../nodes/dataplane/route-get.js';
import { magAttachLines, magDetachLines, magDownlinkLines, seg6BindLines, seg6InitLines } from '../../../nodes/dataplane/seg6.js';

describe('seg6 recipe lines (kernel.md)', () => {
  it('init: decapsulation rule before the local table, which moves from pref 0 to 50 (added before the delete)', () => {
    const lines = seg6InitLines('lma', ['2001:db8:b:1::2', '2001:db8:b:2::2'], 'eth1').map((l) => l.cmd);
    expect(lines[0]).toBe('sr tunsrc set ::'); // LMA: source picked per backhaul link
    expect(lines).toContain('rule add pref 10 to 2001:db8:b:2::2/128 ipproto 41 lookup 200');
    expect(lines).toContain('route replace 2001:db8:b:1::2/128 encap seg6local action End.DT6 table main dev eth1 table 200');
    expect(lines.indexOf('rule add pref 50 lookup local')).toBeLessThan(lines.indexOf('rule del pref 0 lookup local'));
    expect(seg6InitLines('mag', ['2001:db8:b:1::1'], 'eth0')[0]?.cmd).toBe('sr tunsrc set 2001:db8:b:1::1');
  });

  it('every add tolerates existing state and every delete missing state (idempotent re-init)', () => {
    for (const l of seg6InitLines('mag', ['2001:db8:b:1::1'], 'eth0')) {
      if (/^rule add/.test(l.cmd)) expect(l.ok).toBe('exists');
      if (/ del /.test(` ${l.cmd}`)) expect(l.ok).toBe('missing');
    }
    expect(magDetachLines('2001:db8:a:1::/64', 'acc0').every((l) => l.ok === 'missing')).toBe(true);
  });

  it('bind is one replace (atomic switch); MAG uplink rule comes after local', () => {
    expect(seg6BindLines('2001:db8:a:1::/64', '2001:db8:b:2::1', 'eth2')).toEqual([
      { cmd: 'route replace 2001:db8:a:1::/64 encap seg6 mode encap.red segs 2001:db8:b:2::1 dev eth2' },
    ]);
    expect(magAttachLines('2001:db8:a:1::/64', 'acc0', 100).map((l) => l.cmd)).toEqual([
      'rule add pref 100 from 2001:db8:a:1::/64 iif acc0 lookup 100',
      'route replace 2001:db8:a:1::/64 dev acc0',
    ]);
    expect(magAttachLines('2001:db8:a:1::/64', 'acc0', 100, [{ dev: 'acc0', via: 'fe80::1' }]).map((l) => l.cmd)[1]).toBe('route replace 2001:db8:a:1::/64 via fe80::1 dev acc0');
    // two links of one MN on this MAG holding the prefix: one multipath route; one leaves, the other's route is written again
    expect(magDownlinkLines('2001:db8:a:1::/64', [{ dev: 'acc0', via: 'fe80::1' }, { dev: 'acc1', via: 'fe80::2' }])).toEqual([
      { cmd: 'route replace 2001:db8:a:1::/64 nexthop via fe80::1 dev acc0 nexthop via fe80::2 dev acc1' },
    ]);
    expect(magDetachLines('2001:db8:a:1::/64', 'acc0', [{ dev: 'acc1', via: 'fe80::2' }]).map((l) => l.cmd)).toEqual([
      'rule del pref 100 from 2001:db8:a:1::/64 iif acc0',
      'route replace 2001:db8:a:1::/64 via fe80::2 dev acc1',
    ]);
  });
});

describe('data plane input checks', () => {
  it('normalises addresses and prefixes', () => {
    expect(ipv6Address('2001:DB8:0:0::1', 'x')).toBe('2001:db8::1');
    expect(ipv6Prefix('2001:db8:a:1::5/64', 'x')).toBe('2001:db8:a:1::/64');
  });
  it('refuses text that would change an ip line', () => {
    expect(() => ipv6Prefix('2001:db8::/64 dev lo', 'HNP')).toThrow(/HNP/);
    expect(() => ipv6Prefix('10.0.0.0/8', 'HNP')).toThrow(/IPv6/);
    expect(() => ipv6Address('2001:db8::1 table 5', 'pCoA')).toThrow(/pCoA/);
    expect(() => ifName('acc0 table 5', 'iface')).toThrow();
    expect(() => ifName('a'.repeat(16), 'iface')).toThrow();
  });
  it('ip6tnl device names are stable per peer and fit IFNAMSIZ', () => {
    expect(tunnelName('2001:db8:b:1::1')).toBe(tunnelName('2001:db8:b:1::1'));
    expect(tunnelName('2001:db8:b:1::1')).not.toBe(tunnelName('2001:db8:b:2::1'));
    expect(tunnelName('2001:db8:b:1::1')).toMatch(/^pt[0-9a-f]{8}$/);
  });
  it('reads ip route get', () => {
    expect(parseRouteGet('2001:db8:b:2::1 from :: dev eth2 proto kernel src 2001:db8:b:2::2 metric 256 pref medium')).toEqual({ dev: 'eth2', src: '2001:db8:b:2::2' });
    expect(parseRouteGet('unreachable')).toBeNull();
  });
});
