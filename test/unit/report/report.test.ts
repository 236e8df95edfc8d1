import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Metrics, summaryTable, writeReport } from '../../../orchestrator/report/index.js';
import { makeSyntheticRun } from './synthetic-run.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'pmiplab-report-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('writeReport on a synthetic run folder', () => {
  it('writes metrics.json (valid), metrics.csv and a report.html with its SVG plots', async () => {
    const run = makeSyntheticRun(tmp(), { impaired: true });
    const { metrics, files } = await writeReport(run.dir);
    expect(files.map((f) => path.basename(f))).toEqual(['metrics.json', 'metrics.csv', 'report.html']);

    const json = Metrics.parse(JSON.parse(readFileSync(path.join(run.dir, 'metrics.json'), 'utf8')));
    expect(json.handovers).toHaveLength(3);
    expect(json.run).toMatchObject({ runId: 'syn1', dataPlane: 'seg6', transport: 'udp' });
    expect(json.run.signalingImpairment).toMatch(/delay 20 ms.*signaling only/);
    expect(json.warnings).toEqual(['events.jsonl: 1 malformed line(s) skipped']);

    // each move loses 30 ms of probes of each flow from the L2 event on: 30 probes at 1000 pps
    for (const f of json.flows) {
      expect(f.handovers.map((h) => h.lost)).toEqual([30, 30, 30]);
      expect(f.handovers.every((h) => h.duplicated === 0 && h.reordered === 0 && h.recovered)).toBe(true);
      // 30 lost at 1 ms spacing: 31 ms between the arrivals around them
      for (const h of f.handovers) expect(h.gapMs).toBeCloseTo(31, 3);
      expect(f.totals).toMatchObject({ sent: 8000, received: 7910, lost: 90 });
      expect(f.totals.delayMs?.p50).toBe(0.08);
    }
    // the signaling timeline is read relative to each L2 event
    for (const h of json.handovers) {
      expect(h.timeline).toMatchObject({ ...run.offsets, mnDetach: 0.5, mnAddress: 3.5 });
      expect(h.timeline.firstPacket.up).toBeGreaterThan(29);
    }
    expect(json.handovers.map((h) => [h.from, h.to])).toEqual([['mag1', 'mag2'], ['mag2', 'mag1'], ['mag1', 'mag2']]);
    expect(metrics).toEqual(json);

    // per interface: every probe the MN got (down) or sent (up) went over wlan0, at the samples' times
    for (const f of json.flows) {
      expect(f.interfaces).toEqual([
        { node: 'mn1', iface: 'wlan0', direction: f.flow === 'down' ? 'in' : 'out', probes: 7910, copies: 7910, firstS: expect.any(Number), lastS: expect.any(Number) },
      ]);
      // the clock offset comes from the smallest wall - send time (the uplink's 40 µs), so arrivals read 40 µs early
      const first = f.flow === 'down' ? 0.1005 + 0.00008 - 0.00004 : 0.1 + 0.00004 - 0.00004;
      expect(f.interfaces[0]!.firstS).toBeCloseTo(first, 6);
    }
    // stages: before the first step, then after the traffic starts and each move (the plan's scenario)
    expect(json.stages.map((s) => s.label)).toEqual([
      'registered (before the first step)',
      'after traffic-start up mn1 → cn1; traffic-start down cn1 → mn1',
      ...Array.from({ length: 10 }, (_, i) => `after move mn1:wlan0 → ${i % 2 ? 'mag1' : 'mag2'}`),
      'after traffic-stop up; traffic-stop down',
    ]);
    expect(json.stages[0]!.bul).toEqual([]); // the synthetic events begin with the moves
    // the last move went mag1 -> mag2: bound at mag2 (attach, PBU, PBA), detached at mag1 (no de-registration PBA in these events)
    const mn = (s: (typeof json.stages)[number]) => s.bul.filter((b) => b.mnId.startsWith('mn1@') && b.llId === '02:00').map((b) => [b.mag, b.state]);
    expect(mn(json.stages.at(-1)!)).toEqual([['mag1', 'deregistering'], ['mag2', 'bound']]);
    expect(json.stages.every((s) => s.bindingCache.length === 0)).toBe(true); // no binding events in the synthetic run

    const csv = readFileSync(path.join(run.dir, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + 2 * 3);
    const head = csv[0]!.split(',');
    const row = csv[1]!.split(',');
    expect(row[head.indexOf('lost')]).toBe('30');
    expect(row[head.indexOf('pbu_sent_ms')]).toBe('1.6');

    const html = readFileSync(path.join(run.dir, 'report.html'), 'utf8');
    const svgs = html.match(/<svg[\s>]/g) ?? [];
    expect(svgs.length).toBe(2 + 4); // sequence per flow, zoom, gap, timeline, per interface
    expect(html).toContain('signaling only');
    expect(html).toContain('seg6');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org|vega\.github\.io)/);
    expect(html.length).toBeLessThan(3_000_000);

    const text = summaryTable(json);
    expect(text).toMatch(/data plane seg6/);
    expect(text.split('\n').filter((l) => /^\d+\s+mn1:wlan0 mag/.test(l))).toHaveLength(3);
    expect(text.split('\n').filter((l) => /^(up|down)\s.*wlan0 7910$/.test(l))).toHaveLength(2);
  });

  it('a folder with nothing but a broken samples file still gets a report with warnings', async () => {
    const dir = tmp();
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'flows'));
    writeFileSync(path.join(dir, 'flows', 'x.sender.bin'), 'garbage');
    const { metrics } = await writeReport(dir);
    expect(metrics.flows).toEqual([]);
    expect(metrics.warnings.join('\n')).toMatch(/x\.sender\.bin: not a pmiplab samples file/);
    expect(readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain('no handovers');
  });
});

describe('detach and attach as handovers (seed 001: another interface may carry on)', () => {
  it('counts l2-down and l2-up of an MN interface, with no MAG on the missing side', async () => {
    const { appendFileSync } = await import('node:fs');
    const run = makeSyntheticRun(tmp(), { moves: 0 });
    const at = (ms: number) => (run.t0 + BigInt(ms * 1e6)).toString();
    const l2 = (type: string, ms: number, edge: 'down' | 'up') =>
      JSON.stringify({ node: 'orchestrator', type, tNs: at(ms + 1), data: { type, node: 'mn1', iface: 'wlan0', from: 'mag1', to: 'mag1', tStartNs: at(ms), tDownNs: edge === 'down' ? at(ms + 0.5) : '0', tUpNs: edge === 'up' ? at(ms + 0.5) : '0' } });
    appendFileSync(path.join(run.dir, 'events.jsonl'), `${l2('l2-down', 3000, 'down')}\n${l2('l2-up', 5000, 'up')}\n`);
    const { metrics } = await writeReport(run.dir);
    expect(metrics.handovers.map((h) => [h.index, h.kind, h.from, h.to])).toEqual([[1, 'detach', 'mag1', 'none'], [2, 'attach', 'none', 'mag1']]);
    expect(metrics.handovers[0]!.timeline).toMatchObject({ l2Down: 0.5, l2Up: null });
    expect(metrics.handovers[1]!.timeline).toMatchObject({ l2Down: null, l2Up: 0.5 });
    // both flows of mn1 over wlan0 pay for them
    for (const f of metrics.flows) expect(f.handovers.map((h) => h.index)).toEqual([1, 2]);
  });
});
