/**
 * One measurement in its own process: `node --import tsx bench/measure-case.ts '<CaseSpec JSON>'`.
 * Runs the scenario's in-process load (busy), measures the approach, and writes a CaseResult
 * to spec.resultFile. Exits 0 whenever it wrote a result, failed measurements included.
 */
import { writeFileSync } from 'node:fs';
import { APPROACHES } from './approaches/index.js';
import { startBusyLoad } from './busy-load.js';
import { periodLabel, type CaseResult, type CaseSpec } from './catalog.js';
import { poolSeries, summarize } from './stats.js';

async function measureCase(spec: CaseSpec): Promise<CaseResult> {
  const base = {
    approach: spec.approach,
    period: periodLabel(spec.periodNs),
    periodNs: spec.periodNs,
    scenario: spec.scenario,
    durationS: spec.durationS,
  };
  const approach = APPROACHES[spec.approach];
  if (!approach) return { ...base, status: 'error', reason: `unknown approach ${spec.approach}` };
  const stopBusyLoad = spec.scenario === 'busy' ? startBusyLoad() : () => {};
  try {
    const outcome = await approach({
      periodNs: spec.periodNs,
      durationMs: spec.durationS * 1000,
      scenario: spec.scenario,
    });
    if (outcome.status === 'unavailable') return { ...base, status: 'unavailable', reason: outcome.reason };
    return {
      ...base,
      status: 'ok',
      figures: summarize(poolSeries(outcome.workers.map((w) => w.series)), spec.periodNs),
      cpuPercent: outcome.cpuPercent,
      workers: outcome.workers.map((w) => ({
        worker: w.worker,
        figures: summarize(w.series, spec.periodNs),
        ...(w.engine && { engine: w.engine }),
      })),
      ...(outcome.notes && { notes: outcome.notes }),
    };
  } catch (error) {
    return { ...base, status: 'error', reason: (error as Error).message };
  } finally {
    stopBusyLoad();
  }
}

const spec = JSON.parse(process.argv[2] ?? 'null') as CaseSpec | null;
if (!spec?.resultFile) {
  console.error("usage: node --import tsx bench/measure-case.ts '<CaseSpec JSON>' (bench/run.ts starts it)");
  process.exit(2);
}
const result = await measureCase(spec);
// Keep the per-worker curves only where there are several workers: they feed no chart otherwise.
if (result.workers && result.workers.length === 1) result.workers[0]!.figures.curve = [];
writeFileSync(spec.resultFile, JSON.stringify(result));
process.exit(0);
