/**
 * The cluster store: what the nodes of a cluster share, behind one small interface so the
 * engine can change (Redis today: redis-store.ts; memory-store.ts is the reference the unit
 * tests run against, with a virtual server clock).
 *
 * Every effect a slot's holder has on shared state (renew, release, book, take, ack) carries the
 * slot's fencing token, and the store refuses it unless the lease is still held by that node with
 * that token: a holder that was paused past its lease learns it where its writes land
 * (`stale`), and its writes change nothing (CLUSTER.md, "A paused holder").
 *
 * Times the store hands out or takes are the SERVER's wall clock in microseconds (Redis `TIME`):
 * leases expire by the server's clock; bookings are cluster-wide grid points on that clock.
 * Nodes judge their own lease end on their local monotonic clock (lease-table.ts).
 */

/** A reply stamped with the server that gave it: its clock and its identity (a new run_id = a new primary). */
export interface Stamped {
  /** The server's wall clock when it ran the command, in microseconds since the Unix epoch. */
  serverTimeUs: number;
  /** The server process's id (Redis `run_id`): it changes when a replica is promoted or the server restarts. */
  runId: string;
}

export type AcquireReply = { granted: true; token: number } | { granted: false; holder: string };

/** What a node learns at each renewal round, in one round trip. */
export interface RoundReply extends Stamped {
  /** Per held slot given in the round, in order: still ours (renewed) or not (lost or fenced). */
  renewed: boolean[];
  /** Nodes whose presence has not expired, this node included, sorted. */
  liveNodes: string[];
  /** Holder of every slot of the cluster timers (null: free), by slot key. */
  holders: Record<string, string | null>;
}

export interface HeldSlot {
  slot: string;
  token: number;
}

/** A fenced effect's refusal: the lease is not (or no longer) this node's with this token. */
export interface Stale {
  stale: true;
}

export interface BookRequest {
  /** The limit's key (a cluster timer's name). */
  limit: string;
  /** The slot the bookings are for, and its token: a stale holder books nothing. */
  slot: string;
  token: number;
  /** Grid points asked for, server-clock microseconds, ascending (repeats ask for several takes at one point). */
  candidatesUs: number[];
  /** At most `count` bookings ... */
  count: number;
  /** ... in any window of `windowUs + 2 * guardUs` (sliding-log.ts explains the guard). */
  windowUs: number;
  guardUs: number;
  /** Bookings before this (server microseconds) may be admitted only if it is 0 (the quarantine after a failover). */
  notBeforeUs: number;
}

export interface QueueItem {
  /** The store's id for the item (a stream entry id). */
  id: string;
  key: string;
  value: string;
}

export interface ClusterStore {
  /** Once per cluster: the epoch every cluster grid is anchored to (set by the first node, kept). */
  epoch(): Promise<{ epochUs: number } & Stamped>;
  /**
   * One renewal round: refresh this node's presence (for `ttlMs`), renew the given held slots,
   * read who is live and who holds what. One round trip.
   */
  round(node: string, held: HeldSlot[], slots: string[], ttlMs: number): Promise<RoundReply>;
  /** Take a free slot: a new fencing token, higher than any this slot had. */
  acquire(slot: string, node: string, ttlMs: number): Promise<AcquireReply & Stamped>;
  /** This node leaves (shutdown): it no longer counts among the live nodes, so the others take its share at once. */
  leave(node: string): Promise<void>;
  /** Give a slot up (a no-op when it is no longer ours with this token). */
  release(slot: string, node: string, token: number): Promise<boolean>;
  /** Book grid points of a cluster limit (sliding-log.ts): the admitted ones, or stale. */
  book(node: string, request: BookRequest): Promise<{ admittedUs: number[] } | Stale>;
  /** Cluster queues: push from anywhere; take fenced by the slot; ack what was released. */
  push(queue: string, key: string, value: string): Promise<string>;
  take(queue: string, node: string, slot: string, token: number, max: number): Promise<QueueItem[] | Stale>;
  ack(queue: string, ids: string[]): Promise<number>;
  /** Items taken by a consumer and not acked for `idleMs`: given to `node` (at-least-once after a holder dies). */
  reclaim(
    queue: string,
    node: string,
    slot: string,
    token: number,
    idleMs: number,
    max: number,
  ): Promise<QueueItem[] | Stale>;
  queueLength(queue: string): Promise<number>;
  close(): Promise<void>;
}

/** The keys of one cluster, all under one hash tag `{name}` (so a Redis Cluster would keep them in one slot). */
export function clusterKeys(name: string) {
  const prefix = `pt:{${name}}`;
  return {
    epoch: `${prefix}:epoch`,
    nodes: `${prefix}:nodes`,
    lease: (slot: string) => `${prefix}:lease:${slot}`,
    fence: (slot: string) => `${prefix}:fence:${slot}`,
    bookings: (limit: string) => `${prefix}:book:${limit}`,
    queue: (queue: string) => `${prefix}:queue:${queue}`,
  };
}

/** A slot's name: the timer and the worker index. */
export function slotName(timer: string, worker: number): string {
  return `${timer}:${worker}`;
}
