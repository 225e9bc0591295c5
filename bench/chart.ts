/**
 * The lateness chart: percentile curves at one period, one panel per scenario, one curve per
 * approach, drawn with vega-lite and rendered to SVG by vega without a browser.
 * x: the percentile on a tail scale (p50, p90, p99, p99.9, ... evenly spaced), as latency
 * plots usually are; y: lateness on a log scale, from 0.1 us to seconds.
 */
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import {
  ALL_APPROACH_NAMES,
  EXTERNAL_APPROACHES,
  MULTI_WORKER_APPROACH,
  periodLabel,
  type CaseResult,
  type ScenarioName,
} from './catalog.js';

/** Lateness at or below this (including runs a little early) is drawn on the floor of the log axis. */
const FLOOR_US = 0.1;

function family(approach: string): string {
  if (approach.startsWith('ptimer')) return 'ptimer (worker thread)';
  if ((EXTERNAL_APPROACHES as readonly string[]).includes(approach)) return 'OS reference (C, normal thread)';
  return 'main-thread Node.js timer';
}

export async function renderLatenessChart(
  results: CaseResult[],
  periodNs: number,
  scenarios: ScenarioName[],
): Promise<string | null> {
  const points = results
    .filter(
      (r) => r.status === 'ok' && r.periodNs === periodNs && scenarios.includes(r.scenario) && r.figures?.curve.length,
    )
    .filter((r) => r.approach !== MULTI_WORKER_APPROACH) // it has its own table
    .flatMap((r) =>
      r.figures!.curve.map(([tail, us]) => ({
        approach: r.approach,
        family: family(r.approach),
        scenario: r.scenario,
        tail,
        us: Math.max(us, FLOOR_US),
      })),
    );
  if (!points.length) return null;
  const approaches = ALL_APPROACH_NAMES.filter((a) => points.some((p) => p.approach === a));
  const maxTail = Math.ceil(Math.max(...points.map((p) => p.tail)));

  const spec: vegaLite.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: `How late each run starts, at a ${periodLabel(periodNs)} period`,
      subtitle: [
        'x: percentile of runs (each curve starts at its best run); y: lateness behind the ideal schedule t0 + k * period, log scale.',
        `Lower is better; a curve that climbs with the percentile has slow outliers. Values <= ${FLOOR_US} µs sit on the floor.`,
      ],
      anchor: 'start',
      fontSize: 16,
      subtitleFontSize: 12,
    },
    data: { values: points },
    facet: {
      column: {
        field: 'scenario',
        type: 'nominal',
        sort: scenarios,
        title: null,
        header: {
          labelFontSize: 14,
          labelFontWeight: 'bold',
          labelExpr:
            "datum.value == 'busy' ? 'busy: main event loop blocked 5 ms every 20 ms' : " +
            "datum.value == 'quiet' ? 'quiet: nothing else running' : datum.value",
        },
      },
    },
    spec: {
      width: 460,
      height: 380,
      mark: { type: 'line', strokeWidth: 2, clip: true, interpolate: 'monotone' },
      encoding: {
        x: {
          field: 'tail',
          type: 'quantitative',
          title: 'percentile of runs',
          scale: { domain: [0, maxTail], nice: false },
          axis: {
            values: [Math.log10(2), 1, 2, 3, 4, 5].filter((v) => v <= maxTail),
            labelExpr:
              "datum.value < 0.5 ? 'p50' : datum.value == 1 ? 'p90' : datum.value == 2 ? 'p99' : " +
              "datum.value == 3 ? 'p99.9' : datum.value == 4 ? 'p99.99' : 'p99.999'",
            grid: true,
            labelOverlap: false,
          },
        },
        y: {
          field: 'us',
          type: 'quantitative',
          title: 'lateness (log scale)',
          scale: { type: 'log', domainMin: FLOOR_US },
          axis: {
            values: [0.1, 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7],
            labelExpr:
              "datum.value >= 1e6 ? format(datum.value / 1e6, '~g') + ' s' : datum.value >= 1e3 ? " +
              "format(datum.value / 1e3, '~g') + ' ms' : format(datum.value, '~g') + ' µs'",
          },
        },
        color: {
          field: 'approach',
          type: 'nominal',
          sort: approaches,
          scale: { domain: approaches, scheme: 'tableau10' },
          legend: { title: 'approach', orient: 'right', labelFontSize: 12, labelLimit: 320, symbolStrokeWidth: 3 },
        },
        strokeDash: {
          field: 'family',
          type: 'nominal',
          scale: {
            domain: ['ptimer (worker thread)', 'main-thread Node.js timer', 'OS reference (C, normal thread)'],
            range: [
              [1, 0],
              [2, 2],
              [8, 4],
            ],
          },
          legend: {
            title: 'kind',
            orient: 'right',
            labelFontSize: 12,
            labelLimit: 320,
            symbolStrokeWidth: 2,
            symbolSize: 400,
          },
        },
        order: { field: 'tail', type: 'quantitative' },
      },
    },
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', axis: { labelFontSize: 12, titleFontSize: 13 } },
  };

  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  return view.toSVG();
}
