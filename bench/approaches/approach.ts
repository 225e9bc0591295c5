/** What every approach module provides: measure one period for one window. */
import type { EngineWorkerReport, ScenarioName } from '../catalog.js';
import type { LatenessSeries } from '../stats.js';

export interface MeasureContext {
  periodNs: number;
  durationMs: number;
  scenario: ScenarioName;
}

export interface MeasuredWorker {
  worker: number;
  series: LatenessSeries;
  engine?: EngineWorkerReport;
}

export type ApproachOutcome =
  | { status: 'unavailable'; reason: string }
  | {
      status: 'ok';
      workers: MeasuredWorker[];
      /** All threads of the measuring process (or the external program), % of one core. */
      cpuPercent: number | null;
      notes?: string[];
    };

export type Approach = (ctx: MeasureContext) => Promise<ApproachOutcome>;
