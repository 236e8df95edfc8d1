import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type MessageOf, type MobilityOption } from '../../nodes/protocol/index.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { Agent, deleteNamespaces, ip, LMA_AGENT, type Line, PEER_AGENT, twoNamespaces } from '../support/lma-agents.js';

// Root only. The LMA service (built, from dist/) in a namespace of its own
// with two addresses, and a peer MAG in another namespace that sends raw
// bytes and sees every packet that comes back (raw 135, raw ICMPv6, UDP):
// - the PBA leaves from the address the PBU was sent to (RFC 5213 5.3.6),
//   over raw and over UDP, also when the route back would pick the other one;
// - a PBU with Payload Proto 6 makes no binding and draws no PBA (RFC 6275
//   9.2), over raw an ICMPv6 Parameter Problem pointing at Payload Proto;
// - a PBU with Header Len 0 draws a Parameter Problem code 0 pointing at the
//   Header Len field, from the address it was sent to, rate-limited.
// Run id lmaw (namespaces pllmaw-lma, pllmaw-mag).

const root = isRoot();
if (!root) console.warn('test/integration/lma-wire.test.ts skipped: needs root (network namespaces, raw sockets)');

const runId = 'lmaw';
const ns = (n: string) => `pl${runId}-${n}`;
const LMA_NS = ns('lma');
const MAG_NS = ns('mag');
const LMA_LINK = '2001:db8:c:3::1'; // on the link to the MAG: the route's choice of source toward it
const LMA_OTHER = '2001:db8:b:2::2'; // on the LMA's loopback: where the MAG sends its PBUs
const MAG = '2001:db8:c:3::2';
const NAI = 'mn1@pmiplab.example';

function pbu(seq: number): MessageOf<'pbu'> {
  const options: MobilityOption[] = [
    { kind: 'mnId', nai: NAI },
    { kind: 'hnp', prefix: '::', prefixLength: 0 },
    { kind: 'handoffIndicator', value: 1 },
    { kind: 'accessTechnologyType', value: 4 },
    { kind: 'mnLinkLayerId', identifier: '0270aa000001' },
  ];
  return { kind: 'pbu', sequence: seq, flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true }, lifetime: 100, options };
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function setUp(): void {
  twoNamespaces(LMA_NS, MAG_NS, 'lw0', 'lw1');
  ip('-n', LMA_NS, 'addr', 'add', `${LMA_LINK}/64`, 'dev', 'lw0', 'nodad');
  ip('-n', LMA_NS, 'addr', 'add', `${LMA_OTHER}/128`, 'dev', 'lo');
  ip('-n', MAG_NS, 'addr', 'add', `${MAG}/64`, 'dev', 'lw1', 'nodad');
  ip('-n', MAG_NS, 'route', 'add', `${LMA_OTHER}/128`, 'via', LMA_LINK);
}

