import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus, type BusEvent } from '../../nodes/runtime/bus.js';
import { silentProgress } from '../../orchestrator/cli/progress.js';
import { type Lab, labUp } from '../../orchestrator/lab/lab.js';
import { LinkController } from '../../orchestrator/netns/index.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { eventWaiter } from '../support/wait.js';

// Root only: the MAG's protocol checks on handover-basic (run id mg8), with
// RFC 5213 5.5 timestamps on at the LMA and both MAGs (the domain default,
// sequence numbers, is what mag.test.ts runs) and NUD every second:
// registration and handover ordered by timestamps; RSs of hop limit 64
// dropped and counted, of 255 answered with an RA of hop limit 255; an MN
// whose carrier stays up but that stops answering is de-registered (NUD).
const root = isRoot();
if (!root) console.warn('test/integration/mag-protocol.test.ts skipped: needs root (network namespaces)');

const RUN = 'mg8';
const CN = '2001:db8:c:3::2';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// RS out of wlan0 with the given hop limit; then every RA that arrives within waitMs, with its hop limit (IPV6_RECVHOPLIMIT)
const RS_TOOL = `
import json, socket, struct, sys, time
hops, wait = int(sys.argv[1]), float(sys.argv[2])
idx = socket.if_nametoindex('wlan0')
rx = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
rx.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'wlan0')
rx.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
tx = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
tx.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, hops)
tx.sendto(bytes.fromhex('8500000000000000'), ('ff02::2', 0, 0, idx))
out, end = [], time.time() + wait
while time.time() < end:
    rx.settimeout(max(0.01, end - time.time()))
    try:
        data, anc, _, src = rx.recvmsg(2048, 64)
    except socket.timeout:
        break
    if data[0] != 134:
        continue
    hl = [struct.unpack('i', d)[0] for (l, t, d) in anc if l == socket.IPPROTO_IPV6 and t == socket.IPV6_HOPLIMIT]
    out.append({'src': src[0].split('%')[0], 'hopLimit': hl[0] if hl else None, 'curHopLimit': data[4]})
print(json.dumps(out))
`;

