/**
 * SharedQueue: Kamailio's mqueue for the host thread and every worker thread at once.
 *
 * Everything lives in one SharedArrayBuffer, so any thread that attaches the handle sees the
 * same queue. Layout (Int32 words, then bytes):
 *
 *   header   lock, counters, the FIFO's head and tail, the chunk allocator, the settings
 *   buckets  a hash index of keys: bucket -> first item of a doubly linked chain
 *   chunks   fixed-size chunks (64-256 bytes); an item is a chain of them
 *
 * An item's first chunk carries its header (links in the FIFO, links in its hash chain, the
 * key's hash and length, the value's length and kind) and then the key and value bytes, which
 * run on into further chunks. Free chunks are a stack; chunks never used yet are handed out by
 * a bump pointer, so the pages of a large, mostly empty queue are never touched. The chunk count
 * is sized so that any `size` items holding `maxBytes` bytes fit: the bounds are the
 * item count and the byte count, never fragmentation, and nothing is allocated per item.
 *
 * Age: every item carries the time it was pushed (`pushedAt`, ns on the process.hrtime scale,
 * read under the lock so the FIFO is in pushedAt order). A queue with `maxage` drops the items at
 * its front that are older than that when a take reaches them: they are not returned, not
 * counted as taken, and never granted by a limiter. When the host listens
 * (`pt.queue(name).on('expired', items => ...)`, a flag word in the header says so to every
 * thread) they are copied out and handed to it (from a worker thread through the thread's
 * port, see DataPlane); otherwise they are only counted.
 *
 * Counters for metrics (pushed, taken, refused because full, expired) live in the header too,
 * written under the lock, so they count every thread's operations.
 *
 * One mutex (src/data/shared-mutex.ts) guards it. Strings are encoded before the lock is taken
 * and decoded after it is released; under the lock, bytes are copied and links changed. `size`
 * is a single atomic read.
 *
 * addmode follows mqueue (src/modules/mqueue/mqueue_api.c, mq_item_add): 0 adds every item; 1
 * keeps the oldest item of a key (a push with a key already queued succeeds and changes nothing);
 * 2 replaces it (the old item is dropped and the new one goes to the back). Items without a key
 * are always added. Unlike mqueue, a full queue refuses the push (false) rather than dropping
 * its oldest item.
 */
import { type QueueValue, Scratch, ValueKind, describe, encodeKey, fnv1a, queueValueKind } from './bytes.js';
import { SharedMutex } from './shared-mutex.js';
import type { ResolvedQueue } from '../config/types.js';
import { MAX_QUEUE_SIZE as MAX_QUEUE_ITEMS, MAX_QUEUE_BYTES } from '../config/limits.js';
import type { Queue, TakeOptions } from './api-types.js';
import { hrtimeNs, type NsClock } from './shared-table.js';

/** Longest key, in UTF-8 bytes. */
export const MAX_QUEUE_KEY_BYTES = 1024;
// Largest `size` (items) and `maxBytes`: the config's bounds (config/limits.ts).
export { MAX_QUEUE_SIZE as MAX_QUEUE_ITEMS, MAX_QUEUE_BYTES } from '../config/limits.js';
/** Largest shared buffer one queue may need. */
export const MAX_QUEUE_MEMORY = 1.5 * (1 << 30);

export interface QueueItem {
  /** The key given to push, or undefined when none was. */
  key: string | undefined;
  value: QueueValue;
  /** When it was pushed: ns on the process.hrtime scale (`process.hrtime.bigint()`, as a number), the same in every thread. */
  pushedAt: number;
}

/** A queue's counts since it was made (every thread's operations). */
export interface QueueStats {
  name: string;
  /** Items queued now, and their bytes (keys and values). */
  size: number;
  bytes: number;
  /** Its bounds. */
  capacity: number;
  maxBytes: number;
  /** maxage in ns (0: none). */
  maxAgeNs: number;
  pushed: number;
  taken: number;
  /** Pushes refused because the queue was full (items or bytes). */
  refused: number;
  /** Items dropped at take time for being older than maxage. */
  expired: number;
}

/** Gets the items dropped for their age, in the thread that dropped them. */
export type ExpiredSink = (queue: string, items: QueueItem[]) => void;

/** What a worker needs to attach the queue: structured-cloneable (passes in workerData). */
export interface SharedQueueHandle {
  kind: 'ptimer.queue';
  name: string;
  size: number;
  maxBytes: number;
  addmode: 0 | 1 | 2;
  /** ns; 0: items never expire. */
  maxAgeNs: number;
  buffer: SharedArrayBuffer;
}

