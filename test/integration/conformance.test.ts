import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../nodes/runtime/bus.js';
import { PolicyStore } from '../../nodes/runtime/policy-store.js';
import { startCapture, type Captures } from '../../orchestrator/launch/capture.js';
import { LinkController } from '../../orchestrator/netns/index.js';
import {
  buildDomain,
  conformanceTopology,
  conformanceUnavailable,
  opt,
  Peer,
  rawSocketHolders,
  realOptions,
  seqNewer,
  tsharkIcmp6,
  tsharkMh,
  type Domain,
  type LmaLogEntry,
  type Mh,
  type PbuResult,
  type Received,
} from '../support/conformance.js';

// Conformance against a second implementation (issue 18). pmiplab's other
// tests use its codec on both ends, so a mistake made symmetrically passes
// them; here the other end is test/conformance/pmip_peer.py, scapy's Mobility
// Header layers extended with the PMIPv6 options from the RFC text, sharing
// nothing with nodes/protocol/. One domain per transport (UDP 5436, raw next
// header 135) built by the project's own machinery:
// - a live LMA (lma1) and two MAG addresses it knows (mag1, mag2) whose node
//   processes are never started: the peer plays those MAGs from their
//   namespaces (RFC 5213 5.3: PBU processing, statuses, PBA construction);
// - a live MAG (mag3) serving mn3, whose LMA (lma2) is the peer (RFC 5213
//   6.9: PBU construction, retransmission, sequence numbers, RA after PBA).
// Every message is checked field by field as scapy decodes it, and again in
// the pcaps as tshark decodes them.

const unavailable = conformanceUnavailable();
if (unavailable) console.warn(`test/integration/conformance.test.ts skipped: ${unavailable}`);

