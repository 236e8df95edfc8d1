import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PmipError } from '../../../orchestrator/errors.js';
import { loadTopology } from '../../../orchestrator/topology/load.js';

// Every bad fixture is refused with a bad-input error naming the exact field
// path, a word of the reason, and where it is (file:line:col).

const DIR = path.resolve('test/fixtures/topologies/bad');

const CASES: Record<string, [path: string, word: string]> = {
  'unknown-kind': ['topology.nodes.cn1.kind', 'one of'],
  'unknown-field': ['topology.nodes.mag1.lmaa', 'unknown field'],
  'missing-node': ['topology.links[1].endpoints[0]', 'not defined'],
  'undeclared-mn-iface': ['topology.links[3].endpoints[0]', 'not declared'],
  'endpoint-reused': ['topology.links[4].endpoints[1]', 'already used'],
  'long-iface': ['topology.links[1].endpoints[1]', '15 characters'],
  'bad-node-name': ['topology.nodes.CN_1', 'node names'],
  'long-node-name': ['topology.nodes.correspondent-node-one', '20 characters'],
  'duplicate-node': ['topology.nodes.mag2', 'duplicate'],
  'overlapping-pools': ['pools.hnp', 'overlaps'],
  'public-pool': ['pools.backhaul', 'documentation'],
  'mn-without-access': ['topology.nodes.mn2', 'access link'],
  'mag-without-backhaul': ['topology.nodes.mag2', 'backhaul link'],
  'mag-lma-not-lma': ['topology.nodes.mag1.lma', 'not an LMA'],
  'link-kind-mismatch': ['topology.links[2].kind', 'core link'],
  'bad-att': ['topology.nodes.mn1.interfaces.wlan0.att', '802.11'],
  'mn-mn-link': ['topology.links[4].endpoints', 'cannot join'],
  'access-three-endpoints': ['topology.links[3].endpoints', 'exactly 2'],
  'bridge-name-clash': ['topology.nodes.br-l1', 'bridge'],
  'two-lmas-no-choice': ['topology.nodes.mag1', 'several LMAs'],
  'scenario-move-to-cn': ['scenario[0].action.to', 'MAG'],
  'scenario-bad-iface': ['scenario[0].action.iface', 'mn1:eth9'],
  'scenario-bad-duration': ['scenario[0].at', 'duration'],
  'scenario-stop-unknown-flow': ['scenario[1].action.flow', 'not running'],
  'scenario-move-same-mag': ['scenario[0].action.to', 'already on mag2'],
  'scenario-name-clash': ['scenario[0].action.toIface', 'toIface'],
  'scenario-kill-unknown-node': ['scenario[0].action.node', 'node "mag9" is not defined'],
  'scenario-restart-unknown-node': ['scenario[0].action.node', 'node "lma2" is not defined'],
  'scenario-flow-still-running': ['scenario[1].action.flow', 'already running'],
  'scenario-move-other-lma': ['scenario[0].action.to', 'mag2 would refuse it'],
  'scenario-wait-unknown-event': ['scenario[0].action.event', 'no node emits an event "bound"'],
  'scenario-wait-bad-match': ['scenario[0].action.match.prefix', 'no field "prefix"'],
  'scenario-handover-other-mn': ['scenario[0].action.from', 'one MN'],
  'scenario-handover-unknown-iface': ['scenario[0].action.iface', 'mn1:lte9'],
  'scenario-transfer-not-64': ['scenario[0].action.prefixes[0]', '/64'],
  'scenario-transfer-same-prefix-twice': ['scenario[0].action.prefixes[1]', 'listed twice'],
  'scenario-add-session-bid-reused': ['scenario[1].action.bid', 'BID 2'],
  'scenario-set-interface-detached': ['scenario[1].action.iface', 'detached'],
  'scenario-set-interface-nothing': ['scenario[0].action', 'give priority'],
  'scenario-traffic-bad-iface': ['scenario[0].action.from', 'no interface "eth7"'],
  'scenario-traffic-cn-iface': ['scenario[0].action.to', 'only an MN end'],
};

function refusal(file: string): PmipError {
  try {
    loadTopology(file);
  } catch (err) {
    if (err instanceof PmipError) return err;
    throw err;
  }
  throw new Error(`${file} was accepted`);
}

describe('bad topology files', () => {
  it('has a case for every fixture (and a fixture for every case)', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect(files.filter((f) => f !== 'yaml-syntax').sort()).toEqual(Object.keys(CASES).sort());
    expect(files.length).toBeGreaterThanOrEqual(12);
  });

  it.each(Object.entries(CASES))('%s is refused at its path', (name, [field, word]) => {
    const file = path.join(DIR, `${name}.yaml`);
    const err = refusal(file);
    expect(err.code).toBe('bad-input');
    expect(err.exitCode).toBe(2);
    const line = err.message.split('\n').find((l) => l.includes(`: ${field}: `));
    expect(line, err.message).toBeDefined();
    expect(line).toContain(word);
    expect(line).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
  });

  it.each([
    ['scenario-kill-unknown-node', 27],
    ['scenario-flow-still-running', 29],
    ['scenario-move-other-lma', 23],
    ['scenario-wait-unknown-event', 27],
    ['scenario-add-session-bid-reused', 29],
  ])('%s points at the line of the bad step (%i)', (name, lineNo) => {
    const err = refusal(path.join(DIR, `${name}.yaml`));
    expect(err.message).toMatch(new RegExp(`${name}\\.yaml:${lineNo}:\\d+: scenario`));
  });

  it('reports YAML syntax errors with line and column', () => {
    const file = path.join(DIR, 'yaml-syntax.yaml');
    const err = refusal(file);
    expect(err.code).toBe('bad-input');
    expect(err.message).toMatch(/yaml-syntax\.yaml:17:\d+: YAML syntax error/);
  });

  it('puts several problems one per line under a count', () => {
    const err = refusal(path.join(DIR, 'two-lmas-no-choice.yaml'));
    const lines = err.message.split('\n');
    expect(lines[0]).toMatch(/2 problems$/);
    expect(lines.slice(1).map((l) => l.split(': ')[1])).toEqual(['topology.nodes.mag1', 'topology.nodes.mag2']);
  });

  it('names the file when it cannot be read', () => {
    const err = refusal('test/fixtures/topologies/does-not-exist.yaml');
    expect(err.message).toContain('does-not-exist.yaml');
    expect(err.message).toContain('ENOENT');
  });
});