const MAGIC = 0x70514d51; // 'pQMQ'

// Header words.
const LOCK = 0; // 2 words (shared-mutex.ts): the lock and its holder
const COUNT = 2;
const BYTES = 3;
const HEAD = 4;
const TAIL = 5;
const FREE = 6;
const BUMP = 7;
const SIZE = 8;
const MAX_BYTES = 9;
const ADDMODE = 10;
const CHUNK = 11;
const NCHUNKS = 12;
const NBUCKETS = 13;
const MAGIC_AT = 14;
const FREE_COUNT = 15;
const LISTENING = 16; // 1 while the host has an 'expired' listener
const HEADER_WORDS = 32;
// Float64 indexes of the header (words 18-31).
const MAXAGE_F64 = 9;
const PUSHED_F64 = 10;
const TAKEN_F64 = 11;
const REFUSED_F64 = 12;
const EXPIRED_F64 = 13;

// Words of an item's first chunk (relative to the chunk's first word).
const NEXT = 0; // next chunk of this item (every chunk has it), or next free chunk
const PREV_ITEM = 1;
const NEXT_ITEM = 2;
const HPREV = 3;
const HNEXT = 4;
const HASH = 5;
const KEY_LEN = 6; // -1: no key
const VALUE_LEN = 7;
const KIND = 8;
const PUSHED_AT_BYTE = 40; // float64
const ITEM_HEADER_BYTES = 48;
const LINK_BYTES = 4;

const NONE = -1;

interface Geometry {
  chunk: number;
  nchunks: number;
  nbuckets: number;
  chunkBase: number;
  total: number;
}

function geometry(size: number, maxBytes: number): Geometry {
  // The largest chunk (64 B to 2 KiB) that does not make `size` one-chunk items cost more than
  // maxBytes: few chunks per item (fewer copies), and memory at most about three times maxBytes.
  let chunk = 2048;
  while (chunk > 64 && size * chunk > maxBytes) chunk /= 2;
  const first = chunk - ITEM_HEADER_BYTES;
  const rest = chunk - LINK_BYTES;
  // Every item takes one chunk; items with more than `first` bytes (at most maxBytes / (first + 1)
  // of them) take at most one more partial chunk; the rest is whole chunks of `rest` bytes.
  const nchunks = size + Math.min(size, Math.floor(maxBytes / (first + 1))) + Math.ceil(maxBytes / rest);
  let nbuckets = 16;
  while (nbuckets < size && nbuckets < 1 << 22) nbuckets *= 2;
  const chunkBase = Math.ceil(((HEADER_WORDS + nbuckets) * 4) / 64) * 64;
  return { chunk, nchunks, nbuckets, chunkBase, total: chunkBase + nchunks * chunk };
}

function checkSettings(q: ResolvedQueue): void {
  const what = `queue ${JSON.stringify(q?.name)}`;
  if (typeof q?.name !== 'string' || q.name === '')
    throw new TypeError(`a queue needs a name (a non-empty string); got ${describe(q?.name)}`);
  if (!Number.isInteger(q.size) || q.size < 1 || q.size > MAX_QUEUE_ITEMS)
    throw new RangeError(
      `${what}: size ${describe(q.size)} is not valid; expected an integer from 1 to ${MAX_QUEUE_ITEMS}`,
    );
  if (!Number.isInteger(q.maxBytes) || q.maxBytes < 1 || q.maxBytes > MAX_QUEUE_BYTES)
    throw new RangeError(
      `${what}: maxBytes ${describe(q.maxBytes)} is not valid; expected an integer from 1 to ${MAX_QUEUE_BYTES} (1 GiB)`,
    );
  if (q.addmode !== 0 && q.addmode !== 1 && q.addmode !== 2)
    throw new RangeError(
      `${what}: addmode ${describe(q.addmode)} is not valid; expected 0 (add), 1 (keep the oldest item of a key) or 2 (replace it)`,
    );
  if (q.maxAgeNs !== undefined && !(Number.isSafeInteger(q.maxAgeNs) && q.maxAgeNs >= 0))
    throw new RangeError(
      `${what}: maxAgeNs ${describe(q.maxAgeNs)} is not valid; expected an integer of nanoseconds >= 0 (0: never)`,
    );
}

