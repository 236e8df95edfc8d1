import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DORMANT_OPTION } from '../../nodes/lma/messages.js';
import { decodeMessage, encodeMessage, HANDOFF_INDICATOR as HI, type MessageOf, type MobilityOption } from '../../nodes/protocol/index.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { Agent, deleteNamespaces, ip, LMA_AGENT, type Line, PEER_AGENT, twoNamespaces } from '../support/lma-agents.js';

// Root only. Seed 001 at a live LMA with its kernel data plane (seg6, in a
// namespace of its own) and two MAGs (two addresses of a peer namespace
// sending raw PBUs from either):
// - a shared prefix (section 3) is one multipath route with a seg6 next hop
//   per MAG, hashed per flow (fib_multipath_hash_policy 1);
// - a dormant binding (appendix D) has no route until the first session
//   de-registers; then the route points at the dormant one's MAG, in the
//   processing of that one de-registration;
// - HI 2 moves the route of every prefix and the old MAG gets an Update
//   Notification (RFC 7077) with D set.
// Run id lms1 (namespaces pllms1-lma, pllms1-mag).

const root = isRoot();
if (!root) console.warn('test/integration/lma-seed001.test.ts skipped: needs root (network namespaces, kernel routes)');

const LMA_NS = 'pllms1-lma';
const MAG_NS = 'pllms1-mag';
const LMA = '2001:db8:c:4::1';
const MAG1 = '2001:db8:c:4::2';
const MAG2 = '2001:db8:c:4::3';
const P1 = '2001:db8:a:41::/64';
const P2 = '2001:db8:a:42::/64';
const SHARED = 'shared@pmiplab.example';
const DORMANT = 'dormant@pmiplab.example';
const MOVER = 'mover@pmiplab.example';
const WLAN = { llId: '02:00:00:00:41:01', att: 4 };
const LTE = { llId: '02:00:00:00:41:02', att: 5 };

const mns = [
  { mnId: SHARED, lma: 'lma1', mags: ['*'], interfaces: [{ iface: 'wlan0', ...WLAN, prefixes: [P1] }, { iface: 'lte0', ...LTE, prefixes: [], shareWith: 'wlan0' }] },
  { mnId: DORMANT, lma: 'lma1', mags: ['*'], interfaces: [{ iface: 'wlan0', ...WLAN, prefixes: [P2] }, { iface: 'lte0', ...LTE, prefixes: [], shareWith: 'wlan0', dormant: true }] },
  { mnId: MOVER, lma: 'lma1', mags: ['*'], interfaces: [{ iface: 'wlan0', ...WLAN, prefixes: [] }, { iface: 'lte0', ...LTE, prefixes: [] }] },
];

function pbu(mnId: string, seq: number, via: typeof WLAN, o: { hi?: number; lifetime?: number; dormant?: boolean } = {}): Uint8Array {
  const options: MobilityOption[] = [
    { kind: 'mnId', nai: mnId },
    { kind: 'hnp', prefix: '::', prefixLength: 0 },
    { kind: 'handoffIndicator', value: o.hi ?? HI.newInterface },
    { kind: 'accessTechnologyType', value: via.att },
    { kind: 'mnLinkLayerId', identifier: via.llId.replace(/:/g, '') },
  ];
  if (o.dormant) options.push({ kind: 'unknown', type: DORMANT_OPTION.type, data: DORMANT_OPTION.data });
  const m: MessageOf<'pbu'> = { kind: 'pbu', sequence: seq, flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true }, lifetime: o.lifetime ?? 100, options };
  return Uint8Array.from(encodeMessage(m));
}

const route = (p: string) => ip('-n', LMA_NS, '-6', 'route', 'show', p);

