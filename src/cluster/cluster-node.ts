/**
 * This process as a node of a cluster: it connects to the store, runs the lease rounds (every
 * ttl/3, and at the earliest local lease end so a slot stops on time when renewals fail), and
 * tells the runtime which cluster slots to run through one small seam, `SlotRunner`:
 *
 *     lease granted  -> runner.run(timer, worker)     (the worker continues)
 *     lease renewed  -> nothing to do
 *     lease ended    -> runner.stop(timer, worker)    (the worker pauses: moved, lost, expired)
 *     shutdown       -> the caller ends the workers (end routes), then stop() releases the
 *                       leases and leaves, so the others take the slots at their next round
 *
 * Redis unreachable at start or later: the node keeps trying every round; slots it held stop at
 * their lease end on its own clock (lease-table.ts), local timers are not touched. Errors are
 * logged once per outage, not once per round.
 */
import type { Logger } from 'pino';
import type { ResolvedCluster, ResolvedConfig } from '../config/types.js';
import { systemClock, type NodeClock } from './cluster-clock.js';
import { LeaseTable, type LeaseCounters, type StopReason } from './lease-table.js';
import { RedisStore } from './redis-store.js';
import { slotName, type ClusterStore } from './store.js';

/** The runtime side of the seam: start and stop one cluster worker. */
export interface SlotRunner {
  /** The worker's runs are covered until `untilMonoNs` (systemClock.monoNs); -1: not at all. Synchronous: written to shared memory. */
  lease(timer: string, worker: number, untilMonoNs: number): void;
  /**
   * Run the worker. `gridOriginMonoNs` is a point of the timer's cluster grid (epoch + k x interval,
   * mapped to systemClock.monoNs) at least one interval in the past: the timer's grid origin if it
   * has none yet, so the worker joins the cluster grid at its next point, in phase with every node.
   */
  run(timer: string, worker: number, gridOriginMonoNs: number): Promise<unknown>;
  stop(timer: string, worker: number, why: StopReason): Promise<unknown>;
}

/** What `ptimer.list` and `/metrics` show of the cluster. */
export interface ClusterStatus {
  node: string;
  name: string;
  liveNodes: string[];
  /** Holder of each cluster slot (`timer:worker`), as of the last round; null when free or unknown. */
  holders: Record<string, string | null>;
  leasesHeld: number;
  counters: LeaseCounters;
  /** This host's wall-clock offset to the store's clock (ns) and its error bound; null before the first round. */
  clockOffset: { offsetNs: number; errorNs: number } | null;
  reachable: boolean;
  quarantined: boolean;
}

export class ClusterNode {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private reachable = false;
  private roundRunning: Promise<void> | null = null;
  readonly table: LeaseTable;

  private constructor(
    private readonly cluster: ResolvedCluster,
    private readonly store: ClusterStore | null,
    private readonly connect: () => Promise<ClusterStore>,
    private readonly slots: string[],
    private readonly intervals: ReadonlyMap<string, number>,
    private readonly runner: SlotRunner,
    private readonly logger: Logger,
    clock: NodeClock,
  ) {
    this.lazyStore = store;
    const storeProxy: ClusterStore = new Proxy({} as ClusterStore, {
      get: (_, key: keyof ClusterStore) => {
        return async (...args: unknown[]) => {
          const s = await this.storeNow();
          return (s[key] as (...a: unknown[]) => unknown).apply(s, args);
        };
      },
    });
    this.table = new LeaseTable({
      node: cluster.node,
      slots,
      ttlNs: cluster.ttlNs,
      store: storeProxy,
      clock,
      events: {
        start: (slot, _token, until) => {
          this.lease(slot, until);
          this.forward(slot, (t, w) => runner.run(t, w, this.gridOriginMonoNs(t)), 'run');
        },
        extend: (slot, until) => this.lease(slot, until),
        stop: (slot, why) => {
          this.lease(slot, -1);
          this.forward(slot, (t, w) => runner.stop(t, w, why), `stop (${why})`);
        },
      },
    });
  }

  private lazyStore: ClusterStore | null;
  private connecting: Promise<ClusterStore> | null = null;

  private async storeNow(): Promise<ClusterStore> {
    if (this.lazyStore) return this.lazyStore;
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    this.lazyStore = await this.connecting;
    return this.lazyStore;
  }