export class SharedQueue implements Queue {
  readonly name: string;
  readonly capacity: number;
  readonly maxBytes: number;
  readonly addmode: 0 | 1 | 2;
  readonly maxAgeNs: number;
  readonly handle: SharedQueueHandle;
  /** Where this thread's take() hands items dropped for their age (the host's listeners, or a post to the host). */
  expiredSink: ExpiredSink | null = null;

  private readonly words: Int32Array;
  private readonly f64: Float64Array;
  private readonly clock: NsClock;
  private listeners: Array<(items: QueueItem[]) => void> = [];
  private readonly bytes: Uint8Array;
  private readonly mutex: SharedMutex;
  private readonly what: string;
  private readonly chunk: number;
  private readonly chunkWords: number;
  private readonly chunkBase: number;
  private readonly nchunks: number;
  private readonly bucketMask: number;
  private readonly scratch = new Scratch();
  private readonly out = new Scratch();
  // The write cursor of append/copyIn: chunk, byte position, end of the chunk.
  private cur = 0;
  private pos = 0;
  private end = 0;

  /** Makes a new, empty queue in a new SharedArrayBuffer. */
  static create(settings: ResolvedQueue, clock: NsClock = hrtimeNs): SharedQueue {
    checkSettings(settings);
    const g = geometry(settings.size, settings.maxBytes);
    if (g.total > MAX_QUEUE_MEMORY)
      throw new RangeError(
        `queue ${JSON.stringify(settings.name)}: size ${settings.size} with maxBytes ${settings.maxBytes} needs ` +
          `${Math.ceil(g.total / 2 ** 20)} MiB of shared memory; at most ${MAX_QUEUE_MEMORY / 2 ** 20} MiB: lower size or maxBytes`,
      );
    const buffer = new SharedArrayBuffer(g.total);
    const w = new Int32Array(buffer, 0, HEADER_WORDS + g.nbuckets);
    w.fill(NONE, HEADER_WORDS);
    w[HEAD] = NONE;
    w[TAIL] = NONE;
    w[FREE] = NONE;
    w[SIZE] = settings.size;
    w[MAX_BYTES] = settings.maxBytes;
    w[ADDMODE] = settings.addmode;
    w[CHUNK] = g.chunk;
    w[NCHUNKS] = g.nchunks;
    w[NBUCKETS] = g.nbuckets;
    const maxAgeNs = settings.maxAgeNs ?? 0;
    new Float64Array(buffer, 0, HEADER_WORDS / 2)[MAXAGE_F64] = maxAgeNs;
    Atomics.store(w, MAGIC_AT, MAGIC);
    const { name, size, maxBytes, addmode } = settings;
    return new SharedQueue({ kind: 'ptimer.queue', name, size, maxBytes, addmode, maxAgeNs, buffer }, clock);
  }

  /** Opens, in this thread, a queue made by `create` in another (its `handle`, passed in workerData). */
  static attach(handle: SharedQueueHandle, clock: NsClock = hrtimeNs): SharedQueue {
    if (handle?.kind !== 'ptimer.queue' || !(handle.buffer instanceof SharedArrayBuffer))
      throw new TypeError(
        `SharedQueue.attach: expected a queue handle ({ kind: 'ptimer.queue', buffer: SharedArrayBuffer, ... }); got ${describe(handle)}`,
      );
    const w = new Int32Array(handle.buffer, 0, HEADER_WORDS);
    const g = geometry(handle.size, handle.maxBytes);
    if (
      Atomics.load(w, MAGIC_AT) !== MAGIC ||
      w[CHUNK] !== g.chunk ||
      w[NCHUNKS] !== g.nchunks ||
      handle.buffer.byteLength !== g.total
    )
      throw new TypeError(
        `SharedQueue.attach: queue ${JSON.stringify(handle.name)}: the buffer does not match the handle's settings`,
      );
    return new SharedQueue(handle, clock);
  }

  private constructor(handle: SharedQueueHandle, clock: NsClock) {
    this.handle = handle;
    this.name = handle.name;
    this.capacity = handle.size;
    this.maxBytes = handle.maxBytes;
    this.addmode = handle.addmode;
    this.maxAgeNs = handle.maxAgeNs ?? 0;
    this.clock = clock;
    this.what = `queue ${JSON.stringify(handle.name)}`;
    const g = geometry(handle.size, handle.maxBytes);
    this.words = new Int32Array(handle.buffer);
    this.f64 = new Float64Array(handle.buffer);
    this.bytes = new Uint8Array(handle.buffer);
    this.chunk = g.chunk;
    this.chunkWords = g.chunk / 4;
    this.chunkBase = g.chunkBase;
    this.nchunks = g.nchunks;
    this.bucketMask = g.nbuckets - 1;
    this.mutex = new SharedMutex(this.words, LOCK, this.what);
  }

