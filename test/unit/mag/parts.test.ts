import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadTopology } from '../../../orchestrator/topology/load.js';
import { planView } from '../../../orchestrator/topology/plan.js';
import { planTopology } from '../../../orchestrator/topology/planner.js';
import { accessInterfaces, handoffIndicator } from '../../../nodes/mag/access.js';
import { parseMagOptions, timingsOf } from '../../../nodes/mag/config.js';
import { parseLmaOptions } from '../../../nodes/lma/config.js';
import { HeartbeatMonitor } from '../../../nodes/runtime/heartbeat.js';
import { buildPbu, isDormant, readPba, TimestampClock } from '../../../nodes/mag/messages.js';
import { requestedPrefixes } from '../../../nodes/mag/attach.js';
import { decodeMessage, encodeMessage } from '../../../nodes/protocol/index.js';

describe('PBU and PBA on the wire', () => {
  it('a PBU carries P and A, the lifetime in 4 s units and every option RFC 5213 6.9.1.1 asks for', () => {
    const bytes = encodeMessage(
      buildPbu({
        seq: 7,
        lifetimeS: 62,
        hi: 3,
        hnps: [],
        mnId: 'mn1@pmiplab.example',
        llId: '02:70:6C:00:03:EE',
        att: 4,
        linkLocal: 'fe80::1',
        timestamp: { seconds: 1_700_000_000, fraction: 123 },
      }),
    );
    const r = decodeMessage(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok || r.value.kind !== 'pbu') return;
    expect(r.value).toMatchObject({ sequence: 7, lifetime: 16, flags: { A: true, P: true, H: false } });
    expect(r.value.options.filter((o) => o.kind !== 'pad1' && o.kind !== 'padN')).toEqual([
      { kind: 'mnId', nai: 'mn1@pmiplab.example' },
      { kind: 'hnp', prefix: '::', prefixLength: 0 },
      { kind: 'handoffIndicator', value: 3 },
      { kind: 'accessTechnologyType', value: 4 },
      { kind: 'mnLinkLayerId', identifier: '02706c0003ee' },
      { kind: 'linkLocalAddress', address: 'fe80::1' },
      { kind: 'timestamp', seconds: 1_700_000_000, fraction: 123 },
    ]);
  });

  it('a PBU names each prefix in its own HNP option and carries the dormant Vendor-Specific option when asked (docs/seed001.md)', () => {
    const msg = buildPbu({ seq: 1, lifetimeS: 60, hi: 1, hnps: ['2001:db8:a:1::/64', '2001:db8:a:2::/64'], mnId: 'm', llId: '02:00:00:00:00:01', att: 4, dormant: true });
    const bytes = encodeMessage(msg);
    const r = decodeMessage(bytes);
    if (!r.ok || r.value.kind !== 'pbu') throw new Error('decode');
    expect(r.value.options.filter((o) => o.kind === 'hnp').map((o) => (o as { prefix: string }).prefix)).toEqual(['2001:db8:a:1::', '2001:db8:a:2::']);
    expect(isDormant(r.value)).toBe(true);
    // type 19, length 5: enterprise 32473 (0x00007ed9), sub-type 1
    expect(Buffer.from(bytes).toString('hex')).toContain('130500007ed901');
    expect(isDormant(buildPbu({ seq: 1, lifetimeS: 60, hi: 1, hnps: [], mnId: 'm', llId: '02:00:00:00:00:01', att: 4 }))).toBe(false);
  });

  it('reads a PBA: lifetime in seconds, prefix, refresh advice, and the identifiers to find the entry', () => {
    const wire = encodeMessage({
      kind: 'pba',
      status: 0,
      flags: { K: false, R: false, P: true },
      sequence: 9,
      lifetime: 15,
      options: [
        { kind: 'mnId', nai: 'mn1@x' },
        { kind: 'hnp', prefix: '2001:db8:a:1::', prefixLength: 64 },
        { kind: 'accessTechnologyType', value: 4 },
        { kind: 'mnLinkLayerId', identifier: '02706c0003ee' },
        { kind: 'bindingRefreshAdvice', interval: 5 },
      ],
    });
    const r = decodeMessage(wire);
    if (!r.ok || r.value.kind !== 'pba') throw new Error('decode');
    expect(readPba(r.value)).toEqual({
      seq: 9,
      status: 0,
      lifetimeS: 60,
      hnps: ['2001:db8:a:1::/64'],
      refreshS: 20,
      mnId: 'mn1@x',
      llId: '02:70:6c:00:03:ee',
      att: 4,
    });
    expect(readPba({ ...r.value, flags: { K: false, R: false, P: false } })).toBeNull();
    // a refusal echoing ::/0 carries no prefix
    expect(readPba({ ...r.value, status: 154, options: [{ kind: 'hnp', prefix: '::', prefixLength: 0 }] })?.hnps).toEqual([]);
  });

  it('timestamps increase strictly even when the clock does not move', () => {
    const c = new TimestampClock(() => 1_700_000_000_000.5);
    const a = c.next();
    const b = c.next();
    expect(a.seconds).toBe(1_700_000_000);
    expect(b.seconds * 65536 + b.fraction).toBe(a.seconds * 65536 + a.fraction + 1);
  });
});

