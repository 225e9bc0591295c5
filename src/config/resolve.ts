/**
 * resolveConfig: a config as users write it (the reference's strings, objects, or both)
 * to ResolvedTimers with every default filled in and every name checked.
 *
 * All-or-nothing: it returns a fresh value or throws the first ConfigError, and it never
 * mutates its input. Every error names the parameter (`default_nworkers`,
 * `timer "queue": interval`, `loop[2]`), the value given and what is allowed.
 *
 * Checks run in this order: top-level keys, defaults, timers (in order; names unique),
 * start/loop/end routes (timer defined, one route of each kind per timer, a function of
 * the routes module when its exports are given), then a loop route for every timer.
 */
import { availableParallelism } from 'node:os';
import { parseAttributeList } from './attribute-list.js';
import { ConfigError } from './errors.js';
import { parseDuration, parseInterval, type Duration } from './interval.js';
import { parseTimerType, timerTypeName } from './timer-type.js';
import type { ResolvedConfig, ResolvedSpin, ResolvedTimer, TimerTypeNumber } from './types.js';

export { TIMER_TYPE_NAMES, isSliced, isSynced, timerTypeFromName, timerTypeName } from './timer-type.js';

export interface ResolveOptions {
  /** The routes module's exports; when given, every route must name one of its functions. */
  routeExports?: Record<string, unknown>;
  /** Where the routes module came from (a path or URL), for error messages. */
  source?: string;
}

export const CONFIG_KEYS = [
  'default_type',
  'default_interval',
  'default_nworkers',
  'default_spin',
  'timer',
  'start',
  'loop',
  'end',
] as const;
type ConfigKey = (typeof CONFIG_KEYS)[number];

/** The attributes of a timer string; other keys there are warned about and ignored, as the reference does. */
const TIMER_ATTRIBUTES = ['name', 'type', 'interval', 'nworkers', 'ntasks', 'nslices', 'spin'] as const;
const ROUTE_KINDS = ['start', 'loop', 'end'] as const;
type RouteKind = (typeof ROUTE_KINDS)[number];
/** The keys of a timer object; other keys there are errors (typo protection in code). */
const TIMER_OBJECT_KEYS = [...TIMER_ATTRIBUTES, ...ROUTE_KINDS] as const;
type TimerKey = (typeof TIMER_OBJECT_KEYS)[number];

/** Cap of the 'auto' spin, which follows the measured wake-up lateness (DESIGN.md: about its p90). */
export const AUTO_SPIN_CAP_NS = 200_000;
/** A fixed spin beyond this only burns a core. */
const MAX_FIXED_SPIN_NS = 1_000_000_000;
/** The reference keeps counts in a C int. */
const MAX_COUNT = 2 ** 31 - 1;

const TIMER_NAME = /^[A-Za-z0-9_.-]+$/;
const TIMER_NAME_EXPECTED = 'expected a non-empty name of letters, digits, "_", "-" and "."';
/** A route is a named export of the routes module, so a JavaScript identifier. */
const ROUTE_NAME = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u;
const ROUTE_NAME_EXPECTED =
  'expected a route name: a function the routes module exports (a JavaScript identifier, e.g. QUEUE_LOOP)';
const ROUTE_ASSIGNMENT_EXPECTED = 'expected "timer=NAME;route=ROUTE"';
const TIMER_EXPECTED =
  'expected a timer string "name=NAME;type=INT;interval=STR;nworkers=INT;ntasks=INT;nslices=INT" ' +
  'or an object { name, type?, interval?, nworkers?, ntasks?, nslices?, spin?, start?, loop?, end? }';
const SPIN_EXPECTED =
  'expected "auto", a duration from 0 to 1s (e.g. 0, 50us, 200us) or a number of microseconds (e.g. 50)';

interface Defaults {
  type: TimerTypeNumber;
  interval: Duration;
  nworkers: number;
  spin: ResolvedSpin;
}

