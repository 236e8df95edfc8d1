// The JSON form of messages and options, as zod schemas. The TypeScript types
// of the codec are inferred from here, so the CLI's validator and the codec
// cannot drift apart. The codec itself never runs these schemas (too slow for
// the hot path); encode checks ranges with plain comparisons.
//
// Conventions: addresses are RFC 5952 text; opaque bytes are lowercase hex;
// flags are booleans in a `flags` object named by their RFC letters; optional
// `reserved` fields hold reserved bits a peer set (RFCs say "ignore on
// receipt"), so that decode-then-encode reproduces the bytes. They are omitted
// when zero. Every object is strict: an unknown key (a typo such as
// `flags: {Q: true}`) is an error, not silently dropped.

import { z } from 'zod';
import { isIpv4Text, isIpv6Text } from './ipv6text.js';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const u4 = int(0, 15);
const u8 = int(0, 255);
const u16 = int(0, 0xffff);
const u32 = int(0, 0xffffffff);
const reserved = (max: number) => int(0, max).optional();
const flag = z.boolean().prefault(false);

export const Ipv6TextSchema = z.string().refine(isIpv6Text, { message: 'not an IPv6 address' });
const Ipv4Or6Schema = z
  .string()
  .refine((s) => isIpv6Text(s) || isIpv4Text(s), { message: 'not an IPv4 or IPv6 address' });
export const HexSchema = z.string().regex(/^(?:[0-9a-f]{2})*$/, 'lowercase hex, whole octets');

// ---- FID sub-options (RFC 6089) and traffic selectors (RFC 6088)

/** IPv6 binary traffic selector with the components we parse (RFC 6088 3.2). */
export const TrafficSelectorSchema = z.strictObject({
  kind: z.literal('trafficSelector'),
  reserved: reserved(0xff), // octet after TS Format
  flagsReserved: reserved(0xffff), // 16-bit reserved word after the flags
  srcStart: Ipv6TextSchema.optional(),
  srcEnd: Ipv6TextSchema.optional(),
  dstStart: Ipv6TextSchema.optional(),
  dstEnd: Ipv6TextSchema.optional(),
  srcPortStart: u16.optional(),
  srcPortEnd: u16.optional(),
  dstPortStart: u16.optional(),
  dstPortEnd: u16.optional(),
  nextHeaderStart: u8.optional(),
  nextHeaderEnd: u8.optional(),
});
/** Any other selector (IPv4, or IPv6 with SPI/flow label/traffic class), kept opaque. */
export const TrafficSelectorRawSchema = z.strictObject({
  kind: z.literal('trafficSelectorRaw'),
  format: u8,
  reserved: reserved(0xff),
  data: HexSchema,
});

export const FidSubOptionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('pad1') }),
  z.strictObject({ kind: z.literal('padN'), data: HexSchema }),
  z.strictObject({ kind: z.literal('bidReference'), bids: z.array(u16).min(1).max(126) }),
  TrafficSelectorSchema,
  TrafficSelectorRawSchema,
  z.strictObject({ kind: z.literal('unknown'), type: u8, data: HexSchema }),
]);

// ---- mobility options

