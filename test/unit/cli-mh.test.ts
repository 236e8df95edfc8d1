import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeInput, encodeJson, isoWithNs, parseHex } from '../../orchestrator/cli/mh.js';
import { PmipError } from '../../orchestrator/errors.js';
import { buildMhPacket, LinkType, writePcap } from '../../orchestrator/pcap/index.js';
import type { VectorFile } from '../fixtures/mh/generate.js';
import { concat, epb, idb, shb } from './pcap/pcapng-builder.js';

// The `mh` verb twice: its functions directly (fast, every vector), and the
// built CLI for exit codes and stdout/stderr (built once in beforeAll).

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VECTORS = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/mh/vectors.json'), 'utf8')) as VectorFile;

function thrown(fn: () => unknown): PmipError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PmipError) return e;
    throw e;
  }
  throw new Error('expected a PmipError');
}

describe('mh verb functions', () => {
  it.each(VECTORS.vectors.map((v) => [v.name, v] as const))('decodes and re-encodes vector %s', (_n, v) => {
    const [line] = decodeInput(v.hexWithChecksum);
    expect(JSON.parse(line!)).toEqual({ ...(v.message as object), checksum: Number.parseInt(v.hexWithChecksum.slice(8, 12), 16) });
    expect(encodeJson(JSON.stringify(v.message))).toBe(v.hex);
    expect(encodeJson(JSON.stringify(v.message), { checksum: true, src: VECTORS.src, dst: VECTORS.dst })).toBe(v.hexWithChecksum);
  });

  it('accepts hex with spaces, colons and 0x', () => {
    expect(Array.from(parseHex('0x3b:01 0d'))).toEqual([0x3b, 1, 0x0d]);
  });

  it('a bad hex character is reported at its offset in the text as given', () => {
    expect(thrown(() => parseHex('  0x3b0g')).context).toMatchObject({ offset: 7 });
    expect(thrown(() => parseHex('0x3b0g')).message).toMatch(/"g" at offset 5/);
  });

  it('an unreadable input path (a directory) is bad input, not a crash', () => {
    expect(thrown(() => decodeInput(tmpdir())).exitCode).toBe(2);
  });

  it('time is ISO with ns, floors before 1970, and is left out beyond what Date can show', () => {
    expect(isoWithNs(1_700_000_000_123_456_789n)).toBe('2023-11-14T22:13:20.123456789Z');
    expect(isoWithNs(-1n)).toBe('1969-12-31T23:59:59.999999999Z');
    expect(isoWithNs(10n ** 25n)).toBeUndefined(); // 1e19 ms, past Date's 8.64e15
    // a pcapng EPB may carry any 64-bit tick count: that frame used to throw RangeError out of decodeInput
    const dir = mkdtempSync(path.join(tmpdir(), 'pmiplab-climh-'));
    try {
      const v = VECTORS.vectors[0]!;
      const data = buildMhPacket({ src: VECTORS.src, dst: VECTORS.dst, mh: Uint8Array.from(Buffer.from(v.hexWithChecksum, 'hex')), transport: 'raw' });
      const file = path.join(dir, 'far.pcapng');
      writeFileSync(file, concat(shb(true), idb(LinkType.raw, true), epb({ ticks: 0xffffffff_00000000n, data }, true)));
      const [line] = decodeInput(file).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(line).toMatchObject({ index: 0, timestampNs: String(0xffffffff_00000000n * 1000n), checksumOk: true });
      expect(line).not.toHaveProperty('time');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad hex and undecodable bytes are bad input (exit 2) with field and offset', () => {
    expect(thrown(() => decodeInput('3b0g')).message).toMatch(/offset 3/);
    expect(thrown(() => decodeInput('3b0')).exitCode).toBe(2);
    const e = thrown(() => decodeInput('3b010d000000000200'));
    expect(e.exitCode).toBe(2);
    expect(e.context).toMatchObject({ code: 'truncated', field: 'MobilityHeader.hdrLen', offset: 1 });
    expect(e.message).toMatch(/truncated at MobilityHeader\.hdrLen \(offset 1\)/);
    expect(thrown(() => decodeInput(`${VECTORS.vectors[0]!.hex}00000000`)).message).toMatch(/^cannot decode: bad-length at MobilityHeader/);
  });

  it('bad JSON and schema errors are bad input with the zod path', () => {
    expect(thrown(() => encodeJson('{')).message).toMatch(/^not JSON/);
    const e = thrown(() => encodeJson(JSON.stringify({ kind: 'pbu', sequence: 1, lifetime: 70000, options: [{ kind: 'hnp', prefix: 'nope', prefixLength: 64 }] })));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^lifetime: /m);
    expect(e.message).toMatch(/^options\.0\.prefix: not an IPv6 address/m);
    expect(thrown(() => encodeJson('{"kind":"heartbeat","sequence":1}', { checksum: true, src: '::1' })).message).toMatch(/--checksum needs --src and --dst/);
  });

  it('decodes every MH of a pcap written by our writer, errors included, one line each', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pmiplab-climh-'));
    try {
      const good = VECTORS.vectors.map((v) => Uint8Array.from(Buffer.from(v.hexWithChecksum, 'hex')));
      const bad = Uint8Array.from([0x3b, 0, 99, 0, 0, 0, 0, 0]); // MH type 99: unknown
      const frames = [...good, bad].map((mh, i) => ({
        timestampNs: 1_700_000_000_123_456_789n + BigInt(i),
        data: buildMhPacket({ src: VECTORS.src, dst: VECTORS.dst, mh, transport: i % 2 ? 'udp' : 'raw' }),
      }));
      const file = path.join(dir, 'c.pcap');
      writeFileSync(file, writePcap(frames, { linktype: LinkType.raw, precision: 'ns' }));
      const lines = decodeInput(file).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(frames.length);
      lines.slice(0, -1).forEach((l, i) => {
        expect(l).toMatchObject({ index: i, src: VECTORS.src, dst: VECTORS.dst, transport: i % 2 ? 'udp' : 'raw', checksumOk: true });
        expect((l.message as { kind: string }).kind).toBe(VECTORS.vectors[i]!.kind);
      });
      expect(lines[0]!.time).toBe('2023-11-14T22:13:20.123456789Z');
      expect(lines.at(-1)).toMatchObject({ error: { code: 'unknown-type', field: 'MobilityHeader.type', offset: 2 } });
      expect(thrown(() => decodeInput(file, { strict: true })).exitCode).toBe(2);
      writeFileSync(file, writePcap(frames, { linktype: LinkType.raw }).subarray(0, 50));
      expect(thrown(() => decodeInput(file)).message).toMatch(/not a readable capture: truncated/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('built CLI: pmiplab mh', () => {
  const cli = path.join(ROOT, 'dist/orchestrator/cli/main.js');
  const run = (args: string[], input?: string) => spawnSync(process.execPath, [cli, 'mh', ...args], { encoding: 'utf8', input });
  let dir = '';

  beforeAll(() => {
    // build only when there is no build: a tsc run here would leave dist/ newer
    // than the node bundles, and later tests would launch the unbundled nodes
    if (!existsSync(cli)) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'pipe' });
    dir = mkdtempSync(path.join(tmpdir(), 'pmiplab-climh-'));
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('decode prints JSON and exits 0', () => {
    const v = VECTORS.vectors.find((x) => x.kind === 'heartbeat')!;
    const r = run(['decode', v.hex]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(v.message);
  });

  it('encode from a file and from stdin, back to the same hex', () => {
    const v = VECTORS.vectors[0]!;
    const f = path.join(dir, 'm.json');
    writeFileSync(f, JSON.stringify(v.message));
    expect(run(['encode', f])).toMatchObject({ status: 0, stdout: `${v.hex}\n` });
    expect(run(['encode', '-', '--checksum', '--src', VECTORS.src, '--dst', VECTORS.dst], JSON.stringify(v.message))).toMatchObject({
      status: 0,
      stdout: `${v.hexWithChecksum}\n`,
    });
  });

  // A writer slower than the CLI's start-up: stdin is then an empty pipe when
  // the CLI reads it, and a synchronous read of fd 0 failed with EAGAIN.
  it('encode - waits for a slow writer (sleep, then cat) and for a piped decode', () => {
    const v = VECTORS.vectors[0]!;
    const f = path.join(dir, 'slow.json');
    writeFileSync(f, JSON.stringify(v.message));
    const node = JSON.stringify(process.execPath);
    const slow = spawnSync('sh', ['-c', `(sleep 1; cat ${JSON.stringify(f)}) | ${node} ${JSON.stringify(cli)} mh encode -`], { encoding: 'utf8' });
    expect(slow.stderr).toBe('');
    expect(slow).toMatchObject({ status: 0, stdout: `${v.hex}\n` });
    const piped = spawnSync('sh', ['-c', `${node} ${JSON.stringify(cli)} mh decode ${v.hex} | ${node} ${JSON.stringify(cli)} mh encode -`], { encoding: 'utf8' });
    expect(piped).toMatchObject({ status: 0, stdout: `${v.hex}\n`, stderr: '' });
  });

  it('bad input exits 2 with the error on stderr', () => {
    const r = run(['decode', '3b010d000000000200']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/truncated at MobilityHeader\.hdrLen \(offset 1\)/);
    const j = run(['encode', '-'], '{"kind":"heartbeat","sequence":-1}');
    expect(j.status).toBe(2);
    expect(j.stderr).toMatch(/sequence: /);
  });

  it('help shows a usage example', () => {
    expect(run(['decode', '--help']).stdout).toMatch(/Examples:/);
  });

  it('prints the draft-TBD numbers and honours --number overrides', () => {
    const t = run(['numbers', '--markdown']);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/^\| mh\.shi \| mh-type \| 100 \|/m);
    const shi = VECTORS.vectors.find((x) => x.kind === 'shi')!;
    expect(run(['decode', shi.hex]).status).toBe(0);
    // remapped SHI to 150: a type-100 message is now unknown, and the table shows 150
    const moved = run(['--number', 'mh.shi=150', 'decode', shi.hex]);
    expect(moved.status).toBe(2);
    expect(moved.stderr).toMatch(/unknown-type at MobilityHeader\.type/);
    expect(run(['--number', 'mh.shi=150', 'numbers']).stdout).toMatch(/mh\.shi\s+mh-type\s+150/);
    const clash = run(['--number', 'mh.shi=5', 'numbers']);
    expect(clash.status).toBe(2);
    expect(clash.stderr).toMatch(/used twice/);
  });
});