  /** Items queued now. */
  get size(): number {
    return Atomics.load(this.words, COUNT);
  }

  /** Bytes of keys and values queued now. */
  get bytesUsed(): number {
    return Atomics.load(this.words, BYTES);
  }

  /**
   * Queues `value` (a string or a Uint8Array) at the back, under `key` if given.
   * Returns false, changing nothing, when the queue holds `size` items or the item's bytes would
   * pass `maxBytes`. With addmode 1 and `key` already queued: true, and the queue is unchanged.
   * Throws on a value that is not a string or Uint8Array, a key that is not a string or is longer
   * than 1024 UTF-8 bytes, or an item larger than `maxBytes` (it could never fit).
   */
  push(value: QueueValue, key?: string): boolean {
    const kind = queueValueKind(value, `${this.what}.push`);
    let keyLen = NONE;
    let hash = 0;
    if (key !== undefined) keyLen = this.encodeKey(key, 'push');
    let scratch = this.scratch.buf;
    if (keyLen >= 0) hash = fnv1a(scratch, 0, keyLen);
    const keyBytes = keyLen < 0 ? 0 : keyLen;
    let src: Uint8Array;
    let srcStart: number;
    let valueLen: number;
    if (kind === ValueKind.String) {
      const s = value as string;
      if (keyBytes + s.length * 3 > scratch.length) {
        // Too long for the scratch buffer at the worst case of 3 bytes per UTF-16 unit: measure.
        this.checkItemBytes(keyBytes + Buffer.byteLength(s));
        scratch = this.scratch.ensure(keyBytes + s.length * 3, keyBytes);
      }
      valueLen = scratch.write(s, keyBytes);
      src = this.scratch.view;
      srcStart = keyBytes;
    } else {
      src = value as Uint8Array;
      srcStart = 0;
      valueLen = src.length;
    }
    const itemBytes = keyBytes + valueLen;
    this.checkItemBytes(itemBytes);
    const need = this.chunksFor(itemBytes);

    const w = this.words;
    this.mutex.lock();
    try {
      let replaced = NONE;
      if (keyLen >= 0 && this.addmode !== 0) {
        const existing = this.find(hash, scratch, keyLen);
        if (existing !== NONE) {
          if (this.addmode === 1) {
            this.f64[PUSHED_F64]!++;
            return true;
          }
          replaced = existing;
        }
      }
      let count = w[COUNT]!;
      let bytes = w[BYTES]!;
      let available = this.nchunks - w[BUMP]! + this.freeCount();
      if (replaced !== NONE) {
        const oldBytes = Math.max(0, w[this.at(replaced) + KEY_LEN]!) + w[this.at(replaced) + VALUE_LEN]!;
        count -= 1;
        bytes -= oldBytes;
        available += this.chunksFor(oldBytes);
      }
      if (count >= this.capacity || bytes + itemBytes > this.maxBytes || available < need) {
        this.f64[REFUSED_F64]!++;
        return false;
      }
      if (replaced !== NONE) this.unlinkAndFree(replaced);
      this.append(kind, hash, keyLen, this.scratch.view, src, srcStart, valueLen, need);
      this.f64[PUSHED_F64]!++;
      return true;
    } finally {
      this.mutex.unlock();
    }
  }

  /** Takes up to `n` items from the front, oldest first; `options.send`, if given, gets them first. (`waitNs` matters only under a timer's limit: TimerQueue.) */
  take(n = 1, options?: TakeOptions): QueueItem[] {
    const items = this.takeItems(n);
    if (options?.send && items.length > 0) options.send(items);
    return items;
  }