describe('access interfaces from the plan', () => {
  const plan = planTopology(loadTopology('topologies/handover-basic.yaml'), '/x', 't1');

  it('each MAG knows which MN interface its access port serves, where the run starts it, and that another MAG shares it', () => {
    const [m1] = accessInterfaces(planView(plan, 'mag1'), 'mag1');
    const [m2] = accessInterfaces(planView(plan, 'mag2'), 'mag2');
    const mn = plan.nodes.find((n) => n.name === 'mn1');
    const wlan0 = mn?.interfaces.find((i) => i.name === 'wlan0');
    const expected = { mnNode: 'mn1', mnId: 'mn1@pmiplab.example', mnIface: 'wlan0', mac: wlan0?.mac, llId: wlan0?.mac, att: 4 };
    expect(m1).toMatchObject({ iface: 'acc0', startsHere: true, shared: true, mns: [expected] });
    expect(m2).toMatchObject({ iface: 'acc0', startsHere: false, shared: true, mns: [expected] });
    expect(accessInterfaces(planView(plan, 'lma1'), 'lma1')).toEqual([]);
  });

  it('handoff indicator: 1 for the first attachment where the run starts, 3 on a shared link afterwards, 4 when unknown', () => {
    const [m1] = accessInterfaces(planView(plan, 'mag1'), 'mag1');
    const [m2] = accessInterfaces(planView(plan, 'mag2'), 'mag2');
    expect(handoffIndicator(m1, false)).toBe(1);
    expect(handoffIndicator(m1, true)).toBe(3);
    expect(handoffIndicator(m2, false)).toBe(3);
    expect(handoffIndicator(undefined, false)).toBe(4);
    expect(handoffIndicator(m1 && { ...m1, shared: false }, true)).toBe(4);
  });

  it("asks for the interface's own (or shared) fixed prefixes, else all-zero", () => {
    const W = '02:00:00:00:00:01';
    const E = '02:00:00:00:00:02';
    const wlan = (prefixes: string[]) => ({ iface: 'wlan0', llId: W, att: 4, prefixes });
    const base = { mnId: 'a', lma: 'lma1', mags: ['*'] };
    expect(requestedPrefixes({ ...base, interfaces: [wlan([])] }, W, undefined)).toEqual([]);
    expect(requestedPrefixes({ ...base, interfaces: [wlan(['2001:db8:a:9::/64'])] }, W.toUpperCase(), undefined)).toEqual(['2001:db8:a:9::/64']);
    // a prefix of one interface is never asked for on another
    const two = { ...base, interfaces: [wlan(['2001:db8:a:9::/64']), { iface: 'eth0', llId: E, att: 3, prefixes: [] }] };
    expect(requestedPrefixes(two, E, undefined)).toEqual([]);
    expect(requestedPrefixes(two, '02:00:00:00:00:99', undefined)).toEqual([]);
    const shared = { ...base, interfaces: [wlan(['2001:db8:a:9::/64']), { iface: 'eth0', llId: E, att: 3, prefixes: [], shareWith: 'wlan0' }] };
    expect(requestedPrefixes(shared, E, undefined)).toEqual(['2001:db8:a:9::/64']);
    const served = { mnNode: 'n', mnId: 'a', mnIface: 'wlan0', mac: '', llId: '', att: 4, hnp: '2001:db8:a:9::/64' };
    expect(requestedPrefixes({ ...base, interfaces: [wlan(['2001:db8:a:8::/64', '2001:db8:a:9::/64'])] }, W, served)).toEqual(['2001:db8:a:9::/64']);
    // several fixed prefixes: one HNP option each
    expect(requestedPrefixes({ ...base, interfaces: [wlan(['2001:db8:a:8::/64', '2001:db8:a:9::/64'])] }, W, undefined)).toEqual(['2001:db8:a:8::/64', '2001:db8:a:9::/64']);
  });
});

