/**
 * One logger setup for the main thread and every worker: pino, one JSON object per line,
 * or readable lines (pino-pretty) when asked or when stdout is a terminal.
 * Writes are synchronous so that a worker dying right after a log line does not lose it.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };
export type LogLevel = LevelWithSilent;

export interface LogOptions {
  /** Default `info`. `silent` turns logging off. */
  level?: LogLevel;
  /** Readable lines instead of JSON. Default: when stdout is a terminal. */
  pretty?: boolean;
}

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createLogger(options: LogOptions = {}, bindings: Record<string, unknown> = {}): Logger {
  const level = options.level ?? 'info';
  const usePretty = options.pretty ?? Boolean(process.stdout.isTTY);
  const destination = usePretty
    ? pretty({ sync: true, colorize: Boolean(process.stdout.isTTY), ignore: 'pid,hostname', destination: 1 })
    : pino.destination({ fd: 1, sync: true });
  return pino({ level, base: { pid: process.pid, ...bindings } }, destination);
}
