import { describe, expect, it } from 'vitest';
import { commandFields, decodeCommand, decodeEvent, eventFields } from '../../../nodes/runtime/messages.js';

describe('bus messages', () => {
  it('round-trips a command with args', () => {
    const r = decodeCommand('1-0', commandFields('o.1.1', 'attach', { mn: 'mn1', n: 3 }));
    expect(r).toEqual({ ok: true, value: { id: 'o.1.1', type: 'attach', args: { mn: 'mn1', n: 3 }, streamId: '1-0' } });
  });

  it('round-trips an event with data and replyTo', () => {
    const r = decodeEvent('2-1', eventFields('mag1', 'pong', 123456789012345n, { rssMb: 50 }, 'o.1.2'));
    expect(r).toEqual({
      ok: true,
      value: { node: 'mag1', type: 'pong', tNs: '123456789012345', data: { rssMb: 50 }, replyTo: 'o.1.2', streamId: '2-1' },
    });
  });

  it('leaves optional fields out', () => {
    expect(commandFields('a', 'ping')).toEqual(['id', 'a', 'type', 'ping']);
    const r = decodeEvent('1-0', eventFields('n', 'ready', 1n));
    expect(r.ok && r.value).toEqual({ node: 'n', type: 'ready', tNs: '1', streamId: '1-0' });
  });

  it.each([
    [['id', 'a'], 'type'],
    [['id', 'a', 'type'], 'odd number'],
    [['id', 'a', 'type', 'ping', 'args', '{nope'], 'args: not valid JSON'],
    [['id', 'a', 'type', 'ping', 'extra', '1'], 'extra'],
    [['id', 'a', 'id', 'b', 'type', 'ping', 'x', 'y'], "field 'id' repeated"],
    [['id', '', 'type', 'ping'], 'id'],
  ])('rejects the malformed command %j with an issue, without throwing', (fields, issue) => {
    const r = decodeCommand('9-0', fields);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issue).toContain(issue);
  });

  it.each([
    [['node', 'n', 'type', 'ready', 'tNs', '-5'], 'tNs'],
    [['node', 'n', 'type', 'ready', 'tNs', '1.5'], 'tNs'],
    [['node', 'n', 'type', 'ready'], 'tNs'],
    [['type', 'ready', 'tNs', '1'], 'node'],
    [['node', 'n', 'type', 'x', 'tNs', '1', 'data', 'undefined'], 'data'],
  ])('rejects the malformed event %j', (fields, issue) => {
    const r = decodeEvent('9-0', fields);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issue).toContain(issue);
  });
});
