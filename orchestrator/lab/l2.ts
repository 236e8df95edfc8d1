import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Bus } from '../../nodes/runtime/bus.js';
import { ErrorCodes, PmipError } from '../errors.js';
import { LinkController, LinkSnapshot, readState, withRunLock, type L2Event } from '../netns/index.js';
import { runPaths, runsRoot } from '../run/paths.js';
import { readPlanFile } from '../topology/plan.js';

// L2 events on a running run from a short-lived process (the CLI): the link
// controller starts from where the last one left the interfaces
// (runs/<id>/links.json) and saves where it leaves them.

export type L2Action = { type: 'move'; to: string; toIface?: string } | { type: 'down' } | { type: 'up' };

function loadSnapshot(file: string): LinkSnapshot | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null; // no move yet: the plan's attachments hold
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    json = err; // reported below like any other bad content
  }
  const r = LinkSnapshot.safeParse(json);
  if (!r.success) {
    const why = json instanceof Error ? json.message : (r.error.issues[0]?.message ?? '');
    throw new PmipError(ErrorCodes.runtime, `${file} is not a link snapshot: ${why}`, `where the interfaces are is unknown: pmiplab down the run and bring it up again`);
  }
  return r.data;
}

export async function l2Event(id: string, node: string, iface: string, action: L2Action, root = runsRoot()): Promise<L2Event> {
  const state = readState(id, root);
  if (!state || state.cleanedAt) throw new PmipError(ErrorCodes.badInput, `run '${id}' is not up`, 'pmiplab ls lists the runs');
  const paths = runPaths(id, state.runsDir);
  const plan = readPlanFile(paths.plan);
  const snapFile = path.join(paths.dir, 'links.json');
  const links = new LinkController();
  try {
    await links.open(plan);
    // read, move, save under the run's lock: two moves at once (or a move and a
    // link down) must each start from where the other left the interfaces
    const ev = await withRunLock(paths.dir, async () => {
      const snap = loadSnapshot(snapFile);
      if (snap) links.restore(snap);
      if (!links.attachment(node, iface)) {
        throw new PmipError(ErrorCodes.badInput, `${node}:${iface} is not an MN interface on an access link of run ${id}`);
      }
      const done =
        action.type === 'move'
          ? await links.move({ node, iface, to: action.to, ...(action.toIface ? { toIface: action.toIface } : {}) })
          : action.type === 'down'
            ? await links.down(node, iface)
            : await links.up(node, iface);
      // tmp + rename: a reader never sees half a file
      const tmp = `${snapFile}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(links.snapshot(), null, 2)}\n`);
      renameSync(tmp, snapFile);
      return done;
    });
    if (state.redisUrl) await publish(state.redisUrl, id, ev);
    return ev;
  } finally {
    await links.close();
  }
}

/** Put the event on the run's event stream, next to the nodes' own (a best effort: the move happened either way). */
async function publish(url: string, id: string, ev: L2Event): Promise<void> {
  try {
    const bus = await Bus.connect(url, id, 'orchestrator');
    try {
      await bus.emit(ev.type, ev);
    } finally {
      await bus.close();
    }
  } catch {
    // no bus (network-only run, or Redis gone)
  }
}

/** Milliseconds from the start of an event to a timestamp of it ('-' when the event has none). */
export function sinceStart(ev: L2Event, t: string): string {
  const dt = BigInt(t) - BigInt(ev.tStartNs);
  return dt > 0n ? (Number(dt) / 1e6).toFixed(2) : '-';
}
