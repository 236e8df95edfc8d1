import { eventFields, EVENT_NAMES, isEventName } from '../../nodes/contract/index.js';
import { normalizePrefix } from '../../nodes/lma/prefix.js';
import type { Issue, PathSeg } from './issues.js';
import { magLma, parseEndpoint, resolveLinks } from './resolve.js';
import type { Action, TopologyFile } from './schema.js';

// The scenario timeline: durations to milliseconds, `repeat` unrolled, every
// reference checked against the topology, and the steps replayed in time
// order on a small model of where each MN interface is attached, so a move
// to the MAG it is already on, a name clash in the target MAG or a stop of a
// flow that never started is refused here instead of mid-experiment. A
// wait-for step is checked against the event contract (nodes/runtime/events.ts):
// an event nothing emits, or a match on a field it does not carry, would
// only time out mid-run.

/** A step as the scenario runner gets it: one action at one time; a move names where it comes from. */
export type PlannedAction =
  | Exclude<Action, { type: 'move' } | { type: 'attach' } | { type: 'traffic-start' }>
  | { type: 'move'; iface: string; to: string; toIface: string; from: string; fromIface: string }
  | { type: 'attach'; iface: string; to: string; toIface: string }
  /** from/to are nodes; fromIface/toIface name the MN interface when the file gave "mn1:lte0" */
  | { type: 'traffic-start'; flow: string; from: string; to: string; fromIface?: string; toIface?: string; rate: number; size: number };

/** The seed 001 steps that go to the MAG an MN interface is on, as bus commands. */
export const SESSION_STEPS = ['interface-handover', 'transfer-prefixes', 'add-session', 'set-interface'] as const;
export type SessionStep = Extract<Action, { type: (typeof SESSION_STEPS)[number] }>;
const isSessionStep = (a: Action): a is SessionStep => (SESSION_STEPS as readonly string[]).includes(a.type);

