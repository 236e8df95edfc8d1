// fast-check arbitraries for the Mobility Header codec: canonical values
// (reserved fields omitted when zero, RFC 5952 addresses), so that
// decode(encode(v)) deep-equals v. Shared with the pcap/tshark vector tests.

import fc from 'fast-check';
import { alignmentOf, formatIpv6, optionByKind, optionByType } from '../../nodes/protocol/index.js';
import type { FidSubOption, Message, MobilityOption } from '../../nodes/protocol/index.js';

const HEX = (b: Uint8Array) => Buffer.from(b).toString('hex');
const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Adds `reserved`-like optional keys only when non-zero, as the decoder does. */
function opt<K extends string>(key: K, max: number) {
  return fc.option(fc.integer({ min: 1, max }), { nil: undefined }).map((v) => (v === undefined ? {} : { [key]: v }) as Partial<Record<K, number>>);
}

export const ipv6Bytes = fc
  .array(fc.oneof(fc.constant(0), fc.constant(0), u16), { minLength: 8, maxLength: 8 })
  .map((gs) => {
    const b = new Uint8Array(16);
    gs.forEach((g, i) => {
      b[2 * i] = g >>> 8;
      b[2 * i + 1] = g & 0xff;
    });
    return b;
  });
export const ipv6 = ipv6Bytes.map((b) => formatIpv6(b, 0));
export const ipv4 = fc.tuple(u8, u8, u8, u8).map((t) => t.join('.'));
export const hex = (minLength: number, maxLength: number) => fc.uint8Array({ minLength, maxLength }).map(HEX);

const addrRange = fc.tuple(ipv6Bytes, fc.option(ipv6Bytes, { nil: undefined })).map(([a, b]) => {
  if (b === undefined) return [formatIpv6(a, 0)] as const;
  const [lo, hi] = Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0 ? [a, b] : [b, a];
  return [formatIpv6(lo, 0), formatIpv6(hi, 0)] as const;
});
const numRange = (max: number) =>
  fc.tuple(fc.integer({ min: 0, max }), fc.option(fc.integer({ min: 0, max }), { nil: undefined })).map(([a, b]) =>
    b === undefined ? ([a] as const) : ([Math.min(a, b), Math.max(a, b)] as const),
  );

function range<S extends string, E extends string>(s: S, e: E, r: readonly (string | number)[] | undefined) {
  if (r === undefined) return {};
  return r.length === 1 ? { [s]: r[0] } : { [s]: r[0], [e]: r[1] };
}

export const trafficSelector: fc.Arbitrary<FidSubOption> = fc
  .record({
    src: fc.option(addrRange, { nil: undefined }),
    dst: fc.option(addrRange, { nil: undefined }),
    sp: fc.option(numRange(0xffff), { nil: undefined }),
    dp: fc.option(numRange(0xffff), { nil: undefined }),
    nh: fc.option(numRange(255), { nil: undefined }),
    r: opt('reserved', 0xff),
    fr: opt('flagsReserved', 0xffff),
  })
  .map(
    (x) =>
      ({
        kind: 'trafficSelector',
        ...x.r,
        ...x.fr,
        ...range('srcStart', 'srcEnd', x.src),
        ...range('dstStart', 'dstEnd', x.dst),
        ...range('srcPortStart', 'srcPortEnd', x.sp),
        ...range('dstPortStart', 'dstPortEnd', x.dp),
        ...range('nextHeaderStart', 'nextHeaderEnd', x.nh),
      }) as FidSubOption,
  );

/** Raw selectors: IPv4 format, or IPv6 using a component we keep opaque (flag E..H, M, N). */
export const trafficSelectorRaw: fc.Arbitrary<FidSubOption> = fc.oneof(
  fc.record({ format: fc.integer({ min: 1, max: 255 }).filter((f) => f !== 2), data: hex(0, 40), r: opt('reserved', 0xff) }),
  fc.record({
    format: fc.constant(2),
    data: fc.tuple(fc.constantFrom(0x08, 0x04, 0x02, 0x01, 0x0c), u8, hex(0, 30)).map(([hi, lo, rest]) => HEX(new Uint8Array([hi, lo])) + rest),
    r: opt('reserved', 0xff),
  }),
).map((x) => ({ kind: 'trafficSelectorRaw', format: x.format, ...x.r, data: x.data }) as FidSubOption);

