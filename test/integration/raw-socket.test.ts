import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IPPROTO_MH, RawSocket } from '../../nodes/runtime/raw-socket.js';
import { isRoot } from '../../orchestrator/system/tools.js';

// Root only (raw sockets), in this process's namespace, on ::1 only.
// The raw sockets of MAG and LMA are close-on-exec: a child the node spawns
// (every `ip`) holds none of them (issue 18). And the packet info the LMA
// answers from: destination, interface and hop limit of what arrives.

if (!isRoot()) console.warn('test/integration/raw-socket.test.ts skipped: needs root (raw sockets)');

const O_CLOEXEC = 0o2000000;

describe.skipIf(!isRoot())('raw sockets (root)', () => {
  it('are close-on-exec: a spawned child holds no such descriptor', async () => {
    const mh = new RawSocket({ protocol: IPPROTO_MH });
    const icmp = new RawSocket({ protocol: 58 });
    try {
      const mine = [mh.fd, icmp.fd].map((fd) => readlinkSync(`/proc/self/fd/${fd}`));
      for (const l of mine) expect(l).toMatch(/^socket:\[\d+\]$/);
      for (const fd of [mh.fd, icmp.fd]) {
        const flags = Number.parseInt(/flags:\s*(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0', 8);
        expect(flags & O_CLOEXEC).toBe(O_CLOEXEC);
      }
      const child = spawn('sleep', ['5'], { stdio: 'ignore' });
      try {
        await new Promise((r) => setTimeout(r, 100)); // exec done
        const held = readdirSync(`/proc/${child.pid}/fd`).map((f) => {
          try {
            return readlinkSync(`/proc/${child.pid}/fd/${f}`);
          } catch {
            return '';
          }
        });
        expect(held.length).toBeGreaterThan(0); // the check can see the child's descriptors
        for (const l of mine) expect(held).not.toContain(l);
      } finally {
        child.kill();
      }
    } finally {
      mh.close();
      icmp.close();
    }
  });

  it('hands out the destination, interface and hop limit of a packet, and sends from a given source', async () => {
    const rx = new RawSocket({ protocol: IPPROTO_MH });
    const tx = new RawSocket({ protocol: IPPROTO_MH });
    try {
      const got = new Promise<{ source: string; destination: string; ifindex: number; hopLimit: number }>((resolve) =>
        rx.onMessage((d) => {
          if (d.data[2] === 13) resolve(d); // our heartbeat, not another test's traffic on ::1
        }),
      );
      await tx.send(new Uint8Array([59, 1, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), '::1', { source: '::1' });
      const d = await got;
      expect(d.source).toBe('::1');
      expect(d.destination).toBe('::1');
      expect(d.ifindex).toBe(1); // lo
      expect(d.hopLimit).toBeGreaterThan(0);
      await expect(tx.send(new Uint8Array(8), '::1', { source: '2001:db8:ffff::99' })).rejects.toThrow(/sendmsg/);
    } finally {
      rx.close();
      tx.close();
    }
  });
});
