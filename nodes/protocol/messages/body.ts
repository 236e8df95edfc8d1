// Factory for message records: every MH message we speak has fixed-size data
// between the 6-octet fixed header and the options, so a record is its length
// plus a writer and a reader of those octets.

import { fail, ok } from '../result.js';
import type { Failure, MessageBody, MessageKind, MessageRecord } from '../types.js';

export interface BodySpec<K extends MessageKind> {
  name: string;
  kind: K;
  type: () => number;
  bodyLength: number;
  write(v: MessageBody<K>, buf: Uint8Array, offset: number): void;
  /** bodyLength octets are available at offset. */
  read(buf: Uint8Array, offset: number): MessageBody<K> | Failure;
}

export function bodyRecord<K extends MessageKind>(spec: BodySpec<K>): MessageRecord<K> {
  return {
    name: spec.name,
    kind: spec.kind,
    get type() {
      return spec.type();
    },
    length: () => spec.bodyLength,
    encode(v, buf, offset) {
      spec.write(v, buf, offset);
      return spec.bodyLength;
    },
    decode(buf, offset, end) {
      if (offset + spec.bodyLength > end) {
        return fail('truncated', spec.name, offset, `message data needs ${spec.bodyLength} octets, ${Math.max(0, end - offset)} left`);
      }
      const v = spec.read(buf, offset);
      if ('ok' in v) return v;
      return ok(v, spec.bodyLength);
    },
  };
}

/** Sets `reserved` on a decoded body only when non-zero (so JSON stays short and round trips exact). */
export function withReserved<T extends object>(v: T, r: number): T & { reserved?: number } {
  if (r !== 0) (v as { reserved?: number }).reserved = r;
  return v;
}
