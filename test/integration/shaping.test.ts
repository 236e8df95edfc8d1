import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listNetns } from '../../orchestrator/netns/build.js';
import { cleanupRuns } from '../../orchestrator/netns/cleanup.js';
import { netemAvailable } from '../../orchestrator/netns/netem.js';
import { isRoot } from '../../orchestrator/system/tools.js';

// Link shaping as a user asks for it in the topology file: a rate is enforced
// by tc (measured with iperf3 across the link); delay/loss need netem, and
// where the kernel has none the file is refused before anything is built.
const root = isRoot();
if (!root) console.warn('test/integration/shaping.test.ts skipped: needs root (network namespaces)');

const repo = path.resolve(import.meta.dirname, '..', '..');
const cli = path.join(repo, 'dist', 'orchestrator', 'cli', 'main.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-shaping-'));
const env = { ...process.env, PMIPLAB_RUNS_DIR: dir, CI: 'true' };
const pmiplab = (...args: string[]) => spawnSync('node', [cli, ...args], { cwd: repo, env, encoding: 'utf8', timeout: 60_000 });

const topo = (linkExtra: string) => `name: shaping
topology:
  nodes:
    lma1: { kind: lma }
    mag1: { kind: mag }
    mn1: { kind: mn, interfaces: { wlan0: { att: "802.11" } } }
    cn1: { kind: cn }
  links:
    - endpoints: ["mag1:eth0", "lma1:eth1"]
    - endpoints: ["lma1:eth0", "cn1:eth0"]
${linkExtra}
    - endpoints: ["mn1:wlan0", "mag1:acc0"]
`;

describe.skipIf(!root)('link shaping', () => {
  afterAll(async () => {
    await cleanupRuns({ runIds: ['t6r', 't6d'], runsDir: dir });
    rmSync(dir, { recursive: true, force: true });
  });

  it('a 20mbit link carries about 20 Mbit/s of TCP, measured by iperf3', () => {
    const file = path.join(dir, 'rate.yaml');
    writeFileSync(file, topo('      rate: 20mbit'));
    const up = pmiplab('up', file, '--id', 't6r', '--network-only');
    expect(up.status, up.stderr).toBe(0);
    try {
      const srv = pmiplab('exec', 't6r', 'cn1', '--', 'iperf3', '-s', '-1', '-D', '-B', '2001:db8:c:2::2');
      expect(srv.status, srv.stderr).toBe(0);
      let r = pmiplab('exec', 't6r', 'lma1', '--', 'iperf3', '-c', '2001:db8:c:2::2', '-t', '2', '-J');
      for (let i = 0; i < 20 && r.status !== 0 && /connect/.test(r.stdout + r.stderr); i++) {
        spawnSync('sleep', ['0.1']);
        r = pmiplab('exec', 't6r', 'lma1', '--', 'iperf3', '-c', '2001:db8:c:2::2', '-t', '2', '-J');
      }
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const mbps = (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e6;
      expect(mbps).toBeGreaterThan(14);
      expect(mbps).toBeLessThan(22);
    } finally {
      expect(pmiplab('down', 't6r').status).toBe(0);
    }
    expect([...listNetns()].filter((n) => n.startsWith('plt6r-'))).toEqual([]);
  });

  it('delay without netem is refused before anything is built (built where netem exists)', async () => {
    const file = path.join(dir, 'delay.yaml');
    writeFileSync(file, topo('      delay: 10ms'));
    const up = pmiplab('up', file, '--id', 't6d', '--network-only');
    if (await netemAvailable()) {
      expect(up.status, up.stderr).toBe(0);
      expect(pmiplab('down', 't6d').status).toBe(0);
    } else {
      expect(up.status).toBe(2);
      expect(up.stderr).toMatch(/asks for delay 10ms but this kernel has no netem/);
      expect([...listNetns()].filter((n) => n.startsWith('plt6d-'))).toEqual([]);
    }
  });
});
