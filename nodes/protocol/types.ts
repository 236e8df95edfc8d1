// Types of the codec. Values are inferred from the zod schemas (schema.ts);
// the record interface follows STYLE.md ("How this maps onto pmiplab / Codec").

import type { z } from 'zod';
import type { FidSubOptionSchema, MessageSchema, MobilityOptionSchema } from './schema.js';

export type Message = z.output<typeof MessageSchema>;
export type MobilityOption = z.output<typeof MobilityOptionSchema>;
export type FidSubOption = z.output<typeof FidSubOptionSchema>;
export type MessageKind = Message['kind'];
export type OptionKind = MobilityOption['kind'];

/** One message / option, picked out of its union by kind. */
export type MessageOf<K extends MessageKind> = Extract<Message, { kind: K }>;
export type OptionOf<K extends OptionKind> = Extract<MobilityOption, { kind: K }>;

/** Fields shared by all messages (fixed header and option list). */
export type MessageCommonKey = 'checksum' | 'payloadProto' | 'mhReserved' | 'options';
/** The message-specific fields between the fixed header and the options. */
export type MessageBody<K extends MessageKind> = Omit<MessageOf<K>, MessageCommonKey>;

export type DecodeErrorCode = 'truncated' | 'bad-length' | 'bad-value' | 'unknown-type';

export interface DecodeError {
  code: DecodeErrorCode;
  /** Record and field, e.g. `HomeNetworkPrefix.prefixLength`. */
  field: string;
  /** Byte offset of the offending field from the start of the buffer given to decode. */
  offset: number;
  detail?: string;
}

export type Failure = { ok: false; error: DecodeError };
export type Decoded<T> = { ok: true; value: T; bytes: number } | Failure;

export interface WireRecord<T> {
  /** Wire type code, from numbers.ts (a getter where the number is configurable). */
  readonly type: number;
  /** Exact octets encode will write. */
  length(value: T): number;
  /** Write at offset, return octets written. Throws only on programmer errors (out-of-range values). */
  encode(value: T, buf: Uint8Array, offset: number): number;
  /** Read from offset, never past end; never throws. */
  decode(buf: Uint8Array, offset: number, end: number): Decoded<T>;
}

/** An option record: a WireRecord plus its name (for error fields), kinds and alignment. */
export interface OptionRecord<T extends MobilityOption = MobilityOption> extends WireRecord<T> {
  readonly name: string;
  readonly kinds: readonly T['kind'][];
  /** xn+y alignment of the option's Type octet from the start of the MH; undefined = none. */
  readonly align?: { readonly x: number; readonly y: number };
  /**
   * For options whose alignment depends on the value (Binding Identifier:
   * 2n without a care-of address, 8n+2 with one); overrides `align`.
   */
  alignFor?(value: T): { readonly x: number; readonly y: number } | undefined;
}

/** The alignment an option value needs (its record's alignFor, else its align). */
export function alignmentOf<T extends MobilityOption>(
  r: OptionRecord<T>,
  value: T,
): { readonly x: number; readonly y: number } | undefined {
  return r.alignFor ? r.alignFor(value) : r.align;
}

/**
 * A message record covers the message data between the 6-octet fixed header
 * and the options; framing.ts does the header and the options around it.
 */
export interface MessageRecord<K extends MessageKind = MessageKind> extends WireRecord<MessageBody<K>> {
  readonly name: string;
  readonly kind: K;
}
