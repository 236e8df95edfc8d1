import { describe, expect, it } from 'vitest';
import { HnpPool } from '../../../nodes/lma/hnp-pool.js';
import { isAllZero, normalizePrefix, Subnets64 } from '../../../nodes/lma/prefix.js';

describe('LMA prefixes', () => {
  it('normalises CIDR text (host bits cleared, RFC 5952) and refuses what is not a prefix', () => {
    expect(normalizePrefix('2001:DB8:0:1:0::5/64')).toBe('2001:db8:0:1::/64');
    expect(normalizePrefix('2001:db8:a:1:ffff::/63')).toBe('2001:db8:a::/63');
    expect(normalizePrefix('::/0')).toBe('::/0');
    for (const bad of ['2001:db8::', '2001:db8::/129', 'x/64', '2001:db8::/6a', '10.0.0.0/8']) expect(normalizePrefix(bad)).toBeNull();
    expect(isAllZero('::')).toBe(true);
    expect(isAllZero('::1')).toBe(false);
  });

  it('numbers the /64 subnets of a pool, carrying across octets', () => {
    const s = new Subnets64('2001:db8:a::/48');
    expect(s.count).toBe(65536);
    expect(s.at(0)).toBe('2001:db8:a::/64');
    expect(s.at(1)).toBe('2001:db8:a:1::/64');
    expect(s.at(256)).toBe('2001:db8:a:100::/64');
    expect(s.at(65535)).toBe('2001:db8:a:ffff::/64');
    expect(() => s.at(65536)).toThrow(RangeError);
    const wide = new Subnets64('2001:db8::/32');
    expect(wide.at(65536 + 2)).toBe('2001:db8:1:2::/64');
    expect(new Subnets64('2001:db8::/80').count).toBe(0);
  });

  it('allocates from the top of the pool down, never twice, skipping prefixes claimed as fixed', () => {
    const pool = new HnpPool('2001:db8:a::/62'); // 4 subnets
    expect(pool.claim('2001:db8:a:2::/64', 'fixed@x')).toBe(true);
    expect(pool.allocate('a@x')).toBe('2001:db8:a:3::/64');
    expect(pool.allocate('b@x')).toBe('2001:db8:a:1::/64');
    expect(pool.allocate('c@x')).toBe('2001:db8:a::/64');
    expect(pool.allocate('d@x')).toBeNull();
    expect(pool.claim('2001:db8:a:3::/64', 'z@x')).toBe(false);
    const again = new HnpPool('2001:db8:a::/62');
    again.restore(pool.cursor, pool.owners);
    expect(again.allocate('e@x')).toBeNull();
  });
});
