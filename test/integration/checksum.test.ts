import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessage, mhChecksum, MessageSchema, withChecksum } from '../../nodes/protocol/index.js';
import { IPPROTO_MH, IPV6_CHECKSUM, RawSocket, SOL_IPV6 } from '../../nodes/runtime/raw-socket.js';
import { extractMobilityHeaders, ipv6Bytes } from '../../orchestrator/pcap/index.js';
import { isRoot, whichTool } from '../../orchestrator/system/tools.js';

// The codec's MH checksum against the Linux kernel's. A raw IPv6 socket of
// protocol 135 has IPV6_CHECKSUM at offset 4 by default, so the kernel writes
// the checksum of what we send with 0 there; we compare it with mhChecksum.
// Part 1 uses our raw-socket wrapper on ::1 in this namespace (messages told
// apart by a random sequence number). Part 2 runs in a namespace of its own
// (plh2-<pid>) with tcpdump capturing the wire: python3 sends one MH on a raw
// socket bound to a chosen source (raw-socket cannot bind) and one MH whose
// checksum the codec filled over UDP 5436; both must verify in the capture.

const canRun = isRoot() && whichTool('ip') !== null;
const canCapture = canRun && whichTool('tcpdump') !== null && whichTool('python3') !== null;
if (!canRun) console.warn('checksum.test.ts skipped: needs root (raw sockets, network namespaces) and iproute2');

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const withZeroChecksum = (b: Uint8Array) => {
  const c = Uint8Array.from(b);
  c[4] = 0;
  c[5] = 0;
  return c;
};
const checksumField = (b: Uint8Array) => (b[4]! << 8) | b[5]!;

function messages(seq: number): Array<[string, Uint8Array]> {
  const hb = MessageSchema.parse({ kind: 'heartbeat', sequence: seq, flags: { U: true } });
  const pbu = MessageSchema.parse({
    kind: 'pbu', sequence: seq & 0xffff, lifetime: 900, flags: { A: true, H: true, P: true },
    options: [
      { kind: 'mnId', nai: 'mn1@pmiplab.example' },
      { kind: 'hnp', prefix: '2001:db8:100:1::', prefixLength: 64 },
      { kind: 'handoffIndicator', value: 1 },
      { kind: 'accessTechnologyType', value: 4 },
      { kind: 'timestamp', seconds: 1_704_067_200, fraction: 1 },
    ],
  });
  return [['heartbeat', encodeMessage(hb)], ['pbu', encodeMessage(pbu)]];
}

