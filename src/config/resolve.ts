/**
 * resolveConfig: a config as users write it (the reference's strings, objects, or both)
 * to ResolvedTimers with every default filled in and every name checked.
 *
 * All-or-nothing: it returns a fresh value or throws, and it never mutates its input. It
 * throws every problem it found, not the first: parts that do not depend on each other are
 * checked one by one (Problems), and a part that depends on one refused is not judged again
 * (a route of a timer whose definition was refused), so one mistake neither hides another nor
 * brings a second, false one. Every error names the parameter (`default_nworkers`,
 * `timer "queue": interval`, `loop[2]`), the value given and what is allowed.
 *
 * Checks run in this order: top-level keys, defaults, runtime settings, timers (in order;
 * names unique; counts bounded, limits.ts), start/loop/end routes (timer defined, one route
 * of each kind per timer, a function of the routes module when its exports are given), the
 * limiters and every timer's `limit=NAME` (limiter-params.ts), a loop route for every timer,
 * then queues and tables (data-params.ts).
 *
 * The config is first read into plain data (plain-data.ts), so that sparse arrays, getters
 * that throw, proxies and other oddities of user code become ConfigErrors, never TypeErrors.
 * Each ConfigError carries `origin` (the top-level key and item index it is about), which a
 * Kamailio-style file maps back to its modparam line.
 */
import { didYouMean } from '../suggest.js';
import { parseAttributeList } from './attribute-list.js';
import { ROUTE_KINDS, type RouteKind } from '../core/words.js';
import { checkClusterMembers, clusterWarnings, resolveCluster, type ClusterOverride } from './cluster-params.js';
import { resolveQueue, resolveTable } from './data-params.js';
import { MAX_LIMITERS, bindLimit, parseTimerLimit, resolveLimiter } from './limiter-params.js';
import { ConfigError, ConfigErrors } from './errors.js';
import { parseDuration, parseInterval, type Duration } from './interval.js';
import {
  MAX_NSLICES,
  MAX_NTASKS,
  MAX_NWORKERS,
  MAX_QUEUES,
  MAX_STRING_CHARS,
  MAX_TABLES,
  MAX_TIMERS,
  MAX_TOTAL_QUEUE_BYTES,
  MAX_TOTAL_WORKERS,
} from './limits.js';
import { readPlainConfig } from './plain-data.js';
import { RUNTIME_KEYS, resolveRuntime } from './runtime-params.js';
import { parseTimerType, timerTypeName } from './timer-type.js';
import type {
  ResolvedConfig,
  ResolvedLimiter,
  ResolvedQueue,
  ResolvedSpin,
  ResolvedTable,
  ResolvedThread,
  ResolvedTimer,
  TimerTypeNumber,
} from './types.js';
import { NAME_EXPECTED, isName, isPlainObject, numberOrDigits, objectFields, parseFlag, parseName } from './values.js';

export { TIMER_TYPE_NAMES, isSliced, isSynced, timerTypeFromName, timerTypeName } from './timer-type.js';

export interface ResolveOptions {
  /** The routes module's exports; when given, every route must name one of its functions. */
  routeExports?: Record<string, unknown>;
  /** Where the routes module came from (a path or URL), for error messages. */
  source?: string;
  /** `ptimer run --cluster URL --node ID`: override the config's cluster url and node. */
  clusterOverride?: ClusterOverride;
}

export const CONFIG_KEYS = [
  'default_type',
  'default_interval',
  'default_nworkers',
  'default_spin',
  ...RUNTIME_KEYS,
  'timer',
  'start',
  'loop',
  'end',
  'queue',
  'table',
  'cluster',
  'limiter',
] as const;
type ConfigKey = (typeof CONFIG_KEYS)[number];

/** The attributes of a timer string; other keys there are warned about and ignored, as the reference does. */
const TIMER_ATTRIBUTES = [
  'name',
  'type',
  'interval',
  'nworkers',
  'ntasks',
  'nslices',
  'spin',
  'thread',
  'paused',
  'limit',
  'cluster',
] as const;
/** The keys of a timer object; other keys there are errors (typo protection in code). */
const TIMER_OBJECT_KEYS = [...TIMER_ATTRIBUTES, ...ROUTE_KINDS] as const;
type TimerKey = (typeof TIMER_OBJECT_KEYS)[number];

