/** What the figures were measured on, for the report. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';
import type { ScenarioName } from './catalog.js';
import { findOnPath } from './external-program.js';

export interface MachineFacts {
  date: string;
  nproc: number;
  kernel: string;
  node: string;
  cpuModel: string;
  /** 1-minute load average when the run began: other work on the machine skews the figures. */
  loadAverageAtStart: number;
  /** Before each scenario began (before stress-ng, for the stress scenario). */
  loadAverageBeforeScenario: Partial<Record<ScenarioName | 'scale', number>>;
  /** When the last case had run (with the stress scenario, stress-ng's own load of 2 is still in it). */
  loadAverageAtEnd?: number;
  tools: Record<string, string>;
  /** The commit measured, with "+ changes" when src/ differed from it. */
  commit: string;
}

export function loadAverage(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

export function readMachineFacts(): MachineFacts {
  let cpuModel = 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux: leave it unknown
  }
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    kernel: release(),
    node: process.version,
    cpuModel,
    loadAverageAtStart: loadAverage(),
    loadAverageBeforeScenario: {},
    commit: gitCommit(),
    tools: {
      cyclictest: toolVersion('cyclictest', ['--help'], /cyclictest V ([\d.]+)/),
      'stress-ng': toolVersion('stress-ng', ['--version'], /version ([\d.]+)/),
      cc: toolVersion('cc', ['--version'], /^(.*)$/m),
    },
  };
}

function gitCommit(): string {
  const git = (...args: string[]) =>
    execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  try {
    const head = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'src') ? `${head} + changes in src/` : head;
  } catch {
    return 'unknown (not a git work tree)';
  }
}

function toolVersion(program: string, args: string[], pattern: RegExp): string {
  if (!findOnPath(program)) return 'not installed';
  try {
    const out = execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
    return pattern.exec(out)?.[1]?.trim() ?? 'installed';
  } catch (error) {
    // cyclictest --help exits non-zero but still prints its version
    const out =
      String((error as { stdout?: string }).stdout ?? '') + String((error as { stderr?: string }).stderr ?? '');
    return pattern.exec(out)?.[1]?.trim() ?? 'installed';
  }
}