describe.skipIf(!canRun)('kernel MH checksum on a raw socket of protocol 135 (::1)', () => {
  const sockets: RawSocket[] = [];
  afterAll(() => sockets.forEach((s) => s.close()));

  it('IPV6_CHECKSUM is on at offset 4 by default', () => {
    const s = new RawSocket({ protocol: IPPROTO_MH });
    sockets.push(s);
    expect(s.getIntOption(SOL_IPV6, IPV6_CHECKSUM)).toBe(4);
  });

  it('the checksum the kernel writes equals mhChecksum(src, dst, mh)', async () => {
    const tx = new RawSocket({ protocol: IPPROTO_MH });
    const rx = new RawSocket({ protocol: IPPROTO_MH });
    sockets.push(tx, rx);
    const seq = 1 + Math.floor(Math.random() * 0xfffe);
    const sent = messages(seq);
    const want = new Set(sent.map(([, mh]) => hex(mh)));
    const got = new Map<string, Uint8Array>();
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${got.size} of ${sent.length} MH in 3 s`)), 3000);
      rx.onError(reject);
      rx.onMessage((d) => {
        const key = hex(withZeroChecksum(d.data));
        if (d.source === '::1' && want.has(key)) got.set(key, d.data);
        if (got.size === sent.length) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    for (const [, mh] of sent) {
      expect(checksumField(mh)).toBe(0);
      await tx.send(mh, '::1');
    }
    await done;
    const lo = ipv6Bytes('::1')!;
    for (const [name, mh] of sent) {
      const rcvd = got.get(hex(mh))!;
      expect(checksumField(rcvd), name).not.toBe(0);
      expect(checksumField(rcvd), name).toBe(mhChecksum(lo, lo, rcvd));
      expect(hex(rcvd), name).toBe(hex(withChecksum(mh, lo, lo)));
    }
  });
});

// python3 sender, run inside the namespace: raw 135 with checksum 0, then UDP 5436 with the codec's checksum.
const PY_SENDER = `
import socket, sys
src, dst, raw_hex, udp_hex = sys.argv[1:5]
r = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 135)
r.bind((src, 0))
r.sendto(bytes.fromhex(raw_hex), (dst, 0))
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.bind((src, 5436))
u.sendto(bytes.fromhex(udp_hex), (dst, 5436))
`;

describe.skipIf(!canCapture)('checksums on the wire, captured by tcpdump in namespace plh2-*', () => {
  const ns = `plh2-ck${process.pid}`;
  const A = '2001:db8:5436::1';
  const B = '2001:db8:5436::2';
  let dir = '';
  let tcpdump: ChildProcess | null = null;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pmiplab-cksum-'));
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, '-6', 'addr', 'add', `${A}/128`, 'dev', 'lo', 'nodad');
    ip('-n', ns, '-6', 'addr', 'add', `${B}/128`, 'dev', 'lo', 'nodad');
    tcpdump = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', 'lo', '--immediate-mode', '-U', '-n', '-w', path.join(dir, 'wire.pcap'), 'ip6'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // tcpdump says "listening on" once its filter is in place. --immediate-mode: without it, packets wait in
    // a TPACKET_V3 ring block for up to 1 s, and an interrupt before the block retires loses them.
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('tcpdump did not start')), 5000);
      tcpdump!.stderr!.on('data', (b: Buffer) => {
        if (b.toString().includes('listening on')) {
          clearTimeout(t);
          resolve();
        }
      });
      tcpdump!.on('exit', () => reject(new Error('tcpdump exited')));
    });
  });

  afterAll(async () => {
    if (tcpdump && tcpdump.exitCode === null) {
      const exited = new Promise((r) => tcpdump!.once('exit', r));
      tcpdump.kill('SIGTERM');
      await exited;
    }
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kernel-filled (raw 135) and codec-filled (UDP 5436) checksums both verify in the capture', async () => {
    const [, pbu] = messages(4242)[1]!;
    const [, hb] = messages(4243)[0]!;
    const udpMh = withChecksum(hb, ipv6Bytes(A)!, ipv6Bytes(B)!);
    execFileSync('ip', ['netns', 'exec', ns, 'python3', '-c', PY_SENDER, A, B, hex(pbu), hex(udpMh)], { stdio: 'pipe' });
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise((r) => tcpdump!.once('exit', r));
    tcpdump!.kill('SIGINT'); // flushes and closes the file
    await exited;

    const x = extractMobilityHeaders(new Uint8Array(readFileSync(path.join(dir, 'wire.pcap'))));
    expect(x.ok).toBe(true);
    if (!x.ok) return;
    expect(x.problems).toEqual([]);
    const raw = x.value.find((p) => p.transport === 'raw');
    const udp = x.value.find((p) => p.transport === 'udp');
    expect(raw).toMatchObject({ src: A, dst: B });
    expect(udp).toMatchObject({ src: A, dst: B });
    expect(hex(withZeroChecksum(raw!.mh))).toBe(hex(pbu));
    expect(checksumField(raw!.mh)).toBe(mhChecksum(ipv6Bytes(A)!, ipv6Bytes(B)!, raw!.mh));
    expect(hex(udp!.mh)).toBe(hex(udpMh));
    expect(checksumField(udp!.mh)).toBe(mhChecksum(ipv6Bytes(A)!, ipv6Bytes(B)!, udp!.mh));
  });
});
