/**
 * Which cluster slots this node runs: the slot leases, renewed every ttl/3, spread evenly over
 * the live nodes, and judged on this node's own monotonic clock.
 *
 * A slot is one (timer, worker) of a cluster timer. Its lease lives in the store with the
 * server's expiry (ttl); each acquire bumps the slot's fencing token, and every effect the holder
 * has on the store carries it (store.ts).
 *
 * Lease end, locally. A renewal SENT at monotonic s reaches the server after s, so the server's
 * expiry is later than s + ttl (clocks tick at the same rate within ppm). The holder therefore
 * runs the slot only until s + ttl - margin, by its own clock: if renewals stop (Redis down, the
 * process paused), it stops before the lease can pass to another node. `runUntil` is what the
 * worker checks before each run (so a process resumed after SIGSTOP cannot run a tick its lease
 * no longer covers, even before this table's own timer fires).
 *
 *     holder A   acquire(s0)        renew(s1)         renew(s2)   [paused...............]
 *     A's runUntil     |--- s0+ttl-m --|--- s1+ttl-m ---|--- s2+ttl-m ---|  (A stops here)
 *     server lease     |----------------|----------------|-----------------|expires ~ s2+ttl
 *     node B                                                                 acquire at its next
 *                                                                            round (<= ttl/3), runs
 *                                                                            from the next grid point
 *     takeover after a kill: <= ttl (expiry) + ttl/3 (B's round) + one interval (the grid)
 *
 * Spread. Each round a node aims for ceil(slots / live nodes): it releases its extras (stopping
 * them first) and acquires free slots up to its share, so a joining node gets its share within
 * two rounds. Acquiring starts at an offset derived from the node's id, so nodes ask for
 * different slots first.
 *
 * Failover. A new server run_id means a new primary (or a restarted server) that may have lost
 * the last writes. The node then takes no new slot and books nothing for a quarantine (at least
 * one ttl: every lease granted by the old primary has by then ended on its holder's clock).
 */
import type { ClusterStore, HeldSlot } from './store.js';
import { ClusterClock, sampleOf, type NodeClock } from './cluster-clock.js';

export type StopReason = 'moved' | 'lost' | 'expired' | 'shutdown';

/** What the runtime does as slots come and go; called synchronously, so a stop takes effect at once. */
export interface LeaseEvents {
  /** Run the slot (its lease covers runs until `runUntilNs`, monotonic). */
  start(slot: string, token: number, runUntilNs: number): void;
  /** The lease was renewed: runs are covered until `runUntilNs`. */
  extend(slot: string, runUntilNs: number): void;
  stop(slot: string, why: StopReason): void;
}

export interface LeaseTableOptions {
  node: string;
  /** Every slot of the cluster timers, in a fixed order (the same on every node). */
  slots: string[];
  ttlNs: number;
  store: ClusterStore;
  clock: NodeClock;
  events: LeaseEvents;
  /** Taken off the lease's end on the local clock (default ttl/10): room for the clocks' rate difference and the stop itself. */
  marginNs?: number;
  /** How long to take no slot after a primary change (default 2 x ttl). */
  quarantineNs?: number;
}

export interface LeaseCounters {
  acquired: number;
  takeovers: number;
  released: number;
  lost: number;
  expired: number;
  staleRefusals: number;
  failovers: number;
  roundErrors: number;
}

interface Held {
  token: number;
  runUntilNs: number;
}

export class LeaseTable {
  readonly clock = new ClusterClock();
  readonly counters: LeaseCounters = {
    acquired: 0,
    takeovers: 0,
    released: 0,
    lost: 0,
    expired: 0,
    staleRefusals: 0,
    failovers: 0,
    roundErrors: 0,
  };
  private readonly held = new Map<string, Held>();
  private readonly ttlMs: number;
  private readonly marginNs: number;
  private readonly quarantineNs: number;
  private readonly firstSlot: number;
  private runId: string | null = null;
  private quarantineUntilNs = -Infinity;
  private live: string[] = [];
  private holders: Record<string, string | null> = {};
  /** Slots seen held by another node whose lease then ran out: acquiring one is a takeover. */
  private readonly seenHeldByOthers = new Set<string>();

  constructor(private readonly options: LeaseTableOptions) {
    this.ttlMs = Math.round(options.ttlNs / 1e6);
    this.marginNs = options.marginNs ?? options.ttlNs / 10;
    this.quarantineNs = options.quarantineNs ?? 2 * options.ttlNs;
    this.firstSlot = hashOf(options.node) % Math.max(1, options.slots.length);
  }

  /** How often to call round(): ttl/3. */
  get roundEveryNs(): number {
    return this.options.ttlNs / 3;
  }

  heldSlots(): Array<{ slot: string; token: number; runUntilNs: number }> {
    return [...this.held].map(([slot, h]) => ({ slot, ...h }));
  }

  liveNodes(): readonly string[] {
    return this.live;
  }

  /** Who holds each slot, as of the last round (this node's own slots as they are now). */
  holderOf(slot: string): string | null {
    if (this.held.has(slot)) return this.options.node;
    const holder = this.holders[slot] ?? null;
    return holder === this.options.node ? null : holder;
  }

  quarantined(nowNs = this.options.clock.monoNs()): boolean {
    return nowNs < this.quarantineUntilNs;
  }

