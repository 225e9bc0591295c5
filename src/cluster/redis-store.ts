/**
 * The cluster store on Redis (ioredis): leases, fences and bookings by the Lua scripts of
 * redis-scripts.ts, cluster queues as Streams with one consumer group (`ptimer`): a take is
 * XREADGROUP fenced by the slot's token, a released item is XACKed and deleted, and items a dead
 * holder took but never released are re-claimed with XAUTOCLAIM once idle for the lease time
 * (at-least-once).
 *
 * Failing fast: a node must learn at once that Redis is gone (its slots then stop at their
 * lease end, lease-table.ts), so commands are not queued while disconnected and time out after
 * `commandTimeoutMs`. With Sentinel, ioredis asks the sentinels for the primary and follows a
 * failover; the new primary's run_id (read with each round) starts the quarantine.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { ResolvedCluster } from '../config/cluster-params.js';
import { ACQUIRE, BOOK, EPOCH, RECLAIM, RELEASE, ROUND, TAKE } from './redis-scripts.js';
import {
  clusterKeys,
  type AcquireReply,
  type BookRequest,
  type ClusterStore,
  type HeldSlot,
  type QueueItem,
  type RoundReply,
  type Stale,
  type Stamped,
} from './store.js';

const GROUP = 'ptimer';

type Script = (numKeys: number, ...args: Array<string | number>) => Promise<unknown>;
interface ScriptedRedis {
  ptRound: Script;
  ptAcquire: Script;
  ptRelease: Script;
  ptBook: Script;
  ptTake: Script;
  ptReclaim: Script;
  ptEpoch: Script;
}

export interface RedisStoreOptions {
  /** Per command (default 1000 ms): a round that takes longer counts as Redis unreachable. */
  commandTimeoutMs?: number;
}

/** The ioredis options for a resolved cluster (one primary, or Sentinels that name it). */
export function redisOptionsOf(cluster: ResolvedCluster, commandTimeoutMs: number): RedisOptions {
  const common: RedisOptions = {
    db: cluster.db,
    ...(cluster.username !== null ? { username: cluster.username } : {}),
    ...(cluster.password !== null ? { password: cluster.password } : {}),
    ...(cluster.tls ? { tls: {} } : {}),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(1000, commandTimeoutMs),
    retryStrategy: (times) => Math.min(50 * times, 500),
    lazyConnect: true,
  };
  if (cluster.sentinels.length > 0) return { ...common, sentinels: cluster.sentinels, name: cluster.masterName! };
  return { ...common, host: cluster.host, port: cluster.port };
}

function serverUs(seconds: unknown, micros: unknown): number {
  return Number(seconds) * 1e6 + Number(micros);
}

function runIdOf(info: unknown): string {
  const match = /run_id:([0-9a-f]+)/.exec(String(info));
  return match ? match[1]! : 'unknown';
}

/** A lease value `node:token` to its node (node ids may contain ':'). */
function nodeOfLease(value: string): string {
  const colon = value.lastIndexOf(':');
  return colon < 0 ? value : value.slice(0, colon);
}

function itemsOf(entries: unknown): QueueItem[] {
  const items: QueueItem[] = [];
  for (const entry of (entries as Array<[string, string[] | null]>) ?? []) {
    const [id, fields] = entry;
    if (!fields) continue; // deleted while pending
    let key = '';
    let value = '';
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (fields[i] === 'k') key = fields[i + 1]!;
      else if (fields[i] === 'v') value = fields[i + 1]!;
    }
    items.push({ id, key, value });
  }
  return items;
}

export class RedisStore implements ClusterStore {
  readonly redis: Redis;
  private readonly keys: ReturnType<typeof clusterKeys>;
  private readonly groups = new Set<string>();
  private lastRunId = 'unknown';

  private constructor(redis: Redis, name: string) {
    this.redis = redis;
    this.keys = clusterKeys(name);
    const scripts: Record<keyof ScriptedRedis, string> = {
      ptRound: ROUND,
      ptAcquire: ACQUIRE,
      ptRelease: RELEASE,
      ptBook: BOOK,
      ptTake: TAKE,
      ptReclaim: RECLAIM,
      ptEpoch: EPOCH,
    };
    for (const [name, lua] of Object.entries(scripts)) redis.defineCommand(name, { lua });
  }

