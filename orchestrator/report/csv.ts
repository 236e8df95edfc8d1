import type { Metrics } from './schema.js';

// metrics.csv: one row per flow x handover (the same numbers as metrics.json,
// flattened), for spreadsheets and pandas. Empty cell = not observed.

const COLUMNS = [
  'run', 'flow', 'flow_from', 'flow_to', 'handover', 'mn', 'from', 'to', 'at_s',
  'gap_ms', 'gap_start_ms', 'gap_end_ms', 'recovered', 'sender_pause_ms', 'sent', 'received', 'lost', 'send_failed', 'duplicated', 'reordered',
  'delay_p50_ms', 'delay_p99_ms',
  'l2_down_ms', 'l2_up_ms', 'rs_ms', 'pbu_sent_ms', 'pbu_received_ms', 'pba_sent_ms', 'pba_received_ms', 'routes_ms', 'ra_sent_ms', 'mn_address_ms',
] as const;

function cell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function metricsCsv(m: Metrics): string {
  const lines = [COLUMNS.join(',')];
  for (const f of m.flows) {
    for (const h of f.handovers) {
      const ho = m.handovers.find((x) => x.index === h.index);
      const t = ho?.timeline;
      const row = [
        m.run.runId, f.flow, f.from, f.to, h.index, ho?.node, h.from, h.to, ho?.atS,
        h.gapMs, h.gapStartMs, h.gapEndMs, h.recovered, h.senderPauseMs, h.sent, h.received, h.lost, h.sendFailed, h.duplicated, h.reordered,
        h.delayMs?.p50, h.delayMs?.p99,
        t?.l2Down, t?.l2Up, t?.rs, t?.pbuSent, t?.pbuReceived, t?.pbaSent, t?.pbaReceived, t?.routesProgrammed, t?.raSent, t?.mnAddress,
      ];
      lines.push(row.map(cell).join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}
