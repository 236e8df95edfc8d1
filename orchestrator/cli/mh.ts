import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { z } from 'zod';
import { configureNumbers, decodeMessage, encodeMessage, mhChecksum, MessageSchema, tbdNumbers, withChecksum } from '../../nodes/protocol/index.js';
import { badInput } from '../errors.js';
import { table } from './progress.js';
import { extractMobilityHeaders, formatCaptureError, ipv6Bytes, looksLikeCapture, type MobilityPacket } from '../pcap/index.js';

// `pmiplab mh decode|encode`: the codec on the command line, for reading
// captures and writing test packets. Exit codes: 2 when the input itself is
// bad (hex, JSON, capture file structure, or the message does not decode);
// a capture whose file is sound exits 0 even when some MH in it do not decode
// (each such packet prints an "error" line), unless --strict is given.

const HELP_EXAMPLES = `
Examples:
  $ pmiplab mh decode 3b010d00000000020000002a01020000
  {"kind":"heartbeat","flags":{"U":true,"R":false},"sequence":42,...}
  $ pmiplab mh decode run.pcapng            # one JSON line per MH in the capture
  $ echo '{"kind":"heartbeat","sequence":7}' | pmiplab mh encode -
  $ pmiplab mh encode pbu.json --checksum --src 2001:db8::1 --dst 2001:db8::2

decode reads a hex string (spaces, colons and a 0x prefix are ignored), a file
holding hex, or a pcap/pcapng capture (MH over IPv6 next header 135 or UDP 5436).
For a capture each line is {index, time, timestampNs, src, dst, transport,
checksumOk, message} or {..., error}; undecodable packets do not change the exit
code unless --strict.`;

/** Bytes from hex text; the error names the offending character's offset. */
export function parseHex(text: string): Uint8Array {
  // offsets in errors count from the start of `text`, leading blanks and 0x included
  const start = /^\s*(?:0x)?/i.exec(text)![0].length;
  const digits: number[] = [];
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (c === ' ' || c === ':' || c === '\n' || c === '\t' || c === '\r') continue;
    const v = Number.parseInt(c, 16);
    if (Number.isNaN(v)) throw badInput(`bad hex: character ${JSON.stringify(c)} at offset ${i}`, 'give the MH as hex digits', { field: 'input', offset: i });
    digits.push(v);
  }
  if (digits.length === 0) throw badInput('bad hex: empty input', undefined, { field: 'input', offset: 0 });
  if (digits.length % 2 !== 0) throw badInput('bad hex: odd number of hex digits', undefined, { field: 'input', offset: text.length });
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (digits[2 * i]! << 4) | digits[2 * i + 1]!;
  return out;
}

type DecodeLine = Record<string, unknown>;

function readInputFile(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw badInput(`cannot read ${file}: ${(e as Error).message}`); // a directory, no permission...
  }
}

/** Decodes one MH; the codec takes the whole buffer as the MH, so trailing bytes are its bad-length error. */
function decodeOne(mh: Uint8Array): { ok: true; message: unknown } | { ok: false; error: unknown } {
  const r = decodeMessage(mh);
  return r.ok ? { ok: true, message: r.value } : { ok: false, error: r.error };
}

/**
 * ISO 8601 with nanoseconds, or undefined when Date cannot show the instant
 * (a pcapng timestamp is 64 bits of ticks plus a 64-bit if_tsoffset, so it
 * can lie far outside Date's +-8.64e15 ms, or before 1970).
 */
export function isoWithNs(ns: bigint): string | undefined {
  let ms = ns / 1_000_000n;
  let sub = ns % 1_000_000n;
  if (sub < 0n) {
    ms -= 1n; // floor, so the sub-millisecond part is never negative
    sub += 1_000_000n;
  }
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return undefined;
  return `${d.toISOString().slice(0, -1)}${sub.toString().padStart(6, '0')}Z`;
}

function captureLine(p: MobilityPacket): DecodeLine {
  const src = ipv6Bytes(p.src);
  const dst = ipv6Bytes(p.dst);
  const time = isoWithNs(p.timestampNs);
  const line: DecodeLine = {
    index: p.index,
    ...(time === undefined ? {} : { time }),
    timestampNs: p.timestampNs.toString(),
    src: p.src,
    dst: p.dst,
    transport: p.transport,
  };
  if (p.truncated) line.truncated = true;
  if (src && dst && p.mh.length >= 6) line.checksumOk = mhChecksum(src, dst, p.mh) === ((p.mh[4]! << 8) | p.mh[5]!);
  const d = decodeOne(p.mh);
  if (d.ok) line.message = d.message;
  else line.error = d.error;
  return line;
}

/** Lines for `mh decode`; throws PmipError (exit 2) on bad input. */
export function decodeInput(arg: string, opts: { strict?: boolean } = {}): string[] {
  const fromFile = existsSync(arg) ? readInputFile(arg) : null;
  if (fromFile && looksLikeCapture(fromFile)) {
    const x = extractMobilityHeaders(fromFile);
    if (!x.ok) throw badInput(`${arg}: not a readable capture: ${formatCaptureError(x.error)}`, undefined, { ...x.error });
    const lines: DecodeLine[] = [
      ...x.value.map(captureLine),
      ...x.problems.map((p) => ({ index: p.index, error: p.error, layer: 'packet' })),
    ].sort((a, b) => Number(a.index) - Number(b.index));
    const failed = lines.filter((l) => 'error' in l).length;
    if (opts.strict && failed > 0) {
      throw badInput(`${arg}: ${failed} of ${lines.length} packets did not decode`, 'run without --strict to see them', { failed });
    }
    return lines.map((l) => JSON.stringify(l));
  }
  const mh = parseHex(fromFile ? Buffer.from(fromFile).toString('latin1') : arg);
  const d = decodeOne(mh);
  if (!d.ok) {
    const e = d.error as { code: string; field: string; offset: number; detail?: string };
    throw badInput(`cannot decode: ${e.code} at ${e.field} (offset ${e.offset})${e.detail ? `: ${e.detail}` : ''}`, undefined, { ...e });
  }
  return [JSON.stringify(d.message)];
}

