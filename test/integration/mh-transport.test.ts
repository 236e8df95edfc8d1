import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMessage, type Message } from '../../nodes/protocol/index.js';
import { RawSocket } from '../../nodes/runtime/raw-socket.js';
import { MhTransport, type Inbound } from '../../nodes/runtime/mh-transport.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import dgram from 'node:dgram';

// Both carriages on loopback (::1): a message sent by one transport arrives
// decoded at the other; garbage is counted and dropped; an unknown MH type is
// answered with a Binding Error; impairment drops and delays on send.

const log = pino({ level: 'silent' });
const hb = (sequence: number): Message => ({ kind: 'heartbeat', flags: { U: false, R: false }, sequence, options: [] });
const open: MhTransport[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

function inbox(t: MhTransport): Inbound[] {
  const got: Inbound[] = [];
  t.onMessage((m) => got.push(m));
  return got;
}
const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
};

describe('MH transport over UDP', () => {
  it('delivers, counts malformed input, answers an unknown MH type with a Binding Error', async () => {
    const a = await MhTransport.open({ mode: 'udp', bind: '::1', port: 15436, log });
    open.push(a);
    const gotA = inbox(a);
    // a plain socket plays the peer, so odd packets can be sent too
    const s = dgram.createSocket('udp6');
    await new Promise<void>((r) => s.bind(15439, '::1', () => r()));
    const send = (buf: Uint8Array) => new Promise<void>((r) => s.send(buf, 15436, '::1', () => r()));
    await send(Uint8Array.from(encodeMessage(hb(7))));
    await send(new Uint8Array([1, 2, 3]));
    const unknownType = Uint8Array.from(encodeMessage(hb(1)));
    unknownType[2] = 77; // MH type 77: not one we know
    await send(unknownType);
    const beSeen: Buffer[] = [];
    s.on('message', (m) => beSeen.push(m));
    await until(() => gotA.length >= 1 && a.counters.malformed >= 2 && beSeen.length >= 1);
    s.close();
    expect(gotA.map((m) => m.msg)).toMatchObject([{ kind: 'heartbeat', sequence: 7 }]);
    expect(gotA[0]?.src).toBe('::1');
    expect(a.counters).toMatchObject({ rx: 1, malformed: 2, bindingErrorsSent: 1 });
    expect(beSeen[0]?.[2]).toBe(7); // MH type 7: Binding Error
    expect(beSeen[0]?.[6]).toBe(2); // status 2: unrecognized MH type
  });

  it('drops and delays on send as the impairment says, for the listed kinds only', async () => {
    let coin = 0;
    const a = await MhTransport.open({
      mode: 'udp', bind: '::1', port: 15440, peerPort: 15436, log,
      impair: () => ({ delayMs: 50, lossPct: 50, messages: ['heartbeat'] }),
      random: () => (coin++ % 2 === 0 ? 0.1 : 0.9), // every other heartbeat is lost
    });
    const b = await MhTransport.open({ mode: 'udp', bind: '::1', port: 15436, log });
    open.push(a, b);
    const got = inbox(b);
    const t0 = performance.now();
    for (let i = 0; i < 4; i++) a.send(hb(i), '::1');
    a.send({ kind: 'bindingError', status: 2, homeAddress: '::', options: [] }, '::1'); // not listed: no delay
    await until(() => got.length >= 3);
    expect(got.map((m) => m.msg.kind)).toEqual(['bindingError', 'heartbeat', 'heartbeat']);
    expect(got.filter((m) => m.msg.kind === 'heartbeat').map((m) => (m.msg as { sequence: number }).sequence)).toEqual([1, 3]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(a.counters).toMatchObject({ impairDropped: 2, impairDelayed: 2, tx: 3 });
  });
});

describe.skipIf(!isRoot())('MH transport over raw IPv6 next header 135', () => {
  it('delivers a message with the kernel-made checksum and counts garbage', async () => {
    const a = await MhTransport.open({ mode: 'raw', bind: '::1', log });
    open.push(a);
    const got = inbox(a);
    const raw = new RawSocket({ protocol: 135 });
    await raw.send(new Uint8Array([59, 0, 5, 0, 0, 0]), '::1'); // a PBU with no body: too short
    const sender = await MhTransport.open({ mode: 'raw', bind: '::1', log });
    open.push(sender);
    sender.send(hb(42), '::1');
    await until(() => got.some((m) => m.msg.kind === 'heartbeat') && a.counters.malformed >= 1);
    raw.close();
    // both raw sockets see every MH on ::1 (their own sends included)
    expect(got.some((m) => m.msg.kind === 'heartbeat' && m.msg.sequence === 42)).toBe(true);
    expect(a.counters.malformed).toBeGreaterThanOrEqual(1);
  });
});
