/**
 * Bytes for the shared structures: how a queue value (a string, a Uint8Array or a Buffer) is
 * tagged so it comes back as the same type, a reusable scratch buffer that strings are encoded
 * into outside the locks, and the key hash.
 * (Scratch buffers are their own, not from Buffer's shared pool: allocUnsafe's pool slices share
 * one ArrayBuffer, and a plain view over one must not reach past its slice.)
 *
 * Strings are stored as UTF-8 and read back with Buffer's decoder, which works on views of a
 * SharedArrayBuffer. Encoding happens before a lock is taken and decoding after it is released,
 * so a critical section only copies bytes.
 */

/** What a stored value was, so it is given back as the same type. */
export const ValueKind = { String: 1, Bytes: 2, Buffer: 3 } as const;
export type ValueKind = (typeof ValueKind)[keyof typeof ValueKind];

export type QueueValue = string | Uint8Array;

/** The kind of a queue value, or a TypeError naming what was given and what is allowed. */
export function queueValueKind(value: unknown, what: string): ValueKind {
  if (typeof value === 'string') return ValueKind.String;
  if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? ValueKind.Buffer : ValueKind.Bytes;
  throw new TypeError(`${what}: a value must be a string or a Uint8Array (or Buffer); got ${describe(value)}`);
}

/** A short description of a bad input for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value)}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return `a ${typeof value}`;
}

/** A Buffer reused for encoding and copying; grows on demand (callers bound what they ask for). */
export class Scratch {
  buf: Buffer = Buffer.alloc(4096);
  /** The same bytes as a plain Uint8Array (its subarray() is cheaper than a Buffer's). */
  view = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  /** At least `bytes` long, keeping the first `keep` bytes. */
  ensure(bytes: number, keep = 0): Buffer {
    if (this.buf.length < bytes) {
      const grown = Buffer.alloc(Math.max(bytes, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, keep);
      this.buf = grown;
      this.view = new Uint8Array(grown.buffer, grown.byteOffset, grown.length);
    }
    return this.buf;
  }
}

/**
 * Encodes a string key at the start of `scratch`, checked (a string of at most `maxBytes` UTF-8
 * bytes; `what` names the call in errors); returns its length in bytes. One pass over the key
 * unless it has more UTF-16 units than `maxBytes` allows bytes.
 */
export function encodeKey(scratch: Scratch, key: unknown, maxBytes: number, what: string): number {
  if (typeof key !== 'string') throw new TypeError(`${what}: a key must be a string; got ${describe(key)}`);
  const n = key.length > maxBytes ? Buffer.byteLength(key) : scratch.ensure(key.length * 3).write(key, 0);
  if (n > maxBytes) throw new RangeError(`${what}: the key has ${n} UTF-8 bytes; at most ${maxBytes}`);
  return n;
}

/** 32-bit FNV-1a over bytes[start, start + len). */
export function fnv1a(bytes: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = start, end = start + len; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h | 0;
}
