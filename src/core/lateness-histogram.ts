/**
 * Loop lateness, recorded by a worker and read by the main thread without a round trip.
 *
 * Node's own histogram (perf_hooks.createHistogram) lives in one thread's memory, so the
 * main thread could only read it by asking the worker. This one keeps its counts in a
 * Float64Array over a SharedArrayBuffer: the worker (single writer) adds, `list()` reads.
 * Buckets are log-linear: exact below 64 ns, then 32 per power of two (about 3 % wide),
 * up to 2^31 ns (2.1 s); larger values land in the last bucket, and the exact maximum
 * is kept beside the counts.
 */
const EXACT_BELOW = 64;
const SUB_BUCKETS = 32;
const SUB_BITS = 5;
const FIRST_EXPONENT = 6; // 2^6 = 64
const LAST_EXPONENT = 30; // values below 2^31
export const HISTOGRAM_BUCKETS = EXACT_BELOW + (LAST_EXPONENT - FIRST_EXPONENT + 1) * SUB_BUCKETS;
/** Float64 slots a histogram occupies: the buckets, then count, max and sum. */
export const HISTOGRAM_SLOTS = HISTOGRAM_BUCKETS + 3;
const COUNT = HISTOGRAM_BUCKETS;
const MAX = HISTOGRAM_BUCKETS + 1;
const SUM = HISTOGRAM_BUCKETS + 2;

export function bucketIndex(valueNs: number): number {
  if (!(valueNs > 0)) return 0;
  if (valueNs >= 2 ** 31) return HISTOGRAM_BUCKETS - 1;
  const v = valueNs | 0;
  if (v < EXACT_BELOW) return v;
  const exponent = 31 - Math.clz32(v);
  const sub = (v >>> (exponent - SUB_BITS)) & (SUB_BUCKETS - 1);
  return EXACT_BELOW + (exponent - FIRST_EXPONENT) * SUB_BUCKETS + sub;
}

/** The middle of a bucket's range, in ns. */
export function bucketMidpoint(index: number): number {
  if (index < EXACT_BELOW) return index;
  const exponent = FIRST_EXPONENT + Math.floor((index - EXACT_BELOW) / SUB_BUCKETS);
  const sub = (index - EXACT_BELOW) % SUB_BUCKETS;
  const width = 2 ** (exponent - SUB_BITS);
  return (SUB_BUCKETS + sub) * width + width / 2;
}

export class LatenessHistogram {
  constructor(private readonly slots: Float64Array) {
    if (slots.length !== HISTOGRAM_SLOTS) throw new RangeError(`a lateness histogram needs ${HISTOGRAM_SLOTS} slots`);
  }

  record(valueNs: number): void {
    const s = this.slots;
    s[bucketIndex(valueNs)]!++;
    s[COUNT]!++;
    s[SUM]! += valueNs;
    if (valueNs > s[MAX]!) s[MAX] = valueNs;
  }

  get count(): number {
    return this.slots[COUNT]!;
  }

  get maxNs(): number {
    return this.slots[MAX]!;
  }

  get sumNs(): number {
    return this.slots[SUM]!;
  }

  /** The value below which a fraction q (0..1] of the records fall, in ns; 0 when empty. */
  quantileNs(q: number): number {
    const s = this.slots;
    const total = s[COUNT]!;
    if (total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += s[i]!;
      if (seen >= rank) return Math.min(bucketMidpoint(i), s[MAX]!);
    }
    return s[MAX]!;
  }
}
