import type { Message } from '../protocol/index.js';

// Signaling between MAGs, apart from the MAG's signaling with its LMA: seed
// 004's Session Handover Initiate / Acknowledge (SHI/SHIA), RFC 5949's
// Handover Initiate / Handover Acknowledge, and what later seeds add. The
// role hands every such message here and asks this module what to send; the
// decisions will be a pure state machine like bul.ts. For now one
// implementation: none (messages counted and ignored), so the interface is
// in place for the seeds that need it.

export type PeerMessageKind = 'shi' | 'shia' | 'handoverInitiate' | 'handoverAck';

export const PEER_KINDS: ReadonlySet<string> = new Set<PeerMessageKind>(['shi', 'shia', 'handoverInitiate', 'handoverAck']);

export interface PeerInbound {
  msg: Message;
  src: string;
  port?: number;
}

/** What the role sends on behalf of peer signaling. */
export type PeerEffect = { kind: 'send'; msg: Message; to: string } | { kind: 'ignored'; why: string };

export interface MagPeerSignaling {
  /** A message from another MAG (or an access router); effects to perform. */
  receive(m: PeerInbound): PeerEffect[];
  readonly counters: { received: number; ignored: number };
}

/** No inter-MAG signaling yet: every message is counted and ignored. */
export class NoPeerSignaling implements MagPeerSignaling {
  readonly counters = { received: 0, ignored: 0 };
  receive(m: PeerInbound): PeerEffect[] {
    this.counters.received++;
    this.counters.ignored++;
    return [{ kind: 'ignored', why: `${m.msg.kind} from ${m.src}: no inter-MAG signaling in this MAG yet` }];
  }
}
