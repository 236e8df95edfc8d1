import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommand, PlanNode } from '../../../nodes/contract/index.js';
import { loadTopology } from '../../../orchestrator/topology/load.js';
import { planTopology } from '../../../orchestrator/topology/planner.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });

describe('plan contract', () => {
  it('nodes import nothing of the orchestrator', () => {
    const offenders = files(path.join(root, 'nodes')).filter((f) => /from '(\.\.\/)+orchestrator\//.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => path.relative(root, f))).toEqual([]);
  });

  it('types options by kind: an MN needs its MN-ID, a MAG its knobs as numbers, unknown kinds are refused', () => {
    const base = { name: 'x', netns: 'plt-x', interfaces: [], routes: [], sysctls: {} };
    expect(PlanNode.safeParse({ ...base, kind: 'mn', options: { mnId: 'x@pmiplab.example' } }).success).toBe(true);
    expect(PlanNode.safeParse({ ...base, kind: 'mn', options: {} }).success).toBe(false);
    expect(PlanNode.safeParse({ ...base, kind: 'mag', options: { retransmitInitialMs: 'fast' } }).success).toBe(false);
    expect(PlanNode.safeParse({ ...base, kind: 'cn', options: { lma: 'lma1', extra: 1 } }).success).toBe(false);
    expect(PlanNode.safeParse({ ...base, kind: 'hub', options: {} }).success).toBe(false);
  });

  it('the planner writes a plan every node kind reads back typed', () => {
    const plan = planTopology(loadTopology(path.join(root, 'topologies/handover-basic.yaml')), '/x.yaml', 't1');
    const mn = plan.nodes.find((n) => n.kind === 'mn');
    const mag = plan.nodes.find((n) => n.kind === 'mag');
    expect(mn?.kind === 'mn' && mn.options.mnId).toBe('mn1@pmiplab.example');
    expect(mag?.kind === 'mag' && mag.options.lma).toBe('lma1');
    // the round trip through topology.json keeps it
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});

describe('bus command contract', () => {
  it('checks the seed 001 session and interface commands on receipt', () => {
    const ok = parseCommand('session', { op: 'transfer-prefixes', mnId: 'mn1@x', llId: '02:00:00:00:01:02', fromLlId: '02:00:00:00:01:01', hnps: ['2001:db8:a:1::/64'] });
    expect(ok.ok).toBe(true);
    const noPrefixes = parseCommand('session', { op: 'transfer-prefixes', mnId: 'mn1@x', llId: '02:00:00:00:01:02', fromLlId: '02:00:00:00:01:01' });
    expect(noPrefixes.ok).toBe(false);
    const wide = parseCommand('session', { op: 'add-session', mnId: 'mn1@x', llId: '02:00:00:00:01:02', bid: 2, hnps: ['2001:db8:a::/48'] });
    expect(!wide.ok && wide.message).toMatch(/hnps\.0: a prefix is an IPv6 \/64/);
    expect(parseCommand('session', { op: 'add-session', mnId: 'mn1@x', llId: '02:00:00:00:01:02', bid: 0 }).ok).toBe(false);
    expect(parseCommand('interface', { op: 'update', mnId: 'mn1@x', llId: '02:00:00:00:01:02', priority: 3 }).ok).toBe(true);
    expect(parseCommand('interface', { op: 'update', mnId: 'mn1@x', llId: '02:00:00:00:01:02', priority: 300 }).ok).toBe(false);
  });

  it('traffic-start names the source interface of an MN flow as srcIface', () => {
    const r = parseCommand('traffic-start', { flow: 'f', dst: '2001:db8:c:1::2', port: 40000, rate: 10, size: 64, srcIface: 'lte0' });
    expect(r.ok && r.args.srcIface).toBe('lte0');
  });
});
