import type { MnPlanInterface, Plan } from '../contract/plan.js';
import { HANDOFF_INDICATOR } from '../protocol/numbers.js';

// Which MN interfaces each access interface of this MAG serves, read once
// from the plan at start. In an emulated access network this stands for the
// L2 authentication a real one would do: when carrier comes up on acc0, the
// MAG knows which MN (MN-ID, MN-LL-ID, ATT) is there without waiting for a
// Router Solicitation, so the PBU can leave at once. Where the plan does not
// say (netns moves bring interfaces the MAG's plan view never listed), the
// MN is identified from the source link-layer address of its RS instead.

export interface ServedMn {
  mnNode: string;
  mnId: string;
  mnIface: string;
  mac: string;
  llId: string; // hex octets with ':'
  att: number;
  hnp?: string; // the plan's fixed prefix for this interface
}

export interface AccessIface {
  iface: string;
  link: string;
  mns: ServedMn[];
  /** the plan puts this link on this MAG when the run starts */
  startsHere: boolean;
  /** other MAGs can serve this link (an MN attaching here may come from one of them) */
  shared: boolean;
}

export function accessInterfaces(plan: Plan, me: string): AccessIface[] {
  const self = plan.nodes.find((n) => n.name === me);
  if (!self) return [];
  const out: AccessIface[] = [];
  for (const i of self.interfaces) {
    const link = plan.links.find((l) => l.id === i.link);
    if (!link || link.kind !== 'access') continue;
    const mns: ServedMn[] = [];
    for (const n of plan.nodes) {
      if (n.kind !== 'mn') continue;
      const o = n.options;
      for (const mi of n.interfaces.filter((x) => x.link === link.id)) {
        const io: Partial<MnPlanInterface> = o.interfaces?.[mi.name] ?? {};
        const served: ServedMn = {
          mnNode: n.name,
          mnId: o.mnId,
          mnIface: mi.name,
          mac: mi.mac,
          llId: (io.llId ?? mi.mac).toLowerCase(),
          att: io.att ?? mi.att ?? 0,
        };
        if (io.hnp !== undefined) served.hnp = io.hnp;
        mns.push(served);
      }
    }
    const magsOnLink = link.air
      ? link.air.ports.map((p) => p.mag)
      : plan.nodes.filter((n) => n.kind === 'mag' && (n.interfaces.some((x) => x.link === link.id) || link.endpoints.some((e) => e.node === n.name))).map((n) => n.name);
    const startsHere = link.air ? link.air.ports[0]?.mag === me : link.endpoints.some((e) => e.node === me);
    out.push({ iface: i.name, link: link.id, mns, startsHere, shared: magsOnLink.some((m) => m !== me) });
  }
  return out;
}

/**
 * The Handoff Indicator of a new attachment (RFC 5213 6.9.1.1.1), from what
 * an emulated L2 can tell: the first attachment where the run starts the MN is
 * an attachment over a new interface (1); any later one on a link other MAGs
 * also serve is a handoff between MAGs for the same interface (3), the
 * emulation's counterpart of an 802.11 reassociation; otherwise the MAG
 * cannot tell and says so (4). With 3 or 4 an LMA continues the MN's
 * session when it holds a binding for the same MN-ID/ATT/MN-LL-ID and starts
 * a new one when it does not (RFC 5213 5.4.1), so a wrong guess costs nothing.
 */
export function handoffIndicator(a: AccessIface | undefined, seenBefore: boolean): number {
  if (a && a.startsHere && !seenBefore) return HANDOFF_INDICATOR.newInterface;
  if (a && a.shared) return HANDOFF_INDICATOR.sameInterface;
  return HANDOFF_INDICATOR.unknown;
}