for (const mode of ['raw', 'udp'] as const) {
  describe.skipIf(!root)(`LMA on the wire over ${mode} (root)`, () => {
    let lma: Agent;
    let peer: Agent;
    const send = (bytes: Uint8Array, dst = LMA_OTHER) => peer.cmd({ op: mode, hex: hex(bytes), dst });
    const stats = async () => (await lma.cmd({ op: 'stats' })) as Line & { stats: { transport: Record<string, number> }; bindings: number };
    const replyProto = mode === 'raw' ? 135 : 17;

    beforeAll(async () => {
      setUp();
      const setup = {
        locals: [LMA_LINK, LMA_OTHER],
        // the plan says this MAG uses the link address: the PBA must still follow the PBU
        mags: [{ pCoA: MAG, local: LMA_LINK }],
        mns: [{ mnId: NAI, lma: 'lma1', mags: ['*'], interfaces: [] }],
        dataplane: null,
      };
      lma = Agent.start(LMA_NS, LMA_AGENT, { MODE: mode, SETUP: JSON.stringify(setup) });
      peer = Agent.start(MAG_NS, PEER_AGENT, { ADDRS: JSON.stringify([MAG]) });
      await lma.waitFor((l) => l.ev === 'ready', 10_000);
      await peer.waitFor((l) => l.ev === 'ready', 10_000);
    }, 20_000);

    afterAll(() => {
      lma?.stop();
      peer?.stop();
      deleteNamespaces(LMA_NS, MAG_NS);
    });

    it('answers a PBU from the address it was sent to, not the route toward the MAG', async () => {
      // the route from the LMA to the MAG picks LMA_LINK as source: a PBA from it would be the old bug
      const route = spawnSync('ip', ['-n', LMA_NS, '-6', 'route', 'get', MAG], { encoding: 'utf8' }).stdout;
      expect(route).toContain(`src ${LMA_LINK}`);
      const from = peer.lines.length;
      await send(Uint8Array.from(encodeMessage(pbu(101))));
      const got = await peer.waitFor((l) => peer.lines.indexOf(l) >= from && l.ev === 'rx' && l.proto === replyProto);
      expect(got.src).toBe(LMA_OTHER);
      const pba = decodeMessage(Buffer.from(got.hex!, 'hex'));
      expect(pba.ok && pba.value.kind === 'pba' && pba.value.status === 0 && pba.value.sequence === 101).toBe(true);
      // and a PBU sent to the other address is answered from that one
      const from2 = peer.lines.length;
      const again = pbu(102);
      again.options[2] = { kind: 'handoffIndicator', value: 5 };
      await send(Uint8Array.from(encodeMessage(again)), LMA_LINK);
      const got2 = await peer.waitFor((l) => peer.lines.indexOf(l) >= from2 && l.ev === 'rx' && l.proto === replyProto);
      expect(got2.src).toBe(LMA_LINK);
    });

    it('discards a PBU whose Payload Proto is not 59: no PBA, no binding, counted', async () => {
      const before = await stats();
      const bad = Uint8Array.from(encodeMessage({ ...pbu(200), options: [...pbu(200).options.slice(0, 4), { kind: 'mnLinkLayerId', identifier: '0270aa000002' }] }));
      bad[0] = 6; // Payload Proto TCP
      const from = peer.lines.length;
      await send(bad);
      if (mode === 'raw') {
        const pp = await peer.waitFor((l) => peer.lines.indexOf(l) >= from && l.ev === 'rx' && l.proto === 58);
        const b = Buffer.from(pp.hex!, 'hex');
        expect([b[0], b[1], b.readUInt32BE(4)]).toEqual([4, 0, 40]); // Parameter Problem, code 0, at Payload Proto
        expect(pp.src).toBe(LMA_OTHER);
        const quoted = Uint8Array.from(b.subarray(48));
        quoted[4] = quoted[5] = 0; // the kernel filled in the checksum we sent as 0
        expect(hex(quoted)).toBe(hex(bad)); // the invoking MH after the quoted IPv6 header
      } else {
        await new Promise((r) => setTimeout(r, 300));
      }
      const after = await stats();
      expect(after.bindings).toBe(before.bindings);
      expect(after.stats.transport.badPayloadProto).toBe(before.stats.transport.badPayloadProto! + 1);
      expect(peer.lines.slice(from).filter((l) => l.ev === 'rx' && l.proto === replyProto)).toEqual([]);
    });

    it('answers Header Len 0 with Parameter Problem code 0 at the Header Len field (raw), rate-limited; nothing over UDP', async () => {
      const short = Uint8Array.from(encodeMessage(pbu(300))).subarray(0, 8);
      short[1] = 0; // Header Len 0: a PBU needs at least 1
      const before = await stats();
      const from = peer.lines.length;
      for (let i = 0; i < 30; i++) await send(short);
      await new Promise((r) => setTimeout(r, 300));
      const pps = peer.lines.slice(from).filter((l) => l.ev === 'rx' && l.proto === 58);
      const after = await stats();
      expect(after.stats.transport.malformed).toBe(before.stats.transport.malformed! + 30);
      if (mode === 'raw') {
        expect(pps.length).toBeGreaterThanOrEqual(1);
        expect(pps.length).toBeLessThanOrEqual(12); // bucket of 10, refilled at 10/s
        const b = Buffer.from(pps[0]!.hex!, 'hex');
        expect([b[0], b[1], b.readUInt32BE(4)]).toEqual([4, 0, 41]);
        expect(pps[0]!.src).toBe(LMA_OTHER);
        expect(b[8]! >> 4).toBe(6); // the quoted IPv6 header
        expect(b[8 + 6]).toBe(135);
      } else {
        expect(pps).toEqual([]);
      }
      expect(peer.lines.slice(from).filter((l) => l.ev === 'rx' && l.proto === replyProto)).toEqual([]);
    });
  });
}