  /** The earliest local lease end of the slots held (the runtime sets its timer for expire() there). */
  nextExpiryNs(): number {
    let next = Infinity;
    for (const h of this.held.values()) next = Math.min(next, h.runUntilNs);
    return next;
  }

  /** Stops every held slot whose lease has ended on this node's clock (renewals did not come back in time). */
  expire(nowNs = this.options.clock.monoNs()): string[] {
    const ended: string[] = [];
    for (const [slot, h] of this.held) {
      if (h.runUntilNs > nowNs) continue;
      this.held.delete(slot);
      this.counters.expired++;
      this.options.events.stop(slot, 'expired');
      ended.push(slot);
    }
    return ended;
  }

  /** One renewal round (every ttl/3): renew, measure the clock, watch for a new primary, spread, acquire. */
  async round(): Promise<void> {
    const { store, clock, node, slots, events } = this.options;
    this.expire();
    const asked: HeldSlot[] = [...this.held].map(([slot, h]) => ({ slot, token: h.token }));
    const sentNs = clock.monoNs();
    let reply;
    try {
      reply = await store.round(node, asked, slots, this.ttlMs);
    } catch (error) {
      this.counters.roundErrors++;
      this.expire();
      throw error;
    }
    const receivedNs = clock.monoNs();
    this.clock.add(sampleOf(sentNs, receivedNs, reply.serverTimeUs * 1e3, clock.wallNs() - (receivedNs - sentNs) / 2));
    this.noteServer(reply.runId, receivedNs);
    this.live = reply.liveNodes;
    this.holders = reply.holders;
    asked.forEach(({ slot, token }, i) => {
      const h = this.held.get(slot);
      if (reply.renewed[i]) {
        if (h && h.token === token) {
          h.runUntilNs = sentNs + this.options.ttlNs - this.marginNs;
          events.extend(slot, h.runUntilNs);
        } else {
          // Expired here while the renewal was on its way: the server renewed a lease nobody runs; give it back.
          void store.release(slot, node, token).catch(() => {});
        }
      } else if (h && h.token === token) {
        this.held.delete(slot);
        this.counters.lost++;
        this.counters.staleRefusals++;
        events.stop(slot, 'lost');
      }
    });
    for (const [slot, holder] of Object.entries(reply.holders)) {
      if (holder !== null && holder !== node) this.seenHeldByOthers.add(slot);
    }
    await this.spread(receivedNs);
  }

  /** Releases extras beyond this node's share, then acquires free slots up to it (not in quarantine). */
  private async spread(nowNs: number): Promise<void> {
    const { store, clock, node, slots, events } = this.options;
    const share = Math.ceil(slots.length / Math.max(1, this.live.length));
    if (this.held.size > share) {
      const extras = [...this.held.keys()]
        .sort((a, b) => slots.indexOf(b) - slots.indexOf(a))
        .slice(0, this.held.size - share);
      for (const slot of extras) {
        const h = this.held.get(slot)!;
        this.held.delete(slot);
        events.stop(slot, 'moved'); // stop first: the slot is free for others once released
        this.counters.released++;
        try {
          await store.release(slot, node, h.token);
        } catch {
          // Unreachable: the lease runs out on the server by itself.
        }
      }
    }
    if (this.quarantined(nowNs)) return;
    for (let i = 0; i < slots.length && this.held.size < share; i++) {
      const slot = slots[(this.firstSlot + i) % slots.length]!;
      if (this.held.has(slot) || (this.holders[slot] ?? null) !== null) continue;
      const sentNs = clock.monoNs();
      const reply = await store.acquire(slot, node, this.ttlMs);
      if (!reply.granted) {
        this.holders[slot] = reply.holder;
        continue;
      }
      this.noteServer(reply.runId, clock.monoNs());
      if (this.quarantined()) {
        // A failover showed up on this very reply: do not run what a lost write may also have granted.
        void store.release(slot, node, reply.token).catch(() => {});
        return;
      }
      const runUntilNs = sentNs + this.options.ttlNs - this.marginNs;
      this.held.set(slot, { token: reply.token, runUntilNs });
      this.counters.acquired++;
      if (this.seenHeldByOthers.delete(slot)) this.counters.takeovers++;
      events.start(slot, reply.token, runUntilNs);
    }
  }

  private noteServer(runId: string, nowNs: number): void {
    if (this.runId !== null && runId !== this.runId) {
      this.counters.failovers++;
      this.quarantineUntilNs = nowNs + this.quarantineNs;
    }
    this.runId = runId;
  }

  /** Shutdown: stop and release every held slot (the caller has run the end routes), so they move within a round trip. */
  async releaseAll(): Promise<void> {
    const { store, node, events } = this.options;
    const all = [...this.held];
    this.held.clear();
    for (const [slot] of all) events.stop(slot, 'shutdown');
    await Promise.allSettled([...all.map(([slot, h]) => store.release(slot, node, h.token)), store.leave(node)]);
    this.counters.released += all.length;
  }

  /** The token of a held slot (for fenced effects: book, take), or null. */
  tokenOf(slot: string): number | null {
    return this.held.get(slot)?.token ?? null;
  }
}

/** FNV-1a of a string: a node's starting point among the slots. */
function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