  private takeItems(n: number): QueueItem[] {
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(`${this.what}.take: n must be an integer >= 0; got ${describe(n)}`);
    if (n === 0 || Atomics.load(this.words, COUNT) === 0) return [];
    const w = this.words;
    // Under the lock: keys and string values are copied into `out` (decoded after), byte values
    // straight into their own new arrays. The first `expiredCount` records are items dropped for their age.
    const records: Copied = { keyLens: [], values: [], pushedAts: [], outLen: 0 };
    let expiredCount = 0;
    this.mutex.lock();
    try {
      if (this.maxAgeNs > 0) {
        const oldest = this.clock() - this.maxAgeNs;
        const keep = w[LISTENING] === 1;
        while (w[HEAD] !== NONE && this.f64[this.pushedAtIndex(w[HEAD]!)]! <= oldest) {
          const item = w[HEAD]!;
          if (keep) {
            this.copyItemOut(item, records);
            expiredCount++;
          }
          this.unlinkAndFree(item);
          this.f64[EXPIRED_F64]!++;
        }
      }
      const k = Math.min(n, w[COUNT]!);
      for (let i = 0; i < k; i++) {
        const item = w[HEAD]!;
        this.copyItemOut(item, records);
        this.unlinkAndFree(item);
      }
      this.f64[TAKEN_F64] = this.f64[TAKEN_F64]! + k;
    } finally {
      this.mutex.unlock();
    }
    const all = this.decode(records);
    if (expiredCount === 0) return all;
    const expired = all.slice(0, expiredCount);
    this.handOver(expired);
    return all.slice(expiredCount);
  }

  /** Copies one item (under the lock) into `records`: key and string value into `out`, bytes into an array of their own. */
  private copyItemOut(item: number, records: Copied): void {
    const w = this.words;
    const at = this.at(item);
    const keyLen = w[at + KEY_LEN]!;
    const keyBytes = keyLen < 0 ? 0 : keyLen;
    const valueLen = w[at + VALUE_LEN]!;
    const kind = w[at + KIND]!;
    const inOut = kind === ValueKind.String ? keyBytes + valueLen : keyBytes;
    let out = this.out.buf;
    if (records.outLen + inOut > out.length) out = this.out.ensure(records.outLen + inOut, records.outLen);
    if (kind === ValueKind.String) {
      this.copyOut(item, 0, inOut, out, records.outLen);
      records.values.push(valueLen);
    } else {
      if (keyBytes > 0) this.copyOut(item, 0, keyBytes, out, records.outLen);
      const bytes = kind === ValueKind.Buffer ? Buffer.allocUnsafe(valueLen) : new Uint8Array(valueLen);
      this.copyOut(item, keyBytes, valueLen, bytes, 0);
      records.values.push(bytes);
    }
    records.outLen += inOut;
    records.keyLens.push(keyLen);
    records.pushedAts.push(this.f64[this.pushedAtIndex(item)]!);
  }

  /** The items of `records` (after the lock is released). */
  private decode(records: Copied): QueueItem[] {
    const { keyLens, values, pushedAts } = records;
    const out = this.out.buf;
    const items: QueueItem[] = new Array<QueueItem>(values.length);
    let pos = 0;
    for (let i = 0; i < values.length; i++) {
      const keyLen = keyLens[i]!;
      let key: string | undefined;
      if (keyLen >= 0) {
        key = keyLen === 0 ? '' : out.toString('utf8', pos, pos + keyLen);
        pos += keyLen;
      }
      const v = values[i]!;
      if (typeof v === 'number') {
        items[i] = { key, value: v === 0 ? '' : out.toString('utf8', pos, pos + v), pushedAt: pushedAts[i]! };
        pos += v;
      } else items[i] = { key, value: v, pushedAt: pushedAts[i]! };
    }
    return items;
  }

  /** Items dropped for their age: to this thread's sink (set by DataPlane), else to the listeners here. */
  private handOver(items: QueueItem[]): void {
    if (this.expiredSink) this.expiredSink(this.name, items);
    else this.deliverExpired(items);
  }

  /**
   * Listens for items dropped for their age (`maxage`), wherever they were taken: a route's take
   * in a worker thread, or a take here. Called with the dropped items, oldest first, after the
   * take that dropped them. While no listener is registered, such items are only counted.
   */
  on(event: 'expired', listener: (items: QueueItem[]) => void): this {
    if (event !== 'expired')
      throw new TypeError(`${this.what}.on: the only event is 'expired'; got ${describe(event)}`);
    if (typeof listener !== 'function')
      throw new TypeError(
        `${this.what}.on('expired', listener): listener must be a function; got ${describe(listener)}`,
      );
    this.listeners.push(listener);
    Atomics.store(this.words, LISTENING, 1);
    return this;
  }

  off(event: 'expired', listener: (items: QueueItem[]) => void): this {
    this.listeners = this.listeners.filter((l) => l !== listener);
    if (this.listeners.length === 0) Atomics.store(this.words, LISTENING, 0);
    return this;
  }

