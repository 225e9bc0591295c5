/**
 * The operating system's limit for a normal thread, as the standard tool measures it:
 * `cyclictest --default-system` (no -p: a normal SCHED_OTHER thread; --default-system: leave
 * the machine's power settings alone), one thread, clock_nanosleep to absolute deadlines.
 * Lateness comes from its histogram (1 us buckets); cyclictest does not report its last
 * run's lateness, so there is no drift figure.
 */
import { findOnPath, runProgram } from '../external-program.js';
import type { Approach } from './approach.js';

/** Latencies above this land in the histogram's overflow count (counted at the max). */
const HISTOGRAM_MAX_US = 20_000;

export const measureCyclictest: Approach = async (ctx) => {
  const cyclictest = findOnPath('cyclictest');
  if (!cyclictest) return { status: 'unavailable', reason: 'cyclictest not installed (Debian package rt-tests)' };
  const intervalUs = Math.round(ctx.periodNs / 1000);
  const loops = Math.max(1, Math.round((ctx.durationMs * 1e6) / ctx.periodNs));
  const args = [
    '--default-system',
    '-q',
    '-i',
    String(intervalUs),
    '-l',
    String(loops),
    '-h',
    String(HISTOGRAM_MAX_US),
  ];
  // The shell reads its own /proc stat after cyclictest is reaped: cutime + cstime is the
  // CPU cyclictest used, in clock ticks.
  const script =
    'cyclictest "$@" || exit $?; echo "# clk_tck: $(getconf CLK_TCK)"; echo "# self-stat: $(cat /proc/$$/stat)"';
  const output = await runProgram('/bin/sh', ['-c', script, 'sh', ...args], ctx.durationMs * 3 + 30_000);
  const histogram = parseHistogram(output.stdout);

  const latenessNs = new Float64Array(histogram.total);
  let at = 0;
  for (const [us, count] of histogram.buckets) latenessNs.fill(us * 1000, at, (at += count));
  latenessNs.fill(histogram.maxUs * 1000, at, at + histogram.overflows);

  return {
    status: 'ok',
    cpuPercent: childCpuPercent(output.stdout, output.wallNs),
    workers: [{ worker: 0, series: { latenessNs, runsDue: loops, runsMade: histogram.total, driftNs: null } }],
    notes: [
      `cyclictest --default-system -q -i PERIOD_US -l LOOPS -h ${HISTOGRAM_MAX_US}: lateness in whole microseconds, against its own deadlines; no drift figure`,
    ],
  };
};

interface Histogram {
  buckets: Array<[number, number]>;
  overflows: number;
  maxUs: number;
  total: number;
}

/** Reads `cyclictest -q -h N` output: "# ..." summary lines and "BUCKET COUNT" lines. */
export function parseHistogram(stdout: string): Histogram {
  const buckets: Array<[number, number]> = [];
  let overflows = 0;
  let maxUs = NaN;
  for (const line of stdout.split('\n')) {
    const bucket = /^(\d+)\s+(\d+)\s*$/.exec(line);
    if (bucket) {
      const count = Number(bucket[2]);
      if (count > 0) buckets.push([Number(bucket[1]), count]);
      continue;
    }
    const overflow = /^# Histogram Overflows:\s+(\d+)/.exec(line);
    if (overflow) overflows = Number(overflow[1]);
    const max = /^# Max Latencies:\s+(\d+)/.exec(line);
    if (max) maxUs = Number(max[1]);
  }
  if (Number.isNaN(maxUs)) throw new Error(`cyclictest printed no histogram summary:\n${stdout.slice(0, 500)}`);
  const total = buckets.reduce((n, [, c]) => n + c, 0) + overflows;
  return { buckets, overflows, maxUs, total };
}

function childCpuPercent(stdout: string, wallNs: number): number | null {
  const tck = /^# clk_tck: (\d+)/m.exec(stdout);
  const stat = /^# self-stat: (.*)$/m.exec(stdout);
  if (!tck || !stat) return null;
  // Fields after the ")" that closes the command name: state is field 3, cutime 16, cstime 17.
  const fields = stat[1]!.slice(stat[1]!.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[16 - 3]) + Number(fields[17 - 3]);
  return ((ticks / Number(tck[1])) * 1e9 * 100) / wallNs;
}
