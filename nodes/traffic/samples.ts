import { endianness } from 'node:os';
import { z } from 'zod';

// What each end of a flow records, kept in typed arrays that double as they
// fill (a 1000 pps x 60 s flow is 60,000 rows: well under 2 MB), and the
// samples file both ends write on stop, under <runDir>/flows/:
//
//   0   "PLTS"               magic
//   4   u32 LE  1            version
//   8   u32 LE  n            length of the JSON header that follows
//   12  n octets             SamplesHeader as JSON, then spaces up to a multiple of 8
//   ..  columns, in header.columns order, each count elements little-endian,
//       each starting at a multiple of 8 (zero padding between them)
//
// Columns: sender seq u32, txNs u64, status u8 (0 sent, 1 send failed);
// receiver seq u32, txNs u64 (from the probe), rxNs u64 (arrival), in
// arrival order. Read back with one copy per column.

const MAGIC = 'PLTS';
const VERSION = 1;

type ColumnType = 'u8' | 'u32' | 'u64';
const WIDTH: Record<ColumnType, number> = { u8: 1, u32: 4, u64: 8 };
type ArrayOf<T extends ColumnType> = T extends 'u8' ? Uint8Array : T extends 'u32' ? Uint32Array : BigUint64Array;

function alloc<T extends ColumnType>(type: T, n: number): ArrayOf<T> {
  const a = type === 'u8' ? new Uint8Array(n) : type === 'u32' ? new Uint32Array(n) : new BigUint64Array(n);
  return a as ArrayOf<T>;
}

/** A column that grows by doubling. */
export class Column<T extends ColumnType> {
  private data: ArrayOf<T>;
  length = 0;
  constructor(
    readonly type: T,
    initial = 4096,
  ) {
    this.data = alloc(type, initial);
  }
  /** Make room for one more row; returns its index. */
  grow(): number {
    if (this.length === this.data.length) {
      const next = alloc(this.type, this.data.length * 2);
      (next as Uint8Array).set(this.data as Uint8Array);
      this.data = next;
    }
    return this.length++;
  }
  get array(): ArrayOf<T> {
    return this.data;
  }
  /** The filled part (a view, no copy). */
  view(): ArrayOf<T> {
    return this.data.subarray(0, this.length) as ArrayOf<T>;
  }
}

export const SamplesHeader = z
  .object({
    flow: z.string(),
    role: z.enum(['sender', 'receiver']),
    node: z.string(),
    count: z.number().int().nonnegative(),
    columns: z.array(z.object({ name: z.string(), type: z.enum(['u8', 'u32', 'u64']) }).strict()),
    port: z.number().int(),
    /** sender: destination address, rate (pps) and probe size (octets) */
    dst: z.string().optional(),
    /** sender: the address it was bound to (srcIface), absent when the kernel chose per probe */
    src: z.string().optional(),
    rate: z.number().optional(),
    size: z.number().int().optional(),
    /** monotonic ns (decimal strings) when this end started and stopped */
    startNs: z.string().regex(/^\d+$/),
    stopNs: z.string().regex(/^\d+$/),
    /** receiver: datagrams that were not probes of this flow; sender: failed sends by errno code */
    strays: z.number().int().nonnegative().optional(),
    sendErrors: z.record(z.string(), z.number().int().nonnegative()).optional(),
    /** sender: largest lateness behind the schedule (ms) and ticks that hit the burst bound */
    maxLagMs: z.number().optional(),
    burstLimited: z.number().int().optional(),
  })
  .strict();
export type SamplesHeader = z.infer<typeof SamplesHeader>;

export interface SenderSamples {
  header: SamplesHeader;
  seq: Uint32Array;
  txNs: BigUint64Array;
  status: Uint8Array;
}
export interface ReceiverSamples {
  header: SamplesHeader;
  seq: Uint32Array;
  txNs: BigUint64Array;
  rxNs: BigUint64Array;
}