describe.skipIf(!root)('LMA seed 001 kernel routes (root)', () => {
  let lma: Agent;
  let peer: Agent;

  /** Send a PBU from one MAG, wait for its PBA (status, prefixes). */
  const register = async (from: string, bytes: Uint8Array) => {
    const seq = (bytes[6]! << 8) | bytes[7]!;
    const mark = peer.lines.length;
    await peer.cmd({ op: 'raw', hex: Buffer.from(bytes).toString('hex'), dst: LMA, from });
    const got = await peer.waitFor((l) => peer.lines.indexOf(l) >= mark && l.ev === 'rx' && l.proto === 135 && l.dst === from && decodedSeq(l.hex!) === seq);
    const d = decodeMessage(Buffer.from(got.hex!, 'hex'));
    if (!d.ok || d.value.kind !== 'pba') throw new Error('not a PBA');
    return { status: d.value.status, hnps: d.value.options.flatMap((o) => (o.kind === 'hnp' ? [`${o.prefix}/${o.prefixLength}`] : [])) };
  };
  const decodedSeq = (hex: string) => {
    const d = decodeMessage(Buffer.from(hex, 'hex'));
    return d.ok && d.value.kind === 'pba' ? d.value.sequence : -1;
  };
  /** Kernel changes follow the PBA by at most one ip round trip. */
  const until = async (cond: () => boolean, what: string) => {
    const end = Date.now() + 3000;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  beforeAll(async () => {
    twoNamespaces(LMA_NS, MAG_NS, 'ls0', 'ls1');
    ip('-n', LMA_NS, 'addr', 'add', `${LMA}/64`, 'dev', 'ls0', 'nodad');
    ip('-n', MAG_NS, 'addr', 'add', `${MAG1}/64`, 'dev', 'ls1', 'nodad');
    ip('-n', MAG_NS, 'addr', 'add', `${MAG2}/64`, 'dev', 'ls1', 'nodad');
    const setup = {
      locals: [LMA],
      mags: [{ pCoA: MAG1, local: LMA, iface: 'ls0' }, { pCoA: MAG2, local: LMA, iface: 'ls0' }],
      mns,
      dataplane: { local: [LMA], backhaulIf: 'ls0' },
    };
    lma = Agent.start(LMA_NS, LMA_AGENT, { MODE: 'raw', SETUP: JSON.stringify(setup) });
    peer = Agent.start(MAG_NS, PEER_AGENT, { ADDRS: JSON.stringify([MAG1, MAG2]) });
    await lma.waitFor((l) => l.ev === 'ready', 10_000);
    await peer.waitFor((l) => l.ev === 'ready', 10_000);
  }, 20_000);

  afterAll(() => {
    lma?.stop();
    peer?.stop();
    deleteNamespaces(LMA_NS, MAG_NS);
  });

  it('routes a shared prefix to both MAGs at once: one multipath route, a seg6 next hop each, L4 hash', async () => {
    expect(await register(MAG1, pbu(SHARED, 1, WLAN))).toEqual({ status: 0, hnps: [P1] });
    await until(() => route(P1).includes(`segs 1 [ ${MAG1} ]`), 'the first route');
    expect(await register(MAG2, pbu(SHARED, 1, LTE))).toEqual({ status: 0, hnps: [P1] });
    await until(() => route(P1).includes('nexthop'), 'the multipath route');
    const r = route(P1);
    expect(r.match(/nexthop/g)).toHaveLength(2);
    for (const m of [MAG1, MAG2]) expect(r).toMatch(new RegExp(`encap seg6 mode encap.red segs 1 \\[ ${m} \\] via ${m} dev ls0`));
    expect(ip('netns', 'exec', LMA_NS, 'sysctl', '-n', 'net.ipv6.fib_multipath_hash_policy').trim()).toBe('1');
    // one interface leaves: back to one plain route
    expect((await register(MAG2, pbu(SHARED, 2, LTE, { lifetime: 0 }))).status).toBe(0);
    await until(() => !route(P1).includes('nexthop'), 'the single route again');
    expect(route(P1)).toContain(`segs 1 [ ${MAG1} ]`);
  });

  it('holds a dormant binding with no route and switches the route to it as the first session de-registers', async () => {
    expect(await register(MAG1, pbu(DORMANT, 1, WLAN))).toEqual({ status: 0, hnps: [P2] });
    await until(() => route(P2).includes(`segs 1 [ ${MAG1} ]`), 'the first route');
    expect(await register(MAG2, pbu(DORMANT, 1, LTE, { dormant: true }))).toEqual({ status: 0, hnps: [P2] });
    await new Promise((r) => setTimeout(r, 100));
    expect(route(P2)).not.toContain(MAG2); // dormant: no route
    const b = (await lma.cmd({ op: 'bindings' })) as Line & { bindings: Array<{ mnId: string; llId: string; state: string }> };
    expect(b.bindings.filter((x) => x.mnId === DORMANT).map((x) => [x.llId, x.state])).toEqual([[WLAN.llId, 'active'], [LTE.llId, 'dormant']]);
    expect((await register(MAG1, pbu(DORMANT, 2, WLAN, { lifetime: 0 }))).status).toBe(0);
    await until(() => route(P2).includes(`segs 1 [ ${MAG2} ]`), 'the route to the dormant binding');
    expect(route(P2)).not.toContain(MAG1);
  });

  it('HI 2 moves the route to the new interface and sends the old MAG an Update Notification with D', async () => {
    const first = await register(MAG1, pbu(MOVER, 1, WLAN));
    const [hnp] = first.hnps;
    await until(() => route(hnp!).includes(`segs 1 [ ${MAG1} ]`), 'the first route');
    const mark = peer.lines.length;
    expect(await register(MAG2, pbu(MOVER, 1, LTE, { hi: HI.differentInterface }))).toEqual({ status: 0, hnps: [hnp] });
    await until(() => route(hnp!).includes(`segs 1 [ ${MAG2} ]`), 'the moved route');
    const upn = await peer.waitFor((l) => peer.lines.indexOf(l) >= mark && l.ev === 'rx' && l.proto === 135 && l.dst === MAG1 && l.hex!.slice(4, 6) === '13');
    const d = decodeMessage(Buffer.from(upn.hex!, 'hex'));
    expect(d.ok && d.value.kind === 'updateNotification' && d.value.reason === 1 && d.value.flags.D).toBe(true);
    expect(upn.src).toBe(LMA);
    // no Ack from this MAG: the same notification again after 500 ms
    const isUpn = (l: { ev: string; proto?: number; dst?: string; hex?: string }) => l.ev === 'rx' && l.proto === 135 && l.dst === MAG1 && l.hex!.slice(4, 6) === '13';
    await until(() => peer.since(mark, isUpn).length >= 2, 'the retransmitted Update Notification');
    const [a, b] = peer.since(mark, isUpn);
    expect(b!.hex).toBe(a!.hex);
  });
});
