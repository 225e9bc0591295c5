/** The command line of bench/run.ts. */
import { SCALE_CASES } from './scale-cases.js';
import {
  ALL_APPROACH_NAMES,
  DEFAULT_PERIODS_NS,
  SCENARIO_NAMES,
  parsePeriod,
  type ApproachName,
  type ScenarioName,
} from './catalog.js';

export interface BenchOptions {
  durationS: number;
  approaches: ApproachName[];
  periodsNs: number[];
  scenarios: ScenarioName[];
  outDir: string;
  /** Render the report and chart again from OUT/latest.json instead of measuring. */
  rerender: boolean;
  /** The arguments as given, for the report's "command" line. */
  argv: string[];
  /** Cases of the scale scenario to run (bench/scale.ts), none when empty. */
  scale: string[];
}

export const HELP = `usage: npm run bench -- [options]
       node --import tsx bench/run.ts [options]   (after npm run build)

Measures how precisely each approach keeps a period, one case (approach x period x scenario)
at a time, each in its own process; then ptimer alone with 8 workers. Writes a markdown table
(also printed), latest.json and lateness-1ms.svg to the output directory.

options:
  --quick               1 s per case instead of 10 s
  --duration SECONDS    seconds per case (default 10)
  --only LIST           comma-separated approach names and/or periods, e.g.
                        --only ptimer-sync,setInterval,1ms   (default: all of each)
                        approaches: ${ALL_APPROACH_NAMES.join(', ')}
                        periods: 100us, 1ms, 10ms (any NNus/NNms/NNs is accepted)
  --scenario LIST       comma-separated, of: ${SCENARIO_NAMES.join(', ')} (default: all)
  --scale LIST          cases of the scale scenario, comma-separated, of:
                        ${SCALE_CASES.map((c) => c.name).join(', ')}; or "none" (default: all)
  --out DIR             output directory (default bench/results)
  --rerender            measure nothing: draw the report and chart again from the
                        output directory's latest.json
  --help                this text`;

export class UsageError extends Error {}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  let durationS = 10;
  let scale: string[] = SCALE_CASES.map((c) => c.name);
  let only: string[] = [];
  let scenarios: ScenarioName[] = [...SCENARIO_NAMES];
  let outDir = 'bench/results';
  let rerender = false;
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case '--help':
      case '-h':
        return 'help';
      case '--quick':
        durationS = 1;
        break;
      case '--duration': {
        durationS = Number(value(i++, arg));
        if (!(durationS > 0 && durationS <= 3600))
          throw new UsageError(`--duration must be seconds between 0 and 3600, not ${argv[i]}`);
        break;
      }
      case '--only':
        only = value(i++, arg)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '--scenario': {
        const names = value(i++, arg)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        for (const name of names) {
          if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
            throw new UsageError(`unknown scenario "${name}": use ${SCENARIO_NAMES.join(', ')}`);
          }
        }
        scenarios = SCENARIO_NAMES.filter((s) => names.includes(s));
        break;
      }
      case '--rerender':
        rerender = true;
        break;
      case '--out':
        outDir = value(i++, arg);
        break;
      case '--scale': {
        const names = value(i++, arg)
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
        scale = names.includes('none') ? [] : names;
        const unknown = scale.filter((n) => !SCALE_CASES.some((c) => c.name === n));
        if (unknown.length > 0)
          throw new UsageError(
            `--scale: unknown case "${unknown[0]}": use ${SCALE_CASES.map((c) => c.name).join(', ')} or none`,
          );
        break;
      }
      default:
        throw new UsageError(`unknown option "${arg}" (see --help)`);
    }
  }

  const approaches: ApproachName[] = [];
  const periodsNs: number[] = [];
  for (const item of only) {
    if ((ALL_APPROACH_NAMES as readonly string[]).includes(item)) approaches.push(item as ApproachName);
    else {
      const period = parsePeriod(item);
      if (period === null) {
        throw new UsageError(
          `--only: "${item}" is neither an approach (${ALL_APPROACH_NAMES.join(', ')}) nor a period like 1ms`,
        );
      }
      if (period < 10_000)
        throw new UsageError(`--only: period ${item} is below 10us, which no approach here can keep`);
      periodsNs.push(period);
    }
  }
  return {
    durationS,
    approaches: approaches.length ? approaches : [...ALL_APPROACH_NAMES],
    periodsNs: periodsNs.length ? [...new Set(periodsNs)].sort((a, b) => a - b) : [...DEFAULT_PERIODS_NS],
    scenarios,
    outDir,
    rerender,
    argv,
    scale,
  };
}
