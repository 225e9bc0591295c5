/**
 * A small C loop of clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) to the deadlines
 * t0 + k * period (bench/c/c-nanosleep.c), compiled with `cc -O2` into a temp dir the first
 * time it is needed (keyed by the source's hash, so edits recompile).
 */
import { compiledC, findCompiler } from '../c-compile.js';
import { runProgram } from '../external-program.js';
import type { Approach } from './approach.js';

export const measureCNanosleep: Approach = async (ctx) => {
  const cc = findCompiler();
  if (!cc) return { status: 'unavailable', reason: 'no C compiler (cc, gcc or clang) on PATH' };
  const binary = await compiledC(cc, 'c-nanosleep');
  const durationNs = Math.round(ctx.durationMs * 1e6);
  const output = await runProgram(binary, [String(ctx.periodNs), String(durationNs)], ctx.durationMs * 3 + 30_000);

  const [head, body = ''] = output.stdout.split('lateness_ns\n');
  const field = (name: string) => {
    const match = new RegExp(`^${name} (-?\\d+)$`, 'm').exec(head!);
    if (!match) throw new Error(`c-nanosleep printed no ${name}:\n${head}`);
    return Number(match[1]);
  };
  const runsMade = field('runs_made');
  const latenessNs = Float64Array.from(body.trim().split('\n').filter(Boolean), Number);
  if (latenessNs.length !== runsMade)
    throw new Error(`c-nanosleep: ${runsMade} runs announced, ${latenessNs.length} printed`);
  return {
    status: 'ok',
    cpuPercent: (field('cpu_us') * 1000 * 100) / field('wall_ns'),
    workers: [
      {
        worker: 0,
        series: {
          latenessNs,
          runsDue: field('runs_due'),
          runsMade,
          driftNs: runsMade ? latenessNs[runsMade - 1]! : null,
        },
      },
    ],
    notes: [`${cc} -O2 bench/c/c-nanosleep.c; lateness against its own deadlines t0 + k * period`],
  };
};