  /** Starts the rounds for the config's cluster timers (a store may be given: tests use the in-memory one). */
  static start(
    config: ResolvedConfig,
    runner: SlotRunner,
    logger: Logger,
    options: { store?: ClusterStore; clock?: NodeClock } = {},
  ): ClusterNode {
    const cluster = config.cluster;
    if (!cluster) throw new Error('the config has no cluster');
    const slots = config.timers
      .filter((t) => t.cluster)
      .flatMap((t) => Array.from({ length: t.nworkers }, (_, w) => slotName(t.name, w)));
    const node = new ClusterNode(
      cluster,
      options.store ?? null,
      () => RedisStore.connect(cluster, { commandTimeoutMs: Math.max(100, cluster.ttlNs / 3 / 1e6) }),
      slots,
      new Map(config.timers.filter((t) => t.cluster).map((t) => [t.name, t.intervalNs])),
      runner,
      logger,
      options.clock ?? systemClock,
    );
    logger.info(
      { cluster: cluster.name, node: cluster.node, redis: cluster.shownUrl, slots: slots.length },
      'cluster node starting',
    );
    node.schedule(0);
    return node;
  }

  private epochNs: number | null = null;

  /** A cluster grid point of `timer` at least one interval before now, on this node's monotonic clock. */
  private gridOriginMonoNs(timer: string): number {
    const intervalNs = this.intervals.get(timer)!;
    const epoch = this.epochNs!;
    const nowServer = this.table.clock.toServerNs(systemClock.monoNs());
    const k = Math.floor((nowServer - epoch) / intervalNs) - 1;
    return this.table.clock.toMonoNs(epoch + k * intervalNs);
  }

  private lease(slot: string, untilMonoNs: number): void {
    const colon = slot.lastIndexOf(':');
    this.runner.lease(slot.slice(0, colon), Number(slot.slice(colon + 1)), untilMonoNs);
  }

  private forward(slot: string, fn: (timer: string, worker: number) => Promise<unknown>, what: string): void {
    if (this.stopped) return; // shutdown: the workers have ended already
    const colon = slot.lastIndexOf(':');
    const timer = slot.slice(0, colon);
    const worker = Number(slot.slice(colon + 1));
    fn(timer, worker).catch((err: Error) =>
      this.logger.warn({ timer, worker, err: err.message }, `cluster slot ${what} failed`),
    );
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), Math.max(0, delayMs));
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const started = performance.now();
    // The cluster's epoch first (set once by the first node): no slot runs before its grid is known.
    const epochThenRound = async (): Promise<void> => {
      if (this.epochNs === null) this.epochNs = (await (await this.storeNow()).epoch()).epochUs * 1e3;
      await this.table.round();
    };
    this.roundRunning = epochThenRound().then(
      () => {
        if (!this.reachable)
          this.logger.info({ node: this.cluster.node, live: this.table.liveNodes() }, 'cluster store reachable');
        this.reachable = true;
      },
      (err: Error) => {
        if (this.reachable || this.table.counters.roundErrors === 1) {
          this.logger.warn(
            { err: err.message },
            'cluster store unreachable: held slots stop at their lease end; retrying every round',
          );
        }
        this.reachable = false; // the client reconnects by itself (redis-store.ts); the next round tries again
      },
    );
    await this.roundRunning;
    this.roundRunning = null;
    const every = this.table.roundEveryNs / 1e6;
    const untilExpiry = (this.table.nextExpiryNs() - systemClock.monoNs()) / 1e6;
    const next = Math.min(every - (performance.now() - started), untilExpiry + 1);
    this.schedule(next);
    // A lease that ends before the next round: stop it on time.
    if (Number.isFinite(untilExpiry) && untilExpiry < every) {
      setTimeout(() => this.table.expire(), Math.max(0, untilExpiry)).unref?.();
    }
  }

  status(): ClusterStatus {
    const holders: Record<string, string | null> = {};
    for (const slot of this.slots) holders[slot] = this.table.holderOf(slot);
    return {
      node: this.cluster.node,
      name: this.cluster.name,
      liveNodes: [...this.table.liveNodes()],
      holders,
      leasesHeld: this.table.heldSlots().length,
      counters: { ...this.table.counters },
      clockOffset: this.table.clock.offset(),
      reachable: this.reachable,
      quarantined: this.table.quarantined(),
    };
  }

  holderOf(timer: string, worker: number): string | null {
    return this.table.holderOf(slotName(timer, worker));
  }

  /** Shutdown (after the workers' end routes ran): release every lease and leave, then close the connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.roundRunning?.catch(() => {});
    try {
      await this.table.releaseAll();
    } catch {
      // Unreachable: the leases run out by themselves.
    }
    await this.lazyStore?.close().catch(() => {});
  }
}
