/**
 * adaptive-routing (the reference's use case 7.3): a basic timer, one worker per destination
 * set, every 500 ms compares each destination's measured KPIs (MOS, call completion ratio CCR,
 * network effectiveness ratio NER) with the promised minimums and marks it up (1) or down (0)
 * in the table `dst_kpi`; the host reads the table for each call to pick a destination.
 *
 * - `ctx.data` (main.ts passes data.json; `ptimer run --data data.json` does the same) holds
 *   each worker's set (`workers[i]`), the sets' destinations, the minimums and how long a mark
 *   lives. The start route reads them once; a worker whose set is unknown returns -1 from its
 *   start route: it ends (listed `ended`) and marks nothing.
 * - The KPIs come from the table `kpi_in` (keys `DST:mos`, `DST:ccr`, `DST:ner`), which the host
 *   writes (in production, a measurement feed would). A destination without all three is down.
 * - Each mark expires after `markSeconds`: if the optimizer stops, its marks vanish and the
 *   host sees "no mark" (unknown) instead of an old "up". `DST:why` says why it is down.
 * - Only the worker of a set writes its destinations' keys: one writer per key.
 */
import { defineConfig, type RouteContext } from 'ptimer';

export interface RoutingData {
  /** The set of worker i. */
  workers: string[];
  sets: Record<string, string[]>;
  minimums: { mos: number; ccr: number; ner: number };
  /** How long a mark lives, in seconds. */
  markSeconds: number;
}

interface OptimizerVars {
  set: string;
  destinations: string[];
  minimums: RoutingData['minimums'];
  markSeconds: number;
}

export default defineConfig({
  table: ['dst_kpi=>size=8', 'kpi_in=>size=8'],
  timer: ['name=route_optimizer;type=0;interval=500ms;nworkers=3'],
  start: ['timer=route_optimizer;route=OPTIMIZE_ROUTES_START'],
  loop: ['timer=route_optimizer;route=OPTIMIZE_ROUTES_LOOP'],
});

export function OPTIMIZE_ROUTES_START(ctx: RouteContext<OptimizerVars, RoutingData | undefined>) {
  const data = ctx.data;
  if (!data || !Array.isArray(data.workers) || typeof data.sets !== 'object' || typeof data.minimums !== 'object') {
    throw new Error(
      'route_optimizer needs its destination sets in ctx.data ({ workers, sets, minimums, markSeconds }): ' +
        "run `ptimer run examples/adaptive-routing/config.ts --data examples/adaptive-routing/data.json`, or the example's main.ts",
    );
  }
  const set = data.workers[ctx.ptimer.worker];
  const destinations = set === undefined ? undefined : data.sets[set];
  if (!destinations) {
    ctx.log.warn(
      { set: set ?? null, known: Object.keys(data.sets) },
      `worker ${ctx.ptimer.worker}: unknown destination set ${JSON.stringify(set)}; ending`,
    );
    ctx.emit('unknown-set', { set: set ?? null });
    return -1; // the worker ends: it has nothing to optimize
  }
  // The minimums are read once, at start (the reference's use case).
  ctx.vars.set = set!;
  ctx.vars.destinations = destinations;
  ctx.vars.minimums = { ...data.minimums };
  ctx.vars.markSeconds = data.markSeconds ?? 2;
  markDestinations(ctx); // marks from the start on, not only after the first 500 ms
}

export function OPTIMIZE_ROUTES_LOOP(ctx: RouteContext<OptimizerVars>) {
  markDestinations(ctx);
}

/** Compares each destination of this worker's set with the minimums and marks it up or down. */
function markDestinations(ctx: RouteContext<OptimizerVars>) {
  const kpi = ctx.table('kpi_in');
  const marks = ctx.table('dst_kpi');
  const { minimums, markSeconds } = ctx.vars;
  for (const dst of ctx.vars.destinations) {
    const measured = { mos: kpi.get(`${dst}:mos`), ccr: kpi.get(`${dst}:ccr`), ner: kpi.get(`${dst}:ner`) };
    const short = (Object.keys(minimums) as Array<keyof typeof minimums>)
      .map((name) => {
        const value = measured[name];
        if (typeof value !== 'number') return `${name} not measured`;
        return value < minimums[name] ? `${name} ${value} < ${minimums[name]}` : null;
      })
      .filter((why): why is string => why !== null);
    marks.set(dst, short.length === 0 ? 1 : 0, { expires: markSeconds });
    marks.set(`${dst}:why`, short.length === 0 ? 'meets the minimums' : short.join(', '), { expires: markSeconds });
  }
}
