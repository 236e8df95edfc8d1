// Every protocol number the codec uses, in one place.
//
// Assigned values follow the IANA "Mobile IPv6 parameters" registry. As far as
// we could check (registry as mirrored by pcapkit's generated constants and
// Wireshark's packet-mip6.c):
//   - MH types are assigned 0..23 (23 = Subscription Response, RFC 7161);
//   - mobility option types are assigned 0..70 (70 = DLIF Link-Layer Address, RFC 8885);
//   - Binding Acknowledgement status codes are assigned 0..7 and 128..180
//     (180 = CANNOT_SUPPORT_MULTIPATH_BINDING, RFC 8278).
// The drafts in the seeds leave some numbers open ("TBD"/"TBA"). We pick them
// from unassigned space far above the assigned ranges, so the registries can
// grow for a while before they collide, and let configuration remap them at
// start-up (configureNumbers) without touching code.

import { z } from 'zod';

export const IPPROTO_MH = 135;
/** RFC 6275: Payload Proto SHOULD be IPPROTO_NONE. */
export const IPPROTO_NONE = 59;
/** RFC 5844: PMIPv6 over UDP (IPv4 transport); we use it for the IPv6 UDP carriage too. */
export const PMIP6_UDP_PORT = 5436;

/** MH types. The values of `shi`/`shia` are TBD numbers (mutable through configureNumbers). */
export const MH = {
  bindingUpdate: 5, // PBU when P flag set (RFC 5213)
  bindingAck: 6, // PBA
  bindingError: 7,
  heartbeat: 13, // RFC 5847
  handoverInitiate: 14, // RFC 5568, used by RFC 5949
  handoverAck: 15,
  updateNotification: 19, // RFC 7077
  updateNotificationAck: 20, // RFC 7077
  shi: 100, // TBD seed 004
  shia: 101, // TBD seed 004
};

/** Mobility option types. `multihoming`/`primaryHoa` are TBD numbers. */
export const OPT = {
  pad1: 0,
  padN: 1,
  bindingRefreshAdvice: 2,
  mnId: 8, // RFC 4283
  hnp: 22, // RFC 5213
  handoffIndicator: 23,
  accessTechnologyType: 24,
  mnLinkLayerId: 25, // also carries seed 003's IFP/P (see options/mn-link-layer-id.ts)
  linkLocalAddress: 26,
  timestamp: 27,
  greKey: 33, // RFC 5845
  bindingId: 35, // RFC 5648
  lmaAddress: 41, // RFC 5949
  flowId: 45, // RFC 6089
  multihoming: 100, // TBD seed 002
  primaryHoa: 101, // TBD seed 003
};

/** FID option Status values (RFC 6089 4.2). */
export const FID_STATUS = {
  success: 0,
  administrativelyProhibited: 128,
  rejectedReasonUnspecified: 129,
  optionMalformed: 130,
  bidNotFound: 131,
  fidNotFound: 132,
  tsFormatNotSupported: 133,
} as const;

/** FID option sub-option types (RFC 6089 4.2.1). */
export const FID_SUBOPT = { pad1: 0, padN: 1, bidReference: 2, trafficSelector: 3 } as const;

/** Traffic selector formats (RFC 6088). */
export const TS_FORMAT = { ipv4: 1, ipv6: 2 } as const;

/** RFC 6088 IPv6 binary traffic selector flag bits (16-bit word, A is the MSB). */
export const TS6_FLAG = {
  srcStart: 0x8000, // A
  srcEnd: 0x4000, // B
  dstStart: 0x2000, // C
  dstEnd: 0x1000, // D
  spiStart: 0x0800, // E
  spiEnd: 0x0400, // F
  flowLabelStart: 0x0200, // G
  flowLabelEnd: 0x0100, // H
  srcPortStart: 0x0080, // I
  srcPortEnd: 0x0040, // J
  dstPortStart: 0x0020, // K
  dstPortEnd: 0x0010, // L
  trafficClassStart: 0x0008, // M
  trafficClassEnd: 0x0004, // N
  nextHeaderStart: 0x0002, // O
  nextHeaderEnd: 0x0001, // P
} as const;

