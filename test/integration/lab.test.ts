import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listNetns } from '../../orchestrator/netns/build.js';
import { cleanupRuns } from '../../orchestrator/netns/cleanup.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { readPlanFile, type Plan } from '../../orchestrator/topology/plan.js';
import { scaleTopology } from '../../orchestrator/topology/scale.js';

// The orchestrator as a user drives it: the built CLI (dist/), real
// namespaces, a real redis-server and one node process per node. Run ids
// start with "t5" so nothing else is touched.
const root = isRoot();
if (!root) console.warn('test/integration/lab.test.ts skipped: needs root (network namespaces)');

const repo = path.resolve(import.meta.dirname, '..', '..');
const cli = path.join(repo, 'dist', 'orchestrator', 'cli', 'main.js');
const runsDir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-lab-test-'));
const env = { ...process.env, PMIPLAB_RUNS_DIR: runsDir, CI: 'true' };
const IDS = ['t5a', 't5b', 't5c', 't5k', 't5s', 't5x', 't5p', 't5m', 't5n', 't5e', 't5i'];

const pmiplab = (...args: string[]): SpawnSyncReturns<string> =>
  spawnSync('node', [cli, ...args], { cwd: repo, env, encoding: 'utf8', timeout: 90_000 });
const ours = (id: string) => [...listNetns()].filter((n) => n.startsWith(`pl${id}-`));
/** processes whose argv carries the run's tag or folder */
const tagged = (id: string) =>
  spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.includes(`--pmiplab-run=${id}`) || l.includes(path.join(runsDir, id)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const expectGone = (id: string) => {
  expect(ours(id)).toEqual([]);
  expect(tagged(id)).toEqual([]);
};
const plan = (id: string): Plan => readPlanFile(path.join(runsDir, id, 'topology.json'));
const show = (r: SpawnSyncReturns<string>) => `exit ${r.status}\n${r.stdout}\n${r.stderr}`;

describe.skipIf(!root)('lab: up, use, down through the CLI', () => {
  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error('dist/ is missing: run npm run build first');
    await cleanupRuns({ runIds: IDS, runsDir });
  });
  afterAll(async () => {
    await cleanupRuns({ runIds: IDS, runsDir });
    rmSync(runsDir, { recursive: true, force: true });
  });

  it('brings up the sample topology, every link pings, inspect sees running nodes, down leaves nothing', () => {
    const up = pmiplab('up', 'topologies/sample-domain.yaml', '--id', 't5a');
    expect(up.status, show(up)).toBe(0);
    expect(up.stdout).toContain('run t5a is up');
    const p = plan('t5a');
    // every link: each endpoint pings every other endpoint of the link
    let pinged = 0;
    for (const link of p.links) {
      const ends = link.endpoints.map((e) => {
        const node = p.nodes.find((n) => n.name === e.node)!;
        return { node, iface: node.interfaces.find((i) => i.name === e.iface)! };
      });
      for (const a of ends) {
        for (const b of ends) {
          if (a === b) continue;
          const global = b.iface.addresses.find((x) => !x.startsWith('fe80'));
          // access links have no global address: the MN pings the MAG's fe80::1 through its interface
          const target = global ? global.split('/')[0]! : a.node.kind === 'mn' ? `fe80::1%${a.iface.name}` : null;
          if (!target) continue;
          const r = pmiplab('exec', 't5a', a.node.name, '--', 'ping', '-6', '-c', '1', '-W', '3', target);
          expect(r.status, `${a.node.name} -> ${target} on ${link.id}: ${show(r)}`).toBe(0);
          pinged++;
        }
      }
    }
    expect(pinged).toBeGreaterThanOrEqual(p.links.length);
    const ins = pmiplab('inspect', 't5a', '--json');
    expect(ins.status, show(ins)).toBe(0);
    const view = JSON.parse(ins.stdout) as { status: string; nodes: Array<{ name: string; alive: boolean; rssMb: number }> };
    expect(view.status).toBe('up');
    expect(view.nodes.every((n) => n.alive)).toBe(true);
    // with their roles: hosts ~49 MB, LMAs ~52, MAGs 58-62 (raw ND sockets, warmed-up PBU path); see README
    expect(view.nodes.filter((n) => !(n.rssMb > 5 && n.rssMb < 70))).toEqual([]);
    const ls = pmiplab('ls');
    expect(ls.stdout).toMatch(/t5a\s+sample-domain\s+up/);

    const down = pmiplab('down', 't5a');
    expect(down.status, show(down)).toBe(0);
    expectGone('t5a');
    expect(pmiplab('ls').stdout).toMatch(/t5a\s+sample-domain\s+torn down/);
  });

  it('runs two copies of one topology at once, and tears both down', async () => {
    const run = (id: string) =>
      new Promise<number>((resolve) => {
        const c = spawn('node', [cli, 'up', 'topologies/handover-basic.yaml', '--id', id], { cwd: repo, env, stdio: 'ignore' });
        c.on('exit', (code) => resolve(code ?? 1));
      });
    expect(await Promise.all([run('t5b'), run('t5c')])).toEqual([0, 0]);
    const made = (id: string) => (JSON.parse(readFileSync(path.join(runsDir, id, 'state.json'), 'utf8')) as { namespaces: string[]; bridgeNamespaces: string[] });
    const count = (id: string) => made(id).namespaces.length + made(id).bridgeNamespaces.length;
    for (const id of ['t5b', 't5c']) {
      expect(count(id)).toBe(6); // 5 nodes and the MN's air segment
      expect(ours(id)).toHaveLength(count(id));
      const r = pmiplab('exec', id, 'cn1', '--', 'ping', '-6', '-c', '1', '-W', '3', '2001:db8:c:3::1');
      expect(r.status, show(r)).toBe(0);
    }
    expect(pmiplab('down', 't5b').status).toBe(0);
    expectGone('t5b');
    expect(ours('t5c')).toHaveLength(count('t5c')); // the other run is untouched
    expect(pmiplab('down', 't5c').status).toBe(0);
    expectGone('t5c');
  });

  it('after kill -9 of the orchestrator mid bring-up, cleanup removes everything', async () => {
    const file = path.join(runsDir, 'scale120.yaml');
    writeFileSync(file, scaleTopology(120));
    const c = spawn('node', [cli, 'up', file, '--id', 't5k'], { cwd: repo, env, stdio: 'ignore' });
    // wait until the run has made namespaces and started some processes
    for (let i = 0; i < 2000 && !(ours('t5k').length > 0 && tagged('t5k').length > 2); i++) await sleep(5);
    expect(ours('t5k').length).toBeGreaterThan(0);
    c.kill('SIGKILL');
    await new Promise((r) => c.on('exit', r));
    await sleep(200);
    const clean = pmiplab('cleanup');
    expect(clean.status, show(clean)).toBe(0);
    expect(clean.stdout).toContain('run t5k');
    expectGone('t5k');
    const again = pmiplab('cleanup', '--run', 't5k');
    expect(again.stdout).toContain('nothing to clean');
  });

  it('SIGTERM during bring-up tears the run down and exits 143', async () => {
    // big enough that bring-up is still going when the signal comes
    const file = path.join(runsDir, 'scale120.yaml');
    writeFileSync(file, scaleTopology(120));
    const c = spawn('node', [cli, 'up', file, '--id', 't5s'], { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    for (let i = 0; i < 2000 && !(tagged('t5s').length > 2); i++) await sleep(5);
    c.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => c.on('exit', (x) => r(x)));
    expect(code, err).toBe(143);
    expect(err).toContain('tearing down run t5s');
    expectGone('t5s');
  });

  it('SIGTERM while the namespaces are being built: teardown waits for the build, nothing is left', async () => {
    // the signal comes as the build step starts (an ip batch making 120+
    // namespaces is in flight): a teardown that did not wait for it deleted
    // the few namespaces there were, exited, and the batch made the rest
    const file = path.join(runsDir, 'scale120.yaml');
    writeFileSync(file, scaleTopology(120));
    const script = `
      const { labUp } = await import(${JSON.stringify(path.join(repo, 'dist/orchestrator/lab/lab.js'))});
      const step = (name) => {
        if (name.startsWith('namespaces')) process.kill(process.pid, 'SIGTERM');
        return { update() {}, done() {}, fail() {} };
      };
      await labUp(${JSON.stringify(file)}, { id: 't5i', detach: true, progress: { step, info() {} } });
      console.log('up');`;
    const c = spawn('node', ['--input-type=module', '-e', script], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => c.on('exit', (x) => r(x)));
    expect(code, out).toBe(143);
    expect(out).toContain('tearing down run t5i');
    await sleep(300); // an ip batch left running would go on making namespaces
    expectGone('t5i');
  });

  it('refuses a bad topology with the field path, exit 2, and builds nothing', () => {
    const r = pmiplab('up', 'test/fixtures/topologies/bad/' + 'missing-node.yaml', '--id', 't5x');
    expect(r.status, show(r)).toBe(2);
    expect(r.stderr).toMatch(/topology\.links\[\d\]\.endpoints\[\d\]/);
    expect(ours('t5x')).toEqual([]);
    expect(existsSync(path.join(runsDir, 't5x'))).toBe(false);
  });

  it('a node process crash is visible in inspect and down still removes everything', () => {
    expect(pmiplab('up', 'topologies/handover-basic.yaml', '--id', 't5a').status).toBe(0);
    const st = JSON.parse(readFileSync(path.join(runsDir, 't5a', 'state.json'), 'utf8')) as { processes: Array<{ pid: number; name: string; role: string }> };
    const mag = st.processes.find((p) => p.name === 'mag1' && p.role === 'node')!;
    process.kill(mag.pid, 'SIGKILL');
    const view = JSON.parse(pmiplab('inspect', 't5a', '--json').stdout) as { nodes: Array<{ name: string; alive: boolean }> };
    expect(view.nodes.find((n) => n.name === 'mag1')!.alive).toBe(false);
    expect(pmiplab('down', 't5a').status).toBe(0);
    expectGone('t5a');
  });

  it('captures every link from the start (up --capture) and on demand (capture --duration)', async () => {
    const up = pmiplab('up', 'topologies/handover-basic.yaml', '--id', 't5p', '--capture');
    expect(up.status, show(up)).toBe(0);
    // a capture of one interface for 2 s, while cn1 pings lma1 over the core link
    const cap = spawn('node', [cli, 'capture', 't5p', 'lma1:eth0', '--duration', '2'], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    cap.stdout.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 100 && !out.includes('capturing'); i++) await sleep(20);
    const ping = pmiplab('exec', 't5p', 'cn1', '--', 'ping', '-6', '-c', '3', '-i', '0.2', '2001:db8:c:3::1');
    expect(ping.status, show(ping)).toBe(0);
    await new Promise((r) => cap.on('exit', r));
    expect(out).toMatch(/lma1:eth0: ([6-9]|\d\d+) packets/); // 3 requests + 3 replies at least
    expect(pmiplab('down', 't5p').status).toBe(0);
    expectGone('t5p');
    // the capture started by up was flushed by down: tshark reads the echo requests in it
    const pcap = path.join(runsDir, 't5p', 'pcaps', 'cn1-eth0.pcap');
    const t = spawnSync('tshark', ['-r', pcap, '-Y', 'icmpv6.type == 128', '-T', 'fields', '-e', 'ipv6.dst'], { encoding: 'utf8' });
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout.trim().split('\n')).toEqual(['2001:db8:c:3::1', '2001:db8:c:3::1', '2001:db8:c:3::1']);
  });

  it.each([
    ['bridge', 't5m'],
    ['netns', 't5n'],
  ])('moves the MN interface between MAGs from the CLI, one process per move (l2Move %s)', (mode, id) => {
    const file = path.join(runsDir, `basic-${mode}.yaml`);
    writeFileSync(file, `${readFileSync(path.join(repo, 'topologies/handover-basic.yaml'), 'utf8')}\nsettings: { l2Move: ${mode} }\n`);
    // bridge: a full run (its moves also go on the bus); netns: network only
    expect(pmiplab('up', file, '--id', id, ...(mode === 'netns' ? ['--network-only'] : [])).status).toBe(0);
    const carrier = (ns: string) => spawnSync('ip', ['-n', ns, '-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    for (const [to, from] of [['mag2', 'mag1'], ['mag1', 'mag2'], ['mag2', 'mag1']] as const) {
      const r = pmiplab('move', id, 'mn1:wlan0', to, '--json');
      expect(r.status, show(r)).toBe(0);
      const ev = JSON.parse(r.stdout) as { from: string; to: string; tStartNs: string; tDownNs: string; tUpNs: string };
      expect([ev.from, ev.to]).toEqual([from, to]);
      expect(BigInt(ev.tDownNs)).toBeGreaterThanOrEqual(BigInt(ev.tStartNs));
      expect(BigInt(ev.tUpNs)).toBeGreaterThan(BigInt(ev.tDownNs));
      // the new MAG answers on the MN's link; the old one has lost its carrier there
      // -w: after carrier returns the MN re-runs DAD on its link-local address (about 1 s)
      const ping = pmiplab('exec', id, 'mn1', '--', 'ping', '-6', '-c', '1', '-w', '5', 'fe80::1%wlan0');
      expect(ping.status, show(ping)).toBe(0);
      expect(carrier(`pl${id}-${to}`)).toMatch(/acc\d+[^\n]*LOWER_UP/);
      expect(carrier(`pl${id}-${from}`)).not.toMatch(/acc\d+[^\n]*LOWER_UP/);
    }
    const down = pmiplab('link', id, 'mn1:wlan0', 'down');
    expect(down.stdout).toMatch(/mn1:wlan0 down on mag2: carrier down at \+[\d.]+ ms/);
    expect(carrier(`pl${id}-mn1`)).toMatch(/wlan0[^\n]*NO-CARRIER/);
    expect(pmiplab('link', id, 'mn1:wlan0', 'up').status).toBe(0);
    expect(carrier(`pl${id}-mn1`)).toMatch(/wlan0[^\n]*LOWER_UP/);
    if (mode === 'bridge') {
      const sock = path.join(runsDir, id, 'redis.sock');
      const x = spawnSync('redis-cli', ['-s', sock, 'XRANGE', `pmiplab:${id}:events`, '-', '+'], { encoding: 'utf8' });
      expect(x.stdout.match(/^l2-move$/gm)).toHaveLength(3);
    }
    const bad = pmiplab('move', id, 'mn1:wlan0', 'cn1');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/cn1: it is a CN, not a MAG/);
    expect(pmiplab('down', id).status).toBe(0);
    expectGone(id);
  });

  it('nodes of an attached run stop by themselves when their orchestrator is killed', async () => {
    // an attached run (as `run` and the benchmarks use): labUp without detach, in a child we kill -9
    const script = `
      const { labUp } = await import(${JSON.stringify(path.join(repo, 'dist/orchestrator/lab/lab.js'))});
      const { silentProgress } = await import(${JSON.stringify(path.join(repo, 'dist/orchestrator/cli/progress.js'))});
      await labUp('topologies/handover-basic.yaml', { id: 't5e', progress: silentProgress });
      console.log('ready');
      setInterval(() => {}, 1000);`;
    const c = spawn('node', ['--input-type=module', '-e', script], { cwd: repo, env, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => c.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    const nodesLeft = () => tagged('t5e').filter((l) => /nodes\/runtime\//.test(l));
    expect(nodesLeft()).toHaveLength(5);
    c.kill('SIGKILL');
    for (let i = 0; i < 100 && nodesLeft().length; i++) await sleep(50);
    expect(nodesLeft()).toEqual([]); // they saw stdin close and stopped cleanly
    expect(ours('t5e').length).toBeGreaterThan(0); // the rest is cleanup's job
    expect(pmiplab('cleanup').stdout).toContain('run t5e');
    expectGone('t5e');
  });
});
