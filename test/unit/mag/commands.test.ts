import { describe, expect, it } from 'vitest';
import { parseInterfaceCommand, parseSessionCommand } from '../../../nodes/mag/commands.js';
import { buildCombinedPbu, buildUpa, MCOA_NOTCOMPLETE, readUpn, splitCombinedPba } from '../../../nodes/mag/messages.js';
import { decodeMessage, encodeMessage } from '../../../nodes/protocol/index.js';

describe('bus commands (docs/seed001.md payloads)', () => {
  it('takes the session ops of the design page and normalises the MN-LL-IDs', () => {
    expect(parseSessionCommand({ op: 'interface-handover', mnId: 'mn1@x', llId: '02:00:00:00:00:AA', fromLlId: '02-00-00-00-00-bb' })).toEqual({
      ok: true,
      value: { op: 'interface-handover', mnId: 'mn1@x', llId: '02:00:00:00:00:aa', fromLlId: '02:00:00:00:00:bb' },
    });
    expect(parseSessionCommand({ op: 'transfer-prefixes', mnId: 'm', llId: '02:00:00:00:00:aa', fromLlId: '02:00:00:00:00:bb', hnps: ['2001:db8:a:1::/64'] }).ok).toBe(true);
    expect(parseSessionCommand({ op: 'add-session', mnId: 'm', llId: '02:00:00:00:00:aa', bid: 2 }).ok).toBe(true);
  });

  it('refuses bad payloads naming each field', () => {
    const r = parseSessionCommand({ op: 'transfer-prefixes', mnId: 'm', llId: 'nope', fromLlId: '02:00:00:00:00:bb', hnps: [] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/llId: MN-LL-ID.*hnps:/);
    expect(parseSessionCommand({ op: 'teleport', mnId: 'm', llId: '02:00:00:00:00:aa' }).ok).toBe(false);
    expect(parseSessionCommand({ op: 'interface-handover', mnId: 'm', llId: '02:00:00:00:00:aa', fromLlId: '02:00:00:00:00:bb', extra: 1 }).ok).toBe(false);
    expect(parseInterfaceCommand({ op: 'update', mnId: 'm', llId: '02:00:00:00:00:aa', priority: 3 })).toMatchObject({ ok: true, value: { priority: 3 } });
    expect(parseInterfaceCommand({ op: 'update', mnId: 'm', llId: '02:00:00:00:00:aa', priority: 300 }).ok).toBe(false);
  });
});

describe('Update Notification (RFC 7077)', () => {
  it('reads what it names and acknowledges with the same sequence number and identifiers', () => {
    const wire = encodeMessage({
      kind: 'updateNotification',
      sequence: 77,
      reason: 1,
      flags: { A: true, D: false },
      options: [
        { kind: 'mnId', nai: 'mn1@x' },
        { kind: 'mnLinkLayerId', identifier: '0200000000aa' },
      ],
    });
    const d = decodeMessage(wire);
    if (!d.ok || d.value.kind !== 'updateNotification') throw new Error('decode');
    const u = readUpn(d.value);
    expect(u).toEqual({ seq: 77, reason: 1, ackRequested: true, deregister: false, mnId: 'mn1@x', llId: '02:00:00:00:00:aa', hnps: [] });
    const ack = decodeMessage(encodeMessage(buildUpa(u, 0)));
    if (!ack.ok || ack.value.kind !== 'updateNotificationAck') throw new Error('decode ack');
    expect(ack.value).toMatchObject({ sequence: 77, status: 0 });
    expect(ack.value.options.filter((o) => o.kind === 'mnId' || o.kind === 'mnLinkLayerId')).toEqual([
      { kind: 'mnId', nai: 'mn1@x' },
      { kind: 'mnLinkLayerId', identifier: '0200000000aa' },
    ]);
  });
});

describe('combined PBU and PBA (seed 001 section 4, docs/seed001.md)', () => {
  const part = (llId: string, att: number, bid: number, hnps: string[]) => ({ seq: 9, lifetimeS: 60, hi: 1, hnps, mnId: 'mn1@x', llId, att, bid, linkLocal: 'fe80::1' });

  it('common options first, then per interface BID, MN-LL-ID, ATT, HNP(s)', () => {
    const msg = buildCombinedPbu([part('02:00:00:00:00:aa', 4, 1, []), part('02:00:00:00:00:bb', 3, 2, ['2001:db8:a:2::/64'])]);
    const d = decodeMessage(encodeMessage(msg));
    if (!d.ok || d.value.kind !== 'pbu') throw new Error('decode');
    expect(d.value.sequence).toBe(9);
    const kinds = d.value.options.filter((o) => o.kind !== 'pad1' && o.kind !== 'padN').map((o) => (o.kind === 'bindingId' ? `bid${o.bid}` : o.kind));
    expect(kinds).toEqual(['mnId', 'handoffIndicator', 'linkLocalAddress', 'bid1', 'mnLinkLayerId', 'accessTechnologyType', 'hnp', 'bid2', 'mnLinkLayerId', 'accessTechnologyType', 'hnp']);
    expect(() => buildCombinedPbu([part('02:00:00:00:00:aa', 4, 1, [])])).toThrow(/two parts/);
  });

  it('splits a combined PBA per interface: each BID group its own status (MCOA NOTCOMPLETE), prefixes and identifiers', () => {
    const wire = encodeMessage({
      kind: 'pba',
      status: MCOA_NOTCOMPLETE,
      flags: { K: false, R: false, P: true },
      sequence: 9,
      lifetime: 15,
      options: [
        { kind: 'mnId', nai: 'mn1@x' },
        { kind: 'bindingId', bid: 1, status: 0, flags: { H: false }, bidPri: 0 },
        { kind: 'hnp', prefix: '2001:db8:a:1::', prefixLength: 64 },
        { kind: 'accessTechnologyType', value: 4 },
        { kind: 'mnLinkLayerId', identifier: '0200000000aa' },
        { kind: 'bindingId', bid: 2, status: 155, flags: { H: false }, bidPri: 0 },
        { kind: 'hnp', prefix: '2001:db8:a:2::', prefixLength: 64 },
        { kind: 'accessTechnologyType', value: 3 },
        { kind: 'mnLinkLayerId', identifier: '0200000000bb' },
      ],
    });
    const d = decodeMessage(wire);
    if (!d.ok || d.value.kind !== 'pba') throw new Error('decode');
    expect(splitCombinedPba(d.value)).toEqual([
      { seq: 9, status: 0, lifetimeS: 60, hnps: ['2001:db8:a:1::/64'], bid: 1, mnId: 'mn1@x', att: 4, llId: '02:00:00:00:00:aa' },
      { seq: 9, status: 155, lifetimeS: 0, hnps: ['2001:db8:a:2::/64'], bid: 2, mnId: 'mn1@x', att: 3, llId: '02:00:00:00:00:bb' },
    ]);
    // a PBA with one BID option is an ordinary one
    expect(splitCombinedPba({ ...d.value, options: d.value.options.slice(0, 5) })).toBeNull();
  });
});