export const fidSubOption: fc.Arbitrary<FidSubOption> = fc.oneof(
  fc.constant({ kind: 'pad1' } as FidSubOption),
  hex(0, 6).map((data) => ({ kind: 'padN', data }) as FidSubOption),
  fc.array(u16, { minLength: 1, maxLength: 8 }).map((bids) => ({ kind: 'bidReference', bids }) as FidSubOption),
  trafficSelector,
  trafficSelectorRaw,
  fc.record({ type: fc.integer({ min: 4, max: 255 }), data: hex(0, 12) }).map((x) => ({ kind: 'unknown', ...x }) as FidSubOption),
);

const naiAscii = fc.stringMatching(/^[a-z0-9._-]{1,40}@[a-z0-9.-]{1,40}$/);
const nai = fc.oneof(naiAscii, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }));

/** Every option kind except pads (auto-padded lists), canonical. */
export const mobilityOption: fc.Arbitrary<MobilityOption> = fc.oneof(
  u16.map((interval) => ({ kind: 'bindingRefreshAdvice', interval })),
  nai.map((n) => ({ kind: 'mnId', nai: n })),
  fc.record({ prefix: ipv6, prefixLength: fc.integer({ min: 0, max: 128 }), r: opt('reserved', 255) }).map(
    (x) => ({ kind: 'hnp', prefix: x.prefix, prefixLength: x.prefixLength, ...x.r }),
  ),
  fc.record({ value: u8, r: opt('reserved', 255) }).map((x) => ({ kind: 'handoffIndicator', value: x.value, ...x.r })),
  fc.record({ value: u8, r: opt('reserved', 255) }).map((x) => ({ kind: 'accessTechnologyType', value: x.value, ...x.r })),
  hex(1, 20).map((identifier) => ({ kind: 'mnLinkLayerId', identifier })),
  fc
    .record({ ifp: u8, P: fc.boolean(), r: opt('reserved', 0x7f), identifier: hex(1, 20) })
    .filter((x) => x.ifp !== 0 || x.P || x.r.reserved !== undefined)
    .map((x) => ({ kind: 'mnLinkLayerIdExt', ifp: x.ifp, flags: { P: x.P }, ...x.r, identifier: x.identifier })),
  ipv6.map((address) => ({ kind: 'linkLocalAddress', address })),
  fc.record({ seconds: fc.integer({ min: 0, max: 2 ** 48 - 1 }), fraction: u16 }).map((x) => ({ kind: 'timestamp', ...x })),
  fc.record({ key: fc.option(u32, { nil: undefined }), r: opt('reserved', 0xffff) }).map((x) => ({
    kind: 'greKey',
    ...x.r,
    ...(x.key === undefined ? {} : { key: x.key }),
  })),
  fc
    .record({ bid: u16, status: u8, H: fc.boolean(), bidPri: fc.integer({ min: 0, max: 127 }), careOf: fc.option(fc.oneof(ipv4, ipv6), { nil: undefined }) })
    .map((x) => ({
      kind: 'bindingId',
      bid: x.bid,
      status: x.status,
      flags: { H: x.H },
      bidPri: x.bidPri,
      ...(x.careOf === undefined ? {} : { careOf: x.careOf }),
    })),
  fc.record({ address: fc.oneof(ipv4, ipv6), r: opt('reserved', 255) }).map((x) => ({ kind: 'lmaAddress', address: x.address, ...x.r })),
  fc
    .record({
      fid: u16,
      fidPri: u16,
      pro: fc.integer({ min: 0, max: 15 }),
      status: u8,
      r: opt('reserved', 15),
      subOptions: fc.array(fidSubOption, { maxLength: 2 }),
    })
    .map((x) => ({ kind: 'flowId', fid: x.fid, fidPri: x.fidPri, ...x.r, pro: x.pro, status: x.status, subOptions: x.subOptions })),
  fc.record({ mhgid: u8, act: fc.integer({ min: 0, max: 7 }), r: opt('reserved', 0x1f) }).map((x) => ({ kind: 'multihoming', mhgid: x.mhgid, act: x.act, ...x.r })),
  ipv6.map((address) => ({ kind: 'primaryHoa', address })),
  fc
    .record({ type: fc.integer({ min: 2, max: 255 }).filter((t) => optionByType(t) === undefined), data: hex(0, 24) })
    .map((x) => ({ kind: 'unknown', ...x })),
) as fc.Arbitrary<MobilityOption>;

export const optionList = fc.array(mobilityOption, { maxLength: 6 });

const flags = <K extends string>(...keys: K[]) =>
  fc.tuple(...keys.map(() => fc.boolean())).map((bs) => Object.fromEntries(keys.map((k, i) => [k, bs[i]])) as Record<K, boolean>);

const common = fc.record({
  options: optionList,
  checksum: u16,
  pp: fc.oneof(fc.constant(undefined), fc.constant(undefined), fc.integer({ min: 0, max: 255 }).filter((p) => p !== 59)),
  mr: opt('mhReserved', 255),
});

