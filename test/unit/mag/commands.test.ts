import { describe, expect, it } from 'vitest';
import { parseInterfaceCommand, parseSessionCommand } from '../../../nodes/mag/commands.js';
import { buildUpa, readUpn } from '../../../nodes/mag/messages.js';
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
