/**
 * What a reload changes: a pure comparison of the running config with the new one.
 *
 * A timer is `unchanged` when its resolved parameters are equal and each of its routes is the
 * same code (the function's source text in the old and the new routes module); such a timer
 * keeps running untouched: its iterations, grid and vars go on. A timer whose parameters or
 * route code differ is `changed` (ended, then started again with the new definition), one
 * only in the new config is `added`, one only in the old is `removed` (ended).
 * Settings that only take effect at start (the pool size, the runtime timeouts, queues and
 * tables) are listed in `notApplied` when they differ.
 *
 * A route's own source text is what is compared: a change in a helper function that a route
 * calls, with the route itself unchanged, is not seen (restart the timer with ptimer.start).
 */
import { isDeepStrictEqual } from 'node:util';
import type { ResolvedConfig, ResolvedTimer } from '../config/types.js';
import { ROUTE_KINDS } from '../core/words.js';

export interface ReloadPlan {
  added: ResolvedTimer[];
  removed: ResolvedTimer[];
  changed: Array<{ before: ResolvedTimer; after: ResolvedTimer; why: string }>;
  unchanged: ResolvedTimer[];
  notApplied: string[];
}

type Exports = Record<string, unknown>;

function routeSource(exports: Exports, name: string | null): string | null {
  if (name === null) return null;
  const fn = exports[name];
  return typeof fn === 'function' ? Function.prototype.toString.call(fn) : null;
}

/** Resolved fields an answer names by their public attribute: `intervalNs` is the `interval` a user wrote. */
const PUBLIC_NAME: Partial<Record<keyof ResolvedTimer, string>> = { intervalNs: 'interval', typeName: 'type' };

function whyChanged(
  before: ResolvedTimer,
  after: ResolvedTimer,
  oldExports: Exports,
  newExports: Exports,
): string | null {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])] as Array<keyof ResolvedTimer>;
  const changed = keys.filter((k) => !isDeepStrictEqual(before[k], after[k])).map((k) => PUBLIC_NAME[k] ?? k);
  const params = [...new Set(changed)];
  if (params.length > 0) return `${params.join(', ')} changed`;
  const routes = ROUTE_KINDS.filter(
    (kind) => routeSource(oldExports, before[kind]) !== routeSource(newExports, after[kind]),
  );
  if (routes.length > 0) return `the code of its ${routes.join(', ')} route${routes.length > 1 ? 's' : ''} changed`;
  return null;
}

export function planReload(
  current: ResolvedConfig,
  oldExports: Exports,
  next: ResolvedConfig,
  newExports: Exports,
): ReloadPlan {
  const before = new Map(current.timers.map((t) => [t.name, t]));
  const plan: ReloadPlan = { added: [], removed: [], changed: [], unchanged: [], notApplied: [] };
  for (const after of next.timers) {
    const old = before.get(after.name);
    if (!old) {
      plan.added.push(after);
      continue;
    }
    const why = whyChanged(old, after, oldExports, newExports);
    if (why === null) plan.unchanged.push(old);
    else plan.changed.push({ before: old, after, why });
  }
  const names = new Set(next.timers.map((t) => t.name));
  plan.removed = current.timers.filter((t) => !names.has(t.name));
  const runtimeKeys = Object.keys(next.runtime) as Array<keyof ResolvedConfig['runtime']>;
  for (const key of runtimeKeys) {
    if (!isDeepStrictEqual(current.runtime[key], next.runtime[key]))
      plan.notApplied.push(`${key} changed: it takes effect at the next start`);
  }
  if (!isDeepStrictEqual(current.queues, next.queues))
    plan.notApplied.push('queues changed: they take effect at the next start');
  if (!isDeepStrictEqual(current.tables, next.tables))
    plan.notApplied.push('tables changed: they take effect at the next start');
  return plan;
}
