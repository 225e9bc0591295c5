/**
 * SharedTable: Kamailio's htable for the host thread and every worker thread at once.
 *
 * One SharedArrayBuffer holds a hash table of fixed-size slots (`maxEntries` of them, each with
 * room for a key of `maxKeyBytes` and a value of `maxValueBytes`), in `2^size` buckets that
 * chain their slots. Values are strings (UTF-8) or numbers (float64), given back as such.
 *
 * Writers (set, delete, and the purge of expired entries) take one mutex
 * (src/data/shared-mutex.ts) and, around each change to a bucket, make that bucket's sequence
 * word odd and then even again. Readers (get, has) take no lock: they read the bucket's
 * sequence, walk its chain and copy the value, and read the sequence again; if it changed, or
 * was odd, they read again (a seqlock). Every index and length read is range-checked, so a read
 * racing a writer can only fail and retry, never run off. A reader never takes the mutex: after
 * 16 quick tries it sleeps 50 us whenever the bucket is mid-write, which gives a writer that was
 * preempted halfway the CPU back (waiting on the mutex instead would let back-to-back writers
 * starve it). So a reader waits for at most the writer's critical section in its own bucket,
 * stretched only by the OS descheduling that writer. `size` and `keys()` take the mutex.
 *
 * Expiry as htable's autoexpire: an entry expires `expires` seconds (default: the table's
 * `autoexpire`; 0 never) after it was last set. Time is the monotonic clock in nanoseconds,
 * `process.hrtime` (the same in every thread; `performance.now()` is not), or an injected clock
 * in tests. An expired entry is absent to readers at once and its slot is reclaimed by the next
 * writer that needs room, or by `size`/`keys()`.
 *
 * For operators (Kamailio's htable RPC: see src/rpc/methods-htable.ts): `entry` (a value with its
 * expiry), `dump` (a range of buckets with their entries), `bucketSizes`, `flush`, and `stats`
 * (live entries, and how many entries have expired since the table was made, counted when
 * their slot is reclaimed). These take the mutex.
 *
 * When every slot holds a live entry, `set` of a new key throws TableFullError: a table that is
 * too small is a configuration error to see, not a write to lose quietly.
 */
import { Scratch, describe, encodeKey, fnv1a } from './bytes.js';
import { DEFAULT_LOCK_TIMEOUT_MS, LockTimeoutError, SharedMutex } from './shared-mutex.js';
import type { ResolvedTable } from '../config/types.js';
import { MAX_AUTOEXPIRE_S as MAX_EXPIRES_SECONDS } from '../config/limits.js';
import type { Table } from './api-types.js';

export type TableValue = string | number;

/** Longest key, in UTF-8 bytes, unless the table says otherwise. */
export const DEFAULT_TABLE_KEY_BYTES = 256;
/** Longest string value, in UTF-8 bytes, unless the table says otherwise. */
export const DEFAULT_TABLE_VALUE_BYTES = 1024;
/** Largest `maxEntries`: the config's bound, one source for both. */
export { MAX_TABLE_ENTRIES } from '../config/limits.js';
import { MAX_TABLE_ENTRIES } from '../config/limits.js';
/** Largest shared buffer one table may need. */
export const MAX_TABLE_MEMORY = 2 ** 31;
/** Largest `expires` or `autoexpire`, in seconds (about 68 years): the config's bound (config/limits.ts). */
export { MAX_AUTOEXPIRE_S as MAX_EXPIRES_SECONDS } from '../config/limits.js';

/** Nanoseconds on a monotonic clock shared by every thread. */
export type NsClock = () => number;
export const hrtimeNs: NsClock = () => Number(process.hrtime.bigint());

export interface TableOptions {
  /** Longest key in UTF-8 bytes (default 256, at most 65536). */
  maxKeyBytes?: number;
  /** Longest string value in UTF-8 bytes (default 1024, at most 1 MiB). */
  maxValueBytes?: number;
}

