// Public API of the Mobility Header codec: pure, symmetric, strict; no I/O.

export { encodeMessage, decodeMessage, messageLength } from './codec.js';
export { mhChecksum, withChecksum } from './checksum.js';
export { MessageSchema, MobilityOptionSchema, FidSubOptionSchema } from './schema.js';
export { formatIpv6, isIpv6Text, parseIpv6Into } from './ipv6text.js';
export { messageRecords, optionRecords, unknownOptionRecord, messageByKind, messageByType, optionByKind, optionByType } from './registry.js';
export * from './numbers.js';
export { alignmentOf } from './types.js';
export type {
  Message,
  MessageKind,
  MessageOf,
  MessageBody,
  MessageRecord,
  MobilityOption,
  OptionKind,
  OptionOf,
  OptionRecord,
  FidSubOption,
  DecodeError,
  DecodeErrorCode,
  Decoded,
  WireRecord,
} from './types.js';
