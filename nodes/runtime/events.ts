// The role events nodes put on the run's event stream (Bus.emit), by name,
// with their payloads. This file is the contract between the nodes (who
// emit) and the orchestrator (scenario runner, report), who read them back.
// The bus stamps every event with the shared monotonic clock (tNs), so the
// signaling timeline of a handover is read straight from the stream.
// Payload fields are JSON: addresses as RFC 5952 text, prefixes as CIDR.

import type { Logger } from 'pino';
import type { Bus } from './bus.js';

/** MAG: an MN came onto one of its access interfaces (L2 attach seen). */
export interface MnAttachEvent {
  iface: string;
  mnId: string;
  llId: string; // MN link-layer identifier, hex octets with ':'
  trigger: 'carrier' | 'rs';
}
/** MAG: an MN left (carrier down, or no answer to NUD). */
export interface MnDetachEvent {
  iface: string;
  mnId: string;
  trigger: 'carrier' | 'nud';
}
/** MAG: a Router Solicitation arrived on an access interface. */
export interface RsReceivedEvent {
  iface: string;
  src: string;
}
/** MAG: PBU sent (every transmission, attempt 1 = first). */
export interface PbuSentEvent {
  mnId: string;
  seq: number;
  lifetime: number; // seconds (0 = de-registration)
  hi: number; // handoff indicator
  attempt: number;
  lma: string; // LMA address
}
/** MAG: PBA received for an entry of its Binding Update List. */
export interface PbaReceivedEvent {
  mnId: string;
  seq: number;
  status: number;
  lifetime: number;
  hnp?: string; // CIDR, when accepted
  rttUs: number; // first PBU transmission of this sequence number to this PBA
}
/** MAG: registration gave up (retransmission limit) or was refused. */
export interface RegistrationFailedEvent {
  mnId: string;
  reason: string;
  status?: number;
}
/** MAG: Router Advertisement sent to an MN. */
export interface RaSentEvent {
  iface: string;
  mnId: string;
  hnp: string;
  reason: 'rs' | 'attach' | 'periodic' | 'deregistration';
}
/** MAG and LMA: the kernel now forwards the MN's prefix (uplink and downlink set). */
export interface RoutesProgrammedEvent {
  mnId: string;
  hnp: string;
  peer: string; // LMA: the pCoA the prefix now points to; MAG: the LMA address
}

/** LMA: a PBU was accepted for processing (decoded and validated). */
export interface PbuReceivedEvent {
  mag: string; // source address (the pCoA)
  mnId: string;
  seq: number;
  hi: number;
  lifetime: number;
}
/** LMA: PBA sent. */
export interface PbaSentEvent {
  mag: string;
  mnId: string;
  seq: number;
  status: number;
  lifetime: number;
}
/** LMA binding cache changes. */
export interface BindingEvent {
  mnId: string;
  att: number;
  llId: string;
  hnp: string;
  pCoA: string;
  lifetime: number;
}
/** LMA: bindings reloaded from Redis after a restart. */
export interface BindingsRecoveredEvent {
  count: number;
}
/** LMA or MAG: RFC 5847 heartbeat state of a peer changed. */
export interface PeerStateEvent {
  peer: string; // address
  state: 'up' | 'failed';
  missed: number;
}

/** MN: the addresses of its interfaces (every change). */
export interface AddressesEvent {
  iface: string;
  addresses: string[]; // global addresses, without prefix length
  carrier: boolean;
}
/** MN and CN: a traffic flow started or stopped at this end. */
export interface TrafficEvent {
  flow: string;
  role: 'sender' | 'receiver';
  port: number;
  sent?: number;
  received?: number;
  file?: string; // the samples file, relative to the run folder
}

/** Every role event by name: what Bus.emit(name, payload) carries. */
export interface RoleEvents {
  'mn-attach': MnAttachEvent;
  'mn-detach': MnDetachEvent;
  'rs-received': RsReceivedEvent;
  'pbu-sent': PbuSentEvent;
  'pba-received': PbaReceivedEvent;
  'registration-failed': RegistrationFailedEvent;
  'ra-sent': RaSentEvent;
  'routes-programmed': RoutesProgrammedEvent;
  'pbu-received': PbuReceivedEvent;
  'pba-sent': PbaSentEvent;
  'binding-created': BindingEvent;
  'binding-updated': BindingEvent;
  'binding-deleted': BindingEvent;
  'bindings-recovered': BindingsRecoveredEvent;
  'peer-state': PeerStateEvent;
  addresses: AddressesEvent;
  'traffic-started': TrafficEvent;
  'traffic-stopped': TrafficEvent;
}
export type RoleEventName = keyof RoleEvents;

/**
 * Publish a role event without waiting: the event stream is for observers, so
 * a failed XADD is logged, never allowed to hold up or fail the protocol.
 */
export function publishEvent<K extends RoleEventName>(bus: Pick<Bus, 'emit'>, log: Logger, type: K, data: RoleEvents[K]): void {
  bus.emit(type, data).catch((err: unknown) => log.warn({ type, err: (err as Error).message }, 'event not published'));
}
