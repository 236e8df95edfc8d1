// The option area of a message: Pad1/PadN and the xn+y alignment of options,
// counted from the start of the MH (RFC 6275 6.2.1), and the tail padding to
// a multiple of 8 octets.
//
// Padding policy. If the option list contains any Pad1/PadN, the encoder
// writes the list verbatim (it must then already be aligned and end on a
// multiple of 8; otherwise encode throws). If it contains none, the encoder
// inserts the shortest pads (Pad1 for 1 octet, else one PadN) before each
// option that has an alignment, and at the end. The decoder keeps every pad
// it reads in the option list and rejects misaligned options, so for any
// valid input decode-then-encode reproduces the bytes: a list read off the
// wire either has pads (verbatim) or needed none (auto adds none).

import { OPT } from './numbers.js';
import { fail, ok } from './result.js';
import { optionByKind, optionByType, unknownOptionRecord } from './registry.js';
import { alignmentOf, type Decoded, type MobilityOption, type OptionRecord } from './types.js';

function recordFor(o: MobilityOption): OptionRecord<MobilityOption> {
  const r = optionByKind(o.kind);
  if (r === undefined) throw new RangeError(`option kind ${JSON.stringify((o as { kind: unknown }).kind)} is unknown`);
  if (o.kind === 'unknown' && optionByType(o.type) !== undefined) {
    throw new RangeError(`unknown option of type ${o.type}: that type has a record (kind ${optionByType(o.type)!.kinds[0]})`);
  }
  return r;
}

function hasPads(options: readonly MobilityOption[]): boolean {
  for (const o of options) if (o.kind === 'pad1' || o.kind === 'padN') return true;
  return false;
}

/** Octets of padding needed at MH position pos so that an option lands on xn+y. */
function padBefore(pos: number, align: { x: number; y: number } | undefined): number {
  if (align === undefined) return 0;
  return (((align.y - pos) % align.x) + align.x) % align.x;
}

// Layout scratch, reused by every encode (single-threaded, not re-entrant:
// records never call back into the framing). Saves a second registry lookup
// and length computation per option.
const recs: OptionRecord<MobilityOption>[] = [];
const lens: number[] = [];
const pads: number[] = [];
let tailPad = 0;

/**
 * Lay the options out from MH position pos: fills the scratch arrays and
 * returns the end position including tail padding.
 */
export function layoutOptions(options: readonly MobilityOption[], pos: number): number {
  const verbatim = hasPads(options);
  for (let i = 0; i < options.length; i++) {
    const o = options[i]!;
    const r = recordFor(o);
    const align = alignmentOf(r, o);
    const pad = padBefore(pos, align);
    if (pad !== 0 && verbatim) {
      throw new RangeError(`option ${r.name} at MH offset ${pos} breaks its ${align!.x}n+${align!.y} alignment`);
    }
    const len = r.length(o);
    recs[i] = r;
    lens[i] = len;
    pads[i] = pad;
    pos += pad + len;
  }
  tailPad = padBefore(pos, { x: 8, y: 0 });
  if (tailPad !== 0 && verbatim) throw new RangeError(`explicitly padded option list ends at ${pos}, not a multiple of 8`);
  return pos + tailPad;
}

/** Position in the MH after the options (including tail padding) when they start at pos. */
export function optionsEnd(options: readonly MobilityOption[], pos: number): number {
  return layoutOptions(options, pos);
}

function writePad(buf: Uint8Array, at: number, n: number): void {
  if (n === 0) return;
  if (n === 1) {
    buf[at] = OPT.pad1;
    return;
  }
  buf[at] = OPT.padN;
  buf[at + 1] = n - 2;
  for (let i = at + 2; i < at + n; i++) buf[i] = 0;
}

/**
 * Write the options laid out by the last layoutOptions() call on the same
 * list, at mhStart+pos; returns the end position (relative to mhStart).
 */
export function writeLaidOutOptions(options: readonly MobilityOption[], buf: Uint8Array, mhStart: number, pos: number): number {
  for (let i = 0; i < options.length; i++) {
    const pad = pads[i]!;
    if (pad !== 0) {
      writePad(buf, mhStart + pos, pad);
      pos += pad;
    }
    const n = recs[i]!.encode(options[i]!, buf, mhStart + pos);
    if (n !== lens[i]) throw new Error(`option ${recs[i]!.name} wrote ${n} octets, declared ${lens[i]!}`);
    pos += n;
  }
  writePad(buf, mhStart + pos, tailPad);
  return pos + tailPad;
}

/** Read options in buf[start, end) of an MH beginning at mhStart. */
export function readOptions(buf: Uint8Array, mhStart: number, start: number, end: number): Decoded<MobilityOption[]> {
  const out: MobilityOption[] = [];
  let o = start;
  while (o < end) {
    const type = buf[o]!;
    const r = optionByType(type) ?? unknownOptionRecord;
    const d = r.decode(buf, o, end);
    if (!d.ok) return d;
    const align = alignmentOf(r, d.value);
    if (align !== undefined && padBefore(o - mhStart, align) !== 0) {
      return fail('bad-value', `${r.name}.alignment`, o, `option at MH offset ${o - mhStart} is not ${align.x}n+${align.y}`);
    }
    out.push(d.value);
    o += d.bytes;
  }
  return ok(out, end - start);
}