  /** @internal The expired items of a take (here, or posted from a worker thread) to the listeners. */
  deliverExpired(items: QueueItem[]): void {
    for (const listener of this.listeners) listener(items);
  }

  /** The counts since the queue was made (under the lock: one consistent reading). */
  stats(): QueueStats {
    return this.mutex.with(() => ({
      name: this.name,
      size: this.words[COUNT]!,
      bytes: this.words[BYTES]!,
      capacity: this.capacity,
      maxBytes: this.maxBytes,
      maxAgeNs: this.maxAgeNs,
      pushed: this.f64[PUSHED_F64]!,
      taken: this.f64[TAKEN_F64]!,
      refused: this.f64[REFUSED_F64]!,
      expired: this.f64[EXPIRED_F64]!,
    }));
  }

  /** Removes every queued item with this key; returns how many. */
  remove(key: string): number {
    const keyLen = this.encodeKey(key, 'remove');
    const scratch = this.scratch.buf;
    const hash = fnv1a(scratch, 0, keyLen);
    const w = this.words;
    let removed = 0;
    this.mutex.lock();
    try {
      let item = w[HEADER_WORDS + (hash & this.bucketMask)]!;
      while (item !== NONE) {
        const next = w[this.at(item) + HNEXT]!;
        if (this.keyEquals(item, hash, scratch, keyLen)) {
          this.unlinkAndFree(item);
          removed++;
        }
        item = next;
      }
    } finally {
      this.mutex.unlock();
    }
    return removed;
  }

  /**
   * Supervisor, after thread `deadThreadId` exited: if it died holding this queue's lock (a
   * force or an out-of-memory inside push/take: no user code runs under it), the lock is broken
   * and the queue checked before anyone uses it: the item list walked from HEAD (each item's
   * back link, the count, the bytes, TAIL) and the free list counted. A queue found torn is
   * emptied (its items are lost; the answer says so). Null if the lock was not the dead thread's.
   */
  recoverFromDeadThread(deadThreadId: number): { consistent: boolean; lost: number } | null {
    if (!this.mutex.breakIfHeldBy(deadThreadId)) return null;
    const w = this.words;
    const count = w[COUNT]!;
    let consistent = count >= 0 && count <= this.capacity && w[BYTES]! >= 0 && w[BYTES]! <= this.maxBytes;
    let seen = 0;
    let bytes = 0;
    let prev = NONE;
    for (let item = w[HEAD]!; consistent && item !== NONE; item = w[this.at(item) + NEXT_ITEM]!) {
      if (item < 0 || item >= this.nchunks || seen >= count || w[this.at(item) + PREV_ITEM] !== prev)
        consistent = false;
      else {
        seen++;
        bytes += Math.max(0, w[this.at(item) + KEY_LEN]!) + w[this.at(item) + VALUE_LEN]!;
        prev = item;
      }
    }
    consistent &&= seen === count && prev === w[TAIL] && bytes === w[BYTES];
    let free = 0;
    for (let chunk = w[FREE]!; consistent && chunk !== NONE; chunk = w[this.at(chunk) + NEXT]!) {
      if (chunk < 0 || chunk >= this.nchunks || ++free > this.nchunks) consistent = false;
    }
    consistent &&= free === w[FREE_COUNT];
    return { consistent, lost: consistent ? 0 : this.clear() };
  }

  /** Drops every item; returns how many there were. */
  clear(): number {
    const w = this.words;
    this.mutex.lock();
    try {
      const had = w[COUNT]!;
      w.fill(NONE, HEADER_WORDS, HEADER_WORDS + this.bucketMask + 1);
      w[HEAD] = NONE;
      w[TAIL] = NONE;
      w[FREE] = NONE;
      w[FREE_COUNT] = 0;
      w[BUMP] = 0;
      w[BYTES] = 0;
      Atomics.store(w, COUNT, 0);
      return had;
    } finally {
      this.mutex.unlock();
    }
  }

  // ---- internals (callers hold the lock unless noted) ----

  /** Word index of a chunk's first word. */
  private at(chunk: number): number {
    return (this.chunkBase >> 2) + chunk * this.chunkWords;
  }

  /** Float64 index of an item's pushedAt. */
  private pushedAtIndex(chunk: number): number {
    return (this.chunkBase + chunk * this.chunk + PUSHED_AT_BYTE) >> 3;
  }

