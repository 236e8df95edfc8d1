// CSV as metrics.csv writes it: empty cell = not observed, quotes only where needed.
export function csvLine(cells: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return cells
    .map((v) => {
      if (v === null || v === undefined) return '';
      const s = String(v);
      return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(',');
}
