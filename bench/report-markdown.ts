/** The markdown report: one table per scenario, ptimer with 8 workers, the targets. */
import {
  ALL_APPROACH_NAMES,
  MULTI_WORKER_APPROACH,
  SCENARIO_DESCRIPTIONS,
  SCENARIO_NAMES,
  type CaseResult,
  type ScenarioName,
} from './catalog.js';
import { formatPercent, formatUsCell } from './format.js';
import type { MachineFacts } from './machine-facts.js';
import { renderTargets, type TargetCheck } from './targets.js';

export interface ReportInput {
  facts: MachineFacts;
  command: string;
  durationS: number;
  results: CaseResult[];
  targets: TargetCheck[];
  /** Scenarios asked for but skipped, with why. */
  skippedScenarios: Array<{ scenario: ScenarioName; reason: string }>;
  /** The chart's file name beside the report, if one was drawn. */
  chartFile: string | null;
}

const LEGEND = `Lateness: how late each run began against its ideal schedule t0 + k * period, in us
(ms and s where marked). drift: the last run's lateness, how far the schedule slipped by the
end of the window. due / made: runs the window held and runs made; missed: ticks dropped after
an overrun (ptimer sync) or runs a lagging timer never made; late >= 1 period: runs made a whole
period or more behind (where a timer that never skips runs late in a burst, ptimer's sync
timer drops the tick instead). CPU: the whole process, all its
threads (for cyclictest and c-nanosleep: the program), as % of one core; in the busy scenario it
includes the 25 % the busy work itself takes (cyclictest and c-nanosleep run beside the busy
Node.js process, so their CPU does not).`;

export function renderReport(input: ReportInput): string {
  const { facts, results } = input;
  const lines: string[] = [];
  lines.push(
    `Measured ${facts.date.slice(0, 16).replace('T', ' ')} UTC at commit ${facts.commit} with \`${input.command}\`, ` +
      `${input.durationS} s per case, ` +
      `on ${facts.nproc} cores (${facts.cpuModel}), Linux ${facts.kernel}, Node.js ${facts.node}; ` +
      `1-minute load average ${loadAverages(facts)}. ` +
      `cyclictest ${facts.tools.cyclictest}, stress-ng ${facts.tools['stress-ng']}, cc: ${facts.tools.cc}.`,
    '',
    LEGEND,
    '',
  );

  for (const scenario of SCENARIO_NAMES) {
    const rows = results.filter((r) => r.scenario === scenario && r.approach !== MULTI_WORKER_APPROACH);
    const skipped = input.skippedScenarios.find((s) => s.scenario === scenario);
    if (!rows.length && !skipped) continue;
    lines.push(`### ${scenario}: ${SCENARIO_DESCRIPTIONS[scenario]}`, '');
    if (skipped) {
      lines.push(`Not run: ${skipped.reason}.`, '');
      continue;
    }
    lines.push(...approachTable(rows), '');
  }

  const multi = results.filter((r) => r.approach === MULTI_WORKER_APPROACH);
  if (multi.length) {
    lines.push('### ptimer alone: 8 workers of one synced slice timer (type 3) at 1 ms', '', ...workerTable(multi), '');
  }

  const ptimerRows = results.filter(
    (r) => r.status === 'ok' && r.approach.startsWith('ptimer') && r.workers?.some((w) => w.engine),
  );
  if (ptimerRows.length) {
    lines.push(
      "### ptimer's own figures beside the bench's",
      '',
      "ptimer's `list()` measures lateness inside the engine, against its own t0, just before the loop route is called; " +
        "the bench's figure is taken inside the route. Worker 0 of each case.",
      '',
      '| approach | period | scenario | bench p50 / p99 / max (us) | ptimer p50 / p99 / max (us) | ptimer iterations / overruns |',
      '|---|---|---|---|---|---|',
    );
    for (const r of ptimerRows) {
      const w = r.workers!.find((x) => x.engine)!;
      const e = w.engine!;
      lines.push(
        `| ${r.approach} | ${r.period} | ${r.scenario} | ${formatUsCell(w.figures.p50Us)} / ${formatUsCell(w.figures.p99Us)} / ` +
          `${formatUsCell(w.figures.maxUs)} | ${formatUsCell(e.lateness.p50)} / ${formatUsCell(e.lateness.p99)} / ` +
          `${formatUsCell(e.lateness.max)} | ${e.iterations} / ${e.overruns} |`,
      );
    }
    lines.push('');
  }

  lines.push(...renderTargets("Targets: ptimer's sync timer, 1 worker, default settings", input.targets));

  const notMeasured = results.filter((r) => r.status !== 'ok');
  if (notMeasured.length) {
    lines.push('### Not measured', '');
    for (const r of notMeasured) lines.push(`- ${r.approach} ${r.period} ${r.scenario}: ${r.status}: ${r.reason}`);
    lines.push('');
  }
  const notes = new Map<string, string[]>();
  for (const r of results) {
    for (const note of r.notes ?? []) {
      const key = `${r.approach}: ${note}`;
      notes.set(key, [...(notes.get(key) ?? []), `${r.period} ${r.scenario}`]);
    }
  }
  if (notes.size) {
    lines.push('### Notes', '');
    for (const [note, cases] of notes)
      lines.push(`- ${note} (${cases.length > 3 ? `${cases.length} cases` : cases.join(', ')})`);
    lines.push('');
  }
  if (input.chartFile) {
    lines.push(`![Lateness percentiles at 1 ms, quiet and busy](${input.chartFile})`, '');
  }
  return lines.join('\n');
}

