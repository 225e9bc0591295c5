/** The route of bench/list-figures.ts: nothing, so that only the engine is measured. */
export function PROBE_LOOP(): void {}