/** A timer being resolved: its routes may still be missing. */
interface TimerDraft {
  timer: Omit<ResolvedTimer, 'loop'> & { loop: string | null };
  /** Where it was defined, e.g. `timer[0]`. */
  definedAt: string;
  /** Where each route came from, for the message about a second one. */
  routeOrigin: Record<RouteKind, string | null>;
  /** Keys of its timer string that were not attributes. */
  ignoredKeys: string[];
}

export function resolveConfig(config: unknown, options: ResolveOptions = {}): ResolvedConfig {
  const params = readParams(config);
  const defaults = resolveDefaults(params);
  const warnings: string[] = [];
  const drafts = new Map<string, TimerDraft>();
  for (const { item, param } of entriesOf(params.timer, 'timer')) {
    const draft = resolveTimer(item, param, defaults, drafts, warnings, options);
    drafts.set(draft.timer.name, draft);
  }
  for (const kind of ROUTE_KINDS) {
    for (const { item, param } of entriesOf(params[kind], kind)) {
      assignRoute(kind, item, param, drafts, options);
    }
  }
  const timers: ResolvedTimer[] = [];
  for (const draft of drafts.values()) {
    const { loop } = draft.timer;
    if (loop === null) throw missingLoopRoute(draft);
    timers.push({ ...draft.timer, loop });
  }
  return { timers, queues: [], tables: [], runtime: DEFAULT_RUNTIME(), warnings };
}

/** Runtime settings when the config gives none (placeholder until the parameters are parsed). */
function DEFAULT_RUNTIME(): ResolvedConfig['runtime'] {
  return {
    threads: availableParallelism(),
    restartLimit: { deaths: 5, windowMs: 60_000 },
    startupTimeoutMs: 10_000,
    commandTimeoutMs: 5_000,
    stuckAfterIntervals: 10,
  };
}

function readParams(config: unknown): Partial<Record<ConfigKey, unknown>> {
  if (!isPlainObject(config)) {
    throw new ConfigError('config', config, `expected an object with the parameters ${CONFIG_KEYS.join(', ')}`);
  }
  for (const key of Object.keys(config)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError('config', key, `not a ptimer parameter; the parameters are ${CONFIG_KEYS.join(', ')}`);
    }
  }
  return config;
}

function resolveDefaults(params: Partial<Record<ConfigKey, unknown>>): Defaults {
  const { default_type, default_interval, default_nworkers, default_spin } = params;
  return {
    type: default_type === undefined ? 1 : parseTimerType(default_type, 'default_type'),
    interval: parseInterval(default_interval === undefined ? '1s' : default_interval, 'default_interval'),
    nworkers: default_nworkers === undefined ? 1 : parseCount(default_nworkers, 'default_nworkers', 1),
    spin: parseSpin(default_spin === undefined ? 'auto' : default_spin, 'default_spin'),
  };
}

/** A repeatable parameter's items, each with its own name for messages: `loop` alone, `loop[2]` in an array. */
function entriesOf(value: unknown, param: string): Array<{ item: unknown; param: string }> {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.map((item, i) => ({ item, param: `${param}[${i}]` }));
  return [{ item: value, param }];
}

