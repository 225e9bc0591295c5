/**
 * The cluster-wide limit's admission rule: a sliding log of booked times, exact for any window.
 *
 * A cluster limit `N/W` is not checked per take (a Redis round trip between a deadline and its
 * release would cost more than ptimer's whole lateness budget). Instead a node books, ahead of
 * time, the grid points it will release at; the store admits a time only if no window could then
 * hold more than N releases, and the node releases at its admitted times from its own timer.
 *
 * The guard band. A booked time t is released at the receiver somewhere in [t - g, t + g]: the
 * local fire error plus the node's clock offset to the store's clock (both measured). Two releases
 * booked at t1 < t2 can land in one window of length W whenever t2 - t1 < W + 2g. So the rule is:
 * any N + 1 bookings span at least L = W + 2g. Checked around a candidate t, only the N bookings
 * either side of it matter:
 *
 *     bookings   b1   b2  b3      t      b4   b5
 *     ----|------|----|---|-------|-------|----|------>  server time
 *              [ any N+1 consecutive points including t must span >= L ]
 *
 * Repeats are allowed (several takes at one grid point), each counts.
 */

/** Index of the first element >= value in an ascending array. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether adding t to the ascending `bookings` keeps every N + 1 consecutive points at least `span` apart. */
export function fits(bookings: readonly number[], t: number, count: number, span: number): boolean {
  const at = lowerBound(bookings, t);
  // The points around t: up to `count` before and `count` after, with t in its place.
  const from = Math.max(0, at - count);
  const to = Math.min(bookings.length, at + count);
  const around: number[] = [];
  for (let i = from; i < at; i++) around.push(bookings[i]!);
  const self = around.length;
  around.push(t);
  for (let i = at; i < to; i++) around.push(bookings[i]!);
  for (let first = Math.max(0, self - count); first <= self; first++) {
    const last = first + count;
    if (last >= around.length) break;
    if (around[last]! - around[first]! < span) return false;
  }
  return true;
}

/**
 * Admits the candidates (ascending) one by one into `bookings` (ascending; changed in place):
 * those that fit are inserted and returned. `span` = W + 2 * guard.
 */
export function admit(bookings: number[], candidates: readonly number[], count: number, span: number): number[] {
  const admitted: number[] = [];
  for (const t of candidates) {
    if (!fits(bookings, t, count, span)) continue;
    bookings.splice(upperBound(bookings, t), 0, t);
    admitted.push(t);
  }
  return admitted;
}

/** Index of the first element > value (a repeat is inserted after its equals). */
function upperBound(sorted: readonly number[], value: number): number {
  let i = lowerBound(sorted, value);
  while (i < sorted.length && sorted[i] === value) i++;
  return i;
}

/** The most bookings in any window of length `span` (half-open), for checks: the quantity `fits` bounds by `count`. */
export function mostInWindow(sorted: readonly number[], span: number): number {
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while (sorted[last]! - sorted[first]! >= span) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}