function loadAverages(facts: MachineFacts): string {
  const before = Object.entries(facts.loadAverageBeforeScenario ?? {}).map(
    ([scenario, load]) => `${load} before ${scenario}`,
  );
  const stressRan = facts.loadAverageBeforeScenario?.stress !== undefined;
  const end =
    facts.loadAverageAtEnd === undefined
      ? ''
      : `, ${facts.loadAverageAtEnd} at the end${stressRan ? ' (stress-ng adds 2)' : ''}`;
  return `${before.length ? before.join(', ') : `${facts.loadAverageAtStart} at the start`}${end}`;
}

function approachTable(rows: CaseResult[]): string[] {
  const order = (r: CaseResult) => r.periodNs * 100 + ALL_APPROACH_NAMES.indexOf(r.approach);
  const out = [
    '| approach | period | p50 (us) | p99 (us) | p99.9 (us) | max (us) | drift (us) | due | made | missed | late >= 1 period | CPU |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of [...rows].sort((a, b) => order(a) - order(b))) {
    const f = r.figures;
    if (r.status !== 'ok' || !f) {
      out.push(`| ${r.approach} | ${r.period} | ${r.status}: ${r.reason ?? ''} ||||||||||`);
      continue;
    }
    out.push(
      `| ${r.approach} | ${r.period} | ${formatUsCell(f.p50Us)} | ${formatUsCell(f.p99Us)} | ${formatUsCell(f.p999Us)} | ` +
        `${formatUsCell(f.maxUs)} | ${formatUsCell(f.driftUs)} | ${f.runsDue} | ${f.runsMade} | ${f.missed} | ${f.lateByAPeriod} | ` +
        `${formatPercent(r.cpuPercent)} |`,
    );
  }
  return out;
}

function workerTable(results: CaseResult[]): string[] {
  const out = [
    '| scenario | worker | p50 (us) | p99 (us) | p99.9 (us) | max (us) | drift (us) | due | made | dropped | CPU (all workers) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    if (r.status !== 'ok' || !r.workers) {
      out.push(`| ${r.scenario} | - | ${r.status}: ${r.reason ?? ''} |||||||||`);
      continue;
    }
    for (const w of r.workers) {
      const f = w.figures;
      out.push(
        `| ${r.scenario} | ${w.worker} | ${formatUsCell(f.p50Us)} | ${formatUsCell(f.p99Us)} | ${formatUsCell(f.p999Us)} | ` +
          `${formatUsCell(f.maxUs)} | ${formatUsCell(f.driftUs)} | ${f.runsDue} | ${f.runsMade} | ` +
          `${f.missed} (${formatPercent((100 * f.missed) / Math.max(1, f.runsDue), 2)}) | ${w.worker === 0 ? formatPercent(r.cpuPercent) : ''} |`,
      );
    }
  }
  return out;
}
