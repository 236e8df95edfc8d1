import { readPlanFile, type Plan, type PlanNode } from '../contract/plan.js';

// A node reads the run's resolved plan (runs/<id>/topology.json) and finds
// itself in it; anything off is a start-up error with the reason.

export function loadOwnPlan(file: string, node: string, kind: string, runId: string): { plan: Plan; self: PlanNode } {
  const plan = readPlanFile(file, { jitless: true });
  if (plan.runId !== runId) throw new Error(`plan ${file} is for run '${plan.runId}', not '${runId}'`);
  const self = plan.nodes.find((n) => n.name === node);
  if (!self) throw new Error(`node '${node}' is not in plan ${file}`);
  if (self.kind !== kind) throw new Error(`node '${node}' is a ${self.kind} in the plan, not a ${kind}`);
  return { plan, self };
}