const EncodeFlags = z
  .object({ checksum: z.boolean().optional(), src: z.string().optional(), dst: z.string().optional() })
  .refine((f) => !f.checksum || (f.src !== undefined && f.dst !== undefined), { message: '--checksum needs --src and --dst' })
  .refine((f) => f.src === undefined || ipv6Bytes(f.src) !== null, { message: 'not an IPv6 address', path: ['src'] })
  .refine((f) => f.dst === undefined || ipv6Bytes(f.dst) !== null, { message: 'not an IPv6 address', path: ['dst'] });
export type EncodeFlags = z.infer<typeof EncodeFlags>;

const issuesText = (e: z.ZodError) => e.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('\n');

/** Hex for `mh encode` from JSON text; throws PmipError (exit 2) on bad input. */
export function encodeJson(text: string, rawFlags: EncodeFlags = {}): string {
  const flags = EncodeFlags.safeParse(rawFlags);
  if (!flags.success) throw badInput(`bad options:\n${issuesText(flags.error)}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw badInput(`not JSON: ${(e as Error).message}`);
  }
  const msg = MessageSchema.safeParse(json);
  if (!msg.success) throw badInput(`invalid message:\n${issuesText(msg.error)}`, 'see MessageSchema in nodes/protocol/schema.ts');
  let mh: Uint8Array;
  try {
    mh = encodeMessage(msg.data);
  } catch (e) {
    // The schema checks each field; what remains (e.g. a message over 2048 octets) the encoder refuses.
    throw badInput(`cannot encode: ${(e as Error).message}`);
  }
  const { checksum, src, dst } = flags.data;
  if (checksum && src && dst) mh = withChecksum(mh, ipv6Bytes(src)!, ipv6Bytes(dst)!);
  return Buffer.from(mh).toString('hex');
}

/**
 * All of a stream as UTF-8 text. Standard input is read as a stream, not with
 * readFileSync(0): when stdin is a pipe left non-blocking (O_NONBLOCK, as a
 * Node writer on the other end leaves it) and the writer has not written yet,
 * a synchronous read fails with EAGAIN instead of waiting.
 */
export async function readStream(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function readText(file: string): Promise<string> {
  try {
    return file === '-' ? await readStream(process.stdin) : readFileSync(file, 'utf8');
  } catch (e) {
    throw badInput(`cannot read ${file === '-' ? 'stdin' : file}: ${(e as Error).message}`);
  }
}

/** `--number mh.shi=150` (repeatable): remap a draft-TBD number for this command. */
function applyNumberOverrides(pairs: string[]): void {
  if (!pairs.length) return;
  const overrides: Record<string, number> = {};
  for (const p of pairs) {
    const m = /^([A-Za-z_.]+)=(\d{1,3})$/.exec(p);
    if (!m) throw badInput(`--number ${p}: expected NAME=VALUE, e.g. mh.shi=150`, `names: ${tbdNumbers.map((t) => t.name).join(', ')}`);
    overrides[m[1]!] = Number(m[2]);
  }
  try {
    configureNumbers(overrides);
  } catch (e) {
    throw badInput(`--number: ${(e as Error).message}`, `names: ${tbdNumbers.map((t) => t.name).join(', ')}`);
  }
}

/** The numbers the drafts leave open, as chosen (and possibly overridden): the README table comes from here. */
export function numbersTable(markdown: boolean): string {
  const rows = tbdNumbers.map((t) => [t.name, t.registry, String(t.value()), t.why]);
  if (!markdown) return table([['NAME', 'REGISTRY', 'VALUE', 'WHY'], ...rows]);
  return ['| name | registry | value | why |', '|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function mhCommand(): Command {
  const mh = new Command('mh')
    .description('decode and encode Mobility Header messages')
    .option('--number <NAME=VALUE>', 'override a draft-TBD number, e.g. mh.shi=150 (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .hook('preAction', (cmd) => applyNumberOverrides((cmd.opts() as { number: string[] }).number))
    .addHelpText('after', HELP_EXAMPLES);
  mh.command('numbers')
    .description('print the numbers chosen for values the drafts leave open (MH types, option types, status codes)')
    .option('--markdown', 'as a Markdown table')
    .action((o: { markdown?: boolean }) => {
      process.stdout.write(`${numbersTable(Boolean(o.markdown))}\n`);
    });
  mh.command('decode')
    .description('print an MH (hex or file) or every MH of a pcap/pcapng as JSON')
    .argument('<input>', 'hex string, file of hex, or capture file')
    .option('--strict', 'exit 2 when any MH of a capture fails to decode')
    .addHelpText('after', HELP_EXAMPLES)
    .action((input: string, o: { strict?: boolean }) => {
      for (const line of decodeInput(input, o)) process.stdout.write(`${line}\n`);
    });
  mh.command('encode')
    .description('validate a JSON message and print it as hex')
    .argument('<json>', "JSON file, or '-' for stdin")
    .option('--checksum', 'fill in the MH checksum (needs --src and --dst)')
    .option('--src <addr>', 'IPv6 source address for the checksum')
    .option('--dst <addr>', 'IPv6 destination address for the checksum')
    .addHelpText('after', HELP_EXAMPLES)
    .action(async (file: string, o: EncodeFlags) => {
      process.stdout.write(`${encodeJson(await readText(file), o)}\n`);
    });
  return mh;
}