/** Flag bits, per message/option, as they sit in their word on the wire. */
export const FLAGS = {
  /** PBU flags (16-bit word after the sequence number). */
  pbu: { A: 0x8000, H: 0x4000, L: 0x2000, K: 0x1000, M: 0x0800, R: 0x0400, P: 0x0200 },
  /** PBA flags (octet after the status). */
  pba: { K: 0x80, R: 0x40, P: 0x20 },
  /** Heartbeat (16-bit word before the sequence number). */
  heartbeat: { U: 0x0002, R: 0x0001 },
  /** Handover Initiate (octet after the sequence number; RFC 5568 S U, RFC 5949 P F). */
  handoverInitiate: { S: 0x80, U: 0x40, P: 0x20, F: 0x10 },
  /** Handover Acknowledge (octet after the sequence number; RFC 5949 6.1.2). */
  handoverAck: { U: 0x80, P: 0x40, F: 0x20 },
  /** Update Notification (16-bit word after the 16-bit Notification Reason; RFC 7077 4.1). */
  updateNotification: { A: 0x8000, D: 0x4000 },
  /** SHI (16-bit word after the sequence number). */
  shi: { A: 0x8000 },
  /** Binding Identifier option (octet after the status): H, then 7-bit BID-PRI. */
  bindingId: { H: 0x80 },
  /** seed 003 extended MN-LL-ID: P flag, MSB of the octet after IFP. */
  mnLinkLayerIdExt: { P: 0x80 },
} as const;

/** MN Identifier subtypes (RFC 4283). Only NAI is accepted. */
export const MNID_SUBTYPE = { nai: 1 } as const;

/** LMA address option codes (RFC 5949 6.2.2). */
export const LMA_ADDRESS_CODE = { ipv6: 1, ipv4: 2 } as const;

/** Handoff Indicator values (RFC 5213 8.5). */
export const HANDOFF_INDICATOR = {
  newInterface: 1,
  differentInterface: 2,
  sameInterface: 3, // handoff between MAGs for the same interface
  unknown: 4,
  notChanged: 5, // re-registration
} as const;

/** Access Technology Type values (RFC 5213 8.6, IANA). */
export const ACCESS_TECHNOLOGY = {
  virtual: 1,
  ppp: 2,
  ieee8023: 3,
  ieee80211: 4,
  ieee80216e: 5,
  gprs3gpp: 6,
  cdma3gpp2: 7,
} as const;

/** Binding Acknowledgement (PBA) status codes. TBD seed 002 codes are mutable. */
export const PBA_STATUS = {
  accepted: 0,
  reasonUnspecified: 128,
  administrativelyProhibited: 129,
  insufficientResources: 130,
  sequenceOutOfWindow: 135,
  PROXY_REG_NOT_ENABLED: 152,
  NOT_LMA_FOR_THIS_MOBILE_NODE: 153,
  MAG_NOT_AUTHORIZED_FOR_PROXY_REG: 154,
  NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX: 155,
  TIMESTAMP_MISMATCH: 156,
  TIMESTAMP_LOWER_THAN_PREV_ACCEPTED: 157,
  MISSING_HOME_NETWORK_PREFIX_OPTION: 158,
  BCE_PBU_PREFIX_SET_DO_NOT_MATCH: 159,
  MISSING_MN_IDENTIFIER_OPTION: 160,
  MISSING_HANDOFF_INDICATOR_OPTION: 161,
  MISSING_ACCESS_TECH_TYPE_OPTION: 162,
  MH_NOT_SUPPORTED_BY_LMA: 200, // TBD seed 002
  MH_FILTERS_REINSTANCIATION_NOT_SUPPORTED_BY_LMA: 201, // TBD seed 002
};

/** Binding Error status (RFC 6275 6.1.9): 1 = unknown binding for Home Address destination option. */
export const BE_STATUS = { unknownHomeAddress: 1, unrecognizedMhType: 2 } as const;

/** SHIA status (seed 004). */
export const SHIA_STATUS = { success: 0, reasonUnspecified: 128, mnNotAttached: 129 } as const;

