import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentProgress } from '../../orchestrator/cli/progress.js';
import { writeReport } from '../../orchestrator/report/index.js';
import { runExperiment } from '../../orchestrator/scenario/experiment.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { domain, movesScenario, readEvents, registrationsAfterMoves, repoRoot, writeTopology } from '../support/experiments.js';

// The whole product path, as `pmiplab run` takes it: real LMA, MAG, MN and CN
// processes, PBU/PBA over UDP 5436 and over raw next header 135, the kernel
// forwarding probes through the seg6 IPv6-in-IPv6 tunnels while the MN's
// interface moves between the MAGs; then the report, checked against what
// the run's own events and pcaps say.

const root = isRoot();
if (!root) console.warn('test/integration/experiment.test.ts skipped: needs root (namespaces, node processes)');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function experiment(yaml: string, id: string) {
  const { lab, dir, meta } = await runExperiment(writeTopology(yaml), { id, progress: silentProgress });
  await lab.down();
  dirs.push(dir);
  const { metrics, files } = await writeReport(dir);
  return { dir, meta, metrics, files };
}

const tshark = (file: string, filter: string, fields: string[]) =>
  execFileSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);

describe.skipIf(!root)('handover experiment, end to end', () => {
  it('UDP signaling: every move registers, traffic recovers both ways, the report says so', async () => {
    const { dir, meta, metrics, files } = await experiment(domain({ scenario: movesScenario(4, 700, 500) }), 'ex1');
    expect(meta.transport).toBe('udp');
    expect(meta.dataPlane).toMatch(/seg6|ip6tnl/);
    for (const f of ['metrics.json', 'metrics.csv', 'report.html']) expect(files.map((x) => path.basename(x))).toContain(f);

    const events = readEvents(dir);
    expect(registrationsAfterMoves(events)).toEqual([
      { to: 'mag2', accepted: true },
      { to: 'mag1', accepted: true },
      { to: 'mag2', accepted: true },
      { to: 'mag1', accepted: true },
    ]);
    // one prefix for the MN over the whole run (the LMA keeps it across MAGs)
    const hnps = new Set(events.filter((e) => e.type.startsWith('binding-')).map((e) => String(e.data?.hnp)));
    expect(hnps.size).toBe(1);

    expect(metrics.handovers).toHaveLength(4);
    expect(metrics.flows.map((f) => f.flow).sort()).toEqual(['down', 'up']);
    for (const f of metrics.flows) {
      expect(f.totals.sent).toBeGreaterThan(1500);
      // a handover costs milliseconds of traffic, not the run
      expect(f.totals.received / f.totals.sent).toBeGreaterThan(0.9);
      for (const h of f.handovers) {
        expect(h.recovered).toBe(true);
        expect(h.gapMs).not.toBeNull();
        expect(h.gapMs!).toBeLessThan(500);
      }
    }
    const csv = readFileSync(path.join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + 2 * 4); // header + flow x handover
    const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html.match(/<svg/g)?.length ?? 0).toBeGreaterThanOrEqual(3);

    // tshark decodes the signaling in the backhaul captures: PBUs and accepted PBAs
    const pcap = path.join(dir, 'pcaps', 'lma1-eth2.pcap');
    expect(existsSync(pcap)).toBe(true);
    const pbas = tshark(pcap, 'mip6.mhtype == 6', ['mip6.ba.status']);
    expect(pbas.length).toBeGreaterThanOrEqual(2);
    expect(pbas).toContain('0');
    // and the data plane is IPv6-in-IPv6 (next header 41) between LMA and MAG
    expect(tshark(pcap, 'ipv6.nxt == 41 && udp.dstport >= 40000', ['ipv6.dst']).length).toBeGreaterThan(100);
  });

  it('raw IPv6 next header 135 signaling works the same', async () => {
    const { dir, meta, metrics } = await experiment(domain({ settings: { transport: 'raw' }, scenario: movesScenario(2, 700, 300) }), 'ex2');
    expect(meta.transport).toBe('raw');
    expect(registrationsAfterMoves(readEvents(dir)).every((r) => r.accepted)).toBe(true);
    const pcap = path.join(dir, 'pcaps', 'lma1-eth2.pcap');
    // MH straight after the IPv6 header, no UDP
    const raw = tshark(pcap, 'ipv6.nxt == 135 && mip6.mhtype == 5', ['mip6.mhtype']);
    expect(raw.length).toBeGreaterThanOrEqual(1);
    expect(tshark(pcap, 'udp.port == 5436', ['udp.port'])).toHaveLength(0);
    for (const f of metrics.flows) {
      expect(f.totals.received / f.totals.sent).toBeGreaterThan(0.9);
      for (const h of f.handovers) expect(h.recovered).toBe(true);
    }
  });
});

describe.skipIf(!root)('pmiplab run interrupted', () => {
  const cli = path.join(repoRoot, 'dist', 'orchestrator', 'cli', 'main.js');
  const file = writeTopology(domain({ scenario: movesScenario(10, 500, 200) }));
  const leftovers = (id: string) => ({
    netns: spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith(`pl${id}-`)),
    procs: spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(`--pmiplab-run=${id}`)),
  });
  /** Start `pmiplab run`, act once the scenario is under way, return its exit code and stderr. */
  const runAnd = (id: string, act: (child: ReturnType<typeof spawn>) => void) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn('node', [cli, 'run', file, '--id', id, '--no-capture'], { cwd: repoRoot, env: { ...process.env, CI: 'true' } });
      let err = '';
      let acted = false;
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        // registration done: the scenario is playing
        if (!acted && err.includes('registration')) {
          acted = true;
          setTimeout(() => act(child), 1000);
        }
      });
      child.on('exit', (code) => resolve({ code, err }));
    });

  it('Ctrl-C mid-scenario: tears down, exits 130, leaves nothing', async () => {
    const r = await runAnd('ex3', (c) => c.kill('SIGINT'));
    expect(r.code).toBe(130);
    expect(r.err).toMatch(/SIGINT: tearing down run ex3/);
    expect(leftovers('ex3')).toEqual({ netns: [], procs: [] });
    rmSync(path.join(repoRoot, 'runs', 'ex3'), { recursive: true, force: true });
  }, 60_000);

  it('a node crashing mid-scenario ends the run with its name, and leaves nothing', async () => {
    const r = await runAnd('ex4', () => {
      spawnSync('pkill', ['-KILL', '-f', '--', '--run ex4 --node mag2 ']);
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/node mag2 exited during the experiment \(SIGKILL\)/);
    expect(leftovers('ex4')).toEqual({ netns: [], procs: [] });
    rmSync(path.join(repoRoot, 'runs', 'ex4'), { recursive: true, force: true });
  }, 60_000);
});