export interface SharedTableHandle {
  kind: 'ptimer.table';
  name: string;
  /** htable's size: 2^size buckets. */
  size: number;
  maxEntries: number;
  autoexpire: number;
  maxKeyBytes: number;
  maxValueBytes: number;
  buffer: SharedArrayBuffer;
}

/** One bucket of a dump: its index and its live entries. */
export interface TableBucket {
  bucket: number;
  entries: Array<{ key: string; value: TableValue }>;
}

export class TableFullError extends Error {
  readonly code = 'ETABLEFULL';
  constructor(table: string, maxEntries: number, key: string) {
    super(
      `${table}.set(${JSON.stringify(key)}): the table is full (${maxEntries} live entries, its maxEntries); delete entries, let them expire, or configure a larger table`,
    );
  }
}

const MAGIC = 0x70485442; // 'pHTB'

// Header words.
const LOCK = 0; // 2 words
const COUNT = 2;
const FREE = 3;
const BUMP = 4;
const MAGIC_AT = 5;
const HEADER_BYTES = 64; // then a float64: the earliest expiry of any entry (ns), at byte 32
const MIN_EXPIRY_F64 = 4;
const EXPIRED_F64 = 5; // entries reclaimed after they expired (bytes 40-47)
const BUCKETS = HEADER_BYTES / 4; // 2 words per bucket: sequence, first slot

// Slot layout.
const S_NEXT = 0;
const S_HASH = 1;
const S_KEY_LEN = 2;
const S_KIND = 3; // 1 string, 2 number
const S_VALUE_LEN = 4;
const S_EXPIRES_F64 = 3; // float64 index within the slot: bytes 24-31
const S_NUMBER_F64 = 4; // bytes 32-39
const S_DATA = 40;
const KIND_STRING = 1;
const KIND_NUMBER = 2;

const NONE = -1;
const SPIN_TRIES = 16;

interface Geometry {
  nbuckets: number;
  slotBase: number;
  slotBytes: number;
  total: number;
}

function geometry(h: Pick<SharedTableHandle, 'size' | 'maxEntries' | 'maxKeyBytes' | 'maxValueBytes'>): Geometry {
  const nbuckets = 2 ** h.size;
  const slotBase = Math.ceil((HEADER_BYTES + nbuckets * 8) / 64) * 64;
  const slotBytes = Math.ceil((S_DATA + h.maxKeyBytes + h.maxValueBytes) / 8) * 8;
  return { nbuckets, slotBase, slotBytes, total: slotBase + slotBytes * h.maxEntries };
}

function checkSettings(t: ResolvedTable, o: Required<TableOptions>): void {
  const what = `table ${JSON.stringify(t?.name)}`;
  if (typeof t?.name !== 'string' || t.name === '')
    throw new TypeError(`a table needs a name (a non-empty string); got ${describe(t?.name)}`);
  if (!Number.isInteger(t.size) || t.size < 1 || t.size > 22)
    throw new RangeError(
      `${what}: size ${describe(t.size)} is not valid; expected an integer from 1 to 22 (2^size buckets)`,
    );
  if (!Number.isInteger(t.maxEntries) || t.maxEntries < 1 || t.maxEntries > MAX_TABLE_ENTRIES)
    throw new RangeError(
      `${what}: maxEntries ${describe(t.maxEntries)} is not valid; expected an integer from 1 to ${MAX_TABLE_ENTRIES}`,
    );
  if (!Number.isInteger(t.autoexpire) || t.autoexpire < 0 || t.autoexpire > MAX_EXPIRES_SECONDS)
    throw new RangeError(
      `${what}: autoexpire ${describe(t.autoexpire)} is not valid; expected whole seconds >= 0 (0: never)`,
    );
  if (!Number.isInteger(o.maxKeyBytes) || o.maxKeyBytes < 1 || o.maxKeyBytes > 65536)
    throw new RangeError(
      `${what}: maxKeyBytes ${describe(o.maxKeyBytes)} is not valid; expected an integer from 1 to 65536`,
    );
  if (!Number.isInteger(o.maxValueBytes) || o.maxValueBytes < 0 || o.maxValueBytes > 1 << 20)
    throw new RangeError(
      `${what}: maxValueBytes ${describe(o.maxValueBytes)} is not valid; expected an integer from 0 to 1048576`,
    );
}