/** Update Notification reasons (IANA registry: RFC 7077 4.1, RFC 7222, RFC 7864). 0 and 255 are reserved. */
export const UPN_REASON = {
  forceReregistration: 1,
  updateSessionParameters: 2,
  vendorSpecificReason: 3,
  aniParamsRequested: 4,
  qosServiceRequest: 5, // RFC 7222
  flowMobility: 8, // RFC 7864
} as const;

/** Update Notification Ack status codes (RFC 7077 4.2, RFC 7222, RFC 7864); >= 128 is an error. */
export const UPA_STATUS = {
  success: 0,
  failedToUpdateSessionParameters: 128,
  missingVendorSpecificOption: 129,
  cannotMeetQosServiceRequest: 130, // RFC 7222
  reasonUnspecified: 131, // RFC 7864
  mnNotAttached: 132, // RFC 7864
} as const;

/** Handover Initiate codes (RFC 5568 6.2.1.1: 0 = FBU came from the PCoA, 1 = it did not; RFC 5949 6.1.1: 2, 3). */
export const HI_CODE = { pcoaSupplied: 0, pcoaNotSupplied: 1, forwardingComplete: 2, allContextTransferred: 3 } as const;
/** Handover Acknowledge codes (RFC 5568 6.2.1.2; RFC 5949 6.1.2 adds 5, 6, 131, 132 when P is set). */
export const HACK_CODE = {
  accepted: 0,
  acceptedNcoaNotValid: 1,
  acceptedNcoaAssigned: 2,
  acceptedUsePcoa: 3,
  unsolicited: 4,
  contextTransferAccepted: 5,
  allContextTransferred: 6,
  notAcceptable: 128, // Handover Not Accepted, reason unspecified
  notAuthorized: 129, // Administratively prohibited
  noResources: 130, // Insufficient resources
  contextNotAvailable: 131,
  forwardingNotAvailable: 132,
} as const;

/** seed 002 Multihoming option ACT values (3 bits). */
export const MULTIHOMING_ACT = { none: 0, removeFilters: 1, keepFilters: 2 } as const;

/** FID option PRO values (4 bits); 2 is seed 002's "flow binding re-instantiated by LMA". */
export const FID_PRO = { none: 0, reinstantiatedByLma: 2 } as const;

// ---------------------------------------------------------------------------
// TBD numbers and their run-time override

/** The numbers the drafts leave open: the README table is generated from this list. */
export const tbdNumbers: ReadonlyArray<{
  readonly name: TbdName;
  readonly registry: 'mh-type' | 'option-type' | 'pba-status';
  readonly value: () => number;
  readonly why: string;
}> = [
  {
    name: 'mh.shi',
    registry: 'mh-type',
    value: () => MH.shi,
    why: 'seed 004 SHI message, IANA section TBD; MH types assigned 0..23, picked 100 well clear of growth',
  },
  {
    name: 'mh.shia',
    registry: 'mh-type',
    value: () => MH.shia,
    why: 'seed 004 SHIA message, next to SHI',
  },
  {
    name: 'opt.multihoming',
    registry: 'option-type',
    value: () => OPT.multihoming,
    why: 'seed 002 Multihoming option ("Type: TBA"); option types assigned 0..70, picked 100',
  },
  {
    name: 'opt.primaryHoa',
    registry: 'option-type',
    value: () => OPT.primaryHoa,
    why: 'seed 003 Primary HoA option ("Option Type: TBD"), next to Multihoming',
  },
  {
    name: 'status.MH_NOT_SUPPORTED_BY_LMA',
    registry: 'pba-status',
    value: () => PBA_STATUS.MH_NOT_SUPPORTED_BY_LMA,
    why: 'seed 002 names the status, no number; rejection codes assigned 128..180, picked 200',
  },
  {
    name: 'status.MH_FILTERS_REINSTANCIATION_NOT_SUPPORTED_BY_LMA',
    registry: 'pba-status',
    value: () => PBA_STATUS.MH_FILTERS_REINSTANCIATION_NOT_SUPPORTED_BY_LMA,
    why: 'seed 002, next to MH_NOT_SUPPORTED_BY_LMA (>= 128 so it reads as a rejection)',
  },
];

