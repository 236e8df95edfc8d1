import type { Metrics } from './schema.js';

// report.html: one self-contained page (inline CSS and SVG, no script, no
// external resource), readable offline and attachable to a bug report.

export interface HtmlPlots {
  sequence: string[]; // one SVG per flow
  zoom: string | null;
  gap: string | null;
  timeline: string | null;
  interfaces: string | null; // per flow and MN interface
}

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
const num = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '–' : v.toFixed(d));
const td = (v: unknown, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${esc(v)}</td>`;

function tableHtml(head: string[], rows: unknown[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => td(c, typeof c === 'number' || /^[-+]?[\d.]+\+?$/.test(String(c)) ? 'n' : '')).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function flowsTable(m: Metrics): string {
  const rows = m.flows.map((f) => {
    const t = f.totals;
    return [
      f.flow,
      `${f.from ?? '?'} → ${f.to ?? '?'}`,
      `${f.rate ?? '?'} pps × ${f.size ?? '?'} B`,
      t.sent,
      t.received,
      t.lost ?? '?',
      t.sendFailed,
      t.duplicated,
      t.reordered,
      t.strays,
      num(t.maxGapMs, 2),
      t.delayMs ? `${num(t.delayMs.p50, 3)} / ${num(t.delayMs.p99, 3)} / ${num(t.delayMs.max, 3)}` : '–',
      num(t.senderMaxLagMs, 2),
    ];
  });
  return tableHtml(['flow', 'path', 'config', 'sent', 'received', 'lost', 'send failed', 'duplicated', 'reordered', 'strays', 'longest gap ms', 'delay p50 / p99 / max ms', 'sender max lag ms'], rows);
}

function handoverTable(m: Metrics): string {
  const flows = m.flows.map((f) => f.flow);
  const head = ['#', 'MN', 'move', 'at s', ...flows.flatMap((f) => [`${f} gap ms`, `${f} lost`, `${f} dup`, `${f} reord`, `${f} delay p50/p99 ms`, `${f} sender pause ms`]), 'RS', 'PBU sent', 'PBA rcvd', 'RA sent'];
  const rows = m.handovers.map((h) => {
    const cells: unknown[] = [h.index, `${h.node}:${h.iface}`, `${h.kind && h.kind !== 'move' ? `${h.kind} ` : ''}${h.from} → ${h.to}`, num(h.atS, 3)];
    for (const f of m.flows) {
      const x = f.handovers.find((y) => y.index === h.index);
      if (!x) cells.push('', '', '', '', '', '');
      else cells.push(`${num(x.gapMs, 2)}${x.recovered ? '' : '+'}`, x.lost ?? '?', x.duplicated, x.reordered, x.delayMs ? `${num(x.delayMs.p50, 3)} / ${num(x.delayMs.p99, 3)}` : '–', num(x.senderPauseMs, 2));
    }
    const t = h.timeline;
    cells.push(num(t.rs, 2), num(t.pbuSent, 2), num(t.pbaReceived, 2), num(t.raSent, 2));
    return cells;
  });
  return tableHtml(head, rows);
}

function interfacesTable(m: Metrics): string | null {
  const rows = m.flows.flatMap((f) => f.interfaces.map((i) => [f.flow, `${i.node}:${i.iface}`, i.direction === 'in' ? 'received on' : 'sent from', i.probes, i.copies, num(i.firstS, 3), num(i.lastS, 3)]));
  return rows.length ? tableHtml(['flow', 'interface', 'direction', 'probes', 'frames', 'first s', 'last s'], rows) : null;
}

function stagesHtml(m: Metrics): string | null {
  if (!m.stages.length) return null;
  const bc = (s: Metrics['stages'][number]) =>
    s.bindingCache.length
      ? tableHtml(
          ['LMA', 'MN', 'interface', 'MN-LL-ID', 'ATT', 'BID', 'prefixes', 'proxy CoA', 'MAG', 'state', 'lifetime s'],
          s.bindingCache.map((b) => [b.lma, b.mnId, b.iface ?? '?', b.llId, b.att ?? '', b.bid ?? '', b.hnps.join(' ') || '–', b.pCoA, b.mag ?? '?', b.state, b.lifetimeS]),
        )
      : '<p class="note">binding cache empty</p>';
  const bul = (s: Metrics['stages'][number]) =>
    s.bul.length
      ? tableHtml(
          ['MAG', 'MN', 'interface', 'MN-LL-ID', 'MAG interface', 'BID', 'prefixes', 'state', 'lifetime s'],
          s.bul.map((b) => [b.mag, b.mnId, b.iface ?? '?', b.llId ?? '?', b.magIface ?? '?', b.bid ?? '', b.hnps.join(' ') || '–', b.state, b.lifetimeS ?? '–']),
        )
      : '<p class="note">every Binding Update List empty</p>';
  return m.stages
    .map((s) => `<div class="stage"><h3>stage ${esc(s.index)} at ${esc(num(s.atS, 3))} s: ${esc(s.label)}</h3><h4>LMA binding cache</h4>${bc(s)}<h4>MAG Binding Update Lists</h4>${bul(s)}</div>`)
    .join('');
}

/** Pages beside report.html in the run folder that it links to. */
export interface ReportLinks {
  ladder?: string | null;
}

export function reportHtml(m: Metrics, plots: HtmlPlots, links: ReportLinks = {}): string {
  const title = `pmiplab run ${m.run.runId ?? '?'}: ${m.run.name ?? ''}`;
  const facts = [
    ['data plane', m.run.dataPlane ?? 'not recorded'],
    ['signaling transport', m.run.transport ?? 'not recorded'],
    ['signaling impairment', m.run.signalingImpairment ?? 'none (no delay or loss injected)'],
    ['handovers', String(m.handovers.length)],
    ['flows', m.flows.map((f) => `${f.flow} (${f.from ?? '?'} → ${f.to ?? '?'})`).join(', ') || 'none'],
    ['generated', m.run.generatedAt],
  ];
  const ladderLink = links.ladder ? `<p>Signaling as message sequence charts, read from the captures: <a href="${esc(links.ladder)}">${esc(links.ladder)}</a></p>` : '';
  const section = (h: string, body: string | null, note = '') => (body ? `<section><h2>${esc(h)}</h2>${note ? `<p class="note">${esc(note)}</p>` : ''}${body}</section>` : '');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:1400px;padding:0 16px;color:#222}
h1{font-size:20px;margin:0 0 8px}h3{font-size:14px;margin:16px 0 4px}h4{font-size:12px;margin:6px 0 2px;color:#444}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}dt{color:#666}dd{margin:0}
table{border-collapse:collapse;font-size:12px;margin:4px 0}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;white-space:nowrap}
th{background:#f5f5f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
.impair{background:#fff4ce;border:1px solid #e0c060;padding:6px 10px;margin:10px 0;display:inline-block}
.note{color:#666;font-size:12px;margin:2px 0 6px}.warn{color:#a33}svg{max-width:100%;height:auto}figure{margin:8px 0}
</style></head><body>
<h1>${esc(title)}</h1>
<dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
${m.run.signalingImpairment ? `<p class="impair">Signaling delay/loss was applied in user space, to signaling only: ${esc(m.run.signalingImpairment)}. Data packets were not delayed.</p>` : ''}
${section('flows', flowsTable(m))}
${ladderLink}
${section('handovers', m.handovers.length ? handoverTable(m) : '<p>no handovers in this run</p>', 'gap: longest time without arrivals around the L2 event ("+": the flow had not recovered when sending stopped); RS / PBU / PBA / RA: ms after the L2 event')}
${section('received sequence over time', plots.sequence.map((s) => `<figure>${s}</figure>`).join('') || null)}
${section('around each handover', plots.zoom ? `<figure>${plots.zoom}</figure>` : null)}
${section('gap per handover', plots.gap ? `<figure>${plots.gap}</figure>` : null)}
${section('signaling timeline', plots.timeline ? `<figure>${plots.timeline}</figure>` : null)}
${section('per interface', [interfacesTable(m), plots.interfaces ? `<figure>${plots.interfaces}</figure>` : null].filter(Boolean).join('') || null, 'what each MN interface carried of each flow, from the capture of that interface (probes matched by magic and flow tag; times on the run clock, see docs/metrics.md)')}
${section('binding cache and Binding Update Lists per stage', stagesHtml(m), 'rebuilt from the events: the tables just before the next scenario step (the last: at the end of the scenario)')}
${m.warnings.length ? `<section><h2>warnings</h2><ul>${m.warnings.map((w) => `<li class="warn">${esc(w)}</li>`).join('')}</ul></section>` : ''}
<section><h2>definitions</h2><ul class="note">
<li>Times come from one monotonic clock shared by every namespace: one-way delay is arrival time minus the probe's send time.</li>
<li>Window of handover k: probes sent from ${esc(m.definitions.preMs)} ms before its L2 event to ${esc(m.definitions.preMs)} ms before the next one. lost, duplicated, reordered and delay count the probes sent in the window.</li>
<li>Gap: the longest interval between consecutive arrivals among those overlapping [L2 event, next window or +${esc(m.definitions.gapHorizonMs)} ms]. First packet: the arrival that ends it. Sender pause: the longest part of the gap in which the sender sent nothing (close to the gap: the sender paused, not the network).</li>
<li>Reordered: a probe that arrived after one with a higher sequence number. Duplicated: every copy after the first. Send failed: the sender's kernel refused the probe (no route while detached).</li>
<li>Schema: docs/metrics.md (${esc(m.schema)}).</li>
</ul></section>
</body></html>
`;
}