export const SENDER_COLUMNS = [
  { name: 'seq', type: 'u32' },
  { name: 'txNs', type: 'u64' },
  { name: 'status', type: 'u8' },
] as const;
export const RECEIVER_COLUMNS = [
  { name: 'seq', type: 'u32' },
  { name: 'txNs', type: 'u64' },
  { name: 'rxNs', type: 'u64' },
] as const;

const pad8 = (n: number) => (8 - (n % 8)) % 8;

/** Serialize a header and its columns (each exactly header.count long). */
export function encodeSamples(header: SamplesHeader, columns: Array<Uint8Array | Uint32Array | BigUint64Array>): Buffer {
  if (endianness() !== 'LE') throw new Error('samples files are little-endian; this host is not');
  if (columns.length !== header.columns.length) throw new Error('column count does not match the header');
  let json = JSON.stringify(header);
  json += ' '.repeat(pad8(12 + Buffer.byteLength(json)));
  const parts: Buffer[] = [];
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(VERSION, 4);
  head.writeUInt32LE(Buffer.byteLength(json), 8);
  parts.push(head, Buffer.from(json));
  columns.forEach((c, i) => {
    if (c.length !== header.count) throw new Error(`column ${header.columns[i]?.name} has ${c.length} rows, header says ${header.count}`);
    parts.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    const p = pad8(c.byteLength);
    if (p) parts.push(Buffer.alloc(p));
  });
  return Buffer.concat(parts);
}

export type SamplesDecode = { ok: true; header: SamplesHeader; columns: Map<string, Uint8Array | Uint32Array | BigUint64Array> } | { ok: false; error: string };

/** Parse a samples file; never throws on bad content. */
export function decodeSamples(buf: Buffer): SamplesDecode {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== MAGIC) return { ok: false, error: 'not a pmiplab samples file' };
  const version = buf.readUInt32LE(4);
  if (version !== VERSION) return { ok: false, error: `samples file version ${version}, expected ${VERSION}` };
  const jsonLen = buf.readUInt32LE(8);
  if (12 + jsonLen > buf.length) return { ok: false, error: 'header truncated' };
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8', 12, 12 + jsonLen));
  } catch {
    return { ok: false, error: 'header is not JSON' };
  }
  const h = SamplesHeader.safeParse(raw);
  if (!h.success) return { ok: false, error: `header: ${h.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  const header = h.data;
  const columns = new Map<string, Uint8Array | Uint32Array | BigUint64Array>();
  let off = 12 + jsonLen;
  for (const c of header.columns) {
    const bytes = header.count * WIDTH[c.type];
    if (off + bytes > buf.length) return { ok: false, error: `column ${c.name} truncated` };
    const out = alloc(c.type, header.count);
    // copy: the file buffer need not be aligned for a typed view
    new Uint8Array(out.buffer).set(buf.subarray(off, off + bytes));
    columns.set(c.name, out);
    off += bytes + pad8(bytes);
  }
  return { ok: true, header, columns };
}

/** A decoded file as one end's samples, or why not. */
export function asSamples(d: SamplesDecode): { ok: true; sender?: SenderSamples; receiver?: ReceiverSamples } | { ok: false; error: string } {
  if (!d.ok) return d;
  const seq = d.columns.get('seq');
  const txNs = d.columns.get('txNs');
  if (!(seq instanceof Uint32Array) || !(txNs instanceof BigUint64Array)) return { ok: false, error: 'seq or txNs column missing' };
  if (d.header.role === 'sender') {
    const st = d.columns.get('status');
    const status = st instanceof Uint8Array ? st : new Uint8Array(seq.length);
    return { ok: true, sender: { header: d.header, seq, txNs, status } };
  }
  const rxNs = d.columns.get('rxNs');
  if (!(rxNs instanceof BigUint64Array)) return { ok: false, error: 'rxNs column missing' };
  return { ok: true, receiver: { header: d.header, seq, txNs, rxNs } };
}