  private chunksFor(itemBytes: number): number {
    const first = this.chunk - ITEM_HEADER_BYTES;
    return itemBytes <= first ? 1 : 1 + Math.ceil((itemBytes - first) / (this.chunk - LINK_BYTES));
  }

  private freeCount(): number {
    return this.words[FREE_COUNT]!;
  }

  private checkItemBytes(itemBytes: number): void {
    if (itemBytes > this.maxBytes)
      throw new RangeError(
        `${this.what}.push: the item has ${itemBytes} bytes (key and value), more than the queue's maxBytes ${this.maxBytes}: it can never fit`,
      );
  }

  /** Encodes a key at the start of the scratch buffer (no lock needed); returns its length. */
  private encodeKey(key: unknown, op: string): number {
    return encodeKey(this.scratch, key, MAX_QUEUE_KEY_BYTES, `${this.what}.${op}`);
  }

  private allocChunk(): number {
    const w = this.words;
    const free = w[FREE]!;
    if (free !== NONE) {
      w[FREE] = w[this.at(free) + NEXT]!;
      w[FREE_COUNT] = w[FREE_COUNT]! - 1;
      return free;
    }
    const fresh = w[BUMP]!;
    w[BUMP] = fresh + 1;
    return fresh;
  }

  private find(hash: number, key: Uint8Array, keyLen: number): number {
    const w = this.words;
    let item = w[HEADER_WORDS + (hash & this.bucketMask)]!;
    while (item !== NONE) {
      if (this.keyEquals(item, hash, key, keyLen)) return item;
      item = w[this.at(item) + HNEXT]!;
    }
    return NONE;
  }

  private keyEquals(item: number, hash: number, key: Uint8Array, keyLen: number): boolean {
    const w = this.words;
    const at = this.at(item);
    if (w[at + HASH] !== hash || w[at + KEY_LEN] !== keyLen) return false;
    const b = this.bytes;
    let chunk = item;
    let pos = this.chunkBase + item * this.chunk + ITEM_HEADER_BYTES;
    let end = this.chunkBase + (item + 1) * this.chunk;
    for (let i = 0; i < keyLen; i++) {
      if (pos === end) {
        chunk = w[this.at(chunk) + NEXT]!;
        pos = this.chunkBase + chunk * this.chunk + LINK_BYTES;
        end = pos - LINK_BYTES + this.chunk;
      }
      if (b[pos++] !== key[i]) return false;
    }
    return true;
  }

  /** Writes a new item at the back: key from `keySrc[0, keyLen)`, value from `src[srcStart, +valueLen)`. */
  private append(
    kind: number,
    hash: number,
    keyLen: number,
    keySrc: Uint8Array,
    src: Uint8Array,
    srcStart: number,
    valueLen: number,
    need: number,
  ): void {
    const w = this.words;
    const item = this.allocChunk();
    const at = this.at(item);
    // Lay out the chain, then copy key and value across it.
    let chunk = item;
    for (let i = 1; i < need; i++) {
      const next = this.allocChunk();
      w[this.at(chunk) + NEXT] = next;
      chunk = next;
    }
    w[this.at(chunk) + NEXT] = NONE;
    this.cur = item;
    this.pos = this.chunkBase + item * this.chunk + ITEM_HEADER_BYTES;
    this.end = this.chunkBase + (item + 1) * this.chunk;
    if (keyLen > 0) this.copyIn(keySrc, 0, keyLen);
    this.copyIn(src, srcStart, valueLen);

    w[at + HASH] = hash;
    w[at + KEY_LEN] = keyLen;
    w[at + VALUE_LEN] = valueLen;
    w[at + KIND] = kind;
    // Read under the lock: the FIFO stays in pushedAt order, whichever thread pushes.
    this.f64[this.pushedAtIndex(item)] = this.clock();
    // FIFO: at the back.
    const tail = w[TAIL]!;
    w[at + PREV_ITEM] = tail;
    w[at + NEXT_ITEM] = NONE;
    if (tail === NONE) w[HEAD] = item;
    else w[this.at(tail) + NEXT_ITEM] = item;
    w[TAIL] = item;
    // Hash chain: keyed items only, at the front of their bucket.
    w[at + HPREV] = NONE;
    w[at + HNEXT] = NONE;
    if (keyLen >= 0) {
      const bucket = HEADER_WORDS + (hash & this.bucketMask);
      const first = w[bucket]!;
      w[at + HNEXT] = first;
      if (first !== NONE) w[this.at(first) + HPREV] = item;
      w[bucket] = item;
    }
    w[BYTES] = w[BYTES]! + Math.max(0, keyLen) + valueLen;
    Atomics.store(w, COUNT, w[COUNT]! + 1);
  }

