/**
 * The targets of the runtime (issue 11 item 2), each judged from one bench run: the scale
 * scenario's cases (steady state) beside the C references of the same run (a C thread per
 * worker; ptimer's design in C), and the single 1 ms sync timer: its p50 and p99 from the
 * precision cases beside the OS reference (cyclictest), its CPU from the scale scenario's
 * one-timer case beside the C clock_nanosleep loop measured there (c-threads with one thread),
 * both in the steady state.
 */
import type { ApproachName, CaseResult } from './catalog.js';
import { formatPercent, formatUs } from './format.js';
import type { ScaleResult } from './scale.js';
import { findCase, renderTargets, targetList, type TargetCheck } from './targets.js';

const MS = 1_000_000;

export function checkScaleTargets(scale: readonly ScaleResult[], results: readonly CaseResult[]): TargetCheck[] {
  const { checks, add } = targetList();
  const cCpu = (r: ScaleResult) => (r.c ? `C threads ${formatPercent(r.c.cpuPercent)}` : '');
  const cRss = (r: ScaleResult) => (r.c ? `C threads ${r.c.rssMb.toFixed(1)} MB` : '');
  const cpu = (r: ScaleResult) =>
    `${formatPercent(r.cpuPercent)}${Number.isFinite(r.schedulerCpuPercent) ? ` (scheduler threads ${formatPercent(r.schedulerCpuPercent)})` : ''}`;
  const byName = (name: string) => scale.find((r) => r.name === name);
  /** ptimer's design in C, same run: its figure for a lateness or drop target. */
  const design = (r: ScaleResult | undefined, figure: (s: NonNullable<ScaleResult['cScheduler']>) => string) =>
    r?.cScheduler ? `; ptimer's design in C (${r.cScheduler.threads} threads): ${figure(r.cScheduler)}` : '';

  const many = (name: string, label: string, limits: { cpu: number; rssMb: number; runMs: number }) => {
    const r = byName(name);
    add(
      `${label}: CPU <= ${limits.cpu} % of one core`,
      r ? cpu(r) : `${name}: not measured`,
      r ? cCpu(r) : '',
      r ? r.cpuPercent <= limits.cpu : null,
    );
    add(
      `${label}: RSS <= ${limits.rssMb} MB`,
      r ? `${r.rssMb.toFixed(0)} MB` : `${name}: not measured`,
      r ? cRss(r) : '',
      r ? r.rssMb <= limits.rssMb : null,
    );
    add(
      `${label}: run() <= ${limits.runMs} ms`,
      r ? `${r.runMs.toFixed(0)} ms` : `${name}: not measured`,
      '',
      r ? r.runMs <= limits.runMs : null,
    );
    return r;
  };
  many('64x10ms', '64 x 10 ms', { cpu: 8, rssMb: 150, runMs: 300 });
  const thousand = many('1000x100ms', '1,000 x 100 ms', { cpu: 10, rssMb: 200, runMs: 1000 });
  add(
    '1,000 x 100 ms: per-worker lateness p99 <= 250 us',
    thousand
      ? `worst worker ${formatUs(thousand.worstP99Us)}; median worker ${formatUs(thousand.medianP99Us)}; ${thousand.workersOver250Us} of ${thousand.workers} workers over 250 us`
      : '1000x100ms: not measured',
    (thousand?.c
      ? `C threads: worst ${formatUs(thousand.c.worstP99Us)}, median ${formatUs(thousand.c.medianP99Us)}`
      : '') +
      design(
        thousand,
        (c) =>
          `worst ${formatUs(c.worstP99Us)}, median ${formatUs(c.medianP99Us)}, ${c.workersOver250Us} of ${thousand!.workers} over 250 us`,
      ),
    thousand ? thousand.worstP99Us <= 250 : null,
  );
  add(
    '1,000 x 100 ms: no tick dropped',
    thousand ? `${thousand.droppedTicks} of ${thousand.dueTicks}` : '1000x100ms: not measured',
    (thousand?.c ? `C threads: ${thousand.c.late} of ${thousand.c.made} a period or more late` : '') +
      design(thousand, (c) => `${c.droppedTicks} of ${c.dueTicks} dropped`),
    thousand ? thousand.droppedTicks === 0 : null,
  );

  const w32 = byName('1x32at1ms');
  add(
    '1 x 32 workers at 1 ms: CPU <= 40 %',
    w32 ? cpu(w32) : '1x32at1ms: not measured',
    w32 ? cCpu(w32) : '',
    w32 ? w32.cpuPercent <= 40 : null,
  );
  add(
    '1 x 32 workers at 1 ms: <= 0.5 % of ticks dropped per worker',
    w32
      ? `worst worker ${formatPercent(w32.worstDroppedPercent, 2)} (${w32.droppedTicks} of ${w32.dueTicks} in all)`
      : '1x32at1ms: not measured',
    (w32?.c ? `C threads: ${w32.c.late} of ${w32.c.made} a period or more late` : '') +
      design(w32, (c) => `worst worker ${formatPercent(c.worstDroppedPercent, 2)} dropped`),
    w32 ? w32.worstDroppedPercent <= 0.5 : null,
  );

  const find = (approach: ApproachName) => findCase(results, approach, MS, 'quiet');
  const single = find('ptimer-sync');
  const cyclictest = find('cyclictest');
  const cLoop = find('c-nanosleep');
  const f = single?.figures;
  add(
    '1 sync timer at 1 ms: p50 <= 2 us',
    f ? `p50 ${formatUs(f.p50Us)}` : 'ptimer-sync 1ms quiet: not measured',
    cyclictest?.figures ? `cyclictest p50 ${formatUs(cyclictest.figures.p50Us)}` : '',
    f ? f.p50Us <= 2 : null,
  );
  add(
    '1 sync timer at 1 ms: p99 no worse than the OS reference',
    f ? `p99 ${formatUs(f.p99Us)}` : 'ptimer-sync 1ms quiet: not measured',
    cyclictest?.figures ? `cyclictest p99 ${formatUs(cyclictest.figures.p99Us)}` : 'cyclictest: not measured',
    f && cyclictest?.figures ? f.p99Us <= cyclictest.figures.p99Us : null,
  );
  const one = byName('1x1ms');
  const ratio = one?.c ? one.cpuPercent / one.c.cpuPercent : null;
  const startup =
    one && Number.isFinite(one.startupCpuPercent) ? `; start-up ${formatPercent(one.startupCpuPercent)}` : '';
  const precisionCpu =
    single?.cpuPercent != null ? `; precision case (10 s from start) ${formatPercent(single.cpuPercent)}` : '';
  add(
    '1 sync timer at 1 ms: CPU <= 1.5x the C clock_nanosleep loop',
    one
      ? `${cpu(one)}${ratio !== null ? ` (${ratio.toFixed(2)}x)` : ''}, steady${startup}${precisionCpu}`
      : '1x1ms: not measured',
    one?.c
      ? `C clock_nanosleep loop (c-threads, 1 thread) ${formatPercent(one.c.cpuPercent)}${cLoop?.cpuPercent != null ? `; c-nanosleep ${formatPercent(cLoop.cpuPercent)}` : ''}`
      : 'C loop: not measured',
    ratio !== null ? ratio <= 1.5 : null,
  );
  return checks;
}

/** The targets as a markdown section (and the ones this run could not judge, in a line). */
export function renderScaleTargets(checks: readonly TargetCheck[]): string {
  return renderTargets('Targets: what workers cost', checks).join('\n');
}
