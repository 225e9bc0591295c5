/**
 * The common frame for timers that run their callback on this process's main thread:
 * arm the timer, let it run for the window, disarm it, and judge each run against the ideal
 * schedule: run i is due at t_armed + (i + 1) * period (these timers never skip a tick).
 * A throwaway timer runs first for a moment, so that lazy compilation of the timer's code
 * (nanotimer's first call takes ~200 us) does not shift the measured timer's whole schedule.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startCpuMeter } from '../cpu-meter.js';
import { RunRecorder, nowNs } from '../run-recorder.js';
import { latenessFromGrid } from '../stats.js';
import type { ApproachOutcome, MeasureContext } from './approach.js';

/**
 * Arms a timer that calls onRun every period; returns the function that disarms it, or that
 * and the time the timer's own schedule begins (its first run is due one period later), for a
 * timer that exposes it.
 */
export type ArmTimer = (
  periodNs: number,
  onRun: () => void,
) => (() => void) | { disarm: () => void; scheduleStartNs: number };

function armed(result: ReturnType<ArmTimer>): { disarm: () => void; scheduleStartNs?: number } {
  return typeof result === 'function' ? { disarm: result } : result;
}

const WARM_UP_MS = 200;

export async function measureMainThreadTimer(ctx: MeasureContext, arm: ArmTimer): Promise<ApproachOutcome> {
  const warmUp = new RunRecorder((WARM_UP_MS * 1e6) / ctx.periodNs);
  const warmUpTimer = armed(arm(ctx.periodNs, () => warmUp.record()));
  await sleep(WARM_UP_MS);
  warmUpTimer.disarm();

  const recorder = new RunRecorder((ctx.durationMs * 1e6) / ctx.periodNs);
  const cpuPercent = startCpuMeter();
  const armedNs = nowNs();
  const timer = armed(arm(ctx.periodNs, () => recorder.record()));
  recorder.anchorNs = (timer.scheduleStartNs ?? armedNs) + ctx.periodNs;
  await sleep(ctx.durationMs);
  const stopNs = nowNs();
  const cpu = cpuPercent();
  timer.disarm();
  return {
    status: 'ok',
    cpuPercent: cpu,
    workers: [{ worker: 0, series: latenessFromGrid(recorder, ctx.periodNs, stopNs) }],
  };
}
