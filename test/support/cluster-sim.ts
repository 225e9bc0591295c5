/**
 * A cluster on a virtual clock: nodes with real LeaseTables sharing one MemoryStore, each with its
 * own monotonic clock (true time plus an offset) and workers that run a slot's grid ticks while,
 * by the node's own clock, the slot's lease covers them (the check a worker makes before each run).
 * Nodes can be killed (nothing more from them), paused (nothing runs until resumed: SIGSTOP) and
 * cut off from the store. Every run is recorded as (slot, tick, node, true time).
 */
import { MemoryStore } from '../../src/cluster/memory-store.js';
import { EpochGrid } from '../../src/cluster/cluster-clock.js';
import { LeaseTable, type StopReason } from '../../src/cluster/lease-table.js';

export const MS = 1e6;

export interface SimRun {
  slot: string;
  tick: number;
  node: string;
  atNs: number;
}

interface Running {
  runUntilNs: number;
  nextTick: number;
}

export class SimNode {
  table: LeaseTable;
  dead = false;
  paused = false;
  cutOff = false;
  nextRoundNs: number;
  readonly running = new Map<string, Running>();
  readonly stops: Array<{ slot: string; why: StopReason; atNs: number }> = [];
  readonly starts: Array<{ slot: string; token: number; atNs: number }> = [];

  constructor(
    readonly id: string,
    readonly sim: ClusterSim,
    readonly monoOffsetNs: number,
  ) {
    const store = sim.store;
    const cutOffStore = new Proxy(store, {
      get: (target, key, receiver) => {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (this.cutOff) return Promise.reject(new Error('store unreachable from this node'));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    this.table = new LeaseTable({
      node: id,
      slots: sim.slots,
      ttlNs: sim.ttlNs,
      store: cutOffStore,
      clock: { monoNs: () => sim.nowNs + monoOffsetNs, wallNs: () => sim.nowNs + 1.7e18 },
      events: {
        start: (slot, token, runUntilNs) => {
          this.starts.push({ slot, token, atNs: sim.nowNs });
          this.running.set(slot, { runUntilNs, nextTick: sim.grid.tickAtOrAfter(sim.nowNs + 1) });
        },
        extend: (slot, runUntilNs) => {
          const r = this.running.get(slot);
          if (r) r.runUntilNs = runUntilNs;
        },
        stop: (slot, why) => {
          this.stops.push({ slot, why, atNs: sim.nowNs });
          this.running.delete(slot);
        },
      },
    });
    this.nextRoundNs = sim.nowNs;
  }

  get monoNs(): number {
    return this.sim.nowNs + this.monoOffsetNs;
  }

  /** What the node does at the current true time: its round when due, its lease check, its workers' due ticks. */
  async step(): Promise<void> {
    if (this.dead || this.paused) return;
    const now = this.sim.nowNs;
    // The workers first: after a pause they may well get a turn before the lease table's timer does.
    this.runDueTicks(now);
    this.table.expire();
    if (now >= this.nextRoundNs) {
      this.nextRoundNs = now + this.table.roundEveryNs;
      await this.table.round().catch(() => {});
    }
  }

  private runDueTicks(now: number): void {
    for (const [slot, r] of this.running) {
      // A worker runs each due tick once, late ones included (as after a pause), but only while
      // its own clock says the lease covers it.
      while (this.sim.grid.deadlineNs(r.nextTick) <= now) {
        if (this.monoNs < r.runUntilNs) this.sim.runs.push({ slot, tick: r.nextTick, node: this.id, atNs: now });
        r.nextTick++;
      }
    }
  }
}

export class ClusterSim {
  nowNs = 0;
  readonly store = new MemoryStore(() => Math.floor(this.nowNs / 1e3));
  readonly runs: SimRun[] = [];
  readonly nodes: SimNode[] = [];
  readonly grid: EpochGrid;
  readonly slots: string[];

  constructor(
    readonly ttlNs: number,
    readonly intervalNs: number,
    slotCount: number,
  ) {
    this.grid = new EpochGrid(0, intervalNs);
    this.slots = Array.from({ length: slotCount }, (_, i) => `t:${i}`);
  }

  addNode(id: string, monoOffsetNs = 0): SimNode {
    const node = new SimNode(id, this, monoOffsetNs);
    this.nodes.push(node);
    return node;
  }

  /** Advances true time to `untilNs` in steps of `stepNs`, letting every node act at each step. */
  async runUntil(untilNs: number, stepNs = 1 * MS): Promise<void> {
    while (this.nowNs < untilNs) {
      this.nowNs = Math.min(untilNs, this.nowNs + stepNs);
      for (const node of this.nodes) await node.step();
    }
  }

  /** (slot, tick) pairs run by more than one node. */
  duplicates(): string[] {
    const by = new Map<string, Set<string>>();
    for (const r of this.runs) {
      const key = `${r.slot}#${r.tick}`;
      if (!by.has(key)) by.set(key, new Set());
      by.get(key)!.add(r.node);
    }
    return [...by].filter(([, nodes]) => nodes.size > 1).map(([key, nodes]) => `${key} on ${[...nodes].join(',')}`);
  }

  /** Who held each slot at the end (by the nodes' own tables). */
  holders(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const slot of this.slots)
      out[slot] = this.nodes.filter((n) => !n.dead && n.table.tokenOf(slot) !== null).map((n) => n.id);
    return out;
  }
}
