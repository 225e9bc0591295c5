/**
 * The targets of issue 4 item 6 for ptimer's sync timer (1 worker, default settings), each
 * judged against figures from the same run.
 */
import { MULTI_WORKER_APPROACH, type ApproachName, type CaseResult, type ScenarioName } from './catalog.js';
import { formatPercent, formatUs } from './format.js';

export type Verdict = 'yes' | 'no' | 'not measured';

export interface TargetCheck {
  target: string;
  ptimer: string;
  reference: string;
  holds: Verdict;
}

const MS = 1_000_000;

/** A list of checks and the function that adds one: `holds` null when the run did not measure it. */
export function targetList(): {
  checks: TargetCheck[];
  add: (target: string, ptimer: string, reference: string, holds: boolean | null) => void;
} {
  const checks: TargetCheck[] = [];
  const add = (target: string, ptimer: string, reference: string, holds: boolean | null) =>
    checks.push({ target, ptimer, reference, holds: holds === null ? 'not measured' : holds ? 'yes' : 'no' });
  return { checks, add };
}

/** The checks as a markdown section: a table of those judged, a line naming those not. */
export function renderTargets(title: string, checks: readonly TargetCheck[]): string[] {
  const judged = checks.filter((t) => t.holds !== 'not measured');
  const unjudged = checks.filter((t) => t.holds === 'not measured');
  const lines = [`### ${title}`, ''];
  if (judged.length)
    lines.push(
      '| target | ptimer | reference, same run | holds |',
      '|---|---|---|---|',
      ...judged.map((t) => `| ${t.target} | ${t.ptimer} | ${t.reference || '-'} | ${t.holds} |`),
      '',
    );
  if (unjudged.length)
    lines.push(`Not judged (their cases were not part of this run): ${unjudged.map((t) => t.target).join('; ')}.`, '');
  return lines;
}

/** The case of the run measured for approach x period x scenario, if it was measured. */
export function findCase(
  results: readonly CaseResult[],
  approach: ApproachName,
  periodNs: number,
  scenario: ScenarioName,
): CaseResult | undefined {
  return results.find(
    (r) => r.approach === approach && r.periodNs === periodNs && r.scenario === scenario && r.status === 'ok',
  );
}