const runsDir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-conf-runs-'));
process.env.PMIPLAB_RUNS_DIR = runsDir;
afterAll(() => rmSync(runsDir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The kernel state a PBA announces is handed to `ip` before the PBA leaves, not necessarily applied: read it again for up to 1 s. */
async function eventually(read: () => string, ok: (s: string) => boolean): Promise<string> {
  let s = read();
  for (let i = 0; i < 50 && !ok(s); i++) {
    await sleep(20);
    s = read();
  }
  return s;
}
const POOL = /^2001:db8:a:[0-9a-f]{1,4}::\/64$/;
const ZERO_HNP = '::/0';
const ROGUE = '2001:db8:b:1::77'; // an address on mag1's link that is no MAG of the policy store
const MN_LL = (n: number) => `0270cf0000${n.toString(16).padStart(2, '0')}`;
const ATT_80211 = 4;

interface PbuOpts {
  hi?: number;
  lifetime?: number;
  hnp?: string;
  llId?: string;
  att?: number;
  lla?: string;
  omit?: Array<'mnId' | 'hnp' | 'hi' | 'att' | 'mnLlId'>;
  payloadProto?: number;
  flags?: Record<string, boolean>;
}

function pbuSpec(mnId: string, seq: number, o: PbuOpts = {}) {
  const all = [
    { type: 'mnId', nai: mnId },
    { type: 'hnp', prefix: o.hnp ?? ZERO_HNP },
    { type: 'hi', value: o.hi ?? 1 },
    { type: 'att', value: o.att ?? ATT_80211 },
    { type: 'mnLlId', hex: o.llId ?? MN_LL(1) },
    ...(o.lla ? [{ type: 'lla', address: o.lla }] : []),
  ];
  const omit = new Set<string>(o.omit ?? []);
  return {
    seq,
    lifetime: o.lifetime ?? 100,
    flags: o.flags ?? { A: true, P: true },
    ...(o.payloadProto !== undefined ? { payloadProto: o.payloadProto } : {}),
    options: all.filter((x) => !omit.has(x.type)),
  };
}

const pbas = (r: PbuResult) => r.replies.filter((x) => x.mh.kind === 'pba');
const theOnePba = (r: PbuResult, seq: number): Received => {
  const got = pbas(r);
  expect(got.map((x) => x.mh.seq), JSON.stringify(r.replies)).toEqual([seq]);
  return got[0]!;
};
const hnpOf = (m: Mh) => opt(m, 'hnp')?.prefix as string | undefined;

/** The fixed part of a well-formed PBA and where it came from. */
function expectPbaFrame(p: Received, from: string, to: string, transport: 'udp' | 'raw', seq: number, status: number) {
  expect(p.src, 'PBA source: the address the PBU was sent to (RFC 5213 5.3.6)').toBe(from);
  expect(p.dst).toBe(to);
  if (transport === 'udp') {
    expect(p.srcPort).toBe(5436);
    expect(p.mh.checksumOk, 'MH checksum over the pseudo-header (RFC 6275 6.1.1)').toBe(true);
  }
  expect(p.mh.error).toBeUndefined();
  expect(p.mh.payloadProto).toBe(59);
  expect((p.mh.headerLen + 1) * 8).toBe(p.mh.hex.length / 2);
  expect(p.mh.mhType).toBe(6);
  expect(p.mh.status).toBe(status);
  expect(p.mh.seq).toBe(seq);
  expect(p.mh.flags).toEqual({ P: true, R: false, K: false });
  expect(p.mh.reserved).toBe(0);
  expect(p.mh.unknownOptions).toEqual([]);
}

for (const transport of ['udp', 'raw'] as const) {
  describe.skipIf(unavailable !== null)(`conformance with an independent peer over ${transport === 'udp' ? 'UDP 5436' : 'raw next header 135'}`, () => {
    const id = transport === 'udp' ? 'cfu' : 'cfr';
    let d: Domain;
    let peer: Peer;
    let caps: Captures | undefined;
    let bus: Bus;
    let links: LinkController;
    let mag1 = '';
    let mag2 = '';
    let lma1a = ''; // lma1's address toward mag1 (the MAG's configured LMA address)
    let lma1b = ''; // lma1's address toward mag2
    let lma2 = '';
    let mag3 = '';
    /** every PBU the peer MAG sent and every PBA it got, for the tshark pass */
    const exchanged: Array<{ sent: Mh; reply?: Received }> = [];

    const send = async (ns: string, src: string, dst: string, pbu: ReturnType<typeof pbuSpec> | null, extra: Record<string, unknown> = {}) => {
      const r = await peer.pbu({ ns, transport, src, dst, ...(pbu ? { pbu } : {}), waitMs: 1500, ...extra });
      for (const s of r.sent) exchanged.push({ sent: s.mh, ...(pbas(r)[0] ? { reply: pbas(r)[0]! } : {}) });
      return r;
    };
    const fromMag1 = (pbu: ReturnType<typeof pbuSpec>, extra: Record<string, unknown> = {}) => send(d.ns('mag1'), mag1, lma1a, pbu, extra);
    const fromMag2 = (pbu: ReturnType<typeof pbuSpec>, extra: Record<string, unknown> = {}) => send(d.ns('mag2'), mag2, lma1b, pbu, extra);
    const bindings = async () =>
      ((await bus.request('lma1', 'bindings', {}, 3000)).data as { bindings: Array<{ mnId: string; hnps: string[]; pCoA: string; state: string }> }).bindings;
    const lmaRoutes = () => execFileSync('ip', ['-n', d.ns('lma1'), '-6', 'route', 'show'], { encoding: 'utf8' });
    const magRoutes = () => execFileSync('ip', ['-n', d.ns('mag3'), '-6', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });

    // ---- the MAG side runs in the background from the moment mag3 starts
    const MAG_LIFETIME = 4; // granted by the peer: a refresh every 3.2 s
    const HNP3 = '2001:db8:a:99::/64';
    const DROPPED = 4; // first transmissions left unanswered: with the one the 135 answers, 4 intervals (100 ms doubling)
    const ECHO_AHEAD = 0x6000; // the 135's "last accepted" sequence number, this far ahead of the MAG's
    interface MagTimeline {
      log: LmaLogEntry[];
      tAccepted: number; // the first status-0 PBA (after the resync)
      tExpired: number; // the binding's lifetime ran out with refreshes unanswered
      tRefused: number;
      routesBound: string;
      routesAfterDereg: string;
      routesAfterRefusal: string;
    }
    let timeline: Promise<MagTimeline>;

    const pbusIn = (log: LmaLogEntry[]) => log.filter((e) => e.dir === 'in' && e.mh.kind === 'pbu');
    const answers = (log: LmaLogEntry[]) => log.filter((e) => e.dir === 'out');
    async function waitLog(what: string, pred: (log: LmaLogEntry[]) => boolean, ms: number): Promise<LmaLogEntry[]> {
      const end = Date.now() + ms;
      for (;;) {
        const log = await peer.lmaLog('lma2');
        if (pred(log)) return log;
        if (Date.now() > end) throw new Error(`MAG side: timed out waiting for ${what}; log: ${JSON.stringify(log.map((e) => [e.dir, e.mh.kind, e.mh.seq, e.mh.status, e.mh.lifetime]))}`);
        await sleep(50);
      }
    }

    async function runMagSide(): Promise<MagTimeline> {
      // first registration: DROPPED transmissions unanswered, the next refused
      // with 135, the resynced one accepted, one refresh accepted, then silence
      // until the binding has expired; then the re-registration accepted, a
      // de-registration on carrier loss, and a refused registration
      let log = await waitLog('the accepted first registration', (l) => answers(l).some((a) => a.mh.status === 0), 8000);
      const tAccepted = answers(log).find((a) => a.mh.status === 0)!.t;
      await sleep(200);
      const routesBound = magRoutes();
      log = await waitLog('an answered refresh', (l) => answers(l).filter((a) => a.mh.status === 0).length >= 2, 8000);
      const tRefreshed = answers(log).filter((a) => a.mh.status === 0)[1]!.t;
      // unanswered from here: the binding runs out MAG_LIFETIME s after the refresh's PBA
      const tExpired = tRefreshed + MAG_LIFETIME;
      await sleep(Math.max(0, (tExpired - Date.now() / 1000) * 1000) + 150);
      await peer.request({ op: 'lma-script', name: 'lma2', script: [], default: { do: 'answer', status: 0, lifetime: 60, hnp: HNP3 } });
      await waitLog('the re-registration after expiry', (l) => answers(l).some((a) => a.t > tExpired && a.mh.status === 0), 8000);
      // carrier loss: de-registration
      await links.down('mn3', 'wlan0');
      await waitLog('the de-registration', (l) => pbusIn(l).some((e) => e.mh.lifetime === 0) && answers(l).some((a) => a.mh.lifetime === 0), 5000);
      await sleep(200);
      const routesAfterDereg = magRoutes();
      // carrier back: this registration is refused
      await peer.request({ op: 'lma-script', name: 'lma2', script: [], default: { do: 'answer', status: 152 } });
      await links.up('mn3', 'wlan0');
      log = await waitLog('the refused registration', (l) => answers(l).some((a) => a.mh.status === 152), 5000);
      const tRefused = answers(log).find((a) => a.mh.status === 152)!.t;
      await sleep(1500);
      const routesAfterRefusal = magRoutes();
      return { log: await peer.lmaLog('lma2'), tAccepted, tExpired, tRefused, routesBound, routesAfterDereg, routesAfterRefusal };
    }

    beforeAll(async () => {
      peer = await Peer.start();
      d = await buildDomain(conformanceTopology(transport), id);
      const o = (n: string) => d.lab.plan.nodes.find((x) => x.name === n)!.options as { proxyCoa: string; lmaAddress: string };
      mag1 = o('mag1').proxyCoa;
      mag2 = o('mag2').proxyCoa;
      lma1a = o('mag1').lmaAddress;
      lma1b = o('mag2').lmaAddress;
      mag3 = o('mag3').proxyCoa;
      lma2 = o('mag3').lmaAddress;
      caps = await startCapture(d.lab.plan, d.lab.paths, [
        { node: 'mag1', iface: 'eth0' },
        { node: 'mag2', iface: 'eth0' },
        { node: 'lma2', iface: 'eth1' },
        { node: 'mn3', iface: 'wlan0' },
      ]);
      // MN profiles for the peer MAG's cases, straight into the run's policy store
      bus = await Bus.connect(d.lab.redis!.url, id, 'conformance');
      const store = new PolicyStore(bus);
      for (const [i, mnId] of ['reg', 'seq', 'src', 'proto', 'missing'].entries()) {
        await store.putMn({ mnId: `${mnId}@conf.example`, lma: 'lma1', mags: ['*'], interfaces: [{ iface: 'wlan0', llId: MN_LL(i + 1).replace(/(..)(?!$)/g, '$1:'), att: ATT_80211, prefixes: [] }] });
      }
      execFileSync('ip', ['-n', d.ns('mag1'), 'addr', 'add', `${ROGUE}/64`, 'dev', 'eth0', 'nodad']);
      // the peer LMA and an RA watcher at the MN listen before mag3 starts
      await peer.request({ op: 'icmp-start', name: 'mn3', ns: d.ns('mn3') });
      await peer.request({
        op: 'lma-start', name: 'lma2', ns: d.ns('lma2'), transport, addr: lma2,
        script: [...Array.from({ length: DROPPED }, () => ({ do: 'drop' })), { do: 'answer', status: 135, seqOffset: ECHO_AHEAD },
          { do: 'answer', status: 0, lifetime: MAG_LIFETIME, hnp: HNP3 }, { do: 'answer', status: 0, lifetime: MAG_LIFETIME, hnp: HNP3 }],
        default: { do: 'drop' },
      });
      links = new LinkController();
      await links.open(d.lab.plan);
      await d.launch(['lma2', 'mag1', 'mag2']);
      timeline = runMagSide();
      timeline.catch(() => undefined); // awaited by the MAG-side tests
    }, 60_000);

    afterAll(async () => {
      await timeline?.catch(() => undefined);
      await links?.close();
      await caps?.stopAll().catch(() => undefined);
      await peer?.stop();
      await bus?.close();
      await d?.lab.down();
    }, 30_000);

    // ================= the peer MAG against the live LMA (RFC 5213 5.3)

    describe('live LMA', () => {
      let hnp = '';
      let seq = 0x7ff0; // near the middle, so a modulo-2^16 slip shows

      it('first registration (HI 1): status 0, a prefix from the pool, lifetime and sequence echoed, P flag, options mirrored', async () => {
        const r = await fromMag1(pbuSpec('reg@conf.example', seq, { hi: 1, lla: 'fe80::1' }));
        const p = theOnePba(r, seq);
        expectPbaFrame(p, lma1a, mag1, transport, seq, 0);
        expect(p.mh.lifetime).toBe(100);
        hnp = hnpOf(p.mh)!;
        expect(hnp).toMatch(POOL);
        const o = Object.fromEntries(realOptions(p.mh).map((x) => [x.type, x]));
        expect(o.mnId).toEqual({ type: 'mnId', subtype: 1, nai: 'reg@conf.example' });
        expect(o.hnp).toEqual({ type: 'hnp', prefix: hnp, reserved: 0 });
        expect(o.hi).toEqual({ type: 'hi', value: 1 });
        expect(o.att).toEqual({ type: 'att', value: ATT_80211 });
        expect(o.mnLlId).toEqual({ type: 'mnLlId', hex: MN_LL(1) });
        expect(o.timestamp, 'no Timestamp option: the LMA orders by sequence number (RFC 5213 5.3.6)').toBeUndefined();
        expect(o.bra).toBeUndefined();
        expect(realOptions(p.mh).filter((x) => x.type === 'hnp')).toHaveLength(1);
        expect((await bindings()).filter((b) => b.mnId === 'reg@conf.example')).toMatchObject([{ pCoA: mag1, hnps: [hnp], state: 'active' }]);
        expect(await eventually(lmaRoutes, (x) => x.includes(hnp))).toContain(hnp);
      });

      it('refresh from the same MAG: status 0, same prefix', async () => {
        seq += 1;
        const r = await fromMag1(pbuSpec('reg@conf.example', seq, { hi: 5, hnp, lifetime: 200 }));
        const p = theOnePba(r, seq);
        expectPbaFrame(p, lma1a, mag1, transport, seq, 0);
        expect(p.mh.lifetime).toBe(200);
        expect(hnpOf(p.mh)).toBe(hnp);
        expect(opt(p.mh, 'hi')?.value).toBe(5);
      });

      it('handover from another MAG (HI 3): the session continues there; the PBA carries no Link-local Address the PBU did not (issue 18 c)', async () => {
        seq += 1;
        const r = await fromMag2(pbuSpec('reg@conf.example', seq, { hi: 3 }));
        const p = theOnePba(r, seq);
        expectPbaFrame(p, lma1b, mag2, transport, seq, 0);
        expect(hnpOf(p.mh)).toBe(hnp);
        expect(opt(p.mh, 'hi')?.value).toBe(3);
        expect(opt(p.mh, 'lla'), `RFC 5213 5.3.6: a Link-local Address option only when the PBU had one; got ${p.mh.hex}`).toBeUndefined();
        expect((await bindings()).filter((b) => b.mnId === 'reg@conf.example')).toMatchObject([{ pCoA: mag2, hnps: [hnp] }]);
      });

      it('de-registration (lifetime 0) from the bound MAG: status 0, lifetime 0, routes gone', async () => {
        seq += 1;
        const r = await fromMag2(pbuSpec('reg@conf.example', seq, { hi: 3, hnp, lifetime: 0 }));
        const p = theOnePba(r, seq);
        expectPbaFrame(p, lma1b, mag2, transport, seq, 0);
        expect(p.mh.lifetime).toBe(0);
        expect(await eventually(lmaRoutes, (x) => !x.includes(hnp))).not.toContain(hnp);
      });

      it('an MN the policy store does not know: 152, no binding', async () => {
        const r = await fromMag1(pbuSpec('nobody@conf.example', 1));
        expectPbaFrame(theOnePba(r, 1), lma1a, mag1, transport, 1, 152);
        expect((await bindings()).map((b) => b.mnId)).not.toContain('nobody@conf.example');
      });

      it('a source that is no MAG of the policy store: 154, no binding', async () => {
        const r = await send(d.ns('mag1'), ROGUE, lma1a, pbuSpec('missing@conf.example', 1));
        expectPbaFrame(theOnePba(r, 1), lma1a, ROGUE, transport, 1, 154);
        expect((await bindings()).map((b) => b.mnId)).not.toContain('missing@conf.example');
      });

      for (const [what, omit, status] of [
        ['MN-ID', 'mnId', 160],
        ['Handoff Indicator', 'hi', 161],
        ['Access Technology Type', 'att', 162],
        ['Home Network Prefix', 'hnp', 158],
      ] as const) {
        it(`a PBU without the ${what} option: ${status}, no binding`, async () => {
          const r = await fromMag1(pbuSpec('missing@conf.example', 10, { omit: [omit] }));
          const p = theOnePba(r, 10);
          expectPbaFrame(p, lma1a, mag1, transport, 10, status);
          if (omit === 'mnId') expect(opt(p.mh, 'mnId')).toBeUndefined();
          else expect(opt(p.mh, 'mnId')?.nai).toBe('missing@conf.example');
          expect((await bindings()).map((b) => b.mnId)).not.toContain('missing@conf.example');
        });
      }

      let seqHnp = '';
      it('a stale sequence number: 135 with the last accepted one, modulo 2^16 across the wrap (RFC 6275 9.5.1)', async () => {
        const first = theOnePba(await fromMag1(pbuSpec('seq@conf.example', 0xfffe, { llId: MN_LL(2) })), 0xfffe);
        expect(first.mh.status).toBe(0);
        seqHnp = hnpOf(first.mh)!;
        // 0x0003 is newer than 0xfffe modulo 2^16: accepted across the wrap
        const wrapped = theOnePba(await fromMag1(pbuSpec('seq@conf.example', 0x0003, { llId: MN_LL(2), hnp: seqHnp })), 0x0003);
        expect(wrapped.mh.status).toBe(0);
        // 0xfff0 is older than 0x0003: 135, and the PBA carries the last accepted number
        const before = (await bindings()).find((b) => b.mnId === 'seq@conf.example');
        const stale = await fromMag1(pbuSpec('seq@conf.example', 0xfff0, { llId: MN_LL(2), hnp: seqHnp, lifetime: 8 }), { until: 'all', waitMs: 600 });
        const p = pbas(stale);
        expect(p.map((x) => [x.mh.status, x.mh.seq])).toEqual([[135, 0x0003]]);
        expectPbaFrame(p[0]!, lma1a, mag1, transport, 0x0003, 135);
        expect(hnpOf(p[0]!.mh)).toBe(seqHnp);
        expect(before).toMatchObject({ hnps: [seqHnp], pCoA: mag1 });
        expect((await bindings()).find((b) => b.mnId === 'seq@conf.example'), 'the entry as it was (lifetime, sequence number, times)').toEqual(before);
      });

      it('the last accepted sequence number repeated by the bound MAG: 135 with that number, nothing changes (RFC 6275 9.5.1, nodes/lma/README.md)', async () => {
        // "greater than the Sequence Number received in the previous valid
        // Binding Update": equal is not greater; a MAG retransmits with a new
        // number (RFC 6275 11.7.1)
        const before = (await bindings()).find((b) => b.mnId === 'seq@conf.example');
        const r = await fromMag1(pbuSpec('seq@conf.example', 0x0003, { llId: MN_LL(2), hnp: seqHnp, lifetime: 8 }), { until: 'all', waitMs: 600 });
        const p = pbas(r);
        expect(p.map((x) => [x.mh.status, x.mh.seq])).toEqual([[135, 0x0003]]);
        expectPbaFrame(p[0]!, lma1a, mag1, transport, 0x0003, 135);
        expect(before).toMatchObject({ hnps: [seqHnp], pCoA: mag1 });
        expect((await bindings()).find((b) => b.mnId === 'seq@conf.example'), 'the entry as it was').toEqual(before);
      });

      it('the PBA comes from the address the PBU was sent to, also when that is not the one the route picks (issue 18 a, RFC 5213 5.3.6)', async () => {
        // lma1b is lma1's address on the mag2 link; toward mag1 the kernel would pick lma1a
        const r = await send(d.ns('mag1'), mag1, lma1b, pbuSpec('src@conf.example', 50, { llId: MN_LL(3) }));
        const got = pbas(r);
        expect(got.map((x) => x.src), `PBA sources for a PBU to ${lma1b}`).toEqual([lma1b]);
        expectPbaFrame(got[0]!, lma1b, mag1, transport, 50, 0);
      });

      it('a PBU whose Payload Proto is not 59 is discarded: no PBA, no binding (issue 18 b, RFC 6275 9.2)', async () => {
        const r = await fromMag1(pbuSpec('proto@conf.example', 70, { llId: MN_LL(4), payloadProto: 6 }), { until: 'all', waitMs: 700 });
        expect(r.sent[0]!.mh.payloadProto).toBe(6);
        expect(pbas(r), JSON.stringify(r.replies)).toEqual([]);
        expect((await bindings()).map((b) => b.mnId)).not.toContain('proto@conf.example');
        // the same PBU with Payload Proto 59 registers: the silence was the discard
        const ok = theOnePba(await fromMag1(pbuSpec('proto@conf.example', 71, { llId: MN_LL(4) })), 71);
        expect(ok.mh.status).toBe(0);
      });

      if (transport === 'raw')
      it(
        'a Mobility Header with Header Len 0: discarded, ICMPv6 Parameter Problem code 0 pointing at Header Len, rate-limited (issue 18 d, RFC 6275 9.2, RFC 4443 2.4)',
        async () => {
          // 8 octets: Payload Proto, Header Len 0, type 5 (BU), reserved, checksum (the kernel's), sequence
          const N = 30;
          const r = await send(d.ns('mag1'), mag1, lma1a, null, { hex: '3b00050000000042', repeat: N, until: 'all', waitMs: 1000 });
          expect(pbas(r)).toEqual([]);
          const pp = r.icmp.filter((x) => x.type === 4);
          expect(pp.length, `Parameter Problems for ${N} malformed MHs: ${JSON.stringify(r.icmp)}`).toBeGreaterThanOrEqual(1);
          expect(pp.length, 'rate-limited (RFC 4443 2.4 f)').toBeLessThan(N);
          for (const x of pp) {
            expect(x).toMatchObject({ code: 0, src: lma1a, dst: mag1, pointer: 41, invokingNextHeader: 135, invokingDst: lma1a });
            // the invoking packet quoted: IPv6 header, then our MH (the kernel filled in its checksum, octets 4-5)
            const mh = String(x.invoking ?? '').slice(80);
            expect(mh.slice(0, 8) + mh.slice(12)).toBe('3b000500' + '0042');
          }
        },
      );

      if (transport === 'udp')
      it('a Mobility Header with Header Len 0 over UDP: discarded, no PBA, nothing bound', async () => {
        const before = await bindings();
        const r = await send(d.ns('mag1'), mag1, lma1a, null, { hex: '3b00050000000042', until: 'all', waitMs: 500 });
        expect(pbas(r)).toEqual([]);
        expect(await bindings()).toEqual(before);
      });

      it('tshark decodes every PBU the peer sent and every PBA it got with the same fields', async () => {
        await sleep(300);
        const fields = ['ipv6.src', 'ipv6.dst', 'mip6.proto', 'mip6.hlen', 'mip6.mhtype', 'mip6.bu.seqnr', 'mip6.bu.a_flag', 'mip6.bu.p_flag', 'mip6.bu.lifetime',
          'mip6.ba.status', 'mip6.ba.seqnr', 'mip6.ba.lifetime', 'mip6.ba.p_flag', 'mip6.ba.k_flag', 'mip6.mnid.identifier', 'mip6.nemo.mnp.mnp', 'mip6.nemo.mnp.pfl',
          'mip6.hi', 'mip6.att', 'mip6.mnlli.lli', 'mip6.lila_lla'];
        const rows = [...tsharkMh(path.join(d.lab.paths.pcaps, 'mag1-eth0.pcap'), fields), ...tsharkMh(path.join(d.lab.paths.pcaps, 'mag2-eth0.pcap'), fields)];
        const wellFormed = exchanged.filter((e) => e.sent.payloadProto === 59 && e.sent.headerLen > 0);
        expect(wellFormed.length).toBeGreaterThan(10);
        for (const e of wellFormed) {
          const bu = rows.find((x) => x['mip6.mhtype'] === '5' && x['mip6.bu.seqnr'] === String(e.sent.seq) && x['mip6.mnid.identifier'] === String(opt(e.sent, 'mnId')?.nai ?? ''));
          expect(bu, `tshark saw the PBU seq ${e.sent.seq}`).toBeDefined();
          expect(bu!['mip6.bu.p_flag']).toMatch(/^(1|True)$/);
          if (!e.reply) continue;
          const m = e.reply.mh;
          const ba = rows.find((x) => x['mip6.mhtype'] === '6' && x['mip6.ba.seqnr'] === String(m.seq) && x['mip6.ba.status'] === String(m.status) && x['ipv6.src'] === e.reply!.src && x['ipv6.dst'] === e.reply!.dst);
          expect(ba, `tshark saw the PBA seq ${m.seq} status ${m.status} from ${e.reply.src}`).toBeDefined();
          expect(ba!['mip6.proto']).toBe('59');
          expect(Number(ba!['mip6.hlen'])).toBe(m.headerLen);
          expect(ba!['mip6.ba.p_flag']).toMatch(/^(1|True)$/);
          expect(ba!['mip6.ba.k_flag']).toMatch(/^(0|False)$/);
          expect(ba!['mip6.mnid.identifier']).toBe(String(opt(m, 'mnId')?.nai ?? ''));
          const h = hnpOf(m);
          expect(ba!['mip6.nemo.mnp.mnp']).toBe(h ? h.split('/')[0] : '');
          expect(ba!['mip6.nemo.mnp.pfl']).toBe(h ? h.split('/')[1] : '');
          expect(ba!['mip6.hi']).toBe(String(opt(m, 'hi')?.value ?? ''));
          expect(ba!['mip6.att']).toBe(String(opt(m, 'att')?.value ?? ''));
          const ll = opt(m, 'mnLlId')?.hex as string | undefined;
          expect(ba!['mip6.mnlli.lli']).toBe(ll ?? '');
          expect(ba!['mip6.lila_lla']).toBe(String(opt(m, 'lla')?.address ?? ''));
        }
      });
    });

    it('the raw sockets of the live LMA and MAG stay in their node process: the children it spawns (ip) do not inherit them (close-on-exec, issue 18)', () => {
      const nodes = new Map(d.lab.nodes!.pids().map((p) => [p.pid, p.node]));
      for (const node of ['lma1', 'mag3']) {
        const holders = rawSocketHolders(d.ns(node));
        const own = holders.filter((h) => nodes.get(h.pid) === node);
        const children = holders.filter((h) => !nodes.has(h.pid));
        expect(own.length, `${node}: its process`).toBe(1);
        expect(children.length, `${node}: processes beside the node (its ip children)`).toBeGreaterThan(0);
        if (transport === 'raw') expect(own[0]!.protocols, `${node} holds its MH raw socket`).toContain(135);
        expect(children.filter((c) => c.protocols.length > 0), `${node}: children holding raw sockets (${JSON.stringify(holders)})`).toEqual([]);
      }
    });

    // ================= the live MAG against the peer LMA (RFC 5213 6.9)

    describe('live MAG', () => {
      let t: MagTimeline;
      let pbu: LmaLogEntry[] = [];
      beforeAll(async () => {
        t = await timeline;
        pbu = pbusIn(t.log);
        // CONFORMANCE_DUMP=dir keeps what the peer LMA saw, for reading by hand
        if (process.env.CONFORMANCE_DUMP) writeFileSync(path.join(process.env.CONFORMANCE_DUMP, `mag-side-${transport}.json`), JSON.stringify(t, null, 1));
      }, 40_000);
      const firstReg = () => pbu.slice(0, DROPPED + 2);

      it('first registration: P and A flags, HI 1, all-zero HNP, MN-ID, ATT, MN-LL-ID, from the proxy CoA', () => {
        const first = pbu[0]!;
        expect(first.src).toBe(mag3);
        expect(first.dst).toBe(lma2);
        if (transport === 'udp') {
          expect(first.srcPort).toBe(5436);
          expect(first.mh.checksumOk).toBe(true);
        }
        const m = first.mh;
        expect(m.error).toBeUndefined();
        expect(m.payloadProto).toBe(59);
        expect(m.flags).toMatchObject({ A: true, P: true });
        expect(m.lifetime).toBeGreaterThan(0);
        expect(m.unknownOptions).toEqual([]);
        expect(opt(m, 'mnId')).toEqual({ type: 'mnId', subtype: 1, nai: 'mn3@pmiplab.example' });
        expect(realOptions(m).filter((x) => x.type === 'hnp')).toEqual([{ type: 'hnp', prefix: ZERO_HNP, reserved: 0 }]);
        expect(opt(m, 'hi')?.value).toBe(1);
        expect(opt(m, 'att')?.value).toBe(ATT_80211);
        const mac = (d.lab.plan.nodes.find((n) => n.name === 'mn3')!.interfaces.find((i) => i.name === 'wlan0')!.mac as string).replaceAll(':', '');
        expect(opt(m, 'mnLlId')?.hex).toBe(mac);
        const ts = opt(m, 'timestamp');
        if (ts) expect(Math.abs(Number(ts.seconds) - first.t)).toBeLessThan(5); // RFC 5213 8.8: seconds since 1970
      });

      it('retransmits while no PBA comes, each interval double the previous, each with a newer sequence number', () => {
        // the unanswered transmissions and the one the 135 answered
        const tx = firstReg().slice(0, DROPPED + 1);
        expect(tx).toHaveLength(DROPPED + 1);
        const gaps = tx.slice(1).map((x, i) => x.t - tx[i]!.t);
        const shown = `intervals ${gaps.map((g) => (g * 1000).toFixed(0)).join(', ')} ms`;
        // a timer of a just-started process may fire some ms late: the
        // shortest interval is only required to grow, the others to double
        expect(gaps[1]! / gaps[0]!, shown).toBeGreaterThan(1.2);
        for (let i = 2; i < gaps.length; i++) {
          expect(gaps[i]! / gaps[i - 1]!, shown).toBeGreaterThan(1.5);
          expect(gaps[i]! / gaps[i - 1]!, shown).toBeLessThan(2.6);
        }
        for (let i = 1; i < tx.length; i++) expect(seqNewer(tx[i]!.mh.seq, tx[i - 1]!.mh.seq), `${tx[i - 1]!.mh.seq} then ${tx[i]!.mh.seq}`).toBe(true);
        for (const x of tx) expect(opt(x.mh, 'hi')?.value).toBe(1);
      });

      it('after a 135 the next PBU is newer than the sequence number the PBA echoed (RFC 6275 11.7.3, RFC 5213 6.9.1.2)', () => {
        const refused = answers(t.log).find((a) => a.mh.status === 135)!;
        const next = pbu.find((x) => x.t > refused.t)!;
        expect(next, 'a PBU after the 135').toBeDefined();
        expect(seqNewer(next.mh.seq, refused.mh.seq), `echoed ${refused.mh.seq}, next ${next.mh.seq}`).toBe(true);
        expect(next.t - refused.t).toBeLessThan(1);
      });

      it('sequence numbers of the binding keep increasing modulo 2^16 across transmissions, the resync and refreshes (RFC 6275 11.7.1, issue 18)', () => {
        // the resync moved the numbers ECHO_AHEAD past the MAG's clock: a MAG
        // deriving them from the clock goes "backwards" at the first refresh,
        // as it does 33 s after any PBU without a resync
        const bound = pbu.filter((x) => x.t < t.tExpired);
        expect(bound.length).toBeGreaterThanOrEqual(DROPPED + 4); // the dropped ones, the refused one, the resynced one, 2 refreshes
        const seqs = bound.map((x) => x.mh.seq);
        for (let i = 1; i < seqs.length; i++) expect(seqNewer(seqs[i]!, seqs[i - 1]!), `sequence numbers ${seqs.map((s) => `0x${s.toString(16)}`).join(' ')}`).toBe(true);
      });

      it('refreshes carry the assigned prefix and the same identifiers', () => {
        const accepted = answers(t.log).find((a) => a.mh.status === 0)!;
        const refreshes = pbu.filter((x) => x.t > accepted.t && x.t < t.tExpired);
        expect(refreshes.length).toBeGreaterThanOrEqual(1);
        for (const r of refreshes) {
          expect(hnpOf(r.mh)).toBe(HNP3);
          expect(r.mh.lifetime).toBeGreaterThan(0);
          expect(r.mh.flags).toMatchObject({ A: true, P: true });
          expect(opt(r.mh, 'mnId')?.nai).toBe('mn3@pmiplab.example');
          expect(opt(r.mh, 'mnLlId')?.hex).toBe(opt(pbu[0]!.mh, 'mnLlId')?.hex);
        }
      });

      it('sends its RA only after the accepted PBA, with hop limit 255, advertising the prefix; routes then', async () => {
        const ras = (await peer.icmpLog('mn3')).filter((x) => x.type === 134);
        expect(ras.filter((x) => x.t < t.tAccepted), `no RA before the PBA (sent at ${t.tAccepted})`).toEqual([]);
        const withPrefix = ras.filter((x) => x.prefixes?.some((p) => p.prefix === HNP3));
        expect(withPrefix.length).toBeGreaterThanOrEqual(1);
        expect(withPrefix[0]!.t - t.tAccepted).toBeLessThan(1);
        for (const ra of ras) expect(ra.hopLimit).toBe(255);
        for (const ra of withPrefix) expect(ra.src).toBe('fe80::1');
        expect(t.routesBound).toContain(HNP3.split('/')[0]!.replace(/::$/, ''));
      });

      it('re-registration after the binding expired unanswered, the MN never having moved: HI as RFC 5213 6.9.1.1 says, not 3 (issue 18)', () => {
        const rereg = pbu.filter((x) => x.t > t.tExpired && x.mh.lifetime > 0)[0];
        expect(rereg, 'a registration after the expiry').toBeDefined();
        // the MAG knows the attachment is not a handoff between MAGs (3), nor
        // unknown (4): the MN stayed on this interface of this MAG
        expect([1, 5], `HI ${String(opt(rereg!.mh, 'hi')?.value)} in ${rereg!.mh.hex}`).toContain(opt(rereg!.mh, 'hi')?.value);
      });

      it('de-registration on carrier loss: lifetime 0, newer sequence number, routes removed', () => {
        const i = pbu.findIndex((x) => x.mh.lifetime === 0);
        expect(i).toBeGreaterThan(0);
        const dereg = pbu[i]!;
        expect(seqNewer(dereg.mh.seq, pbu[i - 1]!.mh.seq), `${pbu[i - 1]!.mh.seq} then ${dereg.mh.seq}`).toBe(true);
        expect(dereg.mh.flags).toMatchObject({ A: true, P: true });
        expect(hnpOf(dereg.mh)).toBe(HNP3);
        expect(t.routesAfterDereg).not.toContain(HNP3.split('/')[0]!.replace(/::$/, ''));
      });

      it('after a refusal (152): no RA, no routes', async () => {
        const ras = (await peer.icmpLog('mn3')).filter((x) => x.type === 134 && x.t > t.tRefused - 0.05);
        expect(ras).toEqual([]);
        expect(t.routesAfterRefusal).not.toContain(HNP3.split('/')[0]!.replace(/::$/, ''));
      });

      it('tshark decodes the PBUs and PBAs of this exchange and the RAs at the MN as the peer did', async () => {
        await caps?.stopAll();
        caps = undefined;
        const rows = tsharkMh(path.join(d.lab.paths.pcaps, 'lma2-eth1.pcap'), ['frame.time_epoch', 'ipv6.src', 'ipv6.dst', 'mip6.mhtype', 'mip6.bu.seqnr', 'mip6.bu.a_flag', 'mip6.bu.p_flag',
          'mip6.ba.status', 'mip6.ba.seqnr', 'mip6.mnid.identifier', 'mip6.nemo.mnp.mnp', 'mip6.hi', 'mip6.att']);
        const bus = rows.filter((r) => r['mip6.mhtype'] === '5');
        expect(bus.map((r) => Number(r['mip6.bu.seqnr']))).toEqual(pbu.map((x) => x.mh.seq));
        for (const [i, r] of bus.entries()) {
          expect(r['ipv6.src']).toBe(mag3);
          expect(r['mip6.bu.p_flag']).toMatch(/^(1|True)$/);
          expect(r['mip6.bu.a_flag']).toMatch(/^(1|True)$/);
          expect(r['mip6.hi']).toBe(String(opt(pbu[i]!.mh, 'hi')?.value));
          expect(r['mip6.att']).toBe(String(opt(pbu[i]!.mh, 'att')?.value));
          expect(r['mip6.mnid.identifier']).toBe('mn3@pmiplab.example');
        }
        const bas = rows.filter((r) => r['mip6.mhtype'] === '6');
        expect(bas.map((r) => [Number(r['mip6.ba.status']), Number(r['mip6.ba.seqnr'])])).toEqual(answers(t.log).map((a) => [a.mh.status, a.mh.seq]));
        const ra = tsharkIcmp6(path.join(d.lab.paths.pcaps, 'mn3-wlan0.pcap'), ['icmpv6.type', 'ipv6.hlim', 'ipv6.src', 'icmpv6.opt.prefix']).filter((r) => r['icmpv6.type'] === '134');
        expect(ra.length).toBeGreaterThanOrEqual(1);
        for (const r of ra) expect(r['ipv6.hlim']).toBe('255');
        expect(ra.some((r) => (r['icmpv6.opt.prefix'] ?? '').split(',').includes(HNP3.split('/')[0]!))).toBe(true);
      });
    });
  });
}
