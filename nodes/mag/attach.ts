import { HANDOFF_INDICATOR } from '../protocol/numbers.js';
import { interfaceByLlId, magAllowed, sessionPrefixes, type MnProfile } from '../runtime/policy-store.js';
import { handoffIndicator, type AccessIface, type ServedMn } from './access.js';
import { entryKey } from './bul.js';

// The MAG's attach decisions, pure (no I/O, no clock): given what the MAG
// saw (an access interface, an MN-LL-ID, its policy profile, what its BUL
// holds), which MN and which of its interfaces it is, whether this MAG may
// register it (RFC 5213 6.2: the policy profile decides), and what the first
// PBU of that session asks for: Handoff Indicator (RFC 5213 6.9.1.1),
// prefixes (the interface's fixed ones, the shared interface's, or
// all-zero) and whether the binding is dormant (docs/seed001.md). The role
// looks the profile up and performs the decision.

export interface AttachInput {
  /** this MAG's node name and the LMA it registers with */
  mag: string;
  lma: string;
  /** the access interface the MN was seen on, as the plan describes it */
  iface: string;
  access?: AccessIface;
  /** MN-LL-ID, hex octets with ':' (lowercase) */
  llId: string;
  served?: ServedMn;
  profile: MnProfile | null;
  /** this session (key) was attached at this MAG before */
  seenBefore: boolean;
  /** the Handoff Indicator of a retried registration (access.ts retryHandoffIndicator) */
  retryHi?: number;
  /** the prefixes this MAG's BUL holds for another interface of the MN (by its MN-LL-ID): a shared prefix named as held */
  heldPrefixes?: (llId: string) => string[];
  /** MAG option combinePbu: sessions carry a Binding Identifier */
  combinePbu?: boolean;
}

export type AttachDecision =
  | { kind: 'refuse'; mnId: string; reason: string }
  | {
      kind: 'register';
      key: string;
      mnId: string;
      llId: string;
      att: number;
      /** the MN's own name of the interface (profile), for events and logs */
      mnIface?: string;
      hi: number;
      /** HNP options of the PBU; [] = one all-zero option */
      hnps: string[];
      dormant: boolean;
      /** the interface this one shares prefixes with (profile iface name) */
      shareWith?: string;
      /** combinePbu: the interface's position in the profile, from 1 (unique per MN, as RFC 5648 BIDs must be) */
      bid?: number;
    };

export function decideAttach(x: AttachInput): AttachDecision {
  const llId = x.llId.toLowerCase();
  const p = x.profile;
  const mnId = p?.mnId ?? x.served?.mnId ?? llId;
  if (!p) return { kind: 'refuse', mnId, reason: 'MN not in the policy store' };
  if (!magAllowed(p, x.mag)) return { kind: 'refuse', mnId, reason: `MAG ${x.mag} is not allowed to register this MN` };
  if (p.lma !== x.lma) return { kind: 'refuse', mnId, reason: `the MN is served by LMA ${p.lma}, this MAG by ${x.lma}` };
  const pi = interfaceByLlId(p, llId);
  const att = pi?.att ?? x.served?.att ?? 0;
  const key = entryKey(p.mnId, llId, att);
  const shared = pi?.shareWith !== undefined ? p.interfaces.find((i) => i.iface === pi.shareWith) : undefined;
  const dormant = pi?.dormant === true;
  let hnps = requestedPrefixes(p, llId, x.served);
  // a shared prefix the LMA allocated (no fixed one): the MAG names what it holds for the other interface, if it does
  if (shared && hnps.length === 0) hnps = x.heldPrefixes?.(shared.llId.toLowerCase()) ?? [];
  // seed 001 section 3 and appendix D: a shared or dormant binding is an attachment over a new interface,
  // named with the shared prefix, whatever the link (the other interface's session stays where it is)
  const hi = x.retryHi ?? (shared || dormant ? HANDOFF_INDICATOR.newInterface : handoffIndicator(x.access, x.seenBefore));
  return {
    kind: 'register',
    key,
    mnId: p.mnId,
    llId,
    att,
    ...(pi ? { mnIface: pi.iface } : {}),
    hi,
    hnps,
    dormant,
    ...(pi?.shareWith !== undefined ? { shareWith: pi.shareWith } : {}),
    ...(x.combinePbu && pi ? { bid: p.interfaces.indexOf(pi) + 1 } : {}),
  };
}

/**
 * The HNP options of a first registration (RFC 5213 6.9.1.1): the
 * interface's fixed prefixes (its own or the shared interface's), or none
 * (all-zero: the LMA allocates from its pool). A plan that pins this access
 * link to one of them narrows it to that one.
 */
export function requestedPrefixes(profile: MnProfile, llId: string, served: ServedMn | undefined): string[] {
  const fixed = sessionPrefixes(profile, llId);
  if (served?.hnp && fixed.includes(served.hnp)) return [served.hnp];
  return [...fixed];
}
