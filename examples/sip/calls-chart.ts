/**
 * The rate-shaping chart: calls per 100 ms slot arriving at the forwarder (in) and released to
 * the upstream (out), as an SVG drawn with vega-lite and rendered by vega without a browser (as
 * bench/chart.ts does). vega and vega-lite are devDependencies: they are imported only when a
 * chart is drawn, so the examples run without them.
 *
 *   const svg = await renderCallsChart({ arrivals, releases, slotNs: 100e6, limitPerSecond: 50 });
 *
 * Times are nanoseconds on one clock (process.hrtime's); slot 0 starts at the first arrival or
 * release. Bounded: at most 100,000 slots (2.8 hours of 100 ms slots) and 10,000,000 times.
 */

export interface CallsChartInput {
  /** When each INVITE arrived at the forwarder (ns). */
  arrivals: readonly number[];
  /** When each INVITE was released upstream (ns). */
  releases: readonly number[];
  /** The slot width (ns), e.g. 100e6. */
  slotNs: number;
  /** Drawn as a line: the steady release rate per slot (e.g. 5 for 50/s in 100 ms slots). */
  ratePerSlot?: number;
  title?: string;
  subtitle?: string[];
}

const MAX_SLOTS = 100_000;
const MAX_TIMES = 10_000_000;

/** Counts per slot for both series, from a shared origin. */
export function slotCounts(input: Pick<CallsChartInput, 'arrivals' | 'releases' | 'slotNs'>): {
  origin: number;
  arrivals: number[];
  releases: number[];
} {
  const { arrivals, releases, slotNs } = input;
  if (!(slotNs > 0)) throw new RangeError(`slotCounts: slotNs must be > 0; got ${slotNs}`);
  if (arrivals.length + releases.length > MAX_TIMES)
    throw new RangeError(`slotCounts: ${arrivals.length + releases.length} times; at most ${MAX_TIMES}`);
  let origin = Infinity;
  let last = -Infinity;
  for (const t of [...arrivals, ...releases]) {
    if (!Number.isFinite(t)) throw new TypeError(`slotCounts: a time is not a finite number: ${t}`);
    if (t < origin) origin = t;
    if (t > last) last = t;
  }
  if (origin === Infinity) return { origin: 0, arrivals: [], releases: [] };
  const n = Math.floor((last - origin) / slotNs) + 1;
  if (n > MAX_SLOTS) throw new RangeError(`slotCounts: the times span ${n} slots; at most ${MAX_SLOTS}`);
  const count = (times: readonly number[]) => {
    const c = new Array<number>(n).fill(0);
    for (const t of times) c[Math.floor((t - origin) / slotNs)]!++;
    return c;
  };
  return { origin, arrivals: count(arrivals), releases: count(releases) };
}

export async function renderCallsChart(input: CallsChartInput): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const counts = slotCounts(input);
  const slotMs = input.slotNs / 1e6;
  const points = [
    ...counts.arrivals.map((n, i) => ({ s: (i * slotMs) / 1000, n, series: 'in: INVITEs arriving' })),
    ...counts.releases.map((n, i) => ({ s: (i * slotMs) / 1000, n, series: 'out: INVITEs released upstream' })),
  ];
  const x = { field: 's', type: 'quantitative', title: 'seconds since the first call' };
  const y = { field: 'n', type: 'quantitative', title: `INVITEs per ${slotMs} ms slot` };
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: { domain: ['in: INVITEs arriving', 'out: INVITEs released upstream'], range: ['#9aa5b1', '#1f77b4'] },
    legend: { orient: 'top-right', labelLimit: 400 },
  };
  const layers: unknown[] = [
    {
      transform: [{ filter: "datum.series === 'in: INVITEs arriving'" }],
      mark: { type: 'area', interpolate: 'step-after', opacity: 0.6 },
      encoding: { x, y, color },
    },
    {
      transform: [{ filter: "datum.series === 'out: INVITEs released upstream'" }],
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
      encoding: { x, y, color },
    },
  ];
  // The rate line goes under the series, so the release line stays visible on it.
  if (input.ratePerSlot !== undefined) {
    layers.unshift({
      data: { values: [{ y: input.ratePerSlot }] },
      mark: { type: 'rule', color: '#d62728', strokeDash: [4, 3] },
      encoding: { y: { field: 'y', type: 'quantitative' } },
    });
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: input.title ?? `Calls per ${slotMs} ms, in and out`,
      subtitle: input.subtitle ?? [],
      anchor: 'start',
      fontSize: 15,
      subtitleFontSize: 11,
    },
    width: 900,
    height: 260,
    data: { values: points },
    layer: layers,
    config: { view: { stroke: null }, font: 'sans-serif' },
  };
  const compiled = vegaLite.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  return view.toSVG();
}