/** Cap of the 'auto' spin, which follows the measured wake-up lateness (DESIGN.md: about its p90). */
export const AUTO_SPIN_CAP_NS = 200_000;
/** A fixed spin beyond this only burns a core. */
const MAX_FIXED_SPIN_NS = 1_000_000_000;
const TIMER_NAME_EXPECTED = NAME_EXPECTED;
/** A route is a named export of the routes module, so a JavaScript identifier. */
const ROUTE_NAME = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u;
const ROUTE_NAME_EXPECTED =
  'expected a route name: a function the routes module exports (a JavaScript identifier, e.g. QUEUE_LOOP)';
const ROUTE_ASSIGNMENT_EXPECTED = 'expected "timer=NAME;route=ROUTE"';
const TIMER_EXPECTED =
  'expected a timer string "name=NAME;type=INT;interval=STR;nworkers=INT;ntasks=INT;nslices=INT" ' +
  'or an object { name, type?, interval?, nworkers?, ntasks?, nslices?, spin?, thread?, paused?, limit?, cluster?, start?, loop?, end? }';
const THREAD_EXPECTED = `expected "pool" (the shared pool, the default), "own" (a thread per worker) or a group name: ${NAME_EXPECTED}`;
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
  /** Its index in the timer parameter. */
  index: number;
  /** Where each route came from, for the message about a second one. */
  routeOrigin: Record<RouteKind, string | null>;
  /** Keys of its timer string that were not attributes. */
  ignoredKeys: string[];
}

export function resolveConfig(config: unknown, options: ResolveOptions = {}): ResolvedConfig {
  const problems = new Problems();
  const params = readParams(config, problems);
  const defaults = resolveDefaults(params, problems);
  // The runtime's fields are read only when no problem was found, so a failed one may stay undefined.
  const runtime = resolveRuntime(params, (key, fn) => problems.check({ key }, fn) as ReturnType<typeof fn>);
  const warnings: string[] = [];
  const drafts = new Map<string, TimerDraft>();
  let totalWorkers = 0;
  let timersFailed = false;
  for (const { item, param, index } of problems.entries(params.timer, 'timer', MAX_TIMERS, 'timers')) {
    const draft = problems.check({ key: 'timer', index }, () => {
      const resolved = resolveTimer(item, param, index, defaults, drafts, warnings, options);
      if (totalWorkers + resolved.timer.nworkers > MAX_TOTAL_WORKERS) {
        throw new ConfigError(
          `timer "${resolved.timer.name}": nworkers`,
          resolved.timer.nworkers,
          `the timers have ${totalWorkers + resolved.timer.nworkers} workers in all, up to this one; at most ${MAX_TOTAL_WORKERS} workers in all`,
        );
      }
      return resolved;
    });
    if (draft === undefined) {
      timersFailed = true;
      continue;
    }
    totalWorkers += draft.timer.nworkers;
    drafts.set(draft.timer.name, draft);
  }
  let routesFailed = false;
  for (const kind of ROUTE_KINDS) {
    for (const { item, param, index } of problems.entries(params[kind], kind, MAX_TIMERS, `${kind} routes`)) {
      const done = problems.check({ key: kind, index }, () => {
        // A route for a timer whose own definition failed is not a second problem.
        if (timersFailed && !drafts.has(readRouteAssignment(item, param).timerName)) return true;
        assignRoute(kind, item, param, drafts, options);
        return true;
      });
      if (done === undefined) routesFailed = true;
    }
  }
  const limiters = resolveNamed(params.limiter, 'limiter', MAX_LIMITERS, resolveLimiter, problems);
  bindTimerLimits(drafts, limiters, problems);
  const timers: ResolvedTimer[] = [];
  for (const draft of drafts.values()) {
    const { loop } = draft.timer;
    if (loop !== null) timers.push({ ...draft.timer, loop });
    // A loop route given but refused was reported already.
    else if (!routesFailed) problems.check({ key: 'timer', index: draft.index }, () => missingLoopRoute(draft));
  }
  const queues = resolveQueues(params.queue, warnings, problems);
  const tables = resolveTables(params.table, warnings, problems);
  const cluster = problems.check({ key: 'cluster' }, () => resolveCluster(params.cluster, options.clusterOverride));
  problems.throwIfAny();
  checkClusterMembers(cluster ?? null, timers, queues);
  warnings.push(...clusterWarnings(timers, queues));
  return {
    timers,
    queues,
    tables,
    ...(limiters.length > 0 ? { limiters } : {}),
    runtime,
    ...(cluster ? { cluster } : {}),
    warnings,
  };
}

