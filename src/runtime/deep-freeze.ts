/**
 * `ctx.data` is the same read-only value in every route: each thread gets a structured clone
 * of the host's value and freezes it all the way down, so a route cannot change what the
 * next route (or another worker) sees.
 */
export function deepFreeze<T>(value: T, seen = new Set<unknown>()): T {
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return value; // typed arrays cannot be frozen; a copy per thread anyway
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key], seen);
  return Object.freeze(value);
}
