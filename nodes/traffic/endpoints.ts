import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TrafficListenArgs, TrafficStartArgs, TrafficStopArgs } from '../contract/commands.js';
import type { BusCommand } from '../runtime/bus.js';
import type { TrafficEvent } from '../runtime/events.js';
import type { RoleContext } from '../runtime/role.js';
import { ProbeReceiver } from './receiver.js';
import { ProbeSender } from './sender.js';

// The traffic commands an MN or CN answers (both host endpoints):
//   traffic-listen {flow, port}                  -> traffic-started (receiver)
//   traffic-start  {flow, dst, port, rate, size, maxBurst?, srcIface?} -> traffic-started (sender)
//   traffic-stop   {flow}                        -> traffic-stopped per end of the flow here,
//                                                   after its samples file is written
// A bad command gets an 'error' reply; nothing is half-started.

// the args schemas are the contract's (nodes/contract/commands.ts): the runner builds them with the same types
export { TrafficListenArgs, TrafficStartArgs, TrafficStopArgs };

/** Where an end's samples go, relative to the run folder. */
export const samplesFile = (flow: string, role: 'sender' | 'receiver') => path.join('flows', `${flow}.${role}.bin`);

type Ctx = Pick<RoleContext, 'bus' | 'log' | 'runDir' | 'node'>;

/** The global address of an interface to send from, once it has one (rejects after timeoutMs). */
export type SourceAddress = (iface: string, timeoutMs: number) => Promise<string>;

/** how long traffic-start waits for the srcIface's address (an MN's SLAAC after its first RA) */
export const SOURCE_WAIT_MS = 3000;

export class TrafficEndpoints {
  private readonly senders = new Map<string, ProbeSender>();
  private readonly receivers = new Map<string, ProbeReceiver>();

  /** sourceAddress: how this node finds an interface's address (MN: its link monitor); default: the plan's static addresses */
  constructor(
    private readonly ctx: Ctx,
    private readonly sourceAddress: SourceAddress = planAddress(ctx.node),
  ) {}

  /** True when cmd was a traffic command (answered, with success or an error). */
  async onCommand(cmd: BusCommand): Promise<boolean> {
    try {
      switch (cmd.type) {
        case 'traffic-listen':
          await this.listen(cmd);
          return true;
        case 'traffic-start':
          await this.start(cmd);
          return true;
        case 'traffic-stop':
          await this.stop(cmd);
          return true;
        default:
          return false;
      }
    } catch (err) {
      this.ctx.log.warn({ cmd: cmd.type, err: (err as Error).message }, 'traffic command failed');
      await this.ctx.bus.emit('error', { message: `${cmd.type}: ${(err as Error).message}` }, cmd.id);
      return true;
    }
  }

  private async listen(cmd: BusCommand): Promise<void> {
    const { flow, port } = parse(TrafficListenArgs, cmd.args);
    if (this.receivers.has(flow)) throw new Error(`flow ${flow} already has a receiver here`);
    const r = await ProbeReceiver.listen({ flow, node: this.ctx.node.name, port });
    this.receivers.set(flow, r);
    this.ctx.log.info({ flow, port: r.port }, 'traffic receiver listening');
    await this.emit('traffic-started', { flow, role: 'receiver', port: r.port }, cmd.id);
  }

  private async start(cmd: BusCommand): Promise<void> {
    const a = parse(TrafficStartArgs, cmd.args);
    if (this.senders.has(a.flow)) throw new Error(`flow ${a.flow} already has a sender here`);
    const { srcIface, ...opts } = a;
    if (srcIface !== undefined && !this.ctx.node.interfaces.some((i) => i.name === srcIface)) throw new Error(`${this.ctx.node.name} has no interface ${srcIface}`);
    const bind = srcIface !== undefined ? await this.sourceAddress(srcIface, SOURCE_WAIT_MS) : undefined;
    if (this.senders.has(a.flow)) throw new Error(`flow ${a.flow} already has a sender here`);
    const s = new ProbeSender({ ...opts, node: this.ctx.node.name, ...(bind ? { bind } : {}) });
    this.senders.set(a.flow, s);
    try {
      await s.open();
    } catch (err) {
      this.senders.delete(a.flow);
      await s.stop();
      throw err;
    }
    s.start();
    this.ctx.log.info({ flow: a.flow, dst: a.dst, port: a.port, rate: a.rate, size: a.size, srcIface, bind }, 'traffic sender started');
    await this.emit('traffic-started', { flow: a.flow, role: 'sender', port: a.port }, cmd.id);
  }

  private async stop(cmd: BusCommand): Promise<void> {
    const { flow } = parse(TrafficStopArgs, cmd.args);
    const ends = [this.senders.get(flow), this.receivers.get(flow)].filter((e) => e !== undefined);
    if (!ends.length) throw new Error(`no end of flow ${flow} runs on ${this.ctx.node.name}`);
    for (const e of ends) await this.emit('traffic-stopped', await this.finish(flow, e), cmd.id);
  }

  /** Stop one end, write its samples, forget it. */
  private async finish(flow: string, end: ProbeSender | ProbeReceiver): Promise<TrafficEvent> {
    const sender = end instanceof ProbeSender;
    (sender ? this.senders : this.receivers).delete(flow);
    await end.stop();
    const role = sender ? 'sender' : 'receiver';
    const rel = samplesFile(flow, role);
    const abs = path.join(this.ctx.runDir, rel);
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(`${abs}.tmp`, end.samples());
    await rename(`${abs}.tmp`, abs);
    const counts = sender ? { sent: end.sent } : { received: end.received };
    const extra = sender ? { failed: end.failed } : { strays: end.strayCount };
    this.ctx.log.info({ flow, role, ...counts, ...extra, file: rel }, 'traffic stopped');
    return sender ? { flow, role, port: end.opts.port, ...counts, file: rel } : { flow, role, port: end.port, ...counts, file: rel };
  }

  /** Role stop: every end still running is stopped and its samples written. */
  async stopAll(): Promise<void> {
    const ends: Array<[string, ProbeSender | ProbeReceiver]> = [...this.senders, ...this.receivers];
    for (const [flow, e] of ends) {
      try {
        await this.emit('traffic-stopped', await this.finish(flow, e));
      } catch (err) {
        this.ctx.log.error({ flow, err: (err as Error).message }, 'could not stop traffic end');
      }
    }
  }

  private emit(type: 'traffic-started' | 'traffic-stopped', data: TrafficEvent, replyTo?: string): Promise<void> {
    return this.ctx.bus.emit(type, data, replyTo);
  }
}

/** A node with static addresses (a CN): the first global address the plan gives the interface. */
export function planAddress(node: Ctx['node']): SourceAddress {
  return async (iface) => {
    const a = node.interfaces.find((i) => i.name === iface)?.addresses.find((x) => !x.toLowerCase().startsWith('fe80'));
    if (!a) throw new Error(`${node.name}:${iface} has no global address in the plan`);
    return a.split('/')[0] as string;
  };
}

function parse<T>(schema: z.ZodType<T>, args: unknown): T {
  const r = schema.safeParse(args ?? {});
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.') || 'args'}: ${i.message}`).join('; '));
  return r.data;
}
