import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Bus } from '../../../nodes/runtime/bus.js';

// A Redis that accepts connections but never answers (a SIGSTOPped
// redis-server does that: the kernel completes the connect): Bus.connect
// gives up instead of hanging `pmiplab down` forever.
describe('Bus.connect to a server that never answers', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bus-mute-'));
  const sock = path.join(dir, 'mute.sock');
  const conns: net.Socket[] = [];
  const server = net.createServer((c) => void conns.push(c)).listen(sock);
  afterAll(() => {
    conns.forEach((c) => c.destroy());
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects after connectTimeoutMs', async () => {
    const t0 = Date.now();
    await expect(Bus.connect(`unix://${sock}`, 'x', 'orchestrator', { connectTimeoutMs: 200 })).rejects.toThrow(/no answer to PING within 200 ms/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
