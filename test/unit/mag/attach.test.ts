import { describe, expect, it } from 'vitest';
import type { AccessIface } from '../../../nodes/mag/access.js';
import { decideAttach, type AttachInput } from '../../../nodes/mag/attach.js';
import type { MnProfile } from '../../../nodes/runtime/policy-store.js';

// The MAG's attach decisions without I/O: refusal, session key per interface,
// Handoff Indicator, prefixes to request, dormant (docs/seed001.md).
const W = '02:00:00:00:00:01';
const E = '02:00:00:00:00:02';
const P1 = '2001:db8:a:9::/64';
const profile = (interfaces: MnProfile['interfaces'], over: Partial<MnProfile> = {}): MnProfile => ({ mnId: 'mn1@x', lma: 'lma1', mags: ['*'], interfaces, ...over });
const wlan = (prefixes: string[] = []) => ({ iface: 'wlan0', llId: W, att: 4, prefixes });
const eth = (o: Partial<MnProfile['interfaces'][number]> = {}) => ({ iface: 'eth1', llId: E, att: 3, prefixes: [], ...o });
const acc = (o: Partial<AccessIface> = {}): AccessIface => ({ iface: 'acc0', link: 'l4', mns: [], startsHere: true, shared: true, ...o });
const input = (o: Partial<AttachInput>): AttachInput => ({ mag: 'mag1', lma: 'lma1', iface: 'acc0', access: acc(), llId: W, profile: profile([wlan()]), seenBefore: false, ...o });

describe('attach decisions', () => {
  it('refuses what the policy store does not allow, naming why', () => {
    expect(decideAttach(input({ profile: null }))).toEqual({ kind: 'refuse', mnId: W, reason: 'MN not in the policy store' });
    expect(decideAttach(input({ profile: profile([wlan()], { mags: ['mag2'] }) }))).toMatchObject({ kind: 'refuse', reason: 'MAG mag1 is not allowed to register this MN' });
    expect(decideAttach(input({ profile: profile([wlan()], { lma: 'lma9' }) }))).toMatchObject({ kind: 'refuse', reason: /served by LMA lma9/ });
  });

  it('one session per interface: key MN-ID|MN-LL-ID|ATT, the interface name from the profile', () => {
    const p = profile([wlan([P1]), eth()]);
    expect(decideAttach(input({ profile: p, llId: W }))).toMatchObject({ kind: 'register', key: `mn1@x|${W}|4`, mnIface: 'wlan0', att: 4, hnps: [P1], hi: 1, dormant: false });
    expect(decideAttach(input({ profile: p, llId: E.toUpperCase(), iface: 'acc1' }))).toMatchObject({ kind: 'register', key: `mn1@x|${E}|3`, mnIface: 'eth1', att: 3, hnps: [] });
  });

  it('Handoff Indicator: 1 first time where the run starts the MN, 3 on a shared link later, 4 unknown, the retry one when retried', () => {
    expect(decideAttach(input({}))).toMatchObject({ hi: 1 });
    expect(decideAttach(input({ seenBefore: true }))).toMatchObject({ hi: 3 });
    expect(decideAttach(input({ access: acc({ startsHere: false, shared: false }) }))).toMatchObject({ hi: 4 });
    expect(decideAttach(input({ seenBefore: true, retryHi: 5 }))).toMatchObject({ hi: 5 });
  });

  it('a shared interface names the shared prefix with HI 1: the fixed one, or the one this MAG holds for the other interface', () => {
    const fixed = profile([wlan([P1]), eth({ shareWith: 'wlan0' })]);
    expect(decideAttach(input({ profile: fixed, llId: E, seenBefore: true }))).toMatchObject({ hi: 1, hnps: [P1], shareWith: 'wlan0' });
    const pool = profile([wlan(), eth({ shareWith: 'wlan0' })]);
    const held = (ll: string) => (ll === W ? ['2001:db8:a:ff::/64'] : []);
    expect(decideAttach(input({ profile: pool, llId: E, heldPrefixes: held }))).toMatchObject({ hi: 1, hnps: ['2001:db8:a:ff::/64'] });
    expect(decideAttach(input({ profile: pool, llId: E }))).toMatchObject({ hi: 1, hnps: [] });
  });

  it('a dormant interface asks for the first interface\'s prefix with HI 1 and the dormant flag', () => {
    const p = profile([wlan([P1]), eth({ shareWith: 'wlan0', dormant: true })]);
    expect(decideAttach(input({ profile: p, llId: E, seenBefore: true }))).toMatchObject({ kind: 'register', hi: 1, hnps: [P1], dormant: true });
  });

  it('combinePbu: each interface a Binding Identifier, its position in the profile from 1; none otherwise', () => {
    const p = profile([wlan(), eth()]);
    expect(decideAttach(input({ profile: p, llId: E, combinePbu: true }))).toMatchObject({ bid: 2 });
    expect(decideAttach(input({ profile: p, llId: W, combinePbu: true }))).toMatchObject({ bid: 1 });
    expect(decideAttach(input({ profile: p, llId: W }))).not.toHaveProperty('bid');
  });
});