function resolveTimer(
  item: unknown,
  param: string,
  defaults: Defaults,
  drafts: ReadonlyMap<string, TimerDraft>,
  warnings: string[],
  options: ResolveOptions,
): TimerDraft {
  const { fields, ignoredKeys } = typeof item === 'string' ? readTimerString(item, param) : readTimerObject(item, param);
  const name = readTimerName(fields.name, item, param);
  const first = drafts.get(name);
  if (first) {
    throw new ConfigError(`${param}: name`, name, `timer "${name}" is already defined (${first.definedAt}); names must be unique`);
  }
  for (const key of ignoredKeys) warnings.push(`timer "${name}": unknown attribute "${key}" ignored`);

  const at = `timer "${name}"`;
  const type = fields.type === undefined ? defaults.type : parseTimerType(fields.type, `${at}: type`);
  const interval = fields.interval === undefined ? defaults.interval : parseInterval(fields.interval, `${at}: interval`);
  const draft: TimerDraft = {
    timer: {
      name,
      type,
      typeName: timerTypeName(type),
      interval: interval.text,
      intervalNs: interval.ns,
      nworkers: fields.nworkers === undefined ? defaults.nworkers : parseCount(fields.nworkers, `${at}: nworkers`, 1),
      ntasks: fields.ntasks === undefined ? 0 : parseCount(fields.ntasks, `${at}: ntasks`, 0),
      nslices: fields.nslices === undefined ? 1 : parseCount(fields.nslices, `${at}: nslices`, 1),
      spin: fields.spin === undefined ? { ...defaults.spin } : parseSpin(fields.spin, `${at}: spin`),
      thread: { kind: 'pool' },
      paused: false,
      limit: null,
      start: null,
      loop: null,
      end: null,
    },
    definedAt: param,
    routeOrigin: { start: null, loop: null, end: null },
    ignoredKeys,
  };
  for (const kind of ROUTE_KINDS) {
    if (fields[kind] === undefined) continue;
    const route = parseRouteName(fields[kind], `${at}: ${kind}`);
    checkRouteExport(route, `${at}: ${kind}`, options);
    draft.timer[kind] = route;
    draft.routeOrigin[kind] = `given in ${param}`;
  }
  return draft;
}

interface TimerFields {
  fields: Partial<Record<TimerKey, unknown>>;
  ignoredKeys: string[];
}

function readTimerString(text: string, param: string): TimerFields {
  const fields: Partial<Record<TimerKey, unknown>> = {};
  const ignoredKeys: string[] = [];
  for (const { key, value } of parseAttributeList(text, param)) {
    if ((TIMER_ATTRIBUTES as readonly string[]).includes(key)) fields[key as TimerKey] = value;
    else ignoredKeys.push(key);
  }
  return { fields, ignoredKeys };
}