describe('options', () => {
  it('fills defaults and names bad fields', () => {
    const o = parseMagOptions({ lma: 'lma1', lmaAddress: '2001:db8:b:1::2', proxyCoa: '2001:db8:b:1::1', backhaulIface: 'eth0', lifetimeS: 61 });
    expect(o).toMatchObject({ retransmitInitialMs: 50, timestamps: false, accessLinkLocal: 'fe80::1' });
    expect(timingsOf(o).lifetimeS).toBe(64);
    expect(() => parseMagOptions({ lma: 'lma1', proxyCoa: 'x', backhaulIface: 'eth0' })).toThrow(/lmaAddress/);
    expect(() =>
      parseMagOptions({ lma: 'l', lmaAddress: 'a', proxyCoa: 'b', backhaulIface: 'e', raIntervalMinMs: 5000, raIntervalMaxMs: 1000 }),
    ).toThrow(/raIntervalMaxMs/);
  });

  it('orders PBUs the same way as the LMA by default (issue 15: the MAG sent Timestamps the LMA ignored)', () => {
    const mag = parseMagOptions({ lma: 'lma1', lmaAddress: '2001:db8:b:1::2', proxyCoa: '2001:db8:b:1::1', backhaulIface: 'eth0' });
    expect(mag.timestamps).toBe(parseLmaOptions({}).timestamps);
  });
});

describe('heartbeat', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reports the LMA failed after the allowed misses and up at its next answer', () => {
    const sent: number[] = [];
    const states: Array<[string, number]> = [];
    const hb = new HeartbeatMonitor({ intervalMs: 1000, missedAllowed: 3, send: (s) => sent.push(s), onState: (s, m) => states.push([s, m]) });
    hb.start();
    hb.onResponse(1);
    expect(states).toEqual([['up', 0]]);
    vi.advanceTimersByTime(1000); // request 2, unanswered from here on
    vi.advanceTimersByTime(2000); // requests 3 and 4: two misses
    expect(states).toEqual([['up', 0]]);
    vi.advanceTimersByTime(1000);
    expect(states).toEqual([['up', 0], ['failed', 3]]);
    expect(hb.onResponse(999)).toBe(false);
    hb.onResponse(sent.at(-1) as number);
    expect(states.at(-1)).toEqual(['up', 0]);
    hb.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('neighbour entry of the MN', () => {
  it('derives the SLAAC (EUI-64) address of a MAC in a /64', async () => {
    const { eui64, slaacAddress } = await import('../../../nodes/mag/neighbour.js');
    expect(eui64('02:70:6c:00:03:ee')).toBe('70:6cff:fe00:3ee');
    expect(eui64('00:1b:21:0a:0b:0c')).toBe('21b:21ff:fe0a:b0c');
    expect(eui64('nope')).toBeNull();
    expect(slaacAddress('2001:db8:a:ffff::/64', '02:70:6c:00:03:ee')).toBe('2001:db8:a:ffff:70:6cff:fe00:3ee');
    expect(slaacAddress('2001:db8::/64', '02:70:6c:00:03:ee')).toBe('2001:db8:0:0:70:6cff:fe00:3ee');
    expect(slaacAddress('2001:db8:a:1::/48', '02:70:6c:00:03:ee')).toBeNull();
  });

  it('reads the MAC back from an EUI-64 link-local, and the repliers from ping output', async () => {
    const { eui64, macFromLinkLocal, echoRepliers } = await import('../../../nodes/mag/neighbour.js');
    expect(macFromLinkLocal('fe80::70:6cff:fe00:3ee')).toBe('02:70:6c:00:03:ee');
    expect(macFromLinkLocal('fe80::21b:21ff:fe0a:b0c%acc0')).toBe('00:1b:21:0a:0b:0c');
    for (const mac of ['02:00:00:00:00:01', 'fe:dc:ba:98:76:54', '00:00:5e:00:53:01']) expect(macFromLinkLocal(`fe80::${eui64(mac)}`)).toBe(mac);
    expect(macFromLinkLocal('fe80::1')).toBeNull();
    expect(macFromLinkLocal('2001:db8::70:6cff:fe00:3ee')).toBeNull();
    const out = 'PING ff02::1(ff02::1) from :: acc0: 56 data bytes\n64 bytes from fe80::70:6cff:fe00:3ee%acc0: icmp_seq=1 ttl=64 time=0.042 ms\n';
    expect(echoRepliers(out)).toEqual(['fe80::70:6cff:fe00:3ee']);
    expect(echoRepliers('1 packets transmitted, 0 received')).toEqual([]);
  });
});