/**
 * The problems of one config. Parts that do not depend on each other (each top-level key, each
 * timer, route, queue, table and limiter) are checked one by one and their ConfigErrors kept, so
 * that one mistake does not hide the next; resolveConfig throws them together at the end (one
 * as itself, several as a ConfigErrors), and never returns a config that had any.
 */
class Problems {
  private readonly errors: ConfigError[] = [];

  /** Runs `fn` within `origin`; a ConfigError it throws (or returns) is kept and undefined returned. */
  check<T>(origin: { key: string; index?: number }, fn: () => T): T | undefined {
    try {
      const result = within(origin, fn);
      if (result instanceof ConfigError) {
        this.errors.push(result);
        return undefined;
      }
      return result;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.errors.push(error);
      return undefined;
    }
  }

  /** entriesOf, with a refused list kept as a problem (and no entries). */
  entries(
    value: unknown,
    param: string,
    max: number,
    what: string,
  ): Array<{ item: unknown; param: string; index: number }> {
    return this.check({ key: param }, () => entriesOf(value, param, max, what)) ?? [];
  }

  /** Keeps a problem found outside `check`. */
  keep(error: ConfigError): void {
    this.errors.push(error);
  }

  throwIfAny(): void {
    const [first, ...rest] = this.errors;
    if (first === undefined) return;
    throw rest.length === 0 ? first : new ConfigErrors(this.errors);
  }
}

/** Runs `fn`; a ConfigError it throws gets `origin` (unless it has one). Also wraps a returned error. */
function within<T>(origin: { key: string; index?: number }, fn: () => T): T {
  try {
    const result = fn();
    if (result instanceof ConfigError && result.origin === undefined) result.origin = origin;
    return result;
  } catch (error) {
    if (error instanceof ConfigError && error.origin === undefined) error.origin = origin;
    throw error;
  }
}

/**
 * The queues or tables of the config: each resolved by `one`, names unique (the error names the
 * first), then `check` (the queues' bytes in all); errors carry the item's index.
 */
function resolveNamed<T extends { name: string }>(
  value: unknown,
  key: 'queue' | 'table' | 'limiter',
  max: number,
  one: (item: unknown, param: string) => T,
  problems: Problems,
  check: (resolved: T) => void = () => {},
): T[] {
  const list: T[] = [];
  const firstAt = new Map<string, string>();
  for (const { item, param, index } of problems.entries(value, key, max, `${key}s`)) {
    problems.check({ key, index }, () => {
      const resolved = one(item, param);
      const first = firstAt.get(resolved.name);
      if (first !== undefined) {
        throw new ConfigError(
          `${param}: name`,
          resolved.name,
          `${key} "${resolved.name}" is already defined (${first}); names must be unique`,
        );
      }
      check(resolved);
      firstAt.set(resolved.name, param);
      list.push(resolved);
    });
  }
  return list;
}

function resolveQueues(value: unknown, warnings: string[], problems: Problems): ResolvedQueue[] {
  let totalBytes = 0;
  return resolveNamed(
    value,
    'queue',
    MAX_QUEUES,
    (item, param) => resolveQueue(item, param, warnings),
    problems,
    (queue) => {
      totalBytes += queue.maxBytes;
      if (totalBytes > MAX_TOTAL_QUEUE_BYTES) {
        throw new ConfigError(
          `queue "${queue.name}": maxBytes`,
          queue.maxBytes,
          `the queues hold ${totalBytes} bytes in all, up to this one; at most ${MAX_TOTAL_QUEUE_BYTES} (4 GiB) in all`,
        );
      }
    },
  );
}

function resolveTables(value: unknown, warnings: string[], problems: Problems): ResolvedTable[] {
  return resolveNamed(value, 'table', MAX_TABLES, (item, param) => resolveTable(item, param, warnings), problems);
}

