/**
 * The precision benchmark (`npm run bench -- --help`): runs every case (approach x period x
 * scenario) one after another, each in a child process of its own (bench/measure-case.ts)
 * so that no case inherits another's threads, JIT state or garbage; then ptimer alone with
 * 8 workers. Prints the markdown report and writes it, the raw figures (JSON) and the chart
 * to the output directory.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  APPROACH_NAMES,
  MULTI_WORKER_APPROACH,
  MULTI_WORKER_PERIOD_NS,
  periodLabel,
  type CaseResult,
  type CaseSpec,
  type ScenarioName,
} from './catalog.js';
import { renderLatenessChart } from './chart.js';
import { formatPercent, formatUs } from './format.js';
import { loadAverage, readMachineFacts } from './machine-facts.js';
import { HELP, UsageError, parseOptions, type BenchOptions } from './options.js';
import { renderReport, type ReportInput } from './report-markdown.js';
import { startStressLoad, stressNgMissing } from './stress-load.js';
import { checkTargets } from './targets.js';
import { checkScaleTargets, renderScaleTargets } from './scale-targets.js';
import { renderScale, runScale, type ScaleResult } from './scale.js';

const MEASURE_CASE = fileURLToPath(new URL('./measure-case.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHART_FILE = 'lateness-1ms.svg';
const CHART_PERIOD_NS = 1_000_000;
/** Time a child may take beyond its window (process start, thread start-up, compiling C). */
const CASE_GRACE_MS = 60_000;

function planCases(options: BenchOptions, scenario: ScenarioName, resultDir: string): CaseSpec[] {
  const specs: CaseSpec[] = [];
  const spec = (approach: CaseSpec['approach'], periodNs: number): CaseSpec => ({
    approach,
    periodNs,
    scenario,
    durationS: options.durationS,
    resultFile: join(resultDir, `${scenario}-${approach}-${periodLabel(periodNs)}.json`),
  });
  for (const periodNs of options.periodsNs) {
    for (const approach of APPROACH_NAMES)
      if (options.approaches.includes(approach)) specs.push(spec(approach, periodNs));
  }
  if (options.approaches.includes(MULTI_WORKER_APPROACH) && options.periodsNs.includes(MULTI_WORKER_PERIOD_NS)) {
    specs.push(spec(MULTI_WORKER_APPROACH, MULTI_WORKER_PERIOD_NS));
  }
  return specs;
}