function withCommon<T extends object>(body: fc.Arbitrary<T>): fc.Arbitrary<Message> {
  return fc.tuple(body, common).map(
    ([b, c]) => ({ ...b, options: c.options, checksum: c.checksum, ...(c.pp === undefined ? {} : { payloadProto: c.pp }), ...c.mr }) as unknown as Message,
  );
}

export const messageBodies = {
  pbu: fc.record({ kind: fc.constant('pbu'), sequence: u16, flags: flags('A', 'H', 'L', 'K', 'M', 'R', 'P'), lifetime: u16, r: opt('reserved', 0x1ff) }),
  pba: fc.record({ kind: fc.constant('pba'), status: u8, flags: flags('K', 'R', 'P'), sequence: u16, lifetime: u16, r: opt('reserved', 0x1f) }),
  bindingError: fc.record({ kind: fc.constant('bindingError'), status: u8, homeAddress: ipv6, r: opt('reserved', 255) }),
  heartbeat: fc.record({ kind: fc.constant('heartbeat'), flags: flags('U', 'R'), sequence: u32, r: fc.option(fc.integer({ min: 1, max: 0x3fff }), { nil: undefined }).map((v) => (v === undefined ? {} : { reserved: v << 2 })) }),
  handoverInitiate: fc.record({ kind: fc.constant('handoverInitiate'), sequence: u16, flags: flags('S', 'U', 'P', 'F'), code: u8, r: opt('reserved', 15) }),
  handoverAck: fc.record({ kind: fc.constant('handoverAck'), sequence: u16, flags: flags('U', 'P', 'F'), code: u8, r: opt('reserved', 0x1f) }),
  updateNotification: fc.record({ kind: fc.constant('updateNotification'), sequence: u16, reason: u16, flags: flags('A', 'D'), r: opt('reserved', 0x3fff) }),
  updateNotificationAck: fc.record({ kind: fc.constant('updateNotificationAck'), sequence: u16, status: u8, r: opt('reserved', 0xffffff) }),
  shi: fc.record({ kind: fc.constant('shi'), sequence: u16, flags: flags('A'), lifetime: u16, r: opt('reserved', 0x7fff) }),
  shia: fc.record({ kind: fc.constant('shia'), sequence: u16, status: u8, lifetime: u16, r: opt('reserved', 255) }),
};

/** Message data only (no header fields or options), canonical. */
export const messageBody = fc.oneof(
  ...Object.values(messageBodies).map((a) =>
    (a as fc.Arbitrary<{ r: object } & Record<string, unknown>>).map(({ r, ...rest }) => ({ ...rest, ...r })),
  ),
);

/** A whole canonical message with an auto-padded option list (no pad options). */
export const message: fc.Arbitrary<Message> = withCommon(messageBody);

/**
 * The same message with an explicitly, differently padded option list: extra
 * Pad1/PadN runs before options (still honouring alignment) and extra tail
 * padding, as another implementation might send.
 */
export const paddedMessage: fc.Arbitrary<Message> = fc
  .tuple(message, fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 8, maxLength: 8 }), fc.boolean())
  .map(([m, extras, splitPad1]) => {
    const bodyLen: Record<string, number> = { pbu: 6, pba: 6, bindingError: 18, heartbeat: 6, handoverInitiate: 4, handoverAck: 4, updateNotification: 6, updateNotificationAck: 6, shi: 6, shia: 6 };
    let pos = 6 + bodyLen[m.kind]!;
    const out: MobilityOption[] = [];
    const pad = (n: number) => {
      if (n === 0) return;
      if (splitPad1 && n <= 3) for (let i = 0; i < n; i++) out.push({ kind: 'pad1' });
      else if (n === 1) out.push({ kind: 'pad1' });
      else out.push({ kind: 'padN', data: '00'.repeat(n - 2) });
      pos += n;
    };
    m.options.forEach((o, i) => {
      const r = optionByKind(o.kind)!;
      let n = extras[i % 8]!;
      const al = alignmentOf(r, o);
      if (al) n += (((al.y - (pos + n)) % al.x) + al.x) % al.x;
      pad(n);
      out.push(o);
      pos += r.length(o);
    });
    let tail = (8 - (pos % 8)) % 8;
    if (extras[7]! > 5) tail += 8;
    pad(tail);
    // ensure at least one pad, so the encoder takes the list verbatim
    if (!out.some((o) => o.kind === 'pad1' || o.kind === 'padN')) {
      out.push({ kind: 'padN', data: '000000000000' });
    }
    return { ...m, options: out };
  });
