import { table } from '../cli/progress.js';
import type { Metrics } from './schema.js';

// The terminal summary of a run: one row per handover (gap and losses of
// each flow, PBU-to-PBA), then one row per flow (totals, and the MN
// interfaces that carried it). Short enough for
// the end of `pmiplab run`; report.html has the rest.

const num = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '-' : v.toFixed(digits));

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function summaryTable(m: Metrics): string {
  const out: string[] = [];
  const head = [`run ${m.run.runId ?? '?'} (${m.run.name ?? '?'})`, `data plane ${m.run.dataPlane ?? '?'}`, `transport ${m.run.transport ?? '?'}`];
  out.push(head.join(', '));
  if (m.run.signalingImpairment) out.push(`signaling impairment: ${m.run.signalingImpairment}`);
  if (m.handovers.length) {
    const flows = m.flows.map((f) => f.flow);
    const header = ['#', 'MOVE', ...flows.flatMap((f) => [`${f} GAP ms`, `${f} LOST`]), 'PBU→PBA ms'];
    const rows = m.handovers.map((h) => {
      const cells = [String(h.index), `${h.node}:${h.iface} ${h.kind && h.kind !== 'move' ? `${h.kind} ` : ''}${h.from}→${h.to}`];
      for (const f of m.flows) {
        const x = f.handovers.find((y) => y.index === h.index);
        cells.push(x ? `${num(x.gapMs)}${x.recovered ? '' : '+'}` : '', x ? String(x.lost ?? '?') : '');
      }
      const t = h.timeline;
      cells.push(t.pbuSent !== null && t.pbaReceived !== null ? num(t.pbaReceived - t.pbuSent, 2) : '-');
      return cells;
    });
    out.push('', table([header, ...rows]));
  } else out.push('', 'no handovers in this run');
  if (m.flows.length) {
    const rows = m.flows.map((f) => {
      const gaps = f.handovers.map((h) => h.gapMs).filter((g): g is number => g !== null);
      return [
        f.flow,
        `${f.from ?? '?'}→${f.to ?? '?'}`,
        String(f.totals.sent),
        String(f.totals.received),
        String(f.totals.lost ?? '?'),
        String(f.totals.duplicated),
        String(f.totals.reordered),
        num(median(gaps)),
        num(gaps.length ? Math.max(...gaps) : null),
        f.totals.delayMs ? `${num(f.totals.delayMs.p50, 3)}/${num(f.totals.delayMs.p99, 3)}` : '-',
        // which MN interface carried it (captures): "wlan0 1797" per interface
        f.interfaces.map((i) => `${i.iface} ${i.probes}`).join(', ') || '-',
      ];
    });
    out.push('', table([['FLOW', 'PATH', 'SENT', 'RECEIVED', 'LOST', 'DUP', 'REORD', 'GAP MEDIAN ms', 'GAP MAX ms', 'DELAY p50/p99 ms', 'MN INTERFACES'], ...rows]));
  }
  if (m.warnings.length) out.push('', ...m.warnings.map((w) => `warning: ${w}`));
  return out.join('\n');
}
