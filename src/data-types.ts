/**
 * The data plane's shapes, as routes and the host see them: a queue (Kamailio's mqueue) and a
 * table (its htable), held in shared memory for the host thread and every worker thread
 * (`ctx.queue(name)` / `ctx.table(name)` in a route, `pt.queue(name)` / `pt.table(name)` in the
 * host). Defined once, in src/data/api-types.ts; re-exported here for the route types.
 */
export type { Queue, HostQueue, Table, QueueItem, QueueStats, QueueValue, TableValue } from './data/api-types.js';