export function checkTargets(results: CaseResult[]): TargetCheck[] {
  const find = (approach: ApproachName, periodNs: number, scenario: ScenarioName) =>
    findCase(results, approach, periodNs, scenario);
  const { checks, add } = targetList();
  const missing = (what: string) => `${what}: not measured`;

  const quiet = find('ptimer-sync', MS, 'quiet');
  const quietCpu = quiet?.cpuPercent ?? null;
  const cyclictest = find('cyclictest', MS, 'quiet');
  const cNanosleep = find('c-nanosleep', MS, 'quiet');
  const nanotimer = find('nanotimer', MS, 'quiet');
  const setIntervalQuiet = find('setInterval', MS, 'quiet');
  const f = quiet?.figures;

  add(
    '1 ms quiet: p50 <= 2 us',
    f ? `p50 ${formatUs(f.p50Us)}` : missing('ptimer-sync'),
    refLine(
      [
        ['cyclictest', cyclictest?.figures?.p50Us],
        ['c-nanosleep', cNanosleep?.figures?.p50Us],
      ],
      'p50',
    ),
    f ? f.p50Us <= 2 : null,
  );

  // The OS reference is cyclictest --default-system; the C loop stands in when it is missing.
  const osRef = cyclictest ?? cNanosleep;
  add(
    '1 ms quiet: p99 no worse than the OS reference (cyclictest --default-system)',
    f ? `p99 ${formatUs(f.p99Us)}` : missing('ptimer-sync'),
    osRef?.figures ? `${osRef.approach} p99 ${formatUs(osRef.figures.p99Us)}` : missing('cyclictest and c-nanosleep'),
    f && osRef?.figures ? f.p99Us <= osRef.figures.p99Us : null,
  );

  add(
    '1 ms quiet: runs made = runs due +-1',
    f ? `${f.runsMade} of ${f.runsDue} (${f.missed} dropped)` : missing('ptimer-sync'),
    cNanosleep?.figures
      ? `c-nanosleep made ${cNanosleep.figures.runsMade} of ${cNanosleep.figures.runsDue}, ${cNanosleep.figures.lateByAPeriod} of them a period or more late`
      : '',
    f ? Math.abs(f.runsDue - f.runsMade) <= 1 : null,
  );

  add(
    `1 ms quiet: drift within +-50 us after ${quiet?.durationS ?? '?'} s`,
    f?.driftUs != null ? `drift ${formatUs(f.driftUs)}` : missing('ptimer-sync'),
    setIntervalQuiet?.figures?.driftUs != null ? `setInterval drift ${formatUs(setIntervalQuiet.figures.driftUs)}` : '',
    f?.driftUs != null ? Math.abs(f.driftUs) < 50 : null,
  );

  add(
    '1 ms quiet: CPU <= 5 % of one core',
    quietCpu !== null ? `CPU ${formatPercent(quietCpu)}` : missing('ptimer-sync'),
    cyclictest?.cpuPercent != null ? `cyclictest CPU ${formatPercent(cyclictest.cpuPercent)}` : '',
    quietCpu !== null ? quietCpu <= 5 : null,
  );

  const nano = nanotimer?.figures;
  add(
    "1 ms quiet: p50 within 2x of nanotimer's",
    f ? `p50 ${formatUs(f.p50Us)}` : missing('ptimer-sync'),
    nano ? `nanotimer p50 ${formatUs(nano.p50Us)} (2x: ${formatUs(2 * nano.p50Us)})` : missing('nanotimer'),
    f && nano ? f.p50Us <= 2 * Math.max(nano.p50Us, 0) : null,
  );

  const nanoCpu = nanotimer?.cpuPercent ?? null;
  add(
    "1 ms quiet: CPU under a tenth of nanotimer's",
    quietCpu !== null ? `CPU ${formatPercent(quietCpu)}` : missing('ptimer-sync'),
    nanoCpu !== null
      ? `nanotimer CPU ${formatPercent(nanoCpu)} (a tenth: ${formatPercent(nanoCpu / 10)})`
      : missing('nanotimer'),
    quietCpu !== null && nanoCpu !== null ? quietCpu < nanoCpu / 10 : null,
  );

  const busy = find('ptimer-sync', MS, 'busy')?.figures;
  const setIntervalBusy = find('setInterval', MS, 'busy')?.figures;
  add(
    '1 ms busy event loop: p50 <= 2 us',
    busy ? `p50 ${formatUs(busy.p50Us)}` : missing('ptimer-sync busy'),
    setIntervalBusy ? `setInterval p50 ${formatUs(setIntervalBusy.p50Us)}` : '',
    busy ? busy.p50Us <= 2 : null,
  );
  add(
    '1 ms busy event loop: p99 <= 3x its own quiet p99',
    busy ? `p99 ${formatUs(busy.p99Us)}` : missing('ptimer-sync busy'),
    f ? `its quiet p99 ${formatUs(f.p99Us)} (3x: ${formatUs(3 * f.p99Us)})` : missing('ptimer-sync quiet'),
    busy && f ? busy.p99Us <= 3 * f.p99Us : null,
  );
  add(
    "1 ms busy event loop: no drift (within +-50 us), while setInterval's shows",
    busy?.driftUs != null ? `drift ${formatUs(busy.driftUs)}` : missing('ptimer-sync busy'),
    setIntervalBusy?.driftUs != null
      ? `setInterval drift ${formatUs(setIntervalBusy.driftUs)}, ${setIntervalBusy.missed} of ${setIntervalBusy.runsDue} runs not made`
      : missing('setInterval busy'),
    busy?.driftUs != null && setIntervalBusy?.driftUs != null ? Math.abs(busy.driftUs) < 50 : null,
  );

  const tenMs = find('ptimer-sync', 10 * MS, 'quiet');
  add(
    '10 ms quiet: p50 <= 2 us',
    tenMs?.figures ? `p50 ${formatUs(tenMs.figures.p50Us)}` : missing('ptimer-sync 10ms'),
    refLine([['c-nanosleep', find('c-nanosleep', 10 * MS, 'quiet')?.figures?.p50Us]], 'p50'),
    tenMs?.figures ? tenMs.figures.p50Us <= 2 : null,
  );
  add(
    '10 ms quiet: CPU <= 2 %',
    tenMs?.cpuPercent != null ? `CPU ${formatPercent(tenMs.cpuPercent)}` : missing('ptimer-sync 10ms'),
    cpuRef(find('cyclictest', 10 * MS, 'quiet')),
    tenMs?.cpuPercent != null ? tenMs.cpuPercent <= 2 : null,
  );

  const fast = find('ptimer-sync', MS / 10, 'quiet');
  const ff = fast?.figures;
  const fastCNanosleep = find('c-nanosleep', MS / 10, 'quiet')?.figures;
  add(
    '100 us quiet: at least 99.8 % of runs on their tick (not dropped)',
    ff
      ? `${formatPercent((100 * ff.runsMade) / ff.runsDue, 2)} (${ff.runsMade} of ${ff.runsDue}), CPU ${formatPercent(fast?.cpuPercent ?? NaN)}`
      : missing('ptimer-sync 100us'),
    fastCNanosleep
      ? `c-nanosleep made ${fastCNanosleep.runsMade} of ${fastCNanosleep.runsDue}, ${fastCNanosleep.lateByAPeriod} of them a period or more late`
      : '',
    ff ? ff.runsMade >= 0.998 * ff.runsDue : null,
  );
  add(
    '100 us quiet: p50 <= 2 us',
    ff ? `p50 ${formatUs(ff.p50Us)}` : missing('ptimer-sync 100us'),
    refLine(
      [
        ['c-nanosleep', fastCNanosleep?.p50Us],
        ['cyclictest', find('cyclictest', MS / 10, 'quiet')?.figures?.p50Us],
      ],
      'p50',
    ),
    ff ? ff.p50Us <= 2 : null,
  );

  const multi = find(MULTI_WORKER_APPROACH, MS, 'quiet');
  const workers = multi?.workers ?? [];
  const worstDrop = Math.max(...workers.map((w) => (100 * w.figures.missed) / Math.max(1, w.figures.runsDue)));
  const worstP50 = Math.max(...workers.map((w) => w.figures.p50Us));
  add(
    '8 workers at 1 ms: no worker drops more than 1 % of its ticks',
    workers.length ? `worst worker ${formatPercent(worstDrop, 2)} dropped` : missing(MULTI_WORKER_APPROACH),
    multi?.cpuPercent != null ? `all 8 workers: CPU ${formatPercent(multi.cpuPercent)}` : '',
    workers.length ? worstDrop <= 1 : null,
  );
  add(
    '8 workers at 1 ms: per-worker p50 <= 2 us',
    workers.length ? `worst worker p50 ${formatUs(worstP50)}` : missing(MULTI_WORKER_APPROACH),
    '',
    workers.length ? worstP50 <= 2 : null,
  );
  return checks;
}

function refLine(refs: Array<[string, number | undefined]>, figure: string): string {
  return refs
    .filter((r): r is [string, number] => r[1] !== undefined)
    .map(([name, us]) => `${name} ${figure} ${formatUs(us)}`)
    .join(', ');
}

function cpuRef(result: CaseResult | undefined): string {
  return result?.cpuPercent != null ? `${result.approach} CPU ${formatPercent(result.cpuPercent)}` : '';
}