export const MobilityOptionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('pad1') }),
  z.strictObject({ kind: z.literal('padN'), data: HexSchema }),
  z.strictObject({ kind: z.literal('bindingRefreshAdvice'), interval: u16 }),
  z.strictObject({ kind: z.literal('mnId'), nai: z.string().min(1) }),
  z.strictObject({ kind: z.literal('hnp'), reserved: reserved(0xff), prefix: Ipv6TextSchema, prefixLength: int(0, 128) }),
  z.strictObject({ kind: z.literal('handoffIndicator'), reserved: reserved(0xff), value: u8 }),
  z.strictObject({ kind: z.literal('accessTechnologyType'), reserved: reserved(0xff), value: u8 }),
  z.strictObject({ kind: z.literal('mnLinkLayerId'), identifier: HexSchema }),
  z.strictObject({
    kind: z.literal('mnLinkLayerIdExt'),
    ifp: u8,
    flags: z.strictObject({ P: flag }).prefault({}),
    reserved: reserved(0x7f),
    identifier: HexSchema,
  }),
  z.strictObject({ kind: z.literal('linkLocalAddress'), address: Ipv6TextSchema }),
  z.strictObject({ kind: z.literal('timestamp'), seconds: int(0, 2 ** 48 - 1), fraction: u16 }),
  z.strictObject({ kind: z.literal('greKey'), reserved: reserved(0xffff), key: u32.optional() }),
  z.strictObject({
    kind: z.literal('bindingId'),
    bid: u16,
    status: u8,
    flags: z.strictObject({ H: flag }).prefault({}),
    bidPri: int(0, 127).prefault(0),
    careOf: Ipv4Or6Schema.optional(),
  }),
  z.strictObject({ kind: z.literal('lmaAddress'), reserved: reserved(0xff), address: Ipv4Or6Schema }),
  z.strictObject({
    kind: z.literal('flowId'),
    fid: u16,
    fidPri: u16,
    reserved: reserved(0xf), // high nibble of RFC 6089's reserved octet
    pro: u4.prefault(0), // seed 002: low nibble
    status: u8,
    subOptions: z.array(FidSubOptionSchema).prefault([]),
  }),
  z.strictObject({ kind: z.literal('multihoming'), mhgid: u8, act: int(0, 7), reserved: reserved(0x1f) }),
  z.strictObject({ kind: z.literal('primaryHoa'), address: Ipv6TextSchema }),
  z.strictObject({ kind: z.literal('unknown'), type: u8, data: HexSchema }),
]);

// ---- messages

const common = {
  checksum: u16.optional(),
  payloadProto: u8.optional(), // omitted = 59 (IPPROTO_NONE)
  mhReserved: reserved(0xff), // the reserved octet of the fixed header
  options: z.array(MobilityOptionSchema).prefault([]),
};

export const MessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('pbu'),
    sequence: u16,
    flags: z
      .strictObject({ A: flag, H: flag, L: flag, K: flag, M: flag, R: flag, P: flag })
      .prefault({}),
    reserved: reserved(0x1ff),
    lifetime: u16,
    ...common,
  }),
  z.strictObject({
    kind: z.literal('pba'),
    status: u8,
    flags: z.strictObject({ K: flag, R: flag, P: flag }).prefault({}),
    reserved: reserved(0x1f),
    sequence: u16,
    lifetime: u16,
    ...common,
  }),
  z.strictObject({
    kind: z.literal('bindingError'),
    status: u8,
    reserved: reserved(0xff),
    homeAddress: Ipv6TextSchema,
    ...common,
  }),
  z.strictObject({
    kind: z.literal('heartbeat'),
    reserved: reserved(0xfffc).refine((r) => r === undefined || (r & 3) === 0, 'low two bits are U/R'),
    flags: z.strictObject({ U: flag, R: flag }).prefault({}),
    sequence: u32,
    ...common,
  }),
  z.strictObject({
    kind: z.literal('handoverInitiate'),
    sequence: u16,
    flags: z.strictObject({ S: flag, U: flag, P: flag, F: flag }).prefault({}),
    reserved: reserved(0xf),
    code: u8,
    ...common,
  }),
  z.strictObject({
    kind: z.literal('handoverAck'),
    sequence: u16,
    flags: z.strictObject({ U: flag, P: flag, F: flag }).prefault({}), // RFC 5949
    reserved: reserved(0x1f),
    code: u8,
    ...common,
  }),
  z.strictObject({
    kind: z.literal('updateNotification'),
    sequence: u16,
    reason: u16, // RFC 7077: a 16-bit Notification Reason
    flags: z.strictObject({ A: flag, D: flag }).prefault({}),
    reserved: reserved(0x3fff),
    ...common,
  }),
  z.strictObject({
    kind: z.literal('updateNotificationAck'),
    sequence: u16,
    status: u8,
    reserved: reserved(0xffffff), // 24 bits
    ...common,
  }),
  z.strictObject({
    kind: z.literal('shi'),
    sequence: u16,
    flags: z.strictObject({ A: flag }).prefault({}),
    reserved: reserved(0x7fff),
    lifetime: u16,
    ...common,
  }),
  z.strictObject({
    kind: z.literal('shia'),
    sequence: u16,
    reserved: reserved(0xff),
    status: u8,
    lifetime: u16,
    ...common,
  }),
]);