function readTimerObject(item: unknown, param: string): TimerFields {
  if (!isPlainObject(item)) throw new ConfigError(param, item, TIMER_EXPECTED);
  const label = typeof item.name === 'string' && TIMER_NAME.test(item.name) ? `timer "${item.name}"` : param;
  const fields: Partial<Record<TimerKey, unknown>> = {};
  for (const [key, value] of Object.entries(item)) {
    if (!(TIMER_OBJECT_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(label, key, `not a timer key; the keys are ${TIMER_OBJECT_KEYS.join(', ')}`);
    }
    if (value !== undefined) fields[key as TimerKey] = value;
  }
  return { fields, ignoredKeys: [] };
}

function readTimerName(value: unknown, item: unknown, param: string): string {
  if (value === undefined || value === '') {
    throw new ConfigError(param, item, `a timer needs a name (name=NAME in a string, name in an object): ${TIMER_NAME_EXPECTED}`);
  }
  if (typeof value !== 'string' || !TIMER_NAME.test(value)) {
    throw new ConfigError(`${param}: name`, value, TIMER_NAME_EXPECTED);
  }
  return value;
}

/** A `timer=NAME;route=ROUTE` item of start, loop or end, given to its timer. */
function assignRoute(
  kind: RouteKind,
  item: unknown,
  param: string,
  drafts: ReadonlyMap<string, TimerDraft>,
  options: ResolveOptions,
): void {
  const { timerName, route } = readRouteAssignment(item, param);
  const draft = drafts.get(timerName);
  if (!draft) {
    const defined = drafts.size === 0 ? 'no timers are defined' : `the timers are ${[...drafts.keys()].join(', ')}`;
    throw new ConfigError(`${param}: timer`, timerName, `no timer of that name is defined; ${defined}`);
  }
  const existing = draft.timer[kind];
  if (existing !== null) {
    const startHint =
      kind === 'loop' && draft.timer.start === null ? `; if "${existing}" is meant as the start route, give it under start` : '';
    throw new ConfigError(
      param,
      item,
      `timer "${timerName}" already has ${kind} route "${existing}" (${draft.routeOrigin[kind]}); ` +
        `a timer has one ${kind} route${startHint}`,
    );
  }
  checkRouteExport(route, `${param}: route`, options);
  draft.timer[kind] = route;
  draft.routeOrigin[kind] = `given in ${param}`;
}

function readRouteAssignment(item: unknown, param: string): { timerName: string; route: string } {
  if (typeof item !== 'string') throw new ConfigError(param, item, `${ROUTE_ASSIGNMENT_EXPECTED} (a string)`);
  let timerName = '';
  let route = '';
  for (const { key, value } of parseAttributeList(item, param)) {
    if (key === 'timer') timerName = value;
    else if (key === 'route') route = value;
    else throw new ConfigError(param, item, `unknown key "${key}": ${ROUTE_ASSIGNMENT_EXPECTED}, with the keys timer and route only`);
  }
  if (timerName === '') throw new ConfigError(param, item, `timer=NAME is missing or empty: ${ROUTE_ASSIGNMENT_EXPECTED}`);
  if (route === '') throw new ConfigError(param, item, `route=ROUTE is missing or empty: ${ROUTE_ASSIGNMENT_EXPECTED}`);
  return { timerName, route: parseRouteName(route, `${param}: route`) };
}

function parseRouteName(value: unknown, param: string): string {
  if (typeof value !== 'string' || !ROUTE_NAME.test(value)) throw new ConfigError(param, value, ROUTE_NAME_EXPECTED);
  return value;
}

function checkRouteExport(route: string, param: string, options: ResolveOptions): void {
  const exported = options.routeExports;
  if (exported === undefined) return;
  if (Object.hasOwn(exported, route) && typeof exported[route] === 'function') return;
  const module = options.source === undefined ? 'the routes module' : `the routes module ${options.source}`;
  const problem = Object.hasOwn(exported, route)
    ? `${module} exports "${route}" as a ${typeof exported[route]}, not a function`
    : `${module} exports no function "${route}"`;
  const functions = Object.keys(exported)
    .filter((key) => key !== 'default' && typeof exported[key] === 'function')
    .sort();
  const available = functions.length === 0 ? 'it exports no functions' : `its functions are ${functions.join(', ')}`;
  throw new ConfigError(param, route, `${problem}; ${available}`);
}

function missingLoopRoute(draft: TimerDraft): ConfigError {
  const { name } = draft.timer;
  const ignoredHint = draft.ignoredKeys.includes('loop')
    ? '; the loop attribute in its timer string was ignored: routes go in the loop parameter'
    : '';
  const fix = `add loop: ["timer=${name};route=NAME"] to the config, or loop: "NAME" to its timer object${ignoredHint}`;
  const error = new ConfigError(`timer "${name}": loop`, undefined, `every timer needs a loop route; ${fix}`);
  error.message = `timer "${name}": no loop route; ${fix}`;
  return error;
}

/** Counts (nworkers, ntasks, nslices): an integer as a number or a digit string. */
function parseCount(value: unknown, param: string, min: 0 | 1): number {
  const count = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (Number.isInteger(count) && count >= min && count <= MAX_COUNT) return count;
  const what = min === 0 ? 'an integer >= 0' : 'a positive integer';
  throw new ConfigError(param, value, `expected ${what} (${min} to ${MAX_COUNT})`);
}

/** 'auto', a duration string (zero allowed), or a number of microseconds. */
function parseSpin(value: unknown, param: string): ResolvedSpin {
  if (value === 'auto') return { mode: 'auto', capNs: AUTO_SPIN_CAP_NS };
  let ns: number;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    ns = value * 1_000;
  } else if (typeof value === 'string' && /^\d/.test(value)) {
    ns = parseDuration(value, param, { allowZero: true }).ns;
  } else {
    throw new ConfigError(param, value, SPIN_EXPECTED);
  }
  if (ns > MAX_FIXED_SPIN_NS) {
    // In a string, no unit means seconds: `spin=50` is 50 s, not 50 us.
    const unitHint = typeof value === 'string' && /^\d+$/.test(value) ? `; no unit means seconds: write ${value}us` : '';
    throw new ConfigError(param, value, `${SPIN_EXPECTED}; at most 1s${unitHint}`);
  }
  return { mode: 'fixed', ns };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
