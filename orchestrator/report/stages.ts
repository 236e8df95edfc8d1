import type { TimedEvent } from './timeline.js';

// The LMA's binding cache and each MAG's Binding Update List at every stage
// of a run, rebuilt from the event stream alone (no access to Redis or the
// nodes afterwards). A stage is the state after one scenario step: what the
// tables hold just before the next step starts (the last one: at the end of
// the scenario). Steps planned for the same instant make one stage.
//
// Sources (nodes/runtime/events.ts): binding-created/-updated/-deleted at the
// LMA; mn-attach, pbu-sent, pba-received, mn-detach, registration-failed at
// the MAGs. Fields added for seed 001 (hnps, bid, state, llId on every
// per-session event) are read when present; events without them fall back
// to `hnp` and to matching by MN identifier, access interface and sequence.

export interface BceRow {
  lma: string;
  mnId: string;
  llId: string;
  /** the MN's interface with that MN-LL-ID (from the plan), null when unknown */
  iface: string | null;
  att: number | null;
  bid: number | null;
  hnps: string[];
  pCoA: string;
  /** the MAG whose proxy CoA it is (from the plan), null when unknown */
  mag: string | null;
  state: string;
  lifetimeS: number;
}

export interface BulRow {
  mag: string;
  mnId: string;
  llId: string | null;
  iface: string | null; // the MN's interface
  magIface: string | null; // the MAG's access interface it came in on
  bid: number | null;
  hnps: string[];
  state: string;
  lifetimeS: number | null;
}

export interface StageStep {
  atMs: number; // planned offset from the scenario start
  source: string;
  what: string;
}

export interface Stage {
  index: number; // 0 = registered, before the first step
  label: string;
  t: number; // ns since run start: when the tables were read
  steps: StageStep[];
  bindingCache: BceRow[];
  bul: BulRow[];
}

/** What the plan tells about names: MN interfaces by MN-LL-ID, MAGs by proxy CoA. */
export interface StageNames {
  ifaceOfLlId(mnId: string, llId: string): string | null;
  magOfPcoa(pCoA: string): string | null;
}

export const NO_NAMES: StageNames = { ifaceOfLlId: () => null, magOfPcoa: () => null };

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strs = (v: unknown): string[] | null => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null);
const lower = (s: string | null) => (s === null ? null : s.toLowerCase());

/** prefixes of an event: `hnps` when given, else the single `hnp` (empty: none) */
export function prefixesOf(d: Record<string, unknown>): string[] {
  const many = strs(d.hnps);
  if (many) return many;
  const one = str(d.hnp);
  return one ? [one] : [];
}

/** The binding cache after every event up to time t (inclusive), sorted by LMA, MN, interface. */
export function bindingCacheAt(events: TimedEvent[], t: number, names: StageNames = NO_NAMES): BceRow[] {
  const cache = new Map<string, BceRow>();
  for (const e of events) {
    if (e.t > t) break;
    if (e.type !== 'binding-created' && e.type !== 'binding-updated' && e.type !== 'binding-deleted') continue;
    const d = e.data;
    const mnId = str(d.mnId);
    const llId = str(d.llId);
    if (!mnId || llId === null) continue;
    const bid = int(d.bid);
    const key = `${e.node}|${mnId}|${llId.toLowerCase()}|${bid ?? 0}`;
    if (e.type === 'binding-deleted') {
      cache.delete(key);
      continue;
    }
    const lifetimeS = int(d.lifetime) ?? 0;
    const pCoA = str(d.pCoA) ?? '';
    const hnps = prefixesOf(d);
    // an update under a key the cache does not hold is an existing entry taken
    // over by another interface (the LMA moved it): the entry of that MN
    // holding the same prefixes is the one updated
    if (e.type === 'binding-updated' && !cache.has(key)) {
      for (const [k, b] of cache) if (b.lma === e.node && b.mnId === mnId && b.hnps.some((p) => hnps.includes(p))) cache.delete(k);
    }
    cache.set(key, {
      lma: e.node,
      mnId,
      llId,
      iface: names.ifaceOfLlId(mnId, llId),
      att: int(d.att),
      bid,
      hnps,
      pCoA,
      mag: pCoA ? names.magOfPcoa(pCoA) : null,
      // RFC 5213 5.3.5: a de-registration keeps the entry until MinDelayBeforeBCEDelete
      state: str(d.state) ?? (lifetimeS === 0 ? 'deleting' : 'active'),
      lifetimeS,
    });
  }
  return [...cache.values()].sort((a, b) => cmp(a.lma, b.lma) || cmp(a.mnId, b.mnId) || cmp(a.iface ?? a.llId, b.iface ?? b.llId) || (a.bid ?? 0) - (b.bid ?? 0));
}

