import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, messageByKind, type Message, type MobilityOption } from '../../nodes/protocol/index.js';
import { buildMhPacket, extractMobilityHeaders, LinkType, writePcap } from '../../orchestrator/pcap/index.js';
import { whichTool } from '../../orchestrator/system/tools.js';
import type { VectorFile } from '../fixtures/mh/generate.js';

// Cross-checks the codec against Wireshark's dissector (tshark 4.0): every
// vector of test/fixtures/mh/vectors.json goes into one pcap twice, as IPv6 +
// UDP 5436 and as IPv6 next header 135 with the codec's checksum; tshark reads
// the file once (PDML, which keeps field order, positions and raw bytes) and
// each packet's fields are compared with the codec's own decode of the vector.
// tshark 4.0 knows no UPN/UPA (19/20, RFC 7077), no SHI/SHIA (seed 004, TBD
// numbers), no Flow Identification option (45) and no seed option (TBD types):
// for those we assert what it does show, the MH type and the option's type and
// length as an unknown option. tshark does not check the MH checksum.

const TSHARK = whichTool('tshark');
const VECTORS = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/mh/vectors.json', import.meta.url)), 'utf8'),
) as VectorFile;

// ---- a small PDML reader: one element per line, as tshark writes it

interface PdmlNode {
  name: string;
  show: string;
  showname: string;
  value: string;
  pos: number;
  size: number;
  children: PdmlNode[];
}

const unescapeXml = (s: string) =>
  s.replace(/&(quot|amp|lt|gt|apos|#x[0-9a-f]+|#\d+);/gi, (_, e: string) =>
    e === 'quot' ? '"' : e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'apos' ? "'"
      : String.fromCodePoint(e.startsWith('#x') ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1))));

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/(\w+)="([^"]*)"/g)) out[m[1]!] = unescapeXml(m[2]!);
  return out;
}

/** Packets of a PDML document, each the list of its top-level protocols. */
function parsePdml(xml: string): PdmlNode[][] {
  const packets: PdmlNode[][] = [];
  let stack: PdmlNode[] = [];
  for (const raw of xml.split('\n')) {
    const line = raw.trim();
    if (line === '<packet>') {
      packets.push([]);
      stack = [];
    } else if (line.startsWith('<proto ') || line.startsWith('<field ')) {
      const a = attrs(line);
      const node: PdmlNode = {
        name: a.name ?? '', show: a.show ?? '', showname: a.showname ?? '', value: a.value ?? '',
        pos: Number(a.pos ?? -1), size: Number(a.size ?? 0), children: [],
      };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(node);
      else packets[packets.length - 1]?.push(node);
      if (!line.endsWith('/>')) stack.push(node);
    } else if (line === '</proto>' || line === '</field>') stack.pop();
  }
  return packets;
}

function* walk(n: PdmlNode): Generator<PdmlNode> {
  yield n;
  for (const c of n.children) yield* walk(c);
}

const fieldsOf = (n: PdmlNode, name: string) => [...walk(n)].filter((x) => x.name === name).map((x) => x.show);
const fieldOf = (n: PdmlNode, name: string) => fieldsOf(n, name)[0];

// ---- what tshark should show, derived from the codec's decode

interface ExpectedOption {
  node: string; // PDML name of the option subtree
  fields: Record<string, string>; // field name -> show
  size?: number; // octets of the whole option, type and length included
}

