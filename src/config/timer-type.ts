/**
 * Timer types. The number is two independent switches: bit 0 = synced pacing
 * (deadlines on a fixed grid), bit 1 = slicing (tasks spread over nslices runs).
 */
import { ConfigError } from './errors.js';
import type { TimerTypeName, TimerTypeNumber } from './types.js';

/** Indexed by type number. */
export const TIMER_TYPE_NAMES = ['basic', 'sync', 'slice', 'synced-slice'] as const satisfies readonly TimerTypeName[];

const EXPECTED = 'expected 0 (basic), 1 (sync), 2 (slice) or 3 (synced-slice), as a number or by name';

export function timerTypeFromName(name: string): TimerTypeNumber | undefined {
  const index = (TIMER_TYPE_NAMES as readonly string[]).indexOf(name);
  return index < 0 ? undefined : (index as TimerTypeNumber);
}

export function timerTypeName(type: TimerTypeNumber): TimerTypeName {
  return TIMER_TYPE_NAMES[type];
}

export function isSynced(type: TimerTypeNumber): boolean {
  return (type & 1) !== 0;
}

export function isSliced(type: TimerTypeNumber): boolean {
  return (type & 2) !== 0;
}

/** 0-3 as a number or digit string, or a type name. Throws ConfigError. */
export function parseTimerType(value: unknown, param: string): TimerTypeNumber {
  let type: number | undefined;
  if (typeof value === 'number') type = value;
  else if (typeof value === 'string') type = /^\d+$/.test(value) ? Number(value) : timerTypeFromName(value);
  if (type === 0 || type === 1 || type === 2 || type === 3) return type;
  throw new ConfigError(param, value, EXPECTED);
}
