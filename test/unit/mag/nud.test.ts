import { describe, expect, it } from 'vitest';
import { NudTracker } from '../../../nodes/mag/nud.js';
import { parseNeighLine } from '../../../nodes/runtime/link-monitor.js';

// Lines as iproute2 6.1 prints them (`ip -o monitor neigh`), captured on this kernel.
const MAC = '66:a6:13:15:ac:b0';
const LL = 'fe80::64a6:13ff:fe15:acb0';
const GUA = '2001:db8:a:1:64a6:13ff:fe15:acb0';
const line = (s: string) => parseNeighLine(s) ?? (() => { throw new Error(`unparsed: ${s}`); })();

describe('neighbour lines', () => {
  it('reads address, device, lladdr, state and deletions', () => {
    expect(parseNeighLine(`${LL} dev acc0 lladdr ${MAC} REACHABLE`)).toMatchObject({ ifname: 'acc0', address: LL, lladdr: MAC, states: ['REACHABLE'], deleted: false });
    expect(parseNeighLine(`${LL} dev acc0 FAILED`)).toMatchObject({ ifname: 'acc0', address: LL, states: ['FAILED'] });
    expect(parseNeighLine(`${LL} dev acc0 lladdr ${MAC} router STALE`)).toMatchObject({ lladdr: MAC, states: ['STALE'] });
    expect(parseNeighLine(`Deleted ${LL} dev acc0 lladdr ${MAC} STALE`)).toMatchObject({ deleted: true });
    expect(parseNeighLine('3: acc0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500')).toBeNull();
  });
});

describe('NUD of attached MNs', () => {
  it('probes the guesses until one is confirmed, then only that one', () => {
    const t = new NudTracker();
    t.watch('k', 'acc0', MAC, [LL, GUA]);
    expect(t.probes().map((p) => p.address)).toEqual([LL, GUA]);
    t.onNeigh(line(`${GUA} dev acc0 lladdr ${MAC} REACHABLE`));
    expect(t.probes()).toEqual([{ key: 'k', iface: 'acc0', address: GUA, mac: MAC }]);
    // a confirmed link-local is preferred over a global one, and kept
    t.onNeigh(line(`${LL} dev acc0 lladdr ${MAC} REACHABLE`));
    t.onNeigh(line(`${GUA} dev acc0 lladdr ${MAC} REACHABLE`));
    expect(t.confirmed('k')).toBe(LL);
  });

  it('a guess that fails before it was ever confirmed says nothing (privacy addresses)', () => {
    const t = new NudTracker();
    t.watch('k', 'acc0', MAC, [LL]);
    expect(t.onNeigh(line(`${LL} dev acc0 FAILED`))).toBeUndefined();
    expect(t.watching('k')).toBe(true);
  });

  it('the confirmed address going FAILED detaches that MN only, once', () => {
    const t = new NudTracker();
    t.watch('k', 'acc0', MAC, [LL]);
    t.watch('other', 'acc1', '02:00:00:00:00:bb', ['fe80::bb']);
    t.onNeigh(line(`${LL} dev acc0 lladdr ${MAC} REACHABLE`));
    expect(t.onNeigh(line(`${LL} dev acc1 FAILED`))).toBeUndefined(); // another link
    expect(t.onNeigh(line(`${LL} dev acc0 lladdr ${MAC} STALE`))).toBeUndefined();
    expect(t.onNeigh(line(`${LL} dev acc0 FAILED`))).toBe('k');
    expect(t.watching('k')).toBe(false);
    expect(t.onNeigh(line(`${LL} dev acc0 FAILED`))).toBeUndefined();
    expect(t.watching('other')).toBe(true);
  });

  it('an entry with another MAC never confirms the MN', () => {
    const t = new NudTracker();
    t.watch('k', 'acc0', MAC, [LL]);
    t.onNeigh(line(`${LL} dev acc0 lladdr 02:00:00:00:00:99 REACHABLE`));
    expect(t.confirmed('k')).toBeUndefined();
  });

  it('watching again on the same link keeps the confirmed address; on another link it starts over', () => {
    const t = new NudTracker();
    t.watch('k', 'acc0', MAC, [LL]);
    t.onNeigh(line(`${LL} dev acc0 lladdr ${MAC} REACHABLE`));
    t.watch('k', 'acc0', MAC, [LL, GUA]);
    expect(t.confirmed('k')).toBe(LL);
    t.watch('k', 'acc1', MAC, [LL]);
    expect(t.confirmed('k')).toBeUndefined();
  });
});