export class SharedTable implements Table {
  readonly name: string;
  readonly maxEntries: number;
  readonly autoexpire: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly handle: SharedTableHandle;

  private readonly words: Int32Array;
  private readonly f64: Float64Array;
  private readonly bytes: Uint8Array;
  private readonly mutex: SharedMutex;
  private readonly what: string;
  private readonly mask: number;
  private readonly slotBase: number;
  private readonly slotBytes: number;
  private readonly keyScratch = new Scratch();
  private readonly valueScratch = new Scratch();
  private readonly clock: NsClock;
  /** This thread's reads that had to read again (a writer was in their bucket), and the 50 us sleeps that gave a writer the CPU. */
  readonly readStats = { retries: 0, slept: 0 };

  /** Makes a new, empty table in a new SharedArrayBuffer. `clock` is for tests. */
  static create(settings: ResolvedTable, options: TableOptions = {}, clock: NsClock = hrtimeNs): SharedTable {
    const o = {
      maxKeyBytes: options.maxKeyBytes ?? DEFAULT_TABLE_KEY_BYTES,
      maxValueBytes: options.maxValueBytes ?? DEFAULT_TABLE_VALUE_BYTES,
    };
    checkSettings(settings, o);
    const { name, size, maxEntries, autoexpire } = settings;
    const handle = {
      kind: 'ptimer.table' as const,
      name,
      size,
      maxEntries,
      autoexpire,
      ...o,
      buffer: undefined as unknown as SharedArrayBuffer,
    };
    const g = geometry(handle);
    if (g.total > MAX_TABLE_MEMORY)
      throw new RangeError(
        `table ${JSON.stringify(name)}: ${maxEntries} entries of up to ${o.maxKeyBytes} key and ${o.maxValueBytes} value bytes need ` +
          `${Math.ceil(g.total / 2 ** 20)} MiB of shared memory; at most ${MAX_TABLE_MEMORY / 2 ** 20} MiB: lower maxEntries or the sizes`,
      );
    handle.buffer = new SharedArrayBuffer(g.total);
    const w = new Int32Array(handle.buffer, 0, BUCKETS + 2 * g.nbuckets);
    for (let b = 0; b < g.nbuckets; b++) w[BUCKETS + 2 * b + 1] = NONE;
    w[FREE] = NONE;
    new Float64Array(handle.buffer, 0, MIN_EXPIRY_F64 + 1)[MIN_EXPIRY_F64] = Infinity;
    Atomics.store(w, MAGIC_AT, MAGIC);
    return new SharedTable(handle, clock);
  }

  /** Opens, in this thread, a table made by `create` in another. */
  static attach(handle: SharedTableHandle, clock: NsClock = hrtimeNs): SharedTable {
    if (handle?.kind !== 'ptimer.table' || !(handle.buffer instanceof SharedArrayBuffer))
      throw new TypeError(
        `SharedTable.attach: expected a table handle ({ kind: 'ptimer.table', buffer: SharedArrayBuffer, ... }); got ${describe(handle)}`,
      );
    const w = new Int32Array(handle.buffer, 0, BUCKETS);
    if (Atomics.load(w, MAGIC_AT) !== MAGIC || handle.buffer.byteLength !== geometry(handle).total)
      throw new TypeError(
        `SharedTable.attach: table ${JSON.stringify(handle.name)}: the buffer does not match the handle's settings`,
      );
    return new SharedTable(handle, clock);
  }