  /** Copies bytes into the chain being written, from the cursor (cur, pos, end) on. */
  private copyIn(given: Uint8Array, start: number, len: number): void {
    // A Buffer's subarray() is several times dearer than a plain Uint8Array's.
    const from = Buffer.isBuffer(given) ? new Uint8Array(given.buffer, given.byteOffset, given.length) : given;
    const w = this.words;
    const b = this.bytes;
    let pos = this.pos;
    let end = this.end;
    while (len > 0) {
      if (pos === end) {
        this.cur = w[this.at(this.cur) + NEXT]!;
        pos = this.chunkBase + this.cur * this.chunk + LINK_BYTES;
        end = pos - LINK_BYTES + this.chunk;
      }
      const n = Math.min(len, end - pos);
      if (n < 16) for (let i = 0; i < n; i++) b[pos + i] = from[start + i]!;
      else b.set(from.subarray(start, start + n), pos);
      pos += n;
      start += n;
      len -= n;
    }
    this.pos = pos;
    this.end = end;
  }

  /** Copies `len` bytes of an item, from byte `skip` of its key and value on, into `out` at `outPos`. */
  private copyOut(item: number, skip: number, len: number, out: Uint8Array, outPos: number): void {
    const w = this.words;
    const b = this.bytes;
    let cur = item;
    let pos = this.chunkBase + item * this.chunk + ITEM_HEADER_BYTES;
    let end = this.chunkBase + (item + 1) * this.chunk;
    while (skip >= end - pos) {
      skip -= end - pos;
      cur = w[this.at(cur) + NEXT]!;
      pos = this.chunkBase + cur * this.chunk + LINK_BYTES;
      end = pos - LINK_BYTES + this.chunk;
    }
    pos += skip;
    while (len > 0) {
      if (pos === end) {
        cur = w[this.at(cur) + NEXT]!;
        pos = this.chunkBase + cur * this.chunk + LINK_BYTES;
        end = pos - LINK_BYTES + this.chunk;
      }
      const n = Math.min(len, end - pos);
      if (n < 16) for (let i = 0; i < n; i++) out[outPos + i] = b[pos + i]!;
      else out.set(b.subarray(pos, pos + n), outPos);
      pos += n;
      outPos += n;
      len -= n;
    }
  }

  /** Takes an item out of the FIFO and its hash chain and returns its chunks to the free stack. */
  private unlinkAndFree(item: number): void {
    const w = this.words;
    const at = this.at(item);
    const prev = w[at + PREV_ITEM]!;
    const next = w[at + NEXT_ITEM]!;
    if (prev === NONE) w[HEAD] = next;
    else w[this.at(prev) + NEXT_ITEM] = next;
    if (next === NONE) w[TAIL] = prev;
    else w[this.at(next) + PREV_ITEM] = prev;
    const keyLen = w[at + KEY_LEN]!;
    if (keyLen >= 0) {
      const hprev = w[at + HPREV]!;
      const hnext = w[at + HNEXT]!;
      if (hprev === NONE) w[HEADER_WORDS + (w[at + HASH]! & this.bucketMask)] = hnext;
      else w[this.at(hprev) + HNEXT] = hnext;
      if (hnext !== NONE) w[this.at(hnext) + HPREV] = hprev;
    }
    // The whole chain goes onto the free stack at once.
    let last = item;
    let n = 1;
    for (let c = w[at + NEXT]!; c !== NONE; c = w[this.at(c) + NEXT]!) {
      last = c;
      n++;
    }
    w[this.at(last) + NEXT] = w[FREE]!;
    w[FREE] = item;
    w[FREE_COUNT] = w[FREE_COUNT]! + n;
    w[BYTES] = w[BYTES]! - Math.max(0, keyLen) - w[at + VALUE_LEN]!;
    Atomics.store(w, COUNT, w[COUNT]! - 1);
  }
}

/** Items copied out under the lock, decoded after it. */
interface Copied {
  keyLens: number[];
  /** A string's byte length (its bytes are in `out`), or the bytes. */
  values: Array<number | Uint8Array>;
  pushedAts: number[];
  outLen: number;
}
