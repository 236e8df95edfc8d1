import { Command } from 'commander';
import { z } from 'zod';
import { l2Event, sinceStart, type L2Action } from '../lab/l2.js';
import { RUN_ID_RE } from '../run/paths.js';
import { requireRoot } from '../system/tools.js';
import { parseFlags } from './flags.js';

// `pmiplab move <id> <mn:iface> <mag>` and `pmiplab link <id> <mn:iface> down|up`:
// the L2 events of a mobile node, by hand. The MN keeps its interface and MAC
// and sees carrier go down and up; the times are those the MN's kernel reported.
const RunId = z.string().regex(RUN_ID_RE, 'a run id is 1-8 lowercase letters or digits');
const Iface = z.string().regex(/^[a-z0-9-]{1,20}:[A-Za-z0-9_-]{1,15}$/, 'give the MN interface as node:iface, e.g. mn1:wlan0');
const MoveArgs = z.object({ id: RunId, iface: Iface, to: z.string().min(1), toIface: z.string().max(15).optional(), json: z.boolean().default(false) }).strict();
const LinkArgs = z.object({ id: RunId, iface: Iface, state: z.enum(['down', 'up']), json: z.boolean().default(false) }).strict();

async function run(id: string, ifaceRef: string, action: L2Action, json: boolean): Promise<void> {
  requireRoot('L2 events');
  const [node, iface] = ifaceRef.split(':') as [string, string];
  const ev = await l2Event(id, node, iface, action);
  if (json) {
    process.stdout.write(`${JSON.stringify(ev)}\n`);
    return;
  }
  const what = ev.type === 'l2-move' ? `${ev.node}:${ev.iface} moved ${ev.from} -> ${ev.to}` : `${ev.node}:${ev.iface} ${ev.type.slice(3)} on ${ev.to}`;
  const times = [ev.type !== 'l2-up' && `carrier down at +${sinceStart(ev, ev.tDownNs)} ms`, ev.type !== 'l2-down' && `up at +${sinceStart(ev, ev.tUpNs)} ms`];
  process.stdout.write(`${what}: ${times.filter(Boolean).join(', ')}\n`);
}

export function moveCommand(): Command {
  return new Command('move')
    .description("move an MN interface to another MAG (the MN sees carrier down, then up on the new MAG)")
    .argument('<id>', 'run id')
    .argument('<mn:iface>', 'the MN interface, e.g. mn1:wlan0')
    .argument('<mag>', 'the MAG to attach it to')
    .option('--to-iface <name>', "name of the MAG's end there")
    .option('--json', 'print the event as JSON (monotonic ns timestamps)')
    .action(async (id: string, iface: string, to: string, opts: { toIface?: string; json?: boolean }) => {
      const a = parseFlags(MoveArgs, { id, iface, to, ...opts });
      await run(a.id, a.iface, { type: 'move', to: a.to, ...(a.toIface ? { toIface: a.toIface } : {}) }, a.json);
    });
}

export function linkCommand(): Command {
  return new Command('link')
    .description("take an MN interface's link down or up (carrier loss / return at the MN)")
    .argument('<id>', 'run id')
    .argument('<mn:iface>', 'the MN interface, e.g. mn1:wlan0')
    .argument('<state>', 'down or up')
    .option('--json', 'print the event as JSON')
    .action(async (id: string, iface: string, state: string, opts: { json?: boolean }) => {
      const a = parseFlags(LinkArgs, { id, iface, state, ...opts });
      await run(a.id, a.iface, { type: a.state }, a.json);
    });
}
