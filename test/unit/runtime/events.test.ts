import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkEvent, eventFields, EVENT_NAMES, isEventName } from '../../../nodes/runtime/events.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

describe('event contract', () => {
  it('names every event the nodes and the orchestrator put on the stream', () => {
    // emit('name', ...) / publishEvent(bus, log, 'name', ...) / this.event('name', ...) with a literal name
    const re = /(?:\bemit|publishEvent\([^,]+,[^,]+,|this\.event)\(\s*'([a-z0-9-]+)'/g;
    const seen = new Map<string, string>();
    // link-monitor.ts is a node-local EventEmitter (netlink changes), not the bus
    const files = [...sources(path.join(root, 'nodes')), ...sources(path.join(root, 'orchestrator'))].filter((f) => !f.endsWith('link-monitor.ts'));
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(re)) seen.set(m[1] as string, path.relative(root, f));
    }
    expect(seen.size).toBeGreaterThan(20);
    const missing = [...seen].filter(([name]) => !isEventName(name)).map(([n, f]) => `${n} (${f})`);
    expect(missing).toEqual([]);
  });

  it('accepts a payload as the MAG emits it and refuses one without the interface', () => {
    const pbu = { mnId: 'mn1@pmiplab.example', llId: '02:00:00:00:01:01', iface: 'acc0', seq: 3, lifetime: 3600, hi: 1, attempt: 1, lma: '2001:db8:b:1::1' };
    expect(checkEvent('pbu-sent', pbu)).toEqual({ ok: true });
    const { llId: _, ...noLl } = pbu;
    const r = checkEvent('pbu-sent', noLl);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issue).toMatch(/llId/);
    expect(checkEvent('pbu-sent', { ...pbu, seq: 'three' }).ok).toBe(false);
  });

  it('binding events carry every prefix of the session, and optionally its BID and state', () => {
    const b = { mnId: 'm', att: 4, llId: '02:00', hnp: '2001:db8:a:1::/64', hnps: ['2001:db8:a:1::/64', '2001:db8:a:2::/64'], pCoA: '2001:db8:b:1::2', lifetime: 400 };
    expect(checkEvent('binding-created', b).ok).toBe(true);
    expect(checkEvent('binding-updated', { ...b, bid: 2, state: 'dormant' }).ok).toBe(true);
    expect(checkEvent('binding-updated', { ...b, state: 'sleeping' }).ok).toBe(false);
    expect(checkEvent('binding-deleted', { ...b, hnps: undefined }).ok).toBe(false);
  });

  it('an unknown name is an issue, not an exception; the life-cycle events are in', () => {
    expect(checkEvent('bound', {})).toEqual({ ok: false, issue: "unknown event 'bound'" });
    for (const n of ['ready', 'pong', 'stopping', 'error', 'l2-move', 'scenario-start']) expect(EVENT_NAMES).toContain(n);
    expect(checkEvent('error', { message: 'x' }).ok).toBe(true);
    expect(checkEvent('ready', { pid: 1 }).ok).toBe(false);
  });

  it('lists the fields of an event for wait-for matches', () => {
    expect(eventFields('mn-attach').sort()).toEqual(['iface', 'llId', 'mnId', 'trigger']);
    expect(eventFields('stats')).toEqual([]);
  });
});
