import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { BusCommand } from '../../../nodes/runtime/bus.js';
import { TrafficEndpoints } from '../../../nodes/traffic/endpoints.js';
import { asSamples, decodeSamples } from '../../../nodes/traffic/samples.js';
import { ProbeSender } from '../../../nodes/traffic/sender.js';

// srcIface: the sender binds to the interface's address (seed 001: a flow
// pinned to one MN interface), waiting for it when it is not there yet.

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('ProbeSender bind', () => {
  it('binds to a local address and refuses one the host does not have', async () => {
    const s = new ProbeSender({ flow: 'f', node: 't', dst: '::1', port: 9, rate: 10, size: 16, bind: '::1' });
    await s.open();
    expect(s.header().src).toBe('::1');
    await s.stop();
    const bad = new ProbeSender({ flow: 'f', node: 't', dst: '::1', port: 9, rate: 10, size: 16, bind: '2001:db8::dead' });
    await expect(bad.open()).rejects.toThrow(/EADDRNOTAVAIL/);
    await bad.stop();
  });
});

describe('TrafficEndpoints traffic-start srcIface', () => {
  const setup = (resolveAfterMs: number | null) => {
    const runDir = mkdtempSync(path.join(tmpdir(), 'pmiplab-src-'));
    dirs.push(runDir);
    const replies: Array<{ type: string; data: unknown }> = [];
    const bus = { emit: async (type: string, data: unknown) => void replies.push({ type, data }) };
    const node = { name: 'mn1', interfaces: [{ name: 'wlan0', addresses: [] }, { name: 'lte0', addresses: [] }] };
    const asked: string[] = [];
    const source = (iface: string, timeoutMs: number) => {
      asked.push(iface);
      return resolveAfterMs === null || resolveAfterMs > timeoutMs
        ? Promise.reject(new Error(`${iface} got no global address within ${timeoutMs} ms`))
        : new Promise<string>((r) => setTimeout(() => r('::1'), resolveAfterMs));
    };
    const ctx = { bus, log: pino({ level: 'silent' }), runDir, node } as unknown as ConstructorParameters<typeof TrafficEndpoints>[0];
    return { ep: new TrafficEndpoints(ctx, source), replies, asked, runDir };
  };
  const cmd = (type: string, args: unknown): BusCommand => ({ id: `${type}-1`, type, args }) as unknown as BusCommand;

  it('waits for the address, binds to it and records it in the samples', async () => {
    const { ep, replies, asked, runDir } = setup(50);
    await ep.onCommand(cmd('traffic-start', { flow: 'up', dst: '::1', port: 9, rate: 100, size: 16, srcIface: 'lte0' }));
    expect(asked).toEqual(['lte0']);
    expect(replies.at(-1)).toMatchObject({ type: 'traffic-started', data: { flow: 'up', role: 'sender' } });
    await ep.onCommand(cmd('traffic-stop', { flow: 'up' }));
    const s = asSamples(decodeSamples(readFileSync(path.join(runDir, 'flows', 'up.sender.bin'))));
    expect(s.ok && s.sender?.header.src).toBe('::1');
  });

  it('refuses an interface the node does not have, and one that gets no address, with nothing started', async () => {
    const { ep, replies } = setup(null);
    await ep.onCommand(cmd('traffic-start', { flow: 'up', dst: '::1', port: 9, rate: 100, size: 16, srcIface: 'eth7' }));
    expect(replies.at(-1)).toMatchObject({ type: 'error', data: { message: expect.stringMatching(/no interface eth7/) } });
    await ep.onCommand(cmd('traffic-start', { flow: 'up', dst: '::1', port: 9, rate: 100, size: 16, srcIface: 'wlan0' }));
    expect(replies.at(-1)).toMatchObject({ type: 'error', data: { message: expect.stringMatching(/wlan0 got no global address/) } });
    await ep.onCommand(cmd('traffic-stop', { flow: 'up' }));
    expect(replies.at(-1)).toMatchObject({ type: 'error', data: { message: expect.stringMatching(/no end of flow up/) } });
  });
});