/** Runs one case in its own process and reads back its result; a crash or a hang becomes an 'error' result. */
function runCase(spec: CaseSpec): Promise<CaseResult> {
  const failed = (reason: string): CaseResult => ({
    approach: spec.approach,
    period: periodLabel(spec.periodNs),
    periodNs: spec.periodNs,
    scenario: spec.scenario,
    durationS: spec.durationS,
    status: 'error',
    reason,
  });
  return new Promise((resolvePromise) => {
    rmSync(spec.resultFile, { force: true });
    const child = spawn(process.execPath, ['--import', 'tsx', MEASURE_CASE, JSON.stringify(spec)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Whatever the case prints (engine warnings, say) goes to stderr, so stdout stays the report.
    let output = '';
    const relay = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      process.stderr.write(chunk.toString().replace(/^(?=.)/gm, '    | '));
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    const timer = setTimeout(() => child.kill('SIGKILL'), spec.durationS * 1000 + CASE_GRACE_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      try {
        resolvePromise(JSON.parse(readFileSync(spec.resultFile, 'utf8')) as CaseResult);
      } catch {
        const how = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ' (timed out)' : ''}` : `exit code ${code}`;
        resolvePromise(
          failed(
            `the measuring process ended without a result (${how}): ${output.trim().split('\n').slice(-3).join(' / ')}`,
          ),
        );
      }
    });
  });
}

function progressLine(result: CaseResult): string {
  const head = `${result.scenario.padEnd(6)} ${result.period.padEnd(5)} ${result.approach.padEnd(22)}`;
  const f = result.figures;
  if (result.status !== 'ok' || !f) return `${head} ${result.status}: ${result.reason}`;
  return (
    `${head} p50 ${formatUs(f.p50Us)}, p99 ${formatUs(f.p99Us)}, max ${formatUs(f.maxUs)}, drift ${formatUs(f.driftUs)}, ` +
    `made ${f.runsMade}/${f.runsDue}, CPU ${formatPercent(f ? result.cpuPercent : null)}`
  );
}

async function main(): Promise<void> {
  let options: BenchOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bench: ${error.message}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(HELP);
    return;
  }

  if (options.rerender) return rerender(resolve(options.outDir));

  // Exit through process.exit so that the 'exit' hooks end stress-ng, which runs detached.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

  const outDir = resolve(options.outDir);
  const caseDir = join(outDir, 'tmp');
  mkdirSync(caseDir, { recursive: true });
  const facts = readMachineFacts();
  const command = ['npm run bench', ...(options.argv.length ? ['--', ...options.argv] : [])].join(' ');
  const results: CaseResult[] = [];
  const skippedScenarios: Array<{ scenario: ScenarioName; reason: string }> = [];

  const plans = options.scenarios.map((scenario) => ({ scenario, specs: planCases(options, scenario, caseDir) }));
  const total = plans.reduce((n, p) => n + p.specs.length, 0);
  console.error(
    `bench: ${total} cases of ${options.durationS} s each, one at a time (about ${Math.ceil((total * (options.durationS + 1.5)) / 60)} min)`,
  );
  let done = 0;
  for (const { scenario, specs } of plans) {
    if (!specs.length) continue;
    facts.loadAverageBeforeScenario[scenario] = loadAverage();
    let stopLoad = async () => {};
    if (scenario === 'stress') {
      const missing = stressNgMissing();
      if (missing) {
        console.error(`bench: skipping the stress scenario: ${missing}`);
        skippedScenarios.push({ scenario, reason: missing });
        done += specs.length;
        continue;
      }
      stopLoad = await startStressLoad();
    }
    try {
      for (const spec of specs) {
        const result = await runCase(spec);
        results.push(result);
        console.error(`[${++done}/${total}] ${progressLine(result)}`);
      }
    } finally {
      await stopLoad();
    }
  }

  let scale: ScaleResult[] = [];
  const scaleSeconds = Math.min(10, Math.max(1, Math.round(options.durationS)));
  if (options.scale.length > 0) {
    facts.loadAverageBeforeScenario.scale = loadAverage();
    scale = await runScale(scaleSeconds, options.scale);
  }
  facts.loadAverageAtEnd = loadAverage();
  const record: BenchRecord = {
    facts,
    command,
    durationS: options.durationS,
    results,
    targets: [],
    skippedScenarios,
    scale,
    scaleSeconds,
  };
  writeOutputs(outDir, record, await renderLatenessChart(results, CHART_PERIOD_NS, chartScenarios(results)));
  rmSync(caseDir, { recursive: true, force: true });
}

/** Everything latest.json holds: enough to render the report and the chart again. */
type BenchRecord = Omit<ReportInput, 'chartFile'> & { scale?: ScaleResult[]; scaleSeconds?: number };

function chartScenarios(results: CaseResult[]): ScenarioName[] {
  return (['quiet', 'busy'] as const).filter((s) => results.some((r) => r.scenario === s));
}

/** Writes latest.md, latest.json and the chart, and prints the report. */
function writeOutputs(outDir: string, record: BenchRecord, chart: string | null): void {
  mkdirSync(outDir, { recursive: true });
  record.targets = checkTargets(record.results);
  if (chart) writeFileSync(join(outDir, CHART_FILE), chart);
  const scaleSection = record.scale?.length
    ? `\n\n### Scale: many timers and workers (${record.scaleSeconds ?? 10} s each in the steady state, from 12 s after the process started; CPU of the whole process; beside a C thread per worker and ptimer's design in C)\n\n${renderScale(record.scale)}\n`
    : '';
  const scaleTargets = record.scale?.length
    ? `\n${renderScaleTargets(checkScaleTargets(record.scale, record.results))}`
    : '';
  const report = renderReport({ ...record, chartFile: chart ? CHART_FILE : null }) + scaleSection + scaleTargets;
  writeFileSync(join(outDir, 'latest.md'), `## Precision benchmark\n\n${report}`);
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(record, null, 1)}\n`);
  console.log(report);
  console.error(`bench: wrote ${join(outDir, 'latest.md')}, latest.json${chart ? `, ${CHART_FILE}` : ''}`);
}

/** --rerender: the report and the chart again from latest.json, after a change to how they are drawn. */
async function rerender(outDir: string): Promise<void> {
  const file = join(outDir, 'latest.json');
  let record: BenchRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as BenchRecord;
  } catch (error) {
    console.error(`bench: --rerender needs ${file} from an earlier run: ${(error as Error).message}`);
    process.exit(2);
  }
  writeOutputs(
    outDir,
    record,
    await renderLatenessChart(record.results, CHART_PERIOD_NS, chartScenarios(record.results)),
  );
}

await main();
