import type { Timeline } from './schema.js';

// The signaling timeline of one handover from the run's events: for each
// step, the first matching event at or after the L2 event and before the
// next one (or the horizon), in ms after the L2 event. Who emits what is in
// nodes/runtime/events.ts. Events naming an MN identifier must name this
// MN's (when the plan gives it); MAG steps must come from the new MAG.

export interface TimedEvent {
  node: string;
  type: string;
  t: number; // ns since run start
  data: Record<string, unknown>;
}

export interface TimelineMove {
  from: string;
  to: string;
  node: string; // the MN
  mnId: string | null;
  t: number; // the L2 event, ns since run start
  tDown: number | null;
  tUp: number | null;
}

const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;

/** Events sorted by time; returns the timeline of `m` among events in [m.t, until). */
export function timelineOf(events: TimedEvent[], m: TimelineMove, until: number, lmaNodes: Set<string>): Omit<Timeline, 'firstPacket'> {
  const mine = (e: TimedEvent) => m.mnId === null || e.data.mnId === undefined || e.data.mnId === m.mnId;
  const first = (pred: (e: TimedEvent) => boolean): number | null => {
    for (const e of events) {
      if (e.t < m.t) continue;
      if (e.t >= until) break;
      if (pred(e)) return ms(e.t - m.t);
    }
    return null;
  };
  const registering = (e: TimedEvent) => typeof e.data.lifetime !== 'number' || e.data.lifetime > 0;
  const atNew = (type: string) => (e: TimedEvent) => e.node === m.to && e.type === type && mine(e);
  const atLma = (type: string) => (e: TimedEvent) => (lmaNodes.size === 0 || lmaNodes.has(e.node)) && e.type === type && mine(e) && registering(e);
  const addresses = Array.isArray;
  return {
    l2Down: m.tDown !== null ? ms(m.tDown - m.t) : null,
    l2Up: m.tUp !== null ? ms(m.tUp - m.t) : null,
    mnDetach: first((e) => e.node === m.from && e.type === 'mn-detach' && mine(e)),
    mnAttach: first(atNew('mn-attach')),
    rs: first((e) => e.node === m.to && e.type === 'rs-received'),
    pbuSent: first((e) => atNew('pbu-sent')(e) && registering(e)),
    pbuReceived: first(atLma('pbu-received')),
    pbaSent: first(atLma('pba-sent')),
    pbaReceived: first((e) => atNew('pba-received')(e) && registering(e)),
    routesProgrammed: first(atNew('routes-programmed')),
    raSent: first((e) => atNew('ra-sent')(e) && e.data.reason !== 'deregistration'),
    // the MN usable again, as it reports itself: carrier back (after the carrier
    // loss it saw) with a global address
    mnAddress: (() => {
      const mnEv = (e: TimedEvent) => e.node === m.node && e.type === 'addresses';
      let lostAt: number | null = null;
      for (const e of events) {
        if (e.t < m.t) continue;
        if (e.t >= until) break;
        if (!mnEv(e)) continue;
        if (e.data.carrier === false) lostAt ??= e.t;
        else if (lostAt !== null && addresses(e.data.addresses) && e.data.addresses.length > 0) return ms(e.t - m.t);
      }
      return null;
    })(),
  };
}
