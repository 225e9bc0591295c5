/**
 * A cluster store in one process's memory: the reference semantics of every store operation
 * (redis-store.ts's Lua scripts do the same in Redis), on a server clock given as a function, so
 * unit tests drive leases, fencing, bookings and queues on a virtual clock. `down` makes every
 * call fail as an unreachable server would; `failover()` changes the run_id and can drop the last
 * writes, as an asynchronous replica promoted to primary would.
 */
import { admit } from './sliding-log.js';
import type {
  AcquireReply,
  BookRequest,
  ClusterStore,
  HeldSlot,
  QueueItem,
  RoundReply,
  Stale,
  Stamped,
} from './store.js';

interface Lease {
  node: string;
  token: number;
  expiresUs: number;
}

interface Pending {
  item: QueueItem;
  consumer: string;
  deliveredUs: number;
}

export class MemoryStore implements ClusterStore {
  runId = 'run-1';
  down = false;
  private epochUs: number | null = null;
  private readonly leases = new Map<string, Lease>();
  private readonly fences = new Map<string, number>();
  private readonly nodes = new Map<string, number>();
  private readonly bookings = new Map<string, number[]>();
  private readonly queues = new Map<string, { items: QueueItem[]; pending: Map<string, Pending>; nextId: number }>();
  /** Every effect refused for a stale token, for assertions. */
  staleRefusals = 0;

  constructor(private readonly nowUs: () => number) {}

  /** A promoted replica: a new run_id; leases and fences written in the last `lostUs` are gone. */
  failover(lostLeases: string[] = []): void {
    this.runId = `run-${Number(this.runId.slice(4)) + 1}`;
    for (const slot of lostLeases) this.leases.delete(slot);
  }

  private stamp(): Stamped {
    if (this.down) throw new Error('connect ECONNREFUSED (the store is down)');
    return { serverTimeUs: this.nowUs(), runId: this.runId };
  }

  private leaseOf(slot: string): Lease | null {
    const lease = this.leases.get(slot);
    if (!lease) return null;
    if (lease.expiresUs <= this.nowUs()) {
      this.leases.delete(slot);
      return null;
    }
    return lease;
  }

  private holds(slot: string, node: string, token: number): boolean {
    const lease = this.leaseOf(slot);
    const ok = lease !== null && lease.node === node && lease.token === token;
    if (!ok) this.staleRefusals++;
    return ok;
  }

  // The store answers at once; its methods stay async, as the interface's are, so that a store
  // that is down rejects (stamp() throws) rather than throwing at the call.
  /* eslint-disable @typescript-eslint/require-await */
  async epoch() {
    const stamp = this.stamp();
    this.epochUs ??= stamp.serverTimeUs;
    return { epochUs: this.epochUs, ...stamp };
  }

  async round(node: string, held: HeldSlot[], slots: string[], ttlMs: number): Promise<RoundReply> {
    const stamp = this.stamp();
    const now = stamp.serverTimeUs;
    this.nodes.set(node, now + ttlMs * 1e3);
    for (const [n, until] of this.nodes) if (until <= now) this.nodes.delete(n);
    const renewed = held.map(({ slot, token }) => {
      if (!this.holds(slot, node, token)) return false;
      this.leases.get(slot)!.expiresUs = now + ttlMs * 1e3;
      return true;
    });
    const holders: Record<string, string | null> = {};
    for (const slot of slots) holders[slot] = this.leaseOf(slot)?.node ?? null;
    return { ...stamp, renewed, liveNodes: [...this.nodes.keys()].sort(), holders };
  }

  async acquire(slot: string, node: string, ttlMs: number): Promise<AcquireReply & Stamped> {
    const stamp = this.stamp();
    const lease = this.leaseOf(slot);
    if (lease) return { granted: false, holder: lease.node, ...stamp };
    // Above both the last token and the server's clock: a token a lost write handed out is never handed out again.
    const token = Math.max((this.fences.get(slot) ?? 0) + 1, stamp.serverTimeUs);
    this.fences.set(slot, token);
    this.leases.set(slot, { node, token, expiresUs: stamp.serverTimeUs + ttlMs * 1e3 });
    return { granted: true, token, ...stamp };
  }

  async leave(node: string): Promise<void> {
    this.stamp();
    this.nodes.delete(node);
  }

  async release(slot: string, node: string, token: number): Promise<boolean> {
    this.stamp();
    const lease = this.leaseOf(slot);
    if (!lease || lease.node !== node || lease.token !== token) return false;
    this.leases.delete(slot);
    return true;
  }

  async book(node: string, request: BookRequest): Promise<{ admittedUs: number[] } | Stale> {
    const now = this.stamp().serverTimeUs;
    if (!this.holds(request.slot, node, request.token)) return { stale: true };
    const span = request.windowUs + 2 * request.guardUs;
    const log = (this.bookings.get(request.limit) ?? []).filter((t) => t > now - span);
    const candidates = request.candidatesUs.filter((t) => t >= now && t >= request.notBeforeUs);
    const admittedUs = admit(log, candidates, request.count, span);
    this.bookings.set(request.limit, log);
    return { admittedUs };
  }

  /** Every booking of a limit still kept (for assertions). */
  bookingsOf(limit: string): readonly number[] {
    return this.bookings.get(limit) ?? [];
  }

  private queueOf(name: string) {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = { items: [], pending: new Map(), nextId: 1 }));
    return q;
  }

  async push(queue: string, key: string, value: string): Promise<string> {
    this.stamp();
    const q = this.queueOf(queue);
    const id = `${q.nextId++}-0`;
    q.items.push({ id, key, value });
    return id;
  }

  async take(queue: string, node: string, slot: string, token: number, max: number): Promise<QueueItem[] | Stale> {
    const now = this.stamp().serverTimeUs;
    if (!this.holds(slot, node, token)) return { stale: true };
    const q = this.queueOf(queue);
    const taken = q.items.splice(0, max);
    for (const item of taken) q.pending.set(item.id, { item, consumer: node, deliveredUs: now });
    return taken;
  }

  async ack(queue: string, ids: string[]): Promise<number> {
    this.stamp();
    const q = this.queueOf(queue);
    let n = 0;
    for (const id of ids) if (q.pending.delete(id)) n++;
    return n;
  }

  async reclaim(
    queue: string,
    node: string,
    slot: string,
    token: number,
    idleMs: number,
    max: number,
  ): Promise<QueueItem[] | Stale> {
    const now = this.stamp().serverTimeUs;
    if (!this.holds(slot, node, token)) return { stale: true };
    const items: QueueItem[] = [];
    for (const p of this.queueOf(queue).pending.values()) {
      if (items.length >= max) break;
      if (now - p.deliveredUs < idleMs * 1e3) continue;
      p.consumer = node;
      p.deliveredUs = now;
      items.push(p.item);
    }
    return items;
  }

  async queueLength(queue: string): Promise<number> {
    this.stamp();
    return this.queueOf(queue).items.length;
  }
  /* eslint-enable @typescript-eslint/require-await */

  async close(): Promise<void> {}
}
