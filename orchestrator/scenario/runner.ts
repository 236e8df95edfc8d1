import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandArgs, CommandName } from '../../nodes/contract/index.js';
import type { BusEvent } from '../../nodes/runtime/bus.js';
import { ErrorCodes, PmipError } from '../errors.js';
import type { Lab } from '../lab/lab.js';
import type { LinkController, L2Event } from '../netns/index.js';
import type { Progress } from '../cli/progress.js';
import type { PlannedAction, PlannedStep, SessionStep } from '../topology/scenario.js';
import type { EventRecorder } from './recorder.js';

// Plays a scenario timeline on a running lab: each step at its offset from
// the start (late steps run at once and are logged as late), L2 events through
// the link controller (and onto the event stream, where the report finds
// them), traffic through the MN/CN roles' commands, crashes and restarts
// through the launcher, seed 001's per-interface steps as `session` and
// `interface` commands to the MAG the interface is on at that moment (the
// link controller knows), with the payloads of the command contract
// (nodes/contract/commands.ts). Any node dying on its own ends the experiment.

export const FLOW_PORT_BASE = 40000;

export interface FlowConfig {
  flow: string;
  from: string;
  to: string;
  rate: number;
  size: number;
  port: number;
  dst: string;
  /** the MN interface the flow was pinned to ("mn1:lte0" in the file): the sender's source, or the destination */
  fromIface?: string;
  toIface?: string;
  startedNs?: string;
  stoppedNs?: string;
}

export interface PlayResult {
  flows: FlowConfig[];
  l2: L2Event[];
  lateSteps: Array<{ source: string; lateMs: number }>;
}

interface Ctx {
  lab: Lab;
  links: LinkController;
  recorder: EventRecorder;
  progress: Progress;
  /** how long a node may take to answer a command */
  commandTimeoutMs?: number;
}

type TrafficStart = Extract<PlannedAction, { type: 'traffic-start' }>;

const split = (ref: string) => {
  const i = ref.indexOf(':');
  return { node: ref.slice(0, i), iface: ref.slice(i + 1) };
};

