import { describe, expect, it } from 'vitest';
import { RULE_BASE, SourceRouting, TABLE_BASE } from '../../../nodes/mn/source-routing.js';

const A1 = '2001:db8:a:1:70:6cff:fe00:3ee';
const A2 = '2001:db8:a:2:70:6cff:fe00:3ef';

describe('SourceRouting', () => {
  it('gives each interface its table with the RA router and a rule per address, route before rule', () => {
    const sr = new SourceRouting([{ name: 'wlan0', index: 0 }, { name: 'lte0', index: 1 }]);
    expect(sr.table('lte0')).toBe(TABLE_BASE + 1);
    expect(sr.update('wlan0', { up: true, addresses: [] })).toEqual([]); // no address yet: nothing to route from
    expect(sr.update('wlan0', { up: true, addresses: [A1.toUpperCase()] })).toEqual([
      `route replace default via fe80::1 dev wlan0 table ${TABLE_BASE}`,
      `rule add pref ${RULE_BASE} from ${A1}/128 lookup ${TABLE_BASE}`,
    ]);
    expect(sr.update('wlan0', { up: true, addresses: [A1] })).toEqual([]); // no change, no lines
    expect(sr.update('lte0', { up: true, addresses: [A2] })).toEqual([
      `route replace default via fe80::1 dev lte0 table ${TABLE_BASE + 1}`,
      `rule add pref ${RULE_BASE + 1} from ${A2}/128 lookup ${TABLE_BASE + 1}`,
    ]);
    // a prefix moved away (seed 001 prefix transfer): its rule goes, the other stays
    expect(sr.update('wlan0', { up: true, addresses: [] })).toEqual([`rule del pref ${RULE_BASE} from ${A1}/128 lookup ${TABLE_BASE}`]);
    // the shared prefix on both interfaces: the same /64, one address each, each its own rule
    expect(sr.update('wlan0', { up: true, addresses: ['2001:db8:a:2::99'] })).toEqual([`rule add pref ${RULE_BASE} from 2001:db8:a:2::99/128 lookup ${TABLE_BASE}`]);
    expect(sr.snapshot()).toEqual({
      wlan0: { table: TABLE_BASE, addresses: ['2001:db8:a:2::99'], routed: true },
      lte0: { table: TABLE_BASE + 1, addresses: [A2], routed: true },
    });
  });

  it('puts the route back after an admin down (the kernel removed it) or a failed attempt', () => {
    const sr = new SourceRouting([{ name: 'wlan0', index: 0 }], 'fe80::9');
    sr.update('wlan0', { up: true, addresses: [A1] });
    expect(sr.update('wlan0', { up: false, addresses: [A1] })).toEqual([]);
    expect(sr.update('wlan0', { up: true, addresses: [A1] })).toEqual([`route replace default via fe80::9 dev wlan0 table ${TABLE_BASE}`]);
    sr.routeFailed('wlan0');
    expect(sr.update('wlan0', { up: true, addresses: [A1] })).toHaveLength(1);
    expect(sr.update('eth9', { up: true, addresses: [A1] })).toEqual([]); // not an interface of the MN
    expect(sr.reset()).toEqual([`rule flush pref ${RULE_BASE}`, `route flush table ${TABLE_BASE}`]);
  });
});
