// Whole messages: fixed header + message data (a message record) + options.

import { layoutOptions, optionsEnd, readOptions, writeLaidOutOptions } from './framing.js';
import { checkMhLength, HEADER_LENGTH, readHeader, writeHeader } from './header.js';
import { IPPROTO_NONE } from './numbers.js';
import { messageByKind, messageByType } from './registry.js';
import { fail, ok } from './result.js';
import type { Decoded, Message, MessageRecord } from './types.js';

function recordOf(msg: Message): MessageRecord {
  const r = messageByKind(msg.kind);
  if (r === undefined) throw new RangeError(`message kind ${JSON.stringify((msg as { kind: unknown }).kind)} is unknown`);
  return r;
}

// Output buffers are views carved from a shared slab: `new Uint8Array(n)`
// costs a fresh zeroed backing store per call and halved encode throughput.
// The result is a plain Uint8Array (so .slice() copies, unlike a Buffer);
// its .buffer is the slab, shared with other results, so use byteOffset.
// Every octet is written by the encoder (records write all their bytes, pads
// are zeroed; the round-trip tests encode into 0xee-filled buffers to prove it).
const SLAB_SIZE = 64 * 1024;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

function allocate(n: number): Uint8Array {
  if (slabUsed + n > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const view = new Uint8Array(slab, slabUsed, n);
  slabUsed += (n + 7) & ~7;
  return view;
}

/** Exact octets encodeMessage will produce (a multiple of 8). */
export function messageLength(msg: Message): number {
  const r = recordOf(msg);
  return optionsEnd(msg.options, HEADER_LENGTH + r.length(msg));
}

/**
 * Encode a message; the checksum field is msg.checksum ?? 0 (see withChecksum).
 * The result is a view into a pooled block (as Buffer.allocUnsafe's pool):
 * its bytes are its own, but `.buffer` is shared, so use byteOffset/byteLength
 * (or copy) before handing the ArrayBuffer itself to anything.
 */
export function encodeMessage(msg: Message): Uint8Array {
  const r = recordOf(msg);
  const bodyEnd = HEADER_LENGTH + r.length(msg);
  const total = layoutOptions(msg.options, bodyEnd);
  checkMhLength(total); // before allocate: a view longer than the slab would throw an obscure RangeError
  const buf = allocate(total);
  writeHeader(buf, 0, total, r.type, msg);
  r.encode(msg, buf, HEADER_LENGTH);
  writeLaidOutOptions(msg.options, buf, 0, bodyEnd);
  return buf;
}

/** Decode one whole MH (the buffer is the MH). Never throws; errors name field and offset. */
export function decodeMessage(buf: Uint8Array): Decoded<Message> {
  if (!(buf instanceof Uint8Array)) return fail('bad-value', 'MobilityHeader', 0, 'input is not a Uint8Array');
  const n = buf.length;
  const h = readHeader(buf, n);
  if (!h.ok) return h;
  const r = messageByType(h.value.type);
  if (r === undefined) return fail('unknown-type', 'MobilityHeader.type', 2, `MH type ${h.value.type} is not supported`);
  const body = r.decode(buf, HEADER_LENGTH, n);
  if (!body.ok) return body;
  const opts = readOptions(buf, 0, HEADER_LENGTH + body.bytes, n);
  if (!opts.ok) return opts;
  const msg = body.value as Message;
  msg.options = opts.value;
  msg.checksum = h.value.checksum;
  if (h.value.payloadProto !== IPPROTO_NONE) msg.payloadProto = h.value.payloadProto;
  if (h.value.reserved !== 0) msg.mhReserved = h.value.reserved;
  return ok(msg, n);
}
