/**
 * How many cases a fuzz suite runs: the full count under `npm run fuzz` (FUZZ_SCALE=full),
 * a tenth of it (at least 50) in `npm test`, so CI stays quick.
 */
export function fuzzRuns(full: number): number {
  return process.env.FUZZ_SCALE === 'full' ? full : Math.max(50, Math.round(full / 10));
}
