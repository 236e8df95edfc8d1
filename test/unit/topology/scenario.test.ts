import { describe, expect, it } from 'vitest';
import { parseTopology } from '../../../orchestrator/topology/load.js';
import { expandScenario, parseDuration } from '../../../orchestrator/topology/scenario.js';
import { loadTopology } from '../../../orchestrator/topology/load.js';

describe('scenario', () => {
  it('parses durations to milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration(250)).toBe(250);
  });

  it('expands repeat and cycles a list of target MAGs', () => {
    const file = loadTopology('topologies/handover-basic.yaml');
    const { steps, issues } = expandScenario(file);
    expect(issues).toEqual([]);
    const moves = steps.filter((s) => s.action.type === 'move');
    expect(moves).toHaveLength(10);
    expect(moves.map((m) => m.atMs)).toEqual([3000, 5000, 7000, 9000, 11000, 13000, 15000, 17000, 19000, 21000]);
    expect(moves.map((m) => (m.action.type === 'move' ? `${m.action.from}>${m.action.to}` : ''))).toEqual(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'mag1>mag2' : 'mag2>mag1')),
    );
    expect(moves[3]).toMatchObject({ source: 'scenario[2]', repetition: 3 });
    // sorted by time; ties keep file order
    expect(steps.map((s) => s.atMs)).toEqual([...steps.map((s) => s.atMs)].sort((a, b) => a - b));
    expect(steps.at(-2)?.action).toMatchObject({ type: 'traffic-stop', flow: 'up' });
  });

  it('fills defaults and interleaves repeated steps with later ones', () => {
    const file = parseTopology(
      `name: t
topology:
  nodes:
    lma1: { kind: lma }
    mag1: { kind: mag }
    mn1: { kind: mn, interfaces: { wlan0: { att: 802.11 } } }
  links:
    - endpoints: ["mag1:eth0", "lma1:eth0"]
    - endpoints: ["mn1:wlan0", "mag1:acc0"]
scenario:
  - at: 0
    repeat: { count: 3, every: 1s }
    action: { type: link-down, iface: "mag1:eth0" }
  - at: 1500ms
    action: { type: wait-for, event: pba-received }
`,
      'inline.yaml',
    );
    const { steps } = expandScenario(file);
    expect(steps.map((s) => `${s.atMs}:${s.action.type}`)).toEqual(['0:link-down', '1000:link-down', '1500:wait-for', '2000:link-down']);
    expect(steps[2]?.action).toEqual({ type: 'wait-for', event: 'pba-received', timeoutMs: 5000 });
  });

  it('refuses a list of MAGs without repeat', () => {
    expect(() =>
      parseTopology(
        `name: t
topology:
  nodes:
    lma1: { kind: lma }
    mag1: { kind: mag }
    mag2: { kind: mag }
    mn1: { kind: mn, interfaces: { wlan0: { att: 802.11 } } }
  links:
    - endpoints: ["mag1:eth0", "lma1:eth0", "mag2:eth0"]
    - endpoints: ["mn1:wlan0", "mag1:acc0"]
scenario:
  - at: 1s
    action: { type: move, iface: "mn1:wlan0", to: [mag2, mag1] }
`,
        'inline.yaml',
      ),
    ).toThrow(/scenario\[0\]\.action\.to: .*repeat/);
  });

  it('plans the seed 001 steps per interface and flows pinned to an MN interface', () => {
    const file = parseTopology(
      `name: t
topology:
  nodes:
    lma1: { kind: lma }
    mag1: { kind: mag }
    mag2: { kind: mag }
    mn1: { kind: mn, interfaces: { wlan0: { att: 802.11 }, lte0: { att: e-utran } } }
    cn1: { kind: cn }
  links:
    - endpoints: ["mag1:eth0", "lma1:eth0", "mag2:eth0"]
    - endpoints: ["lma1:core0", "cn1:eth0"]
    - endpoints: ["mn1:wlan0", "mag1:acc0"]
    - endpoints: ["mn1:lte0", "mag2:acc0"]
scenario:
  - at: 0
    action: { type: traffic-start, flow: down, from: cn1, to: "mn1:lte0" }
  - at: 0
    action: { type: traffic-start, flow: up, from: "mn1:wlan0", to: cn1, rate: 10 }
  - at: 1s
    action: { type: wait-for, event: pba-received, node: mag2, match: { mnId: mn1@pmiplab.example, status: 0 } }
  - at: 2s
    action: { type: transfer-prefixes, iface: "mn1:lte0", from: "mn1:wlan0", prefixes: ["2001:DB8:A:0001:0::/64"] }
  - at: 3s
    action: { type: add-session, iface: "mn1:lte0", bid: 2 }
  - at: 3s
    action: { type: add-session, iface: "mn1:wlan0", bid: 2 }
  - at: 4s
    action: { type: set-interface, iface: "mn1:wlan0", priority: 7 }
  - at: 5s
    action: { type: detach, iface: "mn1:wlan0" }
  - at: 5s
    action: { type: interface-handover, iface: "mn1:lte0", from: "mn1:wlan0" }
`,
      'inline.yaml',
    );
    const { steps, issues } = expandScenario(file);
    expect(issues).toEqual([]);
    expect(steps[0]?.action).toEqual({ type: 'traffic-start', flow: 'down', from: 'cn1', to: 'mn1', toIface: 'lte0', rate: 100, size: 128 });
    expect(steps[1]?.action).toEqual({ type: 'traffic-start', flow: 'up', from: 'mn1', fromIface: 'wlan0', to: 'cn1', rate: 10, size: 128 });
    expect(steps[2]?.action).toMatchObject({ match: { mnId: 'mn1@pmiplab.example', status: 0 } });
    // prefixes in canonical form (RFC 5952), as the LMA and MAG compare them
    expect(steps[3]?.action).toEqual({ type: 'transfer-prefixes', iface: 'mn1:lte0', from: 'mn1:wlan0', prefixes: ['2001:db8:a:1::/64'] });
    // a BID is per interface: BID 2 on lte0 and on wlan0 are two sessions
    expect(steps.filter((x) => x.action.type === 'add-session')).toHaveLength(2);
    // the old interface may be gone when its prefixes move (that is the handover)
    expect(steps.at(-1)?.action).toEqual({ type: 'interface-handover', iface: 'mn1:lte0', from: 'mn1:wlan0' });
  });
});