interface BulWork extends BulRow {
  seqs: Set<number>; // sequence numbers of PBUs sent for it (a PBA names one)
  attachedT: number;
  hi?: number | null; // Handoff Indicator of the last PBU sent
}

/** Every MAG's Binding Update List after every event up to time t (inclusive). */
export function bulAt(events: TimedEvent[], t: number, names: StageNames = NO_NAMES): BulRow[] {
  const list: BulWork[] = [];
  const drop = (w: BulWork) => list.splice(list.indexOf(w), 1);
  // the entry an event is about: its MN-LL-ID when it carries one, else the
  // MN's only entry at that MAG, else by access interface or sequence number
  const find = (mag: string, d: Record<string, unknown>, prefer: (w: BulWork) => boolean): BulWork | undefined => {
    const mnId = str(d.mnId);
    const mine = list.filter((w) => w.mag === mag && w.mnId === mnId && (int(d.bid) === null || (w.bid ?? 0) === int(d.bid)));
    const llId = lower(str(d.llId));
    if (llId !== null) return mine.find((w) => lower(w.llId) === llId);
    if (mine.length <= 1) return mine[0];
    return mine.find(prefer) ?? mine.reduce((a, b) => (b.attachedT > a.attachedT ? b : a));
  };
  const create = (e: TimedEvent, llId: string | null, magIface: string | null): BulWork => {
    const mnId = str(e.data.mnId) ?? '?';
    const w: BulWork = {
      mag: e.node,
      mnId,
      llId,
      iface: llId ? names.ifaceOfLlId(mnId, llId) : null,
      magIface,
      bid: int(e.data.bid),
      hnps: [],
      state: 'attached',
      lifetimeS: null,
      seqs: new Set(),
      attachedT: e.t,
    };
    list.push(w);
    return w;
  };
  for (const e of events) {
    if (e.t > t) break;
    const d = e.data;
    switch (e.type) {
      case 'mn-attach': {
        const llId = str(d.llId);
        const w = find(e.node, d, (x) => x.magIface === str(d.iface)) ?? create(e, llId, str(d.iface));
        w.magIface = str(d.iface) ?? w.magIface;
        if (llId && !w.llId) {
          w.llId = llId;
          w.iface = names.ifaceOfLlId(w.mnId, llId);
        }
        w.attachedT = e.t;
        if (w.state === 'deregistering') w.state = 'attached';
        break;
      }
      case 'pbu-sent': {
        const lifetime = int(d.lifetime) ?? 0;
        const w = find(e.node, d, (x) => (lifetime > 0 ? x.state === 'attached' || x.state === 'registering' : x.state === 'deregistering')) ?? (lifetime > 0 ? create(e, str(d.llId), null) : undefined);
        if (!w) break;
        const seq = int(d.seq);
        if (seq !== null) w.seqs.add(seq);
        w.hi = int(d.hi);
        if (lifetime === 0) w.state = 'deregistering';
        else if (w.state === 'bound' || w.state === 'renewing') w.state = 'renewing';
        else w.state = 'registering';
        const asked = prefixesOf(d);
        if (asked.length && !w.hnps.length) w.hnps = asked;
        break;
      }
      case 'pba-received': {
        const seq = int(d.seq);
        const w = find(e.node, d, (x) => seq !== null && x.seqs.has(seq));
        if (!w) break;
        const status = int(d.status) ?? 0;
        const lifetime = int(d.lifetime) ?? 0;
        // RFC 5213: status < 128 accepted; lifetime 0 acknowledges a de-registration
        // a refused HI 2 of a bound session (interface handover, prefix transfer) leaves it as it was (nodes/mag/bul.ts)
        if (status >= 128 && w.state === 'renewing' && w.hi === 2) w.state = 'bound';
        else if (status >= 128) w.state = `refused (${status})`;
        else if (lifetime === 0 || w.state === 'deregistering') drop(w);
        else {
          w.state = 'bound';
          w.lifetimeS = lifetime;
          const got = prefixesOf(d);
          if (got.length) w.hnps = got;
        }
        break;
      }
      case 'mn-detach': {
        const w = find(e.node, d, (x) => x.magIface === str(d.iface));
        if (w) w.state = 'deregistering';
        break;
      }
      case 'registration-failed': {
        const w = find(e.node, d, (x) => x.state !== 'bound');
        if (w) drop(w);
        break;
      }
      case 'node-killed': {
        // a MAG's list lives in its process (its restart begins empty)
        const node = str(d.node);
        for (const w of list.filter((x) => x.mag === node)) drop(w);
        break;
      }
    }
  }
  return list
    .map(({ seqs: _s, attachedT: _a, hi: _h, ...row }) => row)
    .sort((a, b) => cmp(a.mag, b.mag) || cmp(a.mnId, b.mnId) || cmp(a.iface ?? a.llId ?? '', b.iface ?? b.llId ?? '') || (a.bid ?? 0) - (b.bid ?? 0));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A planned step in a few words: its action type and what it names. */
export function describeStep(action: Record<string, unknown>): string {
  const type = str(action.type) ?? '?';
  const a = action;
  switch (type) {
    case 'move':
    case 'attach':
      return `${type} ${str(a.iface) ?? '?'}${a.to !== undefined ? ` → ${String(a.to)}` : ''}`;
    case 'traffic-start':
      // the planner splits "mn1:lte0" into to + toIface (from + fromIface)
      return `traffic-start ${str(a.flow) ?? '?'} ${String(a.from ?? '?')}${str(a.fromIface) ? `:${String(a.fromIface)}` : ''} → ${String(a.to ?? '?')}${str(a.toIface) ? `:${String(a.toIface)}` : ''}`;
    case 'traffic-stop':
      return `traffic-stop ${str(a.flow) ?? '?'}`;
    case 'wait-for':
      return `wait-for ${str(a.event) ?? '?'}${a.node !== undefined ? ` from ${String(a.node)}` : ''}`;
    default: {
      const named = ['iface', 'node', 'from', 'to', 'flow', 'prefixes', 'hnps', 'bid', 'priority']
        .filter((k) => a[k] !== undefined)
        .map((k) => `${k} ${Array.isArray(a[k]) ? (a[k] as unknown[]).join(',') : String(a[k])}`);
      return [type, ...named].join(' ');
    }
  }
}

/**
 * The stages of a run: stage 0 just before the first step (the initial
 * registrations), then one per distinct planned step time, read just before
 * the next step time (the last at `end`). `start` is the scenario start, ns
 * since run start; steps are the plan's scenario (atMs, source, action).
 */
export function stagesOf(
  events: TimedEvent[],
  steps: Array<{ atMs: number; source: string; action: Record<string, unknown> }>,
  start: number,
  end: number,
  names: StageNames = NO_NAMES,
): Stage[] {
  const groups: StageStep[][] = [];
  for (const s of [...steps].sort((a, b) => a.atMs - b.atMs)) {
    const step = { atMs: s.atMs, source: s.source, what: describeStep(s.action) };
    const last = groups[groups.length - 1];
    if (last && last[0]!.atMs === s.atMs) last.push(step);
    else groups.push([step]);
  }
  const at = (ms: number) => start + ms * 1e6;
  // read just before a step starts: an event stamped at its instant belongs to it
  const stages: Stage[] = [];
  const snap = (index: number, label: string, t: number, stepsOf: StageStep[]) =>
    stages.push({ index, label, t, steps: stepsOf, bindingCache: bindingCacheAt(events, t, names), bul: bulAt(events, t, names) });
  snap(0, 'registered (before the first step)', groups.length ? at(groups[0]![0]!.atMs) - 1 : end, []);
  groups.forEach((g, k) => {
    const next = groups[k + 1];
    const t = next ? at(next[0]!.atMs) - 1 : Math.max(end, at(g[0]!.atMs));
    snap(k + 1, `after ${g.map((s) => s.what).join('; ')}`, t, g);
  });
  return stages;
}
