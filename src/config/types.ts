/**
 * The shapes of a ptimer configuration: what users write (PTimerConfig, TimerObject)
 * and what validation turns it into (ResolvedConfig, ResolvedTimer).
 */

/** The four timer types. The number is two switches: bit 0 = synced pacing, bit 1 = slicing. */
export type TimerTypeNumber = 0 | 1 | 2 | 3;
export type TimerTypeName = 'basic' | 'sync' | 'slice' | 'synced-slice';

/**
 * Spin: how long a worker busy-waits before each deadline, after sleeping.
 * 'auto' follows the measured wake-up lateness (capped); a duration string ('50us', '0')
 * or a number of microseconds fixes it.
 */
export type SpinSetting = 'auto' | string | number;

/** A timer given as an object instead of the reference's `name=...;type=...` string. */
export interface TimerObject {
  name: string;
  type?: TimerTypeNumber | TimerTypeName;
  /** `100ms`, `250us`, `2s`, or `2` (seconds). A number means seconds. */
  interval?: string | number;
  nworkers?: number;
  ntasks?: number;
  nslices?: number;
  spin?: SpinSetting;
  /** Route names (named exports of the routes module). */
  start?: string;
  loop?: string;
  end?: string;
}

/** Everything a config module default-exports: the reference's parameters under their own names. */
export interface PTimerConfig {
  default_type?: TimerTypeNumber | TimerTypeName | string;
  default_interval?: string | number;
  default_nworkers?: number;
  /** ptimer's own addition: the spin used by timers that do not give one. Default 'auto'. */
  default_spin?: SpinSetting;
  /** Repeatable: `name=NAME;type=INT;interval=STR;nworkers=INT;ntasks=INT;nslices=INT`, or objects. */
  timer?: string | TimerObject | Array<string | TimerObject>;
  /** Repeatable: `timer=NAME;route=ROUTE`. */
  start?: string | string[];
  loop?: string | string[];
  end?: string | string[];
}

/** How a worker spins before a deadline, resolved. */
export type ResolvedSpin =
  | { mode: 'auto'; capNs: number }
  | { mode: 'fixed'; ns: number };

/** A timer with every default filled in and every name checked. */
export interface ResolvedTimer {
  name: string;
  type: TimerTypeNumber;
  typeName: TimerTypeName;
  /** The interval as text in its canonical form, e.g. `100ms`. */
  interval: string;
  intervalNs: number;
  nworkers: number;
  ntasks: number;
  nslices: number;
  spin: ResolvedSpin;
  start: string | null;
  loop: string;
  end: string | null;
}

export interface ResolvedConfig {
  timers: ResolvedTimer[];
  /** Non-fatal findings, e.g. an unknown attribute in a timer string (ignored, as the reference does). */
  warnings: string[];
}
