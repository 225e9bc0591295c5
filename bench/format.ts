/** How figures are written in the tables: microseconds, switching to ms and s where they grow. */

/** '0.42 us', '83 us', '12.3 ms', '1.10 s'; '-' for a missing figure. */
export function formatUs(us: number | null | undefined): string {
  if (us === null || us === undefined || Number.isNaN(us)) return '-';
  const abs = Math.abs(us);
  if (abs >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (abs >= 1e4) return `${(us / 1e3).toFixed(1)} ms`;
  if (abs >= 100) return `${us.toFixed(0)} us`;
  if (abs >= 10) return `${us.toFixed(1)} us`;
  return `${us.toFixed(2)} us`;
}

/** A figure for a table cell whose header already says "us". */
export function formatUsCell(us: number | null | undefined): string {
  const text = formatUs(us);
  return text.endsWith(' us') ? text.slice(0, -3) : text;
}

export function formatPercent(percent: number | null | undefined, digits = 1): string {
  if (percent === null || percent === undefined || Number.isNaN(percent)) return '-';
  return `${percent.toFixed(digits)} %`;
}