export interface PlannedStep {
  atMs: number;
  /** the file step it came from, e.g. "scenario[2]" */
  source: string;
  /** 0-based repetition of a repeated step */
  repetition?: number;
  action: PlannedAction;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/** "2s" -> 2000, "500ms" -> 500, 1500 -> 1500. The string form was checked by the schema. */
export function parseDuration(d: string | number): number {
  if (typeof d === 'number') return d;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d);
  if (!m) throw new RangeError(`not a duration: ${d}`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
}

/** A flow end: "cn1", or "mn1:lte0" for one MN interface. */
const flowEnd = (ref: string): { node: string; iface?: string } => (ref.includes(':') ? parseEndpoint(ref) : { node: ref });

interface Expanded {
  atMs: number;
  index: number;
  repetition?: number;
  action: Action;
  to?: string; // a move's or attach's target for this repetition
}

export function expandScenario(file: TopologyFile): { steps: PlannedStep[]; issues: Issue[] } {
  const issues: Issue[] = [];
  const nodes = file.topology.nodes;
  const kindOf = (n: string) => nodes[n]?.kind;
  const links = resolveLinks(file);

  // MN interfaces that have an access link, and where their MAG end starts
  const where = new Map<string, { mag: string; magIface: string; attached: boolean }>();
  const magIfaces = new Map<string, Set<string>>();
  const live = new Set<string>(); // "node:iface" endpoints that exist right now
  for (const link of links) {
    for (const e of link.endpoints) {
      live.add(`${e.node}:${e.iface}`);
      if (kindOf(e.node) === 'mag') (magIfaces.get(e.node) ?? magIfaces.set(e.node, new Set()).get(e.node))?.add(e.iface);
    }
    if (link.kind !== 'access') continue;
    const mn = link.endpoints.find((e) => kindOf(e.node) === 'mn');
    const mag = link.endpoints.find((e) => kindOf(e.node) === 'mag');
    if (mn && mag) where.set(`${mn.node}:${mn.iface}`, { mag: mag.node, magIface: mag.iface, attached: true });
  }

  // an MN registers with the LMA of the MAG its first access link starts on (orchestrator/policy/seed.ts)
  const mnLma = new Map<string, string>();
  for (const [ref, w] of where) {
    const mn = parseEndpoint(ref).node;
    const lma = magLma(file, w.mag);
    if (!mnLma.has(mn) && lma !== undefined) mnLma.set(mn, lma);
  }

  const expanded: Expanded[] = [];
  file.scenario.forEach((step, index) => {
    const base: PathSeg[] = ['scenario', index, 'action'];
    const bad = (rel: PathSeg[], message: string) => issues.push({ path: [...base, ...rel], message });
    const a = step.action;
    const needMnIface = (ref: string, rel: PathSeg[] = ['iface']) => {
      if (!where.has(ref)) {
        const { node } = parseEndpoint(ref);
        bad(rel, kindOf(node) === undefined ? `node "${node}" is not defined` : kindOf(node) !== 'mn'
          ? `"${ref}" is not an MN interface (${a.type} acts on an MN interface)`
          : `"${ref}" is not an MN interface with an access link`);
        return false;
      }
      return true;
    };
    const needKind = (rel: PathSeg[], node: string, kinds: string[], what: string) => {
      const k = kindOf(node);
      if (k === undefined) bad(rel, `node "${node}" is not defined`);
      else if (!kinds.includes(k)) bad(rel, `"${node}" is a ${k}; ${what}`);
      else return true;
      return false;
    };
    /** the MN's LMA serves only through its own MAGs: a move to another LMA's MAG would be refused by that MAG */
    const needSameLma = (rel: PathSeg[], ref: string, mag: string) => {
      const lma = mnLma.get(parseEndpoint(ref).node);
      const theirs = magLma(file, mag);
      if (lma === undefined || theirs === undefined || theirs === lma) return true;
      bad(rel, `${mag} registers with ${theirs}, but ${ref} is served by ${lma} (the LMA of its first MAG): ${mag} would refuse it`);
      return false;
    };
    /** "mn1:lte0" flow ends: an interface the MN declares */
    const needFlowEnd = (rel: PathSeg[], ref: string) => {
      if (!ref.includes(':')) return needKind(rel, ref, ['mn', 'cn'], 'traffic runs between MNs and CNs');
      const { node, iface } = parseEndpoint(ref);
      const n = nodes[node];
      if (!needKind(rel, node, ['mn'], 'only an MN end names an interface ("mn1:lte0")')) return false;
      if (n?.kind === 'mn' && !Object.hasOwn(n.interfaces, iface)) {
        bad(rel, `${node} has no interface "${iface}" (it has ${Object.keys(n.interfaces).join(', ')})`);
        return false;
      }
      return true;
    };
    const needPrefixes = (list: string[] | undefined) => {
      let good = true;
      (list ?? []).forEach((px, k) => {
        if (normalizePrefix(px) === null) {
          bad(['prefixes', k], `"${px}" is not an IPv6 prefix`);
          good = false;
        } else if ((list ?? []).findIndex((q) => normalizePrefix(q) === normalizePrefix(px)) !== k) {
          bad(['prefixes', k], `"${px}" is listed twice`);
          good = false;
        }
      });
      return good;
    };
    let ok = true;
    switch (a.type) {
      case 'move': {
        ok = needMnIface(a.iface);
        const targets = typeof a.to === 'string' ? [a.to] : a.to;
        targets.forEach((t, k) => {
          const rel = typeof a.to === 'string' ? ['to'] : ['to', k];
          ok = needKind(rel, t, ['mag'], 'a move goes to a MAG') && ok && needSameLma(rel, a.iface, t);
        });
        if (Array.isArray(a.to) && a.to.length > 1 && !step.repeat) {
          bad(['to'], 'a list of MAGs is cycled through by a repeated step; add repeat: { count, every }');
          ok = false;
        }
        break;
      }
      case 'attach':
        ok = needMnIface(a.iface);
        if (a.to !== undefined) ok = needKind(['to'], a.to, ['mag'], 'an MN interface attaches to a MAG') && ok && needSameLma(['to'], a.iface, a.to);
        break;
      case 'detach':
        ok = needMnIface(a.iface);
        break;
      case 'link-down':
      case 'link-up': {
        const { node } = parseEndpoint(a.iface);
        if (kindOf(node) === undefined) {
          bad(['iface'], `node "${node}" is not defined`);
          ok = false;
        } else if (!live.has(a.iface)) {
          bad(['iface'], `"${a.iface}" is not an endpoint of any link`);
          ok = false;
        }
        break;
      }
      case 'traffic-start':
        ok = needFlowEnd(['from'], a.from);
        ok = needFlowEnd(['to'], a.to) && ok;
        if (ok && flowEnd(a.from).node === flowEnd(a.to).node) {
          bad(['to'], 'a flow needs two different nodes');
          ok = false;
        }
        break;
      case 'kill':
      case 'restart':
        ok = needKind(['node'], a.node, ['lma', 'mag', 'mn', 'cn'], '');
        break;
      case 'wait-for':
        if (a.node !== undefined) ok = needKind(['node'], a.node, ['lma', 'mag', 'mn', 'cn'], '');
        if (!isEventName(a.event)) {
          const near = EVENT_NAMES.filter((n) => n.includes(a.event) || a.event.includes(n)).slice(0, 3);
          bad(['event'], `no node emits an event "${a.event}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}; the events are listed in nodes/runtime/events.ts`);
          ok = false;
        } else {
          const fields = eventFields(a.event);
          for (const k of Object.keys(a.match ?? {})) {
            if (fields.includes(k)) continue;
            bad(['match', k], `a ${a.event} event has no field "${k}" (it has ${fields.join(', ') || 'no fixed fields'})`);
            ok = false;
          }
        }
        break;
      case 'interface-handover':
      case 'transfer-prefixes': {
        ok = needMnIface(a.iface);
        ok = needMnIface(a.from, ['from']) && ok;
        if (ok && parseEndpoint(a.iface).node !== parseEndpoint(a.from).node) {
          bad(['from'], `${a.from} is not an interface of ${parseEndpoint(a.iface).node}: prefixes move between the interfaces of one MN`);
          ok = false;
        } else if (ok && a.iface === a.from) {
          bad(['from'], 'the prefixes move to another interface of the MN');
          ok = false;
        }
        ok = needPrefixes(a.prefixes) && ok;
        break;
      }
      case 'add-session':
        ok = needMnIface(a.iface);
        ok = needPrefixes(a.prefixes) && ok;
        break;
      case 'set-interface':
        ok = needMnIface(a.iface);
        if (a.priority === undefined) {
          bad([], 'set-interface changes something: give priority');
          ok = false;
        }
        break;
      case 'traffic-stop':
        break;
    }
    if (!ok) return;
    const at = parseDuration(step.at);
    if (!step.repeat) {
      expanded.push({ atMs: at, index, action: a, to: a.type === 'move' ? [a.to].flat()[0] : undefined });
      return;
    }
    const every = parseDuration(step.repeat.every);
    if (every === 0 && step.repeat.count > 1) {
      issues.push({ path: ['scenario', index, 'repeat', 'every'], message: 'a repeated step needs every > 0' });
      return;
    }
    for (let r = 0; r < step.repeat.count; r++) {
      const to = a.type === 'move' ? (typeof a.to === 'string' ? a.to : a.to[r % a.to.length]) : undefined;
      expanded.push({ atMs: at + r * every, index, repetition: r, action: a, to });
    }
  });

  // Replay in time order (stable: file order breaks ties).
  expanded.sort((x, y) => x.atMs - y.atMs || x.index - y.index || (x.repetition ?? 0) - (y.repetition ?? 0));
  const flows = new Map<string, number>();
  const bids = new Map<string, Set<number>>(); // MN interface -> BIDs of its added sessions
  const failed = new Set<number>(); // one timeline error per file step is enough
  const steps: PlannedStep[] = [];
  for (const e of expanded) {
    if (failed.has(e.index)) continue;
    const when = `at ${e.atMs} ms${e.repetition !== undefined ? `, repetition ${e.repetition + 1}` : ''}`;
    const fail = (rel: PathSeg[], message: string) => {
      failed.add(e.index);
      issues.push({ path: ['scenario', e.index, 'action', ...rel], message: `${message} (${when})` });
    };
    const a = e.action;
    let action: PlannedAction | undefined;
    switch (a.type) {
      case 'move':
      case 'attach': {
        const st = where.get(a.iface);
        if (!st) break;
        const to = (a.type === 'move' ? e.to : a.to) ?? st.mag;
        const toIface = a.toIface ?? st.magIface;
        if (a.type === 'move' && to === st.mag) {
          fail(['to'], `${a.iface} is already on ${to}`);
          break;
        }
        if (a.type === 'attach' && st.attached) {
          fail(['iface'], `${a.iface} is already attached to ${st.mag}`);
          break;
        }
        const names = magIfaces.get(to) ?? new Set<string>();
        if (to !== st.mag && names.has(toIface)) {
          fail(['toIface'], `${to} already has an interface "${toIface}"; name the moved end with toIface`);
          break;
        }
        magIfaces.get(st.mag)?.delete(st.magIface);
        live.delete(`${st.mag}:${st.magIface}`);
        magIfaces.set(to, names.add(toIface));
        live.add(`${to}:${toIface}`);
        action =
          a.type === 'move'
            ? { type: 'move', iface: a.iface, to, toIface, from: st.mag, fromIface: st.magIface }
            : { type: 'attach', iface: a.iface, to, toIface };
        where.set(a.iface, { mag: to, magIface: toIface, attached: true });
        break;
      }
      case 'detach': {
        const st = where.get(a.iface);
        if (!st) break;
        if (!st.attached) {
          fail(['iface'], `${a.iface} is already detached`);
          break;
        }
        st.attached = false;
        action = a;
        break;
      }
      case 'link-down':
      case 'link-up':
        if (!live.has(a.iface)) fail(['iface'], `"${a.iface}" is not there any more (a move took it away)`);
        else action = a;
        break;
      case 'traffic-start':
        if (flows.has(a.flow)) fail(['flow'], `flow "${a.flow}" is already running`);
        else {
          flows.set(a.flow, e.index);
          const from = flowEnd(a.from);
          const to = flowEnd(a.to);
          action = {
            type: 'traffic-start',
            flow: a.flow,
            from: from.node,
            to: to.node,
            ...(from.iface ? { fromIface: from.iface } : {}),
            ...(to.iface ? { toIface: to.iface } : {}),
            rate: a.rate,
            size: a.size,
          };
        }
        break;
      case 'traffic-stop':
        if (!flows.delete(a.flow)) fail(['flow'], `flow "${a.flow}" is not running`);
        else action = a;
        break;
      default:
        if (isSessionStep(a)) {
          // sent to the MAG the interface is on: it has to be attached then
          const st = where.get(a.iface);
          if (st && !st.attached) {
            fail(['iface'], `${a.iface} is detached: no MAG to send ${a.type} to`);
            break;
          }
          if (a.type === 'add-session') {
            const used = bids.get(a.iface) ?? new Set<number>();
            if (used.has(a.bid)) {
              fail(['bid'], `${a.iface} already has a session with BID ${a.bid}`);
              break;
            }
            bids.set(a.iface, used.add(a.bid));
          }
          action = 'prefixes' in a && a.prefixes ? { ...a, prefixes: a.prefixes.map((px) => normalizePrefix(px) as string) } : a;
          break;
        }
        action = a;
    }
    if (action) {
      steps.push({
        atMs: e.atMs,
        source: `scenario[${e.index}]`,
        ...(e.repetition !== undefined ? { repetition: e.repetition } : {}),
        action,
      });
    }
  }
  return { steps, issues };
}