  /** Connects (rejects when Redis cannot be reached within the connect timeout). */
  static async connect(cluster: ResolvedCluster, options: RedisStoreOptions = {}): Promise<RedisStore> {
    const redis = new Redis(redisOptionsOf(cluster, options.commandTimeoutMs ?? 1000));
    redis.on('error', () => {}); // reported by the failing commands; ioredis retries the connection
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect(); // no background retries from a client nobody holds
      throw error;
    }
    return new RedisStore(redis, cluster.name);
  }

  private get s(): ScriptedRedis {
    return this.redis as unknown as ScriptedRedis;
  }

  /** Runs a script and INFO server in one round trip: the reply and the run_id of the server that ran it. */
  private async withRunId(call: (pipeline: ScriptedRedis) => unknown): Promise<{ reply: unknown; runId: string }> {
    const pipeline = this.redis.pipeline();
    call(pipeline as unknown as ScriptedRedis);
    pipeline.info('server');
    const results = (await pipeline.exec()) ?? [];
    const [scriptResult, infoResult] = results;
    if (!scriptResult || scriptResult[0]) throw scriptResult?.[0] ?? new Error('no reply from Redis');
    if (infoResult && !infoResult[0]) this.lastRunId = runIdOf(infoResult[1]);
    return { reply: scriptResult[1], runId: this.lastRunId };
  }

  async epoch(): Promise<{ epochUs: number } & Stamped> {
    const { reply, runId } = await this.withRunId((p) => p.ptEpoch(1, this.keys.epoch));
    const [epoch, s, us] = reply as [string, string, string];
    return { epochUs: Number(epoch), serverTimeUs: serverUs(s, us), runId };
  }

  async round(node: string, held: HeldSlot[], slots: string[], ttlMs: number): Promise<RoundReply> {
    const keys = [
      this.keys.nodes,
      ...held.map((h) => this.keys.lease(h.slot)),
      ...slots.map((s) => this.keys.lease(s)),
    ];
    const args = [node, ttlMs, held.length, ...held.map((h) => h.token)];
    const { reply, runId } = await this.withRunId((p) => p.ptRound(keys.length, ...keys, ...args));
    const [s, us, renewed, live, holderValues] = reply as [string, string, number[], string[], string[]];
    const holders: Record<string, string | null> = {};
    slots.forEach((slot, i) => (holders[slot] = holderValues[i] ? nodeOfLease(holderValues[i]) : null));
    return {
      serverTimeUs: serverUs(s, us),
      runId,
      renewed: renewed.map((r) => r === 1),
      liveNodes: [...live].sort(),
      holders,
    };
  }

  async acquire(slot: string, node: string, ttlMs: number): Promise<AcquireReply & Stamped> {
    const { reply, runId } = await this.withRunId((p) =>
      p.ptAcquire(2, this.keys.lease(slot), this.keys.fence(slot), node, ttlMs),
    );
    const [granted, value, s, us] = reply as [number, string, string, string];
    const stamp = { serverTimeUs: serverUs(s, us), runId };
    return granted === 1
      ? { granted: true, token: Number(value), ...stamp }
      : { granted: false, holder: nodeOfLease(value), ...stamp };
  }

  async leave(node: string): Promise<void> {
    await this.redis.zrem(this.keys.nodes, node);
  }

  async release(slot: string, node: string, token: number): Promise<boolean> {
    return (await this.s.ptRelease(1, this.keys.lease(slot), node, token)) === 1;
  }

  async book(node: string, request: BookRequest): Promise<{ admittedUs: number[] } | Stale> {
    const span = request.windowUs + 2 * request.guardUs;
    const reply = (await this.s.ptBook(
      2,
      this.keys.lease(request.slot),
      this.keys.bookings(request.limit),
      node,
      request.token,
      request.count,
      span,
      request.notBeforeUs,
      ...request.candidatesUs,
    )) as Array<string | number>;
    if (reply.length === 1 && reply[0] === -1) return { stale: true };
    return { admittedUs: reply.map(Number) };
  }

  /** The stream and its consumer group exist (MKSTREAM; from id 0, so items pushed before are delivered). */
  private async ensureGroup(queue: string): Promise<string> {
    const key = this.keys.queue(queue);
    if (this.groups.has(queue)) return key;
    try {
      await this.redis.xgroup('CREATE', key, GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!/BUSYGROUP/.test((error as Error).message)) throw error;
    }
    this.groups.add(queue);
    return key;
  }

  async push(queue: string, key: string, value: string): Promise<string> {
    const stream = await this.ensureGroup(queue);
    return (await this.redis.xadd(stream, '*', 'k', key, 'v', value))!;
  }

  async take(queue: string, node: string, slot: string, token: number, max: number): Promise<QueueItem[] | Stale> {
    const stream = await this.ensureGroup(queue);
    const reply = await this.s.ptTake(2, this.keys.lease(slot), stream, node, token, GROUP, max);
    return reply === -1 ? { stale: true } : itemsOf(reply);
  }

  async ack(queue: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const stream = await this.ensureGroup(queue);
    const results =
      (await this.redis
        .pipeline()
        .xack(stream, GROUP, ...ids)
        .xdel(stream, ...ids)
        .exec()) ?? [];
    const [acked] = results;
    if (!acked || acked[0]) throw acked?.[0] ?? new Error('no reply from Redis');
    return Number(acked[1]);
  }

  async reclaim(
    queue: string,
    node: string,
    slot: string,
    token: number,
    idleMs: number,
    max: number,
  ): Promise<QueueItem[] | Stale> {
    const stream = await this.ensureGroup(queue);
    const reply = await this.s.ptReclaim(2, this.keys.lease(slot), stream, node, token, GROUP, idleMs, max);
    return reply === -1 ? { stale: true } : itemsOf(reply);
  }

  async queueLength(queue: string): Promise<number> {
    const stream = await this.ensureGroup(queue);
    const groups = (await this.redis.xinfo('GROUPS', stream)) as unknown[][];
    const info = groups.find((g) => g[g.indexOf('name') + 1] === GROUP) ?? [];
    const lag = info[info.indexOf('lag') + 1];
    return typeof lag === 'number' ? lag : Number(lag ?? 0);
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