describe.skipIf(!root)('MAG protocol checks: timestamps, RS hop limit, NUD (root)', () => {
  let lab: Lab;
  let bus: Bus;
  let links: LinkController;
  let dir = '';
  const events: BusEvent[] = [];
  let stream: ReturnType<Bus['events']> | undefined;
  let hnp = '';

  const ns = (node: string) => `pl${RUN}-${node}`;
  const of = (node: string, type: string, after = 0n) => events.filter((e) => e.node === node && e.type === type && BigInt(e.tNs) > after);
  const data = <T>(e: BusEvent | undefined) => e?.data as T;
  const waitFor = eventWaiter(events, { timeoutMs: 10_000, everyMs: 20 });
  const ping = (from: string, to: string) =>
    spawnSync('ip', ['netns', 'exec', ns(from), 'ping', '-6', '-c', '3', '-i', '0.2', '-W', '1', to], { encoding: 'utf8' }).status;
  const rs = (hops: number, waitS: number) =>
    JSON.parse(execFileSync('ip', ['netns', 'exec', ns('mn1'), 'python3', '-c', RS_TOOL, String(hops), String(waitS)], { encoding: 'utf8' })) as Array<{
      src: string;
      hopLimit: number | null;
      curHopLimit: number;
    }>;
  const stats = async (mag: string) => (await bus.request(mag, 'stats', {}, 5000)).data as { ndp: { rsBadHopLimit: number | null; rsReceived: number } };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-magp-'));
    const file = path.join(dir, 'protocol.yaml');
    const text = readFileSync(path.resolve('topologies/handover-basic.yaml'), 'utf8')
      .replace('lma1: { kind: lma }', 'lma1: { kind: lma, options: { timestamps: true } }')
      .replace('mag1: { kind: mag }', 'mag1: { kind: mag, options: { timestamps: true, nudIntervalMs: 1000 } }')
      .replace('mag2: { kind: mag }', 'mag2: { kind: mag, options: { timestamps: true, nudIntervalMs: 1000 } }')
      .replace(/^scenario:[\s\S]*$/m, '');
    expect(text).toContain('nudIntervalMs: 1000');
    writeFileSync(file, text);
    lab = await labUp(file, { id: RUN, progress: silentProgress });
    bus = await Bus.connect(lab.redis!.url, RUN, 'orchestrator');
    stream = bus.events('0-0');
    void (async () => {
      for await (const e of stream) events.push(e);
    })();
    links = new LinkController();
    await links.open(lab.plan);
  }, 90_000);

  afterAll(async () => {
    stream?.close();
    await links?.close();
    await bus?.close();
    await lab?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('timestamps on at the LMA and the MAGs: registration and handovers are accepted (a PBU without a Timestamp would be 156)', async () => {
    await waitFor('mag1 routes-programmed', () => of('mag1', 'routes-programmed').length > 0, 15_000);
    const pba = data<{ status: number; hnp: string }>(of('mag1', 'pba-received')[0]);
    expect(pba.status).toBe(0);
    hnp = pba.hnp;
    for (const to of ['mag2', 'mag1'] as const) {
      const ev = await links.move({ node: 'mn1', iface: 'wlan0', to });
      const t0 = BigInt(ev.tStartNs);
      await waitFor(`${to} routes-programmed`, () => of(to, 'routes-programmed', t0).length > 0);
      const statuses = of(to, 'pba-received', t0).map((e) => data<{ status: number; hnp?: string }>(e));
      expect(statuses.find((p) => p.status === 0)?.hnp).toBe(hnp);
      expect(statuses.filter((p) => p.status === 156)).toEqual([]);
    }
    await waitFor('mag1 ra-sent', () => of('mag1', 'ra-sent').length > 1);
    await sleep(1500); // the MN configures its address from the RA
    expect(ping('mn1', CN)).toBe(0);
  });

  it('an RS with hop limit 64 is dropped and counted; with 255 it is answered by an RA of hop limit 255', async () => {
    const before = (await stats('mag1')).ndp;
    expect(before.rsBadHopLimit).toBe(0);
    const t0 = process.hrtime.bigint();
    rs(64, 0.3);
    await sleep(200);
    expect(of('mag1', 'rs-received', t0)).toEqual([]);
    const after = (await stats('mag1')).ndp;
    expect(after.rsBadHopLimit).toBe(1);
    expect(after.rsReceived).toBe(before.rsReceived);
    const t1 = process.hrtime.bigint();
    const ras = rs(255, 1.0);
    await waitFor('mag1 rs-received', () => of('mag1', 'rs-received', t1).length > 0, 3000);
    await waitFor('mag1 ra-sent for the RS', () => of('mag1', 'ra-sent', t1).some((e) => data<{ reason: string }>(e).reason === 'rs'), 3000);
    expect(ras.length).toBeGreaterThan(0);
    for (const ra of ras) expect(ra).toMatchObject({ src: 'fe80::1', hopLimit: 255 });
    expect((await stats('mag1')).ndp.rsBadHopLimit).toBe(1);
  });

  it('an MN that stops answering (carrier up, every packet to it dropped) is found by NUD and de-registered', async () => {
    const t0 = process.hrtime.bigint();
    await sleep(1500); // a probe round or two: the kernel confirms the MN's address
    execFileSync('ip', ['netns', 'exec', ns('mn1'), 'nft', '-f', '-'], {
      input: 'table ip6 pmiplab-silent {\n chain input { type filter hook input priority 0; policy drop; }\n}\n',
    });
    const tSilent = process.hrtime.bigint();
    await waitFor('mag1 mn-detach (nud)', () => of('mag1', 'mn-detach', t0).length > 0, 12_000);
    const detach = data<{ trigger: string; mnId: string; iface: string }>(of('mag1', 'mn-detach', t0)[0]);
    expect(detach).toMatchObject({ trigger: 'nud', mnId: 'mn1@pmiplab.example', iface: 'acc0' });
    const ms = Number(BigInt(of('mag1', 'mn-detach', t0)[0]!.tNs) - tSilent) / 1e6;
    console.log(`silent MN detected by NUD after ${ms.toFixed(0)} ms (interval 1000 ms)`);
    // carrier never changed
    expect(execFileSync('ip', ['-n', ns('mag1'), 'link', 'show', 'acc0'], { encoding: 'utf8' })).toMatch(/LOWER_UP/);
    await waitFor('mag1 de-registration', () => of('mag1', 'pbu-sent', tSilent).some((e) => data<{ lifetime: number }>(e).lifetime === 0), 3000);
    await waitFor('mag1 kernel clear', () => !execFileSync('ip', ['-n', ns('mag1'), '-6', 'route'], { encoding: 'utf8' }).includes(hnp), 3000);
    expect((await bus.request('mag1', 'bul', {}, 5000)).data).toEqual({ entries: [] });
  });
});