export async function playScenario(steps: PlannedStep[], ctx: Ctx): Promise<PlayResult> {
  const { lab, links, recorder, progress } = ctx;
  const nodes = lab.nodes;
  if (!nodes) throw new PmipError(ErrorCodes.runtime, 'the scenario needs node processes (not a network-only run)');
  const bus = nodes.bus;
  const timeout = ctx.commandTimeoutMs ?? 5000;
  const flows = new Map<string, FlowConfig>();
  const result: PlayResult = { flows: [], l2: [], lateSteps: [] };

  // a node that dies on its own ends the run (the scenario's own kills are expected)
  let crashed: Error | null = null;
  const unsubscribe = nodes.onExit((e) => {
    if (!e.expected) crashed ??= new PmipError(ErrorCodes.runtime, `node ${e.node} exited during the experiment (${e.signal ?? `code ${e.code}`})`, `see ${lab.paths.nodeLog(e.node)}`);
  });
  const check = () => {
    if (crashed) throw crashed;
    if (lab.aborted) throw new PmipError(ErrorCodes.runtime, 'experiment interrupted');
  };

  const request = async <K extends CommandName>(node: string, type: K, args: CommandArgs[K]): Promise<BusEvent> => {
    const ev = await bus.request(node, type, args, timeout);
    if (ev.type === 'error') throw new PmipError(ErrorCodes.runtime, `${node} refused '${type}': ${JSON.stringify(ev.data)}`);
    return ev;
  };

  const l2 = async (ev: L2Event) => {
    result.l2.push(ev);
    await bus.emit(ev.type, ev);
  };

  const addressOf = async (node: string): Promise<string> => {
    const planNode = lab.plan.nodes.find((n) => n.name === node);
    if (!planNode) throw new PmipError(ErrorCodes.badInput, `no node '${node}'`);
    if (planNode.kind === 'mn') {
      const a = recorder.globalAddress(node);
      if (a) return a;
      throw new PmipError(ErrorCodes.runtime, `${node} has no global address (not registered?)`, `see the MAG logs in ${lab.paths.logs}`);
    }
    const global = planNode.interfaces.flatMap((i) => i.addresses).find((a) => !a.startsWith('fe80'));
    if (!global) throw new PmipError(ErrorCodes.runtime, `${node} has no global address in the plan`);
    return global.split('/')[0] as string;
  };

  /** the address of one MN interface, from its last `addresses` event */
  const ifaceAddress = (node: string, iface: string): string => {
    const a = recorder.addresses.get(node)?.get(iface)?.[0];
    if (a) return a;
    throw new PmipError(ErrorCodes.runtime, `${node}:${iface} has no global address (not registered?)`, `see the MAG logs in ${lab.paths.logs}`);
  };

  const startFlow = async (a: TrafficStart) => {
    const port = FLOW_PORT_BASE + flows.size;
    const dst = a.toIface ? ifaceAddress(a.to, a.toIface) : await addressOf(a.to);
    const f: FlowConfig = { flow: a.flow, from: a.from, to: a.to, rate: a.rate, size: a.size, port, dst };
    if (a.fromIface) f.fromIface = a.fromIface;
    if (a.toIface) f.toIface = a.toIface;
    flows.set(a.flow, f);
    await request(a.to, 'traffic-listen', { flow: a.flow, port });
    await request(a.from, 'traffic-start', { flow: a.flow, dst, port, rate: a.rate, size: a.size, ...(a.fromIface ? { srcIface: a.fromIface } : {}) });
    f.startedNs = process.hrtime.bigint().toString();
  };

  const stopFlow = async (name: string) => {
    const f = flows.get(name);
    if (!f || f.stoppedNs) return;
    f.stoppedNs = process.hrtime.bigint().toString();
    await request(f.from, 'traffic-stop', { flow: name }).catch((err: unknown) => progress.info(`  ! ${(err as Error).message}`));
    await sleep(300); // the last probes in flight arrive before the receiver stops
    await request(f.to, 'traffic-stop', { flow: name }).catch((err: unknown) => progress.info(`  ! ${(err as Error).message}`));
  };

  /** An MN interface as its MAG knows it: MN-ID and MN-LL-ID (the plan's llId, else the interface MAC). */
  const mnIface = (ref: string) => {
    const { node, iface } = split(ref);
    const n = lab.plan.nodes.find((x) => x.name === node);
    if (n?.kind !== 'mn') throw new PmipError(ErrorCodes.badInput, `${ref} is not an MN interface`);
    const llId = n.options.interfaces?.[iface]?.llId ?? n.interfaces.find((i) => i.name === iface)?.mac;
    if (!llId) throw new PmipError(ErrorCodes.badInput, `${ref} has no link-layer identifier in the plan`);
    return { node, iface, mnId: n.options.mnId, llId: llId.toLowerCase() };
  };

  /** Seed 001 steps: one command to the MAG the interface is on now. */
  const sessionStep = async (a: SessionStep) => {
    const me = mnIface(a.iface);
    const at = links.attachment(me.node, me.iface);
    if (!at || !at.up) throw new PmipError(ErrorCodes.runtime, `${a.iface} is not attached to a MAG: cannot send ${a.type}`);
    const { mnId, llId } = me;
    switch (a.type) {
      case 'interface-handover': {
        const args: CommandArgs['session'] = { op: 'interface-handover', mnId, llId, fromLlId: mnIface(a.from).llId };
        if (a.prefixes) args.hnps = a.prefixes;
        await request(at.mag, 'session', args);
        return;
      }
      case 'transfer-prefixes':
        await request(at.mag, 'session', { op: 'transfer-prefixes', mnId, llId, fromLlId: mnIface(a.from).llId, hnps: a.prefixes });
        return;
      case 'add-session':
        await request(at.mag, 'session', { op: 'add-session', mnId, llId, bid: a.bid, ...(a.prefixes ? { hnps: a.prefixes } : {}) });
        return;
      case 'set-interface':
        await request(at.mag, 'interface', { op: 'update', mnId, llId, ...(a.priority !== undefined ? { priority: a.priority } : {}) });
        return;
    }
  };

  const play = async (s: PlannedStep) => {
    const a = s.action;
    switch (a.type) {
      case 'move': {
        const { node, iface } = split(a.iface);
        return l2(await links.move({ node, iface, to: a.to, ...(a.toIface ? { toIface: a.toIface } : {}) }));
      }
      case 'detach':
      case 'link-down': {
        const { node, iface } = split(a.iface);
        return l2(await links.down(node, iface));
      }
      case 'link-up': {
        const { node, iface } = split(a.iface);
        return l2(await links.up(node, iface));
      }
      case 'attach': {
        const { node, iface } = split(a.iface);
        const at = links.attachment(node, iface);
        if (a.to && at && at.mag !== a.to) return l2(await links.move({ node, iface, to: a.to, ...(a.toIface ? { toIface: a.toIface } : {}) }));
        return l2(await links.up(node, iface));
      }
      case 'traffic-start':
        return startFlow(a);
      case 'traffic-stop':
        return stopFlow(a.flow);
      case 'kill':
        await nodes.kill(a.node);
        return bus.emit('node-killed', { node: a.node });
      case 'restart':
        await nodes.restart(a.node);
        return bus.emit('node-restarted', { node: a.node });
      case 'wait-for': {
        const match = Object.entries(a.match ?? {});
        const fits = (e: BusEvent) => match.every(([k, v]) => (e.data as Record<string, unknown> | undefined)?.[k] === v);
        const what = `event '${a.event}'${a.node ? ` from ${a.node}` : ''}${match.length ? ` with ${JSON.stringify(a.match)}` : ''}`;
        await recorder.next((e) => e.type === a.event && (!a.node || e.node === a.node) && fits(e), a.timeoutMs, what);
        return;
      }
      case 'interface-handover':
      case 'transfer-prefixes':
      case 'add-session':
      case 'set-interface':
        return sessionStep(a);
    }
  };

  try {
    const t0 = performance.now();
    const step = progress.step('scenario');
    let i = 0;
    for (const s of steps) {
      check();
      const wait = s.atMs - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
      else if (wait < -20) result.lateSteps.push({ source: s.source, lateMs: Math.round(-wait) });
      check();
      await play(s);
      step.update(++i, steps.length, `${s.source}${s.repetition !== undefined ? `#${s.repetition}` : ''} ${s.action.type}`);
    }
    check();
    // flows the timeline left running stop at its end
    for (const name of flows.keys()) await stopFlow(name);
    step.done(`${steps.length} steps${result.lateSteps.length ? `, ${result.lateSteps.length} late` : ''}`);
  } finally {
    unsubscribe();
  }
  result.flows = [...flows.values()];
  return result;
}