function readParams(config: unknown, problems: Problems): Partial<Record<ConfigKey, unknown>> {
  // Not an object: nothing else can be checked.
  const given = readPlainConfig(config, `expected an object with the parameters ${CONFIG_KEYS.join(', ')}`);
  const params: Partial<Record<ConfigKey, unknown>> = {};
  for (const [key, value] of Object.entries(given)) {
    if (!isConfigKey(key)) {
      problems.keep(
        new ConfigError(
          'config',
          key,
          `not a ptimer parameter${didYouMean(key, CONFIG_KEYS)}; the parameters are ${CONFIG_KEYS.join(', ')}`,
        ),
      );
      continue;
    }
    const bounded = problems.check({ key }, () => {
      if (Array.isArray(value)) value.forEach((item, index) => checkString(item, `${key}[${index}]`, { key, index }));
      else checkString(value, key, { key });
      return true;
    });
    if (bounded) params[key] = value;
  }
  return params;
}

function isConfigKey(key: string): key is ConfigKey {
  return (CONFIG_KEYS as readonly string[]).includes(key);
}

/** Every string the resolver reads is bounded (MAX_STRING_CHARS). */
function checkString(value: unknown, param: string, origin: { key: string; index?: number }): void {
  if (typeof value === 'string' && value.length > MAX_STRING_CHARS) {
    const error = new ConfigError(param, value, `a string of at most ${MAX_STRING_CHARS} characters`);
    error.origin = origin;
    throw error;
  }
}

/** The defaults; one that is refused is kept as a problem and its built-in value used meanwhile. */
function resolveDefaults(params: Partial<Record<ConfigKey, unknown>>, problems: Problems): Defaults {
  const { default_type, default_interval, default_nworkers, default_spin } = params;
  const type = problems.check({ key: 'default_type' }, () =>
    default_type === undefined ? 1 : parseTimerType(default_type, 'default_type'),
  );
  const interval = problems.check({ key: 'default_interval' }, () =>
    parseInterval(default_interval ?? '1s', 'default_interval'),
  );
  const nworkers = problems.check({ key: 'default_nworkers' }, () =>
    default_nworkers === undefined ? 1 : parseCount(default_nworkers, 'default_nworkers', 1, MAX_NWORKERS),
  );
  const spin = problems.check({ key: 'default_spin' }, () => parseSpin(default_spin ?? 'auto', 'default_spin'));
  return {
    type: type ?? 1,
    interval: interval ?? parseInterval('1s', 'default_interval'),
    nworkers: nworkers ?? 1,
    spin: spin ?? parseSpin('auto', 'default_spin'),
  };
}

/** A repeatable parameter's items, each with its own name for messages: `loop` alone, `loop[2]` in an array. */
function entriesOf(
  value: unknown,
  param: string,
  max: number,
  what: string,
): Array<{ item: unknown; param: string; index: number }> {
  if (value === undefined) return [];
  if (Array.isArray(value)) {
    if (value.length > max) {
      const error = new ConfigError(param, value, `at most ${max} ${what}`);
      error.message = `${param}: ${value.length} ${what} is not valid; at most ${max} ${what}`;
      error.origin = { key: param };
      throw error;
    }
    return (value as unknown[]).map((item, i) => ({ item, param: `${param}[${i}]`, index: i }));
  }
  return [{ item: value, param, index: 0 }];
}