export type TbdName =
  | 'mh.shi'
  | 'mh.shia'
  | 'opt.multihoming'
  | 'opt.primaryHoa'
  | 'status.MH_NOT_SUPPORTED_BY_LMA'
  | 'status.MH_FILTERS_REINSTANCIATION_NOT_SUPPORTED_BY_LMA';

const u8 = z.number().int().min(0).max(255);

/** Schema of a configuration override of the TBD numbers (all keys optional). */
export const NumberOverridesSchema = z
  .object({
    'mh.shi': u8,
    'mh.shia': u8,
    'opt.multihoming': u8.min(2), // 0 and 1 are Pad1/PadN
    'opt.primaryHoa': u8.min(2),
    'status.MH_NOT_SUPPORTED_BY_LMA': u8.min(128), // a PBA status < 128 means "accepted"
    'status.MH_FILTERS_REINSTANCIATION_NOT_SUPPORTED_BY_LMA': u8.min(128),
  })
  .partial()
  .strict();
export type NumberOverrides = z.infer<typeof NumberOverridesSchema>;

const DEFAULTS = {
  'mh.shi': MH.shi,
  'mh.shia': MH.shia,
  'opt.multihoming': OPT.multihoming,
  'opt.primaryHoa': OPT.primaryHoa,
  'status.MH_NOT_SUPPORTED_BY_LMA': PBA_STATUS.MH_NOT_SUPPORTED_BY_LMA,
  'status.MH_FILTERS_REINSTANCIATION_NOT_SUPPORTED_BY_LMA':
    PBA_STATUS.MH_FILTERS_REINSTANCIATION_NOT_SUPPORTED_BY_LMA,
} as const satisfies Record<TbdName, number>;

let generation = 0;
/** Bumped on every configureNumbers(); the registry rebuilds its maps when it changes. */
export function numbersGeneration(): number {
  return generation;
}

/**
 * Remap the TBD numbers at start-up. Unlisted names go back to their defaults,
 * so calling it twice does not stack. Throws (a configuration error, not wire
 * input) when the overrides are malformed or collide with another number of
 * the same registry.
 */
export function configureNumbers(overrides: unknown): void {
  const parsed = NumberOverridesSchema.safeParse(overrides ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`configureNumbers: invalid overrides\n${lines.join('\n')}`);
  }
  const v = { ...DEFAULTS, ...parsed.data };
  const fixedMh = [MH.bindingUpdate, MH.bindingAck, MH.bindingError, MH.heartbeat, MH.handoverInitiate,
    MH.handoverAck, MH.updateNotification, MH.updateNotificationAck];
  const fixedOpt = Object.entries(OPT)
    .filter(([k]) => k !== 'multihoming' && k !== 'primaryHoa')
    .map(([, n]) => n);
  const fixedStatus = Object.entries(PBA_STATUS)
    .filter(([k]) => !k.startsWith('MH_'))
    .map(([, n]) => n);
  assertDistinct('MH type', [...fixedMh, v['mh.shi'], v['mh.shia']]);
  assertDistinct('option type', [...fixedOpt, v['opt.multihoming'], v['opt.primaryHoa']]);
  assertDistinct('PBA status', [...fixedStatus, v['status.MH_NOT_SUPPORTED_BY_LMA'],
    v['status.MH_FILTERS_REINSTANCIATION_NOT_SUPPORTED_BY_LMA']]);
  MH.shi = v['mh.shi'];
  MH.shia = v['mh.shia'];
  OPT.multihoming = v['opt.multihoming'];
  OPT.primaryHoa = v['opt.primaryHoa'];
  PBA_STATUS.MH_NOT_SUPPORTED_BY_LMA = v['status.MH_NOT_SUPPORTED_BY_LMA'];
  PBA_STATUS.MH_FILTERS_REINSTANCIATION_NOT_SUPPORTED_BY_LMA =
    v['status.MH_FILTERS_REINSTANCIATION_NOT_SUPPORTED_BY_LMA'];
  generation++;
}

function assertDistinct(what: string, values: number[]): void {
  const seen = new Set<number>();
  for (const n of values) {
    if (seen.has(n)) throw new Error(`configureNumbers: ${what} ${n} is used twice`);
    seen.add(n);
  }
}
