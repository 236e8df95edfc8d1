import { describe, expect, it } from 'vitest';
import { parseCommand, type CommandName } from '../../../nodes/contract/index.js';
import type { BusEvent } from '../../../nodes/runtime/bus.js';
import type { Lab } from '../../../orchestrator/lab/lab.js';
import type { Attachment, LinkController } from '../../../orchestrator/netns/index.js';
import type { EventRecorder } from '../../../orchestrator/scenario/recorder.js';
import { playScenario } from '../../../orchestrator/scenario/runner.js';
import { parseTopology } from '../../../orchestrator/topology/load.js';
import { planTopology } from '../../../orchestrator/topology/planner.js';
import type { PlannedStep } from '../../../orchestrator/topology/scenario.js';

// The runner against fakes of the lab, link controller and recorder: which
// node each step's command goes to, with which payload (checked with the
// contract's own schema, as the node checks it on receipt).

const TOPO = `name: t
topology:
  nodes:
    lma1: { kind: lma }
    mag1: { kind: mag }
    mag2: { kind: mag }
    mn1: { kind: mn, interfaces: { wlan0: { att: 802.11, llId: "02:00:00:00:01:01" }, lte0: { att: e-utran } } }
    cn1: { kind: cn }
  links:
    - endpoints: ["mag1:eth0", "lma1:eth0", "mag2:eth0"]
    - endpoints: ["lma1:core0", "cn1:eth0"]
    - endpoints: ["mn1:wlan0", "mag1:acc0"]
    - endpoints: ["mn1:lte0", "mag2:acc0"]
`;

interface Sent {
  node: string;
  type: string;
  args: unknown;
}

function harness(scenario: string) {
  const plan = planTopology(parseTopology(`${TOPO}scenario:\n${scenario}`, 't.yaml'), '/t.yaml', 't1');
  const sent: Sent[] = [];
  const emitted: string[] = [];
  let seq = 0;
  const bus = {
    async request(node: string, type: string, args: unknown): Promise<BusEvent> {
      const r = parseCommand(type as CommandName, args);
      if (!r.ok) throw new Error(`runner sent a bad ${type}: ${r.message}`);
      sent.push({ node, type, args });
      return { node, type: 'ok', tNs: '1', streamId: `${++seq}-0` };
    },
    async emit(type: string) {
      emitted.push(type);
    },
  };
  const lab = {
    plan,
    aborted: false,
    paths: { logs: '/tmp/logs', nodeLog: (n: string) => `/tmp/logs/${n}.log` },
    nodes: { bus, onExit: () => () => undefined, kill: async () => undefined, restart: async () => undefined },
  } as unknown as Lab;
  // where each interface is: the runner must ask, not assume the plan's start
  const where = new Map<string, Partial<Attachment>>([
    ['mn1:wlan0', { mag: 'mag1', up: true }],
    ['mn1:lte0', { mag: 'mag1', up: true }], // moved there earlier
  ]);
  const links = {
    attachment: (node: string, iface: string) => where.get(`${node}:${iface}`) as Attachment | undefined,
  } as unknown as LinkController;
  const addresses = new Map([['mn1', new Map([['wlan0', ['2001:db8:a:1::10']], ['lte0', ['2001:db8:a:2::20']]])]]);
  const recorder = { addresses, globalAddress: () => '2001:db8:a:1::10', next: async () => undefined } as unknown as EventRecorder;
  const progress = { info: () => undefined, step: () => ({ update: () => undefined, done: () => undefined, fail: () => undefined }) };
  const run = () => playScenario(plan.scenario as unknown as PlannedStep[], { lab, links, recorder, progress });
  return { plan, sent, emitted, where, run };
}

describe('scenario runner', () => {
  it('sends the seed 001 steps to the MAG the interface is on now, with its MN-ID and MN-LL-ID', async () => {
    const h = harness(`  - at: 0
    action: { type: transfer-prefixes, iface: "mn1:lte0", from: "mn1:wlan0", prefixes: ["2001:db8:a:1::/64"] }
  - at: 0
    action: { type: add-session, iface: "mn1:wlan0", bid: 3 }
  - at: 0
    action: { type: set-interface, iface: "mn1:wlan0", priority: 9 }
  - at: 0
    action: { type: interface-handover, iface: "mn1:lte0", from: "mn1:wlan0" }
`);
    await h.run();
    const lteMac = h.plan.nodes.find((n) => n.name === 'mn1')!.interfaces.find((i) => i.name === 'lte0')!.mac;
    const mnId = 'mn1@pmiplab.example';
    expect(h.sent).toEqual([
      { node: 'mag1', type: 'session', args: { op: 'transfer-prefixes', mnId, llId: lteMac, fromLlId: '02:00:00:00:01:01', hnps: ['2001:db8:a:1::/64'] } },
      { node: 'mag1', type: 'session', args: { op: 'add-session', mnId, llId: '02:00:00:00:01:01', bid: 3 } },
      { node: 'mag1', type: 'interface', args: { op: 'update', mnId, llId: '02:00:00:00:01:01', priority: 9 } },
      { node: 'mag1', type: 'session', args: { op: 'interface-handover', mnId, llId: lteMac, fromLlId: '02:00:00:00:01:01' } },
    ]);
  });

  it('refuses to send a session step for an interface that is down at run time', async () => {
    const h = harness(`  - at: 0
    action: { type: add-session, iface: "mn1:lte0", bid: 3 }
`);
    h.where.set('mn1:lte0', { mag: 'mag2', up: false });
    await expect(h.run()).rejects.toThrow(/mn1:lte0 is not attached/);
    expect(h.sent).toEqual([]);
  });

  it('pins a flow to an MN interface: its address as destination, srcIface for the sender', async () => {
    const h = harness(`  - at: 0
    action: { type: traffic-start, flow: down, from: cn1, to: "mn1:lte0" }
  - at: 0
    action: { type: traffic-start, flow: up, from: "mn1:lte0", to: cn1 }
`);
    const r = await h.run();
    const starts = h.sent.filter((s) => s.type === 'traffic-start');
    expect(starts[0]).toMatchObject({ node: 'cn1', args: { flow: 'down', dst: '2001:db8:a:2::20' } });
    expect(starts[0]?.args).not.toHaveProperty('srcIface');
    expect(starts[1]).toMatchObject({ node: 'mn1', args: { flow: 'up', srcIface: 'lte0' } });
    expect(h.sent.find((s) => s.type === 'traffic-listen' && s.node === 'mn1')).toBeDefined();
    expect(r.flows.map((f) => [f.flow, f.from, f.fromIface ?? '', f.to, f.toIface ?? ''])).toEqual([
      ['down', 'cn1', '', 'mn1', 'lte0'],
      ['up', 'mn1', 'lte0', 'cn1', ''],
    ]);
  });
});