function resolveTimer(
  item: unknown,
  param: string,
  index: number,
  defaults: Defaults,
  drafts: ReadonlyMap<string, TimerDraft>,
  warnings: string[],
  options: ResolveOptions,
): TimerDraft {
  const { fields, ignoredKeys } =
    typeof item === 'string' ? readTimerString(item, param) : readTimerObject(item, param);
  const name = readTimerName(fields.name, item, param);
  const first = drafts.get(name);
  if (first) {
    throw new ConfigError(
      `${param}: name`,
      name,
      `timer "${name}" is already defined (${first.definedAt}); names must be unique`,
    );
  }
  for (const key of ignoredKeys)
    warnings.push(`timer "${name}": unknown attribute "${key}" ignored${didYouMean(key, TIMER_ATTRIBUTES)}`);

  const at = `timer "${name}"`;
  const type = fields.type === undefined ? defaults.type : parseTimerType(fields.type, `${at}: type`);
  const interval =
    fields.interval === undefined ? defaults.interval : parseInterval(fields.interval, `${at}: interval`);
  const draft: TimerDraft = {
    timer: {
      name,
      type,
      typeName: timerTypeName(type),
      interval: interval.text,
      intervalNs: interval.ns,
      nworkers:
        fields.nworkers === undefined
          ? defaults.nworkers
          : parseCount(fields.nworkers, `${at}: nworkers`, 1, MAX_NWORKERS),
      ntasks: fields.ntasks === undefined ? 0 : parseCount(fields.ntasks, `${at}: ntasks`, 0, MAX_NTASKS),
      nslices: fields.nslices === undefined ? 1 : parseCount(fields.nslices, `${at}: nslices`, 1, MAX_NSLICES),
      spin: fields.spin === undefined ? { ...defaults.spin } : parseSpin(fields.spin, `${at}: spin`),
      thread: fields.thread === undefined ? { kind: 'pool' } : parseThread(fields.thread, `${at}: thread`),
      paused: fields.paused === undefined ? false : parseFlag(fields.paused, `${at}: paused`),
      limit: fields.limit === undefined ? null : parseTimerLimit(fields.limit, `${at}: limit`),
      ...(fields.cluster !== undefined && parseFlag(fields.cluster, `${at}: cluster`)
        ? { cluster: true as const }
        : {}),
      start: null,
      loop: null,
      end: null,
    },
    definedAt: param,
    index,
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
  return { fields: objectFields(item, param, TIMER_OBJECT_KEYS, 'timer'), ignoredKeys: [] };
}

function readTimerName(value: unknown, item: unknown, param: string): string {
  if (value === undefined || value === '') {
    throw new ConfigError(
      param,
      item,
      `a timer needs a name (name=NAME in a string, name in an object): ${TIMER_NAME_EXPECTED}`,
    );
  }
  return parseName(value, `${param}: name`);
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
      kind === 'loop' && draft.timer.start === null
        ? `; if "${existing}" is meant as the start route, give it under start`
        : '';
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
    else
      throw new ConfigError(
        param,
        item,
        `unknown key "${key}": ${ROUTE_ASSIGNMENT_EXPECTED}, with the keys timer and route only`,
      );
  }
  if (timerName === '')
    throw new ConfigError(param, item, `timer=NAME is missing or empty: ${ROUTE_ASSIGNMENT_EXPECTED}`);
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
    : `${module} exports no function "${route}"${didYouMean(
        route,
        Object.keys(exported).filter((key) => typeof exported[key] === 'function'),
      )}`;
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
  const error = new ConfigError(`timer "${name}"`, undefined, `every timer needs a loop route; ${fix}`);
  error.message = `timer "${name}": no loop route; ${fix}`;
  return error;
}

/** Counts (nworkers, ntasks, nslices): an integer as a number or a digit string, from min to max (limits.ts). */
function parseCount(value: unknown, param: string, min: 0 | 1, max: number): number {
  const count = numberOrDigits(value);
  if (Number.isInteger(count) && count >= min && count <= max) return count;
  const what = min === 0 ? 'an integer >= 0' : 'a positive integer';
  throw new ConfigError(param, value, `expected ${what} (${min} to ${max})`);
}

/** `pool`, `own`, or a thread group's name. */
function parseThread(value: unknown, param: string): ResolvedThread {
  if (value === 'pool') return { kind: 'pool' };
  if (value === 'own') return { kind: 'own' };
  if (isName(value)) return { kind: 'group', name: value };
  throw new ConfigError(param, value, THREAD_EXPECTED);
}

/** A timer's `limit=NAME`: the limiter must be defined; the timer takes its N/W (limiter-params.ts). */
function bindTimerLimits(
  drafts: ReadonlyMap<string, TimerDraft>,
  limiters: ResolvedLimiter[],
  problems: Problems,
): void {
  const byName = new Map(limiters.map((l) => [l.name, l]));
  for (const draft of drafts.values()) {
    const limit = draft.timer.limit;
    if (limit?.limiter === undefined) continue;
    const bound = problems.check({ key: 'timer', index: draft.index }, () =>
      bindLimit(limit, `timer "${draft.timer.name}": limit`, byName),
    );
    if (bound !== undefined) draft.timer.limit = bound;
  }
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
    const unitHint =
      typeof value === 'string' && /^\d+$/.test(value) ? `; no unit means seconds: write ${value}us` : '';
    throw new ConfigError(param, value, `${SPIN_EXPECTED}; at most 1s${unitHint}`);
  }
  return { mode: 'fixed', ns };
}
