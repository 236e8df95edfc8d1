import type { Logger } from 'pino';
import type { NodeKind, Plan, PlanNode } from '../contract/plan.js';
import type { Bus, BusCommand } from './bus.js';

// The seam for node behaviour. The runtime owns the process (args, log, bus,
// signals, ping/stop); a Role adds what makes a node an LMA, MAG, MN or CN.
// Issue 6 fills the registry; until then every kind runs the bare runtime.

export interface RoleContext {
  runId: string;
  node: PlanNode; // this node, from the plan
  plan: Plan;
  bus: Bus;
  log: Logger;
  /** the run folder (runs/<id>/): roles write their own files under it (e.g. traffic samples) */
  runDir: string;
}

export interface Role {
  /** Called before `ready` is emitted; throw to fail start-up. */
  start(ctx: RoleContext): Promise<void>;
  /** Called once on stop, before the bus closes. */
  stop(): Promise<void>;
  /**
   * Commands other than ping/stop. Return true when handled (the role replies
   * itself with ctx.bus.emit(..., cmd.id)); false lets the runtime answer
   * with an 'error' event.
   */
  onCommand?(cmd: BusCommand): Promise<boolean>;
}

/** Role factories by node kind (roles.ts); loaded lazily so a node only runs its own role. */
export type RoleFactory = () => Promise<Role>;
export type RoleRegistry = Partial<Record<NodeKind, RoleFactory>>;
