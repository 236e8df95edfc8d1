import { describe, expect, it } from 'vitest';
import { parseAddressLine, parseLinkLine } from '../../../nodes/runtime/link-monitor.js';

// Lines as iproute2 6.1 prints them with -o (captured from `ip -o monitor link address`).
describe('link monitor line parsing', () => {
  it('reads carrier and admin state of a veth end', () => {
    const noCarrier = parseLinkLine('3: va@vb: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default \\    link/ether ba:cb:c2:5d:ab:78 brd ff:ff:ff:ff:ff:ff');
    expect(noCarrier).toMatchObject({ ifname: 'va', ifindex: 3, up: true, carrier: false, deleted: false });
    const up = parseLinkLine('3: va@vb: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default');
    expect(up).toMatchObject({ ifname: 'va', up: true, carrier: true });
    const down = parseLinkLine('2: vb@va: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default');
    expect(down).toMatchObject({ ifname: 'vb', up: false, carrier: false });
    expect(parseLinkLine('Deleted 2: vb@va: <BROADCAST,MULTICAST> mtu 1500')).toMatchObject({ ifname: 'vb', deleted: true });
    expect(parseLinkLine('1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN')).toMatchObject({ ifname: 'lo', up: false });
  });

  it('reads addresses, scope, tentative and deletions', () => {
    const a = parseAddressLine('3: va    inet6 2001:DB8:1::1/64 scope global tentative \\       valid_lft forever preferred_lft forever');
    expect(a).toEqual(expect.objectContaining({ ifname: 'va', family: 'inet6', address: '2001:db8:1::1', prefixLen: 64, scope: 'global', tentative: true, deleted: false }));
    const d = parseAddressLine('Deleted 2: vb    inet6 fe80::6811:90ff:fee5:daaa/64 scope link tentative \\       valid_lft forever');
    expect(d).toEqual(expect.objectContaining({ ifname: 'vb', scope: 'link', deleted: true }));
    expect(parseAddressLine('3: va@vb: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500')).toBeNull();
    expect(parseLinkLine('3: va    inet6 2001:db8:1::1/64 scope global')).toBeNull();
  });
});
