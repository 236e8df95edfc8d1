import { describe, expect, it } from 'vitest';
import { renderSvg, timelineAxis, timelineSpec } from '../../../orchestrator/report/plots.js';
import type { Metrics, Timeline } from '../../../orchestrator/report/schema.js';

// The signaling timeline's axis follows the bulk of the steps: one late step
// (an MN address at 440 ms) is drawn apart, not allowed to set the scale.

function handover(index: number, t: Partial<Timeline>): Metrics['handovers'][number] {
  const timeline: Timeline = {
    l2Down: 0, l2Up: 0.4, mnDetach: 0.6, mnAttach: 0.9, rs: 1.2, pbuSent: 3.4, pbuReceived: 3.6,
    pbaSent: 3.9, pbaReceived: 7.0, routesProgrammed: 8.0, raSent: 8.3, mnAddress: 9.1, firstPacket: { up: 9.8 },
    ...t,
  };
  return { index, node: 'mn1', iface: 'eth0', from: index % 2 ? 'mag1' : 'mag2', to: index % 2 ? 'mag2' : 'mag1', tNs: String(index * 1e9), atS: index, timeline };
}
const metricsOf = (handovers: Metrics['handovers']) => ({ handovers }) as Metrics;

/** x positions (px) of the axis tick labels and their text, from the SVG vega draws. */
function tickValues(svg: string): number[] {
  return [...svg.matchAll(/<text[^>]*>(-?[\d.,]+)<\/text>/g)].map((m) => Number(m[1]!.replace(/,/g, '')));
}

describe('signaling timeline axis', () => {
  it('a late outlier does not set the axis for the bulk', async () => {
    const m = metricsOf([handover(1, {}), handover(2, { mnAddress: 440 }), handover(3, { pbaReceived: 6.1 }), handover(4, {})]);
    const axis = timelineAxis(m.handovers.flatMap((h) => [h.timeline.l2Down!, h.timeline.mnAddress!, h.timeline.pbaReceived!, h.timeline.firstPacket.up!]));
    expect(axis.hi).toBeLessThan(20);
    expect(axis.cut).not.toBeNull();
    expect(axis.cut!).toBeLessThan(440);

    const spec = timelineSpec(m)!;
    const svg = await renderSvg(spec);
    const ticks = tickValues(svg);
    expect(ticks.length).toBeGreaterThan(2);
    expect(Math.max(...ticks)).toBeLessThan(20); // the axis ends with the bulk (9.8 ms), not at 440
    expect(svg).toContain('440 ms'); // the outlier is still shown, apart, with its time
    expect(JSON.stringify(spec)).toMatch(/1 step\(s\) after [\d.]+ ms/);
  });

  it('without outliers the axis spans every step and nothing is drawn apart', async () => {
    const m = metricsOf([handover(1, {}), handover(2, { mnAddress: 25 }), handover(3, {})]);
    const axis = timelineAxis([0, 0.4, 3.4, 7, 8, 9.1, 9.8, 12, 14]);
    expect(axis).toEqual({ lo: 0, hi: 14, cut: null });
    const svg = await renderSvg(timelineSpec(m)!);
    expect(Math.max(...tickValues(svg))).toBeGreaterThanOrEqual(25);
    expect(svg).not.toMatch(/\d ms</);
  });

  it('a step past the fence that leaves the bulk a third of the axis stays on it', () => {
    expect(timelineAxis([0, 1, 1, 1, 1, 2, 5])).toEqual({ lo: 0, hi: 5, cut: null });
    expect(timelineAxis([0, 1, 1, 1, 1, 2, 7])).toEqual({ lo: 0, hi: 2, cut: 4.5 });
  });

  it('a step before the L2 event keeps the axis start below zero', () => {
    expect(timelineAxis([-2, 0, 1, 2, 3, 500]).lo).toBe(-2);
  });
});