const bool = (b: boolean | undefined) => (b ? '1' : '0');
const colonHex = (hex: string) => (hex.match(/../g) ?? []).join(':');

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Proleptic Gregorian date of a day count since 1970 (H. Hinnant's civil_from_days); JS Date stops at year 275760. */
function civil(days: number): { y: number; m: number; d: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

/** tshark shows RFC 5213 timestamps (seconds since 1970) as "Jan  1, 2024 00:00:00.500000000 UTC". */
function tsharkTime(seconds: number, fraction: number): string {
  const days = Math.floor(seconds / 86400);
  const rest = seconds - days * 86400;
  const { y, m, d } = civil(days);
  const two = (n: number) => String(n).padStart(2, '0');
  const hms = `${two(Math.floor(rest / 3600))}:${two(Math.floor((rest % 3600) / 60))}:${two(rest % 60)}`;
  // Wireshark prints the 1/65536 s fraction as nanoseconds, truncated.
  const ns = String(Math.floor((fraction * 1e9) / 65536)).padStart(9, '0');
  return `${MONTHS[m - 1]} ${String(d).padStart(2, ' ')}, ${y} ${hms}.${ns} UTC`;
}

/**
 * tshark 4.0 has no dissector for the option: an unnamed node "Unknown (0x..)" whose type field
 * is right. Its Length field is read from a wrong offset (41 octets further: a tshark bug), so the
 * length is checked through the node's size, which is right.
 */
function unknownOption(type: number): ExpectedOption {
  return { node: '', fields: { 'mip6.mobility_opt': String(type) } };
}

/** Expected option nodes in wire order; `len` is the option's Length octet from the codec's encoding. */
function expectedOption(o: MobilityOption, type: number, len: number): ExpectedOption {
  const L = { 'mip6.mobility_opt.len': String(len) };
  switch (o.kind) {
    case 'pad1':
      return { node: 'mip6.options.pad1', fields: {} };
    case 'padN':
      return { node: 'mip6.options.padn', fields: L };
    case 'bindingRefreshAdvice':
      return { node: 'mip6.options.bra', fields: { ...L, 'mip6.bra.interval': String(o.interval) } };
    case 'mnId':
      return { node: 'mip6.options.mnid', fields: { ...L, 'mip6.mnid.subtype': '1', 'mip6.mnid.identifier': o.nai } };
    case 'hnp':
      return { node: 'mip6.options.hnp', fields: { ...L, 'mip6.nemo.mnp.pfl': String(o.prefixLength), 'mip6.nemo.mnp.mnp': o.prefix } };
    case 'handoffIndicator':
      return { node: 'mip6.options.hi', fields: { ...L, 'mip6.hi': String(o.value) } };
    case 'accessTechnologyType':
      return { node: 'mip6.options.att', fields: { ...L, 'mip6.att': String(o.value) } };
    case 'mnLinkLayerId':
      return { node: 'mip6.options.mnlli', fields: { ...L, 'mip6.mnlli.reserved': '0', 'mip6.mnlli.lli': colonHex(o.identifier) } };
    case 'mnLinkLayerIdExt':
      // Same type (25) as MN-LL-ID; tshark reads seed 003's IFP and P octets as the 16-bit Reserved field.
      return {
        node: 'mip6.options.mnlli',
        fields: { ...L, 'mip6.mnlli.reserved': String(o.ifp * 256 + (o.flags.P ? 0x80 : 0) + (o.reserved ?? 0)), 'mip6.mnlli.lli': colonHex(o.identifier) },
      };
    case 'linkLocalAddress':
      return { node: 'mip6.options.lla', fields: { ...L, 'mip6.lila_lla': o.address } };
    case 'timestamp':
      return { node: 'mip6.options.ts', fields: { ...L, 'mip6.timestamp_tmp': tsharkTime(o.seconds, o.fraction) } };
    case 'greKey':
      return { node: 'mip6.options.grek', fields: o.key === undefined ? L : { ...L, 'mip6.gre_key': String(o.key) } };
    case 'bindingId': {
      const f: Record<string, string> = { ...L, 'mip6.bi.bid': String(o.bid), 'mip6.bi.status': String(o.status), 'mip6.bi.h_flag': bool(o.flags.H) };
      if (o.careOf?.includes(':')) f['mip6.bi.coa_ipv6'] = o.careOf;
      else if (o.careOf) f['mip6.bi.coa_ipv4'] = o.careOf;
      return { node: 'mip6.options.bi', fields: f };
    }
    case 'lmaAddress':
      return {
        node: 'mip6.options.lmaa',
        fields: o.address.includes(':') ? { ...L, 'mip6.lmaa.opt_code': '1', 'mip6.lmaa.ipv6': o.address } : { ...L, 'mip6.lmaa.opt_code': '2', 'mip6.lmaa.ipv4': o.address },
      };
    default:
      // flowId (45), the seeds' TBD options and unknown ones: tshark 4.0 has no dissector for them.
      return unknownOption(type);
  }
}

/** Type and Length octets of each option in the codec's encoding; options start after the body the codec says it wrote. */
function optionHeaders(mh: Uint8Array, msg: Message): Array<{ type: number; len: number }> {
  const out: Array<{ type: number; len: number }> = [];
  let q = 6 + messageByKind(msg.kind)!.length(msg);
  while (q < mh.length) {
    const t = mh[q]!;
    const len = t === 0 ? 0 : mh[q + 1]!;
    out.push({ type: t, len });
    q += t === 0 ? 1 : 2 + len;
  }
  return out;
}

/** Message body fields as tshark names them, from the codec's decode. */
function bodyFields(m: Message): Record<string, string> {
  switch (m.kind) {
    case 'pbu': {
      const f = m.flags;
      return {
        'mip6.bu.seqnr': String(m.sequence), 'mip6.bu.lifetime': String(m.lifetime),
        'mip6.bu.a_flag': bool(f.A), 'mip6.bu.h_flag': bool(f.H), 'mip6.bu.l_flag': bool(f.L), 'mip6.bu.k_flag': bool(f.K),
        'mip6.bu.m_flag': bool(f.M), 'mip6.nemo.bu.r_flag': bool(f.R), 'mip6.bu.p_flag': bool(f.P),
      };
    }
    case 'pba':
      return {
        'mip6.ba.status': String(m.status), 'mip6.ba.seqnr': String(m.sequence), 'mip6.ba.lifetime': String(m.lifetime),
        'mip6.ba.k_flag': bool(m.flags.K), 'mip6.nemo.ba.r_flag': bool(m.flags.R), 'mip6.ba.p_flag': bool(m.flags.P),
      };
    case 'bindingError':
      return { 'mip6.be.status': String(m.status), 'mip6.be.haddr': m.homeAddress };
    case 'heartbeat':
      return { 'mip6.hb.seqnr': String(m.sequence), 'mip6.hb.u_flag': bool(m.flags.U), 'mip6.hb.r_flag': bool(m.flags.R) };
    case 'handoverInitiate':
      // tshark 4.0 dissects HI per RFC 5568 (S and U flags); RFC 5949's P and F flags it does not show.
      return { 'mip6.hi.seqnr': String(m.sequence), 'mip6.hi.s_flag': bool(m.flags.S), 'mip6.hi.u_flag': bool(m.flags.U), 'mip6.hi.code': String(m.code) };
    case 'handoverAck':
      // tshark 4.0 dissects HAck per RFC 5568 (no flags); RFC 5949's U, P and F flags it does not show.
      return { 'mip6.hack.seqnr': String(m.sequence), 'mip6.hack.code': String(m.code) };
    default:
      return {};
  }
}

/** Kinds tshark 4.0 has no dissector for: it shows the MH type and the message data as bytes. */
const UNKNOWN_TO_TSHARK = new Set<Message['kind']>(['updateNotification', 'updateNotificationAck', 'shi', 'shia']);

interface Built {
  name: string;
  transport: 'udp' | 'raw';
  mh: Uint8Array;
  msg: Message;
}

const describeTshark = TSHARK ? describe : describe.skip;
if (!TSHARK) console.warn('tshark.test.ts skipped: tshark is not installed (apt-get install tshark)');

describeTshark('tshark agrees with the codec on every vector', () => {
  let dir = '';
  let built: Built[] = [];
  let packets: PdmlNode[][] = [];
  let pcapngBytes = new Uint8Array(0);

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pmiplab-tshark-'));
    built = VECTORS.vectors.flatMap((v) => {
      const mh = Uint8Array.from(Buffer.from(v.hexWithChecksum, 'hex'));
      const d = decodeMessage(mh);
      if (!d.ok) throw new Error(`${v.name}: ${JSON.stringify(d.error)}`);
      return (['udp', 'raw'] as const).map((transport) => ({ name: v.name, transport, mh, msg: d.value }));
    });
    const file = path.join(dir, 'vectors.pcap');
    const frames = built.map((b, i) => ({
      timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 1000n,
      data: buildMhPacket({ src: VECTORS.src, dst: VECTORS.dst, mh: b.mh, transport: b.transport }),
    }));
    writeFileSync(file, writePcap(frames, { linktype: LinkType.ipv6, precision: 'ns' }));
    // One dissection pass for all the checks; no decode-as is needed: 5436 is registered for MIPv6.
    const pdml = execFileSync(TSHARK!, ['-n', '-r', file, '-T', 'pdml'], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
    packets = parsePdml(pdml);
    // tshark rewrites the capture as pcapng: our pcapng reader must read what tshark writes.
    execFileSync(TSHARK!, ['-r', file, '-w', path.join(dir, 'vectors.pcapng'), '-F', 'pcapng'], { stdio: 'ignore' });
    pcapngBytes = new Uint8Array(readFileSync(path.join(dir, 'vectors.pcapng')));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('dissects one MIPv6 packet per vector and transport', () => {
    expect(packets).toHaveLength(built.length);
    expect(built.length).toBe(2 * VECTORS.vectors.length);
  });

  it('finds no malformed packet and no warning or error expert info', () => {
    const problems: string[] = [];
    packets.forEach((protos, i) => {
      for (const top of protos) {
        for (const n of walk(top)) {
          if (n.name === '_ws.malformed') problems.push(`#${i + 1} ${built[i]?.name}/${built[i]?.transport}: malformed ${n.showname}`);
          if (n.name === '_ws.expert') {
            const sev = Number(fieldOf(n, '_ws.expert.severity') ?? 0);
            if (sev >= 0x00600000) problems.push(`#${i + 1} ${built[i]?.name}/${built[i]?.transport}: ${n.showname || fieldOf(n, '_ws.expert.message')}`);
          }
        }
      }
    });
    expect(problems).toEqual([]);
  });

  const cases = VECTORS.vectors.flatMap((v) => (['udp', 'raw'] as const).map((t) => [`${v.name} over ${t}`, v.name, t] as const));
  it.each(cases)('%s', (_label, name, transport) => {
    const i = built.findIndex((b) => b.name === name && b.transport === transport);
    const b = built[i]!;
    const protos = packets[i]!;
    const mip = protos.flatMap((p) => [...walk(p)]).find((p) => p.name === 'mipv6');
    expect(mip, 'tshark dissected the packet as MIPv6').toBeDefined();
    const m = mip!;
    // Transport as tshark saw it.
    const udp = protos.find((p) => p.name === 'udp');
    expect(udp !== undefined).toBe(transport === 'udp');
    if (udp) expect(fieldsOf(udp, 'udp.dstport')).toEqual(['5436']);

    // Fixed header.
    expect(fieldOf(m, 'mip6.mhtype')).toBe(String(b.mh[2]));
    expect(fieldOf(m, 'mip6.proto')).toBe(String(b.msg.payloadProto ?? 59));
    expect(fieldOf(m, 'mip6.hlen')).toBe(String(b.mh.length / 8 - 1));
    expect(fieldOf(m, 'mip6.csum')).toBe(`0x${(b.msg.checksum ?? 0).toString(16).padStart(4, '0')}`);
    expect(m.size).toBe(b.mh.length);

    if (UNKNOWN_TO_TSHARK.has(b.msg.kind)) {
      // No dissector: tshark shows the data after the fixed header as opaque bytes, options included.
      expect(fieldOf(m, 'mip6.unknown_type_data')?.replaceAll(':', '')).toBe(Buffer.from(b.mh.subarray(6)).toString('hex'));
      return;
    }

    // Message body.
    const want = bodyFields(b.msg);
    const got = Object.fromEntries(Object.keys(want).map((k) => [k, fieldOf(m, k)]));
    expect(got).toEqual(want);

    // Options, in wire order, each with its fields.
    const hdrs = optionHeaders(b.mh, b.msg);
    expect(hdrs).toHaveLength(b.msg.options.length);
    const expected = b.msg.options.map((o, k) => {
      const h = hdrs[k]!;
      return { ...expectedOption(o, h.type, h.len), size: h.type === 0 ? 1 : 2 + h.len };
    });
    const optRoot = m.children.find((c) => c.name === '' && c.show === 'Mobility Options');
    const seen = (optRoot?.children ?? []).map((n, k) => {
      const e = expected[k];
      const fields = Object.fromEntries(Object.keys(e?.fields ?? {}).map((f) => [f, f === n.name ? n.show : fieldOf(n, f)]));
      return { node: n.name, fields, size: n.size };
    });
    expect(seen).toEqual(expected);
  });

  it("reads tshark's pcapng with the same MH bytes, addresses and transports", () => {
    const x = extractMobilityHeaders(pcapngBytes);
    expect(x.ok).toBe(true);
    if (!x.ok) return;
    expect(x.problems).toEqual([]);
    expect(x.value.map((p) => [p.index, p.transport, p.src, p.dst, Buffer.from(p.mh).toString('hex')])).toEqual(
      built.map((b, i) => [i, b.transport, VECTORS.src, VECTORS.dst, Buffer.from(b.mh).toString('hex')]),
    );
    expect(x.value[1]!.timestampNs).toBe(1_700_000_000_000_001_000n);
  });
});
