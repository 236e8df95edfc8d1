import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PmipError } from '../../../orchestrator/errors.js';
import { parsePath, setPath } from '../../../orchestrator/study/doc-path.js';
import { planSweep } from '../../../orchestrator/study/sweep-file.js';

// Sweep files are expanded and every cell checked by the experiment loader
// before anything runs: bad ones are refused as bad input (exit 2) naming
// the cell and the path. No root needed.

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const experiment = path.join(repo, 'topologies', 'handover-basic.yaml');

function sweep(body: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-sweep-'));
  const file = path.join(dir, 'sweep.yaml');
  writeFileSync(file, `experiment: ${experiment}\n${body}`);
  return () => planSweep(`experiment: ${experiment}\n${body}`, file);
}

function refusal(run: () => unknown): PmipError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(PmipError);
    expect((err as PmipError).exitCode).toBe(2);
    return err as PmipError;
  }
  throw new Error('the sweep was accepted');
}

describe('sweep paths', () => {
  it('reads the paths the loader prints', () => {
    expect(parsePath('topology.links[0].signaling.delay')).toEqual(['topology', 'links', 0, 'signaling', 'delay']);
    expect(parsePath('topology.nodes.mag1.options.lifetimeS')).toEqual(['topology', 'nodes', 'mag1', 'options', 'lifetimeS']);
    expect(parsePath('a["x.y"][2]')).toEqual(['a', 'x.y', 2]);
    expect(() => parsePath('a..b')).toThrow(/cannot read/);
    expect(() => parsePath('')).toThrow(/empty/);
  });

  it('sets a value, creating a missing field but no list entry and no node', () => {
    const doc = { topology: { nodes: { mag1: { kind: 'mag' } }, links: [{ endpoints: ['a:x', 'b:y'] }] } };
    setPath(doc, ['topology', 'links', 0, 'signaling', 'delay'], '10ms');
    expect(doc.topology.links[0]).toEqual({ endpoints: ['a:x', 'b:y'], signaling: { delay: '10ms' } });
    expect(() => setPath(doc, ['topology', 'links', 3, 'rate'], '1mbit')).toThrow(/has 1 entries: no \[3\]/);
    expect(() => setPath(doc, ['topology', 'nodes', 'mag9', 'options', 'lifetimeS'], 5)).toThrow(/no 'mag9' \(it has mag1\)/);
    expect(() => setPath(doc, ['topology', 'nodes', 'mag1', 'kind', 'x'], 5)).toThrow(/string value/);
  });
});

describe('sweep expansion', () => {
  it('makes grid x repeat cells, last parameter fastest, each a valid experiment', () => {
    const plan = sweep(`name: t
parameters:
  scenario[0].action.rate: [100, 1000]
  topology.links[0].signaling.delay: [0ms, 10ms, 50ms]
repeat: 2
`)();
    expect(plan.points).toHaveLength(6);
    expect(plan.cells.map((c) => c.id).slice(0, 3)).toEqual(['p1-r1', 'p1-r2', 'p2-r1']);
    expect(plan.points[1]!.values).toEqual({ 'scenario[0].action.rate': 100, 'topology.links[0].signaling.delay': '10ms' });
    expect(plan.points[1]!.experiment).toMatch(/signaling:\s*\n\s*delay: 10ms/);
    expect(plan.plot).toEqual({ x: 'scenario[0].action.rate', series: 'topology.links[0].signaling.delay' });
    // the same sweep gives the same hash; another repeat count another one
    expect(sweep('parameters:\n  scenario[0].action.rate: [100, 1000]\n  topology.links[0].signaling.delay: [0ms, 10ms, 50ms]\nrepeat: 2\n')().hash).toBe(plan.hash);
    expect(sweep('parameters:\n  scenario[0].action.rate: [100, 1000]\n  topology.links[0].signaling.delay: [0ms, 10ms, 50ms]\n')().hash).not.toBe(plan.hash);
  });

  it('refuses an unknown path before anything runs, naming cell and path', () => {
    const e = refusal(sweep('parameters:\n  scenario[9].action.rate: [100]\n'));
    expect(e.message).toMatch(/cell p1 \(scenario\[9\]\.action\.rate=100\): unknown path scenario\[9\]\.action\.rate: scenario has 5 entries/);
    const f = refusal(sweep('parameters:\n  topology.links[0].signalling.delay: [10ms]\n'));
    expect(f.message).toMatch(/cell p1 .*topology\.links\[0\]\.signalling: unknown field/);
    const g = refusal(sweep('parameters:\n  topology.nodes.mag7.options.lifetimeS: [10]\n'));
    expect(g.message).toMatch(/unknown path .*topology\.nodes has no 'mag7'/);
  });

  it('refuses empty value lists and duplicate values', () => {
    expect(refusal(sweep('parameters:\n  scenario[0].action.rate: []\n')).message).toMatch(/parameters\.scenario\[0\]\.action\.rate: give at least one value/);
    expect(refusal(sweep('parameters:\n  scenario[0].action.rate: [5, 5]\n')).message).toMatch(/the value 5 is given twice/);
    expect(refusal(sweep('parameters: {}\n')).message).toMatch(/at least one parameter/);
  });

  it('refuses a value the schema refuses, in the cells that have it only', () => {
    const e = refusal(sweep('parameters:\n  topology.links[0].signaling.delay: [0ms, soon]\n  scenario[0].action.rate: [100, 1000]\n'));
    expect(e.message).toMatch(/2 of 4 cells refused, nothing was run/);
    expect(e.message).toMatch(/cell p3 \(topology\.links\[0\]\.signaling\.delay=soon, scenario\[0\]\.action\.rate=100\): topology\.links\[0\]\.signaling\.delay: /);
    expect(e.message).not.toMatch(/cell p1/);
    const r = refusal(sweep('parameters:\n  scenario[0].action.rate: [100, -5]\n'));
    expect(r.message).toMatch(/cell p2 .*scenario\[0\]\.action\.rate: /);
  });

  it('refuses a plot axis that is not a parameter and unknown fields of the sweep file', () => {
    expect(refusal(sweep('parameters:\n  scenario[0].action.rate: [1]\nplot: { series: rate }\n')).message).toMatch(/plot\.series: 'rate' is not one of the parameters/);
    expect(refusal(sweep('parameters:\n  scenario[0].action.rate: [1]\nrepeats: 3\n')).message).toMatch(/Unrecognized key/);
  });
});

describe('linked paths', () => {
  it('sets every path of a "a, b" key to the value, in set and in parameters', () => {
    const plan = sweep(`parameters:
  scenario[0].action.rate, scenario[1].action.rate: [50, 200]
set:
  topology.links[0].signaling, topology.links[1].signaling: { messages: [pbu] }
`)();
    expect(plan.points).toHaveLength(2);
    const doc = plan.points[1]!.experiment;
    expect(doc.match(/rate: 200/g)).toHaveLength(2);
    expect(doc.match(/- pbu/g)).toHaveLength(2);
  });
});
