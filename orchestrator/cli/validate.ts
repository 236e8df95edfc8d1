import path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { parseFlags } from './flags.js';
import { table } from './progress.js';
import { loadTopology } from '../topology/load.js';
import type { Plan } from '../topology/plan.js';
import { planTopology } from '../topology/planner.js';

// `pmiplab validate <topology.yaml>`: load, check and plan a topology without
// building anything (no root). Prints the address plan; exit 2 on bad input.

const Args = z.object({ file: z.string().min(1) });

/** Run id used for a plan that is only looked at; real runs get their own. */
export const PREVIEW_RUN_ID = 'preview';

export function loadPlan(file: string, runId = PREVIEW_RUN_ID): Plan {
  const topo = loadTopology(file);
  return planTopology(topo, path.resolve(file), runId);
}

export function describePlan(plan: Plan): string {
  const ifRows = [['NODE', 'KIND', 'IFACE', 'IFINDEX', 'MAC', 'MTU', 'LINK', 'ADDRESSES']];
  for (const n of plan.nodes) {
    for (const i of n.interfaces) {
      ifRows.push([n.name, n.kind, i.name, String(i.ifindex), i.mac, String(i.mtu), i.link, i.addresses.join(' ') || '(slaac)']);
    }
  }
  const linkRows = [['LINK', 'KIND', 'ENDPOINTS', 'SUBNET', 'MTU', 'SHAPING']];
  for (const l of plan.links) {
    const shaping = [l.rate, l.delayMs !== undefined ? `delay ${l.delayMs}ms` : '', l.lossPct !== undefined ? `loss ${l.lossPct}%` : ''];
    linkRows.push([
      l.id,
      l.kind,
      l.endpoints.map((e) => `${e.node}:${e.iface}`).join(' ') + (l.bridge ? ` (bridge ${l.bridge.name})` : ''),
      l.subnet ?? '-',
      String(l.mtu),
      shaping.filter(Boolean).join(' ') || '-',
    ]);
  }
  const routes = plan.nodes.flatMap((n) => n.routes.map((r) => `  ${n.name}: ${r.dst}${r.via ? ` via ${r.via}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`));
  return [
    `ok: ${plan.nodes.length} nodes, ${plan.links.length} links, ${plan.scenario.length} scenario steps`,
    `pools: backhaul ${plan.pools.backhaul}, hnp ${plan.pools.hnp}, cn ${plan.pools.cn}`,
    '',
    table(ifRows),
    '',
    table(linkRows),
    ...(routes.length ? ['', 'routes:', ...routes] : []),
  ].join('\n');
}

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a topology file and print its address plan (no root needed)')
    .argument('<topology>', 'topology YAML file')
    .action((file: unknown) => {
      const args = parseFlags(Args, { file }, 'pmiplab validate <topology.yaml>');
      process.stdout.write(`${describePlan(loadPlan(args.file))}\n`);
    });
}