  private constructor(handle: SharedTableHandle, clock: NsClock) {
    this.handle = handle;
    this.name = handle.name;
    this.maxEntries = handle.maxEntries;
    this.autoexpire = handle.autoexpire;
    this.maxKeyBytes = handle.maxKeyBytes;
    this.maxValueBytes = handle.maxValueBytes;
    this.what = `table ${JSON.stringify(handle.name)}`;
    const g = geometry(handle);
    this.mask = g.nbuckets - 1;
    this.slotBase = g.slotBase;
    this.slotBytes = g.slotBytes;
    this.words = new Int32Array(handle.buffer, 0, handle.buffer.byteLength >> 2);
    this.f64 = new Float64Array(handle.buffer, 0, handle.buffer.byteLength >> 3);
    this.bytes = new Uint8Array(handle.buffer);
    this.mutex = new SharedMutex(this.words, LOCK, this.what);
    this.clock = clock;
  }

  /** The value of `key`, or undefined when it is not set or has expired. Takes no lock. */
  get(key: string): TableValue | undefined {
    const keyLen = this.encodeKey(key, 'get');
    const hash = fnv1a(this.keyScratch.buf, 0, keyLen);
    const now = this.clock();
    const bucket = BUCKETS + 2 * (hash & this.mask);
    let deadline = 0;
    for (let attempt = 0; ; attempt++) {
      const r = this.tryRead(hash, keyLen, now);
      if (r !== RETRY) return r;
      this.readStats.retries++;
      if (attempt < SPIN_TRIES) continue;
      // A writer is in this bucket again and again, or was preempted halfway: give it the CPU.
      // (Not the mutex: writers taking it back to back would starve a reader waiting there.)
      const seq = Atomics.load(this.words, bucket);
      if (seq & 1) {
        this.readStats.slept++;
        if (deadline === 0) deadline = performance.now() + DEFAULT_LOCK_TIMEOUT_MS;
        else if (performance.now() > deadline)
          throw new LockTimeoutError(
            `${this.what}.get(${JSON.stringify(key)})`,
            Atomics.load(this.words, LOCK + 1),
            DEFAULT_LOCK_TIMEOUT_MS,
          );
        Atomics.wait(this.words, bucket, seq, 0.05);
      }
    }
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Sets `key` to `value` (a string or a number), expiring `expires` seconds from now
   * (default: the table's autoexpire; 0 never). Throws TableFullError when the key is new and
   * every slot holds a live entry, and a clear error on a bad key, value or expires.
   */
  set(key: string, value: TableValue, options?: { expires?: number }): void {
    const keyLen = this.encodeKey(key, 'set');
    const hash = fnv1a(this.keyScratch.buf, 0, keyLen);
    let kind: number;
    let valueLen = 0;
    if (typeof value === 'number') kind = KIND_NUMBER;
    else if (typeof value === 'string') {
      kind = KIND_STRING;
      if (value.length * 3 > this.valueScratch.buf.length) {
        const n = Buffer.byteLength(value);
        if (n > this.maxValueBytes) throw this.valueTooLong(key, n);
        this.valueScratch.ensure(value.length * 3);
      }
      valueLen = this.valueScratch.buf.write(value, 0);
      if (valueLen > this.maxValueBytes) throw this.valueTooLong(key, valueLen);
    } else
      throw new TypeError(
        `${this.what}.set(${JSON.stringify(key)}): a value must be a string or a number; got ${describe(value)}`,
      );
    const expires = options?.expires ?? this.autoexpire;
    if (typeof expires !== 'number' || !(expires >= 0 && expires <= MAX_EXPIRES_SECONDS))
      throw new RangeError(
        `${this.what}.set(${JSON.stringify(key)}): expires ${describe(expires)} is not valid; expected seconds >= 0 (0: never), at most ${MAX_EXPIRES_SECONDS}`,
      );
    const now = this.clock();
    const expiresAt = expires === 0 ? Infinity : now + expires * 1e9;

    const w = this.words;
    this.mutex.lock();
    try {
      const bucket = BUCKETS + 2 * (hash & this.mask);
      let slot = this.findLocked(bucket, hash, keyLen);
      if (slot !== NONE && !(this.f64[(this.slotAt(slot) >> 3) + S_EXPIRES_F64]! > now)) this.f64[EXPIRED_F64]!++; // set again after it expired
      let fresh = false;
      if (slot === NONE) {
        if (w[COUNT]! >= this.maxEntries) this.purgeLocked(now);
        if (w[COUNT]! >= this.maxEntries) throw new TableFullError(this.what, this.maxEntries, key);
        slot = this.allocLocked();
        fresh = true;
      }
      Atomics.add(w, bucket, 1); // odd: readers of this bucket retry
      const at = this.slotAt(slot);
      const wi = at >> 2;
      const fi = at >> 3;
      if (fresh) {
        w[wi + S_HASH] = hash;
        w[wi + S_KEY_LEN] = keyLen;
        this.bytes.set(this.keyScratch.buf.subarray(0, keyLen), at + S_DATA);
        w[wi + S_NEXT] = w[bucket + 1]!;
        w[bucket + 1] = slot;
        w[COUNT] = w[COUNT]! + 1;
      }
      w[wi + S_KIND] = kind;
      w[wi + S_VALUE_LEN] = valueLen;
      if (kind === KIND_NUMBER) this.f64[fi + S_NUMBER_F64] = value as number;
      else this.bytes.set(this.valueScratch.buf.subarray(0, valueLen), at + S_DATA + this.maxKeyBytes);
      this.f64[fi + S_EXPIRES_F64] = expiresAt;
      Atomics.add(w, bucket, 1); // even again
      if (expiresAt < this.f64[MIN_EXPIRY_F64]!) this.f64[MIN_EXPIRY_F64] = expiresAt;
    } finally {
      this.mutex.unlock();
    }
  }

  /** Deletes `key`; true if it was set (and not expired). */
  delete(key: string): boolean {
    const keyLen = this.encodeKey(key, 'delete');
    const hash = fnv1a(this.keyScratch.buf, 0, keyLen);
    const now = this.clock();
    this.mutex.lock();
    try {
      const bucket = BUCKETS + 2 * (hash & this.mask);
      const w = this.words;
      let prev = NONE;
      for (let slot = w[bucket + 1]!; slot !== NONE; prev = slot, slot = w[(this.slotAt(slot) >> 2) + S_NEXT]!) {
        if (!this.keyMatches(slot, hash, keyLen)) continue;
        const live = this.f64[(this.slotAt(slot) >> 3) + S_EXPIRES_F64]! > now;
        if (!live) this.f64[EXPIRED_F64]!++;
        this.unlinkLocked(bucket, prev, slot);
        return live;
      }
      return false;
    } finally {
      this.mutex.unlock();
    }
  }

  /** Live entries (expired ones are purged first). */
  get size(): number {
    const now = this.clock();
    if (now < this.f64[MIN_EXPIRY_F64]!) return Atomics.load(this.words, COUNT);
    return this.mutex.with(() => {
      this.purgeLocked(now);
      return this.words[COUNT]!;
    });
  }

  /** The keys of the live entries, in no particular order. */
  keys(): string[] {
    const now = this.clock();
    const keys: string[] = [];
    this.mutex.with(() => {
      this.purgeLocked(now);
      const w = this.words;
      for (let b = 0; b <= this.mask; b++) {
        for (let slot = w[BUCKETS + 2 * b + 1]!; slot !== NONE; slot = w[(this.slotAt(slot) >> 2) + S_NEXT]!) {
          const at = this.slotAt(slot);
          keys.push(Buffer.from(this.bytes.buffer, at + S_DATA, w[(at >> 2) + S_KEY_LEN]).toString('utf8'));
        }
      }
    });
    return keys;
  }

  /** Buckets (2^size). */
  get bucketCount(): number {
    return this.mask + 1;
  }

  /** `key`'s value and when it expires (ns on the table's clock; Infinity: never), or undefined. */
  entry(key: string): { value: TableValue; expiresAt: number } | undefined {
    const keyLen = this.encodeKey(key, 'entry');
    const hash = fnv1a(this.keyScratch.buf, 0, keyLen);
    const now = this.clock();
    return this.mutex.with(() => {
      const slot = this.findLocked(BUCKETS + 2 * (hash & this.mask), hash, keyLen);
      if (slot === NONE) return undefined;
      const expiresAt = this.f64[(this.slotAt(slot) >> 3) + S_EXPIRES_F64]!;
      return expiresAt > now ? { value: this.valueLocked(slot), expiresAt } : undefined;
    });
  }

  /**
   * The live entries of buckets [from, from + count), bucket by bucket (empty buckets left out),
   * as htable.dump lists them. Stops before a bucket that would make the answer pass `maxEntries`
   * entries or `maxBytes` bytes of keys and values; `stoppedAt` is that bucket (null: the whole
   * range was listed).
   */
  dump(
    from: number,
    count: number,
    bounds: { maxEntries: number; maxBytes: number },
  ): { buckets: TableBucket[]; stoppedAt: number | null } {
    const now = this.clock();
    const end = Math.min(this.mask + 1, from + count);
    const buckets: TableBucket[] = [];
    let entriesListed = 0;
    let bytesListed = 0;
    let stoppedAt: number | null = null;
    this.mutex.with(() => {
      this.purgeLocked(now);
      const w = this.words;
      for (let b = from; b < end && stoppedAt === null; b++) {
        const entries: Array<{ key: string; value: TableValue }> = [];
        let bytes = 0;
        for (let slot = w[BUCKETS + 2 * b + 1]!; slot !== NONE; slot = w[(this.slotAt(slot) >> 2) + S_NEXT]!) {
          const at = this.slotAt(slot);
          const keyLen = w[(at >> 2) + S_KEY_LEN]!;
          bytes += keyLen + (w[(at >> 2) + S_KIND] === KIND_NUMBER ? 8 : w[(at >> 2) + S_VALUE_LEN]!);
          entries.push({
            key: Buffer.from(this.bytes.buffer, at + S_DATA, keyLen).toString('utf8'),
            value: this.valueLocked(slot),
          });
        }
        if (entries.length === 0) continue;
        if (entriesListed + entries.length > bounds.maxEntries || bytesListed + bytes > bounds.maxBytes) stoppedAt = b;
        else {
          entriesListed += entries.length;
          bytesListed += bytes;
          buckets.push({ bucket: b, entries });
        }
      }
    });
    return { buckets, stoppedAt };
  }

  /** Live entries per bucket (expired ones purged first): htable.stats' min, max and all. */
  bucketSizes(): number[] {
    const now = this.clock();
    return this.mutex.with(() => {
      this.purgeLocked(now);
      const sizes: number[] = [];
      const w = this.words;
      for (let b = 0; b <= this.mask; b++) {
        let n = 0;
        for (let slot = w[BUCKETS + 2 * b + 1]!; slot !== NONE; slot = w[(this.slotAt(slot) >> 2) + S_NEXT]!) n++;
        sizes.push(n);
      }
      return sizes;
    });
  }

  /**
   * Supervisor, after thread `deadThreadId` exited: if it died holding this table's lock (a
   * force or an out-of-memory inside set/delete/purge: no user code runs under it), the lock is
   * broken and every bucket checked: one left mid-change (an odd sequence) is closed (made even)
   * so that readers stop waiting on it; its chain is read range-checked as always, so a torn one
   * can make a read miss, never run off. Returns the buckets closed, or null if the lock was not
   * the dead thread's.
   */
  recoverFromDeadThread(deadThreadId: number): { closedBuckets: number } | null {
    if (!this.mutex.breakIfHeldBy(deadThreadId)) return null;
    let closedBuckets = 0;
    for (let b = 0; b <= this.mask; b++) {
      const seq = Atomics.load(this.words, BUCKETS + 2 * b);
      if (seq & 1) {
        Atomics.store(this.words, BUCKETS + 2 * b, seq + 1);
        Atomics.notify(this.words, BUCKETS + 2 * b);
        closedBuckets++;
      }
    }
    return { closedBuckets };
  }

  /** Deletes every entry (htable.flush); returns how many live ones there were. */
  flush(): number {
    const now = this.clock();
    return this.mutex.with(() => {
      this.purgeLocked(now);
      const w = this.words;
      const had = w[COUNT]!;
      for (let b = 0; b <= this.mask; b++) {
        const bucket = BUCKETS + 2 * b;
        while (w[bucket + 1]! !== NONE) this.unlinkLocked(bucket, NONE, w[bucket + 1]!);
      }
      this.f64[MIN_EXPIRY_F64] = Infinity;
      return had;
    });
  }

  /** Live entries, and entries that expired since the table was made. */
  stats(): { name: string; entries: number; maxEntries: number; expired: number } {
    const entries = this.size;
    return {
      name: this.name,
      entries,
      maxEntries: this.maxEntries,
      expired: this.mutex.with(() => this.f64[EXPIRED_F64]!),
    };
  }

  // ---- internals ----

  /** A slot's value (under the mutex). */
  private valueLocked(slot: number): TableValue {
    const at = this.slotAt(slot);
    if (this.words[(at >> 2) + S_KIND] === KIND_NUMBER) return this.f64[(at >> 3) + S_NUMBER_F64]!;
    const start = at + S_DATA + this.maxKeyBytes;
    return Buffer.from(this.bytes.buffer, start, this.words[(at >> 2) + S_VALUE_LEN]).toString('utf8');
  }

  private slotAt(slot: number): number {
    return this.slotBase + slot * this.slotBytes;
  }

  private encodeKey(key: unknown, op: string): number {
    return encodeKey(this.keyScratch, key, this.maxKeyBytes, `${this.what}.${op}`);
  }

  private valueTooLong(key: string, n: number): RangeError {
    return new RangeError(
      `${this.what}.set(${JSON.stringify(key)}): the value has ${n} UTF-8 bytes; at most ${this.maxValueBytes}`,
    );
  }

  /**
   * True if `slot` holds the key in the key scratch (its bytes may change under a lock-free reader).
   * Atomic loads, as every load of a lock-free read: on a weakly ordered CPU (arm64) plain loads
   * may be satisfied after the sequence's second Atomics.load, which then would not vouch for
   * them; atomic (sequentially consistent) loads cannot move past it.
   */
  private keyMatches(slot: number, hash: number, keyLen: number): boolean {
    const at = this.slotAt(slot);
    const w = this.words;
    if (Atomics.load(w, (at >> 2) + S_HASH) !== hash || Atomics.load(w, (at >> 2) + S_KEY_LEN) !== keyLen) return false;
    const b = this.bytes;
    const k = this.keyScratch.buf;
    for (let i = 0, p = at + S_DATA; i < keyLen; i++, p++) if (Atomics.load(b, p) !== k[i]) return false;
    return true;
  }

  private readonly halves = new Int32Array(2);
  private readonly whole = new Float64Array(this.halves.buffer);
  /** The float64 at index `fi` of the buffer, read as two atomic 32-bit loads (a torn pair is caught by the sequence). */
  private loadF64(fi: number): number {
    this.halves[0] = Atomics.load(this.words, 2 * fi);
    this.halves[1] = Atomics.load(this.words, 2 * fi + 1);
    return this.whole[0]!;
  }

  /** One lock-free read of the key in the key scratch; RETRY if a writer got in the way. */
  private tryRead(hash: number, keyLen: number, now: number): TableValue | undefined | typeof RETRY {
    const w = this.words;
    const bucket = BUCKETS + 2 * (hash & this.mask);
    const seq = Atomics.load(w, bucket);
    if (seq & 1) return RETRY;
    let found = false;
    let kind = 0;
    let num = 0;
    let len = 0;
    let steps = 0;
    for (
      let slot = Atomics.load(w, bucket + 1);
      slot !== NONE;
      slot = Atomics.load(w, (this.slotAt(slot) >> 2) + S_NEXT)
    ) {
      if (slot < 0 || slot >= this.maxEntries || ++steps > this.maxEntries) return RETRY;
      if (!this.keyMatches(slot, hash, keyLen)) continue;
      const at = this.slotAt(slot);
      if (!(this.loadF64((at >> 3) + S_EXPIRES_F64) > now)) break; // expired: absent
      kind = Atomics.load(w, (at >> 2) + S_KIND);
      if (kind === KIND_NUMBER) num = this.loadF64((at >> 3) + S_NUMBER_F64);
      else {
        len = Atomics.load(w, (at >> 2) + S_VALUE_LEN);
        if (kind !== KIND_STRING || len < 0 || len > this.maxValueBytes) return RETRY;
        const start = at + S_DATA + this.maxKeyBytes;
        const out = this.valueScratch.ensure(len);
        const b = this.bytes;
        for (let i = 0; i < len; i++) out[i] = Atomics.load(b, start + i);
      }
      found = true;
      break;
    }
    // Decode only once the bucket is known not to have changed during the copy.
    if (Atomics.load(w, bucket) !== seq) return RETRY;
    if (!found) return undefined;
    return kind === KIND_NUMBER ? num : this.valueScratch.buf.toString('utf8', 0, len);
  }

  private findLocked(bucket: number, hash: number, keyLen: number): number {
    const w = this.words;
    for (let slot = w[bucket + 1]!; slot !== NONE; slot = w[(this.slotAt(slot) >> 2) + S_NEXT]!) {
      if (this.keyMatches(slot, hash, keyLen)) return slot;
    }
    return NONE;
  }

  private allocLocked(): number {
    const w = this.words;
    const free = w[FREE]!;
    if (free !== NONE) {
      w[FREE] = w[(this.slotAt(free) >> 2) + S_NEXT]!;
      return free;
    }
    const slot = w[BUMP]!;
    w[BUMP] = slot + 1;
    return slot;
  }

  private unlinkLocked(bucket: number, prev: number, slot: number): void {
    const w = this.words;
    const next = w[(this.slotAt(slot) >> 2) + S_NEXT]!;
    Atomics.add(w, bucket, 1);
    if (prev === NONE) w[bucket + 1] = next;
    else w[(this.slotAt(prev) >> 2) + S_NEXT] = next;
    Atomics.add(w, bucket, 1);
    // The slot goes on the free stack; a reader still on it sees the bucket's sequence move.
    w[(this.slotAt(slot) >> 2) + S_NEXT] = w[FREE]!;
    w[FREE] = slot;
    w[COUNT] = w[COUNT]! - 1;
  }

  /** Drops every expired entry and recomputes the earliest expiry. */
  private purgeLocked(now: number): void {
    if (now < this.f64[MIN_EXPIRY_F64]!) return;
    const w = this.words;
    let earliest = Infinity;
    for (let b = 0; b <= this.mask; b++) {
      const bucket = BUCKETS + 2 * b;
      let prev = NONE;
      let slot = w[bucket + 1]!;
      while (slot !== NONE) {
        const next = w[(this.slotAt(slot) >> 2) + S_NEXT]!;
        const expiresAt = this.f64[(this.slotAt(slot) >> 3) + S_EXPIRES_F64]!;
        if (expiresAt <= now) {
          this.unlinkLocked(bucket, prev, slot);
          this.f64[EXPIRED_F64]!++;
        } else {
          if (expiresAt < earliest) earliest = expiresAt;
          prev = slot;
        }
        slot = next;
      }
    }
    this.f64[MIN_EXPIRY_F64] = earliest;
  }
}

const RETRY = Symbol('retry');
