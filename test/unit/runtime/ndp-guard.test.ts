import { describe, expect, it } from 'vitest';
import { counterPackets, guardRuleset, RS_HOP_LIMIT_COUNTER } from '../../../nodes/runtime/ndp-guard.js';

describe('RS hop limit guard (RFC 4861 6.1.1)', () => {
  it('drops and counts RSs whose hop limit is not 255, on the input hook, replacing an older table in one transaction', () => {
    const r = guardRuleset();
    expect(r).toMatch(/^add table ip6 pmiplab-nd\ndelete table ip6 pmiplab-nd\ntable ip6 pmiplab-nd \{/);
    expect(r).toContain('type filter hook input priority -10; policy accept;');
    expect(r).toContain(`icmpv6 type nd-router-solicit ip6 hoplimit != 255 counter name "${RS_HOP_LIMIT_COUNTER}" drop`);
  });

  it('reads the packets of the named counter from nft -j (as nft 1.0.6 prints it)', () => {
    const out =
      '{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"counter": {"family": "ip6", "name": "rs-hop-limit", "table": "pmiplab-nd", "handle": 2, "packets": 3, "bytes": 144}}]}';
    expect(counterPackets(out)).toBe(3);
    expect(counterPackets(out, 'other')).toBeNull();
    expect(counterPackets('not json')).toBeNull();
    expect(counterPackets('{"nftables": 1}')).toBeNull();
  });
});
