/**
 * BINRPC, the binary protocol of Kamailio's `ctl` module (the one `kamcmd` speaks): packets
 * and records in and out. Written from the format as Kamailio documents it in
 * src/modules/ctl/binrpc.h; no code of theirs.
 *
 * Packet: a header, then `total_len` bytes of records.
 *
 *     byte 0   MAGIC (0xA) << 4 | VERSION (1)                      = 0xA1
 *     byte 1   TYPE << 4 | (LL - 1) << 2 | (CL - 1)                  TYPE: 0 request, 1 reply, 3 fault
 *     LL bytes total_len, big endian (length of the records, not of the header)
 *     CL bytes cookie, big endian (a reply carries the request's cookie)
 *
 * Record: one byte `S | size (3 bits) | type (4 bits)`, then the value. With S = 0, `size`
 * is the value's length in bytes; with S = 1, the length itself follows on `size` bytes.
 * (A double's high nibble is always its plain length: S is not read for it.)
 *
 *     int 0     0x00; ints are 32-bit two's complement, big endian, in as few bytes as hold them
 *     int 7     0x10 0x07                 str "abc"  0x41 'a' 'b' 'c' 0x00 (the length counts a trailing 0)
 *     double    fixed point: the value * 1000 as a signed integer of up to 8 bytes
 *     bytes     like str without the trailing 0
 *     struct    0x03, then members, then the end mark 0x83; a member is an avp: a name record
 *               (type 5, a str) and a value record. Kamailio's servers also put plain values
 *               in a struct for what a method adds as an array, and kamcmd reads them.
 *     array     0x04, values, 0x84
 *
 * Everything read is bounded by the packet: a length past its end, an unknown type, a record
 * out of place or a struct left open is a BinrpcError, never anything else.
 */

export const BINRPC_MAGIC_VERSION = 0xa1;
export const BINRPC_REQUEST = 0;
export const BINRPC_REPLY = 1;
export const BINRPC_FAULT = 3;

export const T_INT = 0;
export const T_STR = 1;
export const T_DOUBLE = 2;
export const T_STRUCT = 3;
export const T_ARRAY = 4;
export const T_AVP = 5;
export const T_BYTES = 6;

/** Header bytes before the records: at least 4 (one byte each for length and cookie), at most 10. */
export const BINRPC_MIN_HEADER = 4;
export const BINRPC_MAX_HEADER = 10;

/** Structs and arrays nest at most this deep (a bound for reading and writing alike). */
export const BINRPC_MAX_DEPTH = 32;

/** A packet, or a record in it, that is not valid BINRPC. */
export class BinrpcError extends Error {
  override name = 'BinrpcError';
}

export type BinrpcValue =
  | { kind: 'int'; value: number }
  | { kind: 'double'; value: number }
  | { kind: 'str'; value: string }
  | { kind: 'bytes'; value: Uint8Array }
  /** A str record of size 0, which Kamailio's header calls a null value (nothing writes one). */
  | { kind: 'null' }
  /** Members are named (avps), or not (values a method added as an array). */
  | { kind: 'struct'; members: BinrpcMember[] }
  | { kind: 'array'; items: BinrpcValue[] };

export interface BinrpcMember {
  name?: string;
  value: BinrpcValue;
}

export type BinrpcPacketType = typeof BINRPC_REQUEST | typeof BINRPC_REPLY | typeof BINRPC_FAULT;

export interface BinrpcHeader {
  type: BinrpcPacketType;
  /** Length of the records. */
  bodyLength: number;
  cookie: number;
  /** Length of the header itself. */
  headerLength: number;
}

// ---------------------------------------------------------------- writing

const DOUBLE_SCALE = 1000;
/** The largest |value| whose fixed-point form (value * 1000) fits a signed 64-bit integer, with margin. */
export const BINRPC_MAX_DOUBLE = 9e15 / DOUBLE_SCALE;

/** Minimal big-endian bytes of a 32-bit value (none for 0). */
function intBytes(value: number): number[] {
  let u = value >>> 0;
  const out: number[] = [];
  while (u !== 0) {
    out.unshift(u & 0xff);
    u >>>= 8;
  }
  return out;
}

/** The header of a packet whose records are `bodyLength` bytes. */
export function encodeHeader(type: BinrpcPacketType, bodyLength: number, cookie: number): Buffer {
  if (!Number.isInteger(bodyLength) || bodyLength < 0 || bodyLength > 0xffffffff) {
    throw new BinrpcError(`a body of ${bodyLength} bytes cannot be framed (0 to 4294967295)`);
  }
  const len = intBytes(bodyLength);
  const ck = intBytes(cookie);
  if (len.length === 0) len.push(0);
  if (ck.length === 0) ck.push(0);
  return Buffer.from([BINRPC_MAGIC_VERSION, (type << 4) | ((len.length - 1) << 2) | (ck.length - 1), ...len, ...ck]);
}

/** A whole packet: header and records. */
export function encodePacket(type: BinrpcPacketType, cookie: number, values: readonly BinrpcValue[]): Buffer {
  const body = encodeValues(values);
  return Buffer.concat([encodeHeader(type, body.length, cookie), body]);
}

/** A fault: its code and message, as Kamailio's servers send one. */
export function encodeFault(cookie: number, code: number, message: string): Buffer {
  return encodePacket(BINRPC_FAULT, cookie, [
    { kind: 'int', value: code },
    { kind: 'str', value: message },
  ]);
}

export function encodeValues(values: readonly BinrpcValue[]): Buffer {
  const chunks: Buffer[] = [];
  for (const v of values) writeValue(chunks, v, 0);
  return Buffer.concat(chunks);
}

function writeValue(out: Buffer[], v: BinrpcValue, depth: number): void {
  switch (v.kind) {
    case 'int': {
      if (!Number.isInteger(v.value) || v.value < -0x80000000 || v.value > 0x7fffffff) {
        throw new BinrpcError(`int ${v.value} does not fit BINRPC's signed 32 bits`);
      }
      const b = intBytes(v.value);
      out.push(Buffer.from([(b.length << 4) | T_INT, ...b]));
      return;
    }
    case 'double': {
      if (!Number.isFinite(v.value) || Math.abs(v.value) > BINRPC_MAX_DOUBLE) {
        throw new BinrpcError(`double ${v.value} does not fit BINRPC's fixed point (|value| <= ${BINRPC_MAX_DOUBLE})`);
      }
      let u = BigInt.asUintN(64, BigInt(Math.round(v.value * DOUBLE_SCALE)));
      const b: number[] = [];
      while (u !== 0n) {
        b.unshift(Number(u & 0xffn));
        u >>= 8n;
      }
      out.push(Buffer.from([(b.length << 4) | T_DOUBLE, ...b]));
      return;
    }
    case 'str':
      writeSized(out, T_STR, Buffer.concat([Buffer.from(v.value, 'utf8'), Buffer.from([0])]));
      return;
    case 'bytes':
      writeSized(out, T_BYTES, Buffer.from(v.value));
      return;
    case 'null':
      throw new BinrpcError('a null value has no BINRPC form that kamcmd reads; leave it out');
    case 'struct':
      if (depth >= BINRPC_MAX_DEPTH) throw new BinrpcError(`structs nest deeper than ${BINRPC_MAX_DEPTH}`);
      out.push(Buffer.from([T_STRUCT]));
      for (const m of v.members) {
        if (m.name !== undefined) {
          if (m.value.kind === 'array')
            throw new BinrpcError(`struct member "${m.name}": an array cannot be a member's value (use a struct)`);
          writeSized(out, T_AVP, Buffer.concat([Buffer.from(m.name, 'utf8'), Buffer.from([0])]));
        }
        writeValue(out, m.value, depth + 1);
      }
      out.push(Buffer.from([0x80 | T_STRUCT]));
      return;
    case 'array':
      if (depth >= BINRPC_MAX_DEPTH) throw new BinrpcError(`arrays nest deeper than ${BINRPC_MAX_DEPTH}`);
      out.push(Buffer.from([T_ARRAY]));
      for (const item of v.items) writeValue(out, item, depth + 1);
      out.push(Buffer.from([0x80 | T_ARRAY]));
      return;
  }
}

/** A record whose value is `data`: the size in the type byte when below 8, else as a separate length. */
function writeSized(out: Buffer[], type: number, data: Buffer): void {
  if (data.length < 8) {
    out.push(Buffer.from([(data.length << 4) | type]), data);
    return;
  }
  const len = intBytes(data.length);
  out.push(Buffer.from([0x80 | (len.length << 4) | type, ...len]), data);
}

// ---------------------------------------------------------------- reading

const PACKET_TYPES = new Set<number>([BINRPC_REQUEST, BINRPC_REPLY, BINRPC_FAULT]);

/**
 * Reads a header from the start of `buf`. Returns undefined while fewer bytes than the
 * header needs have arrived; throws BinrpcError for bytes that are not a BINRPC header.
 */
export function decodeHeader(buf: Uint8Array): BinrpcHeader | undefined {
  if (buf.length >= 1 && buf[0] !== BINRPC_MAGIC_VERSION) {
    throw new BinrpcError(
      `not a BINRPC packet: the first byte is 0x${buf[0]!.toString(16).padStart(2, '0')}, expected 0xa1 (magic 0xA, version 1)`,
    );
  }
  if (buf.length < 2) return undefined;
  const type = buf[1]! >> 4;
  if (!PACKET_TYPES.has(type))
    throw new BinrpcError(`unknown BINRPC packet type ${type} (0 request, 1 reply, 3 fault)`);
  const lenLen = ((buf[1]! >> 2) & 3) + 1;
  const cookieLen = (buf[1]! & 3) + 1;
  const headerLength = 2 + lenLen + cookieLen;
  if (buf.length < headerLength) return undefined;
  let bodyLength = 0;
  for (let i = 0; i < lenLen; i++) bodyLength = bodyLength * 256 + buf[2 + i]!;
  let cookie = 0;
  for (let i = 0; i < cookieLen; i++) cookie = cookie * 256 + buf[2 + lenLen + i]!;
  return { type: type as BinrpcPacketType, bodyLength, cookie, headerLength };
}

/** Every record of a packet's body, as values. */
export function decodeValues(body: Uint8Array): BinrpcValue[] {
  const reader = new Reader(body);
  const values: BinrpcValue[] = [];
  while (!reader.done) {
    const r = reader.next();
    values.push(reader.finish(r, 0, 'top'));
  }
  return values;
}

/** One record as read: a value, or the start or end of a struct or array, or an avp name. */
type Raw =
  | { t: 'value'; value: BinrpcValue }
  | { t: 'open'; kind: 'struct' | 'array' }
  | { t: 'close'; kind: 'struct' | 'array' }
  | { t: 'avp'; name: string };

const TYPE_NAMES = ['int', 'str', 'double', 'struct', 'array', 'avp', 'bytes'];

class Reader {
  private pos = 0;
  /** Where the record being read began, for messages. */
  private at = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private fail(what: string, at = this.at): never {
    throw new BinrpcError(`bad record at byte ${at} of the body: ${what}`);
  }

  private take(n: number, what: string): Uint8Array {
    if (n > this.buf.length - this.pos) this.fail(`${what} needs ${n} bytes, only ${this.buf.length - this.pos} left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  next(): Raw {
    const at = (this.at = this.pos);
    const [head] = this.take(1, 'a record');
    const type = head! & 0x0f;
    const nibble = head! >> 4;
    if (type === T_DOUBLE) {
      if (nibble > 8) this.fail(`a double of ${nibble} bytes (at most 8)`, at);
      const b = this.take(nibble, 'a double');
      let u = 0n;
      for (const x of b) u = (u << 8n) | BigInt(x);
      // As Kamailio reads it: unsigned below 8 bytes, two's complement on 8.
      const signed = nibble === 8 ? BigInt.asIntN(64, u) : u;
      return { t: 'value', value: { kind: 'double', value: Number(signed) / DOUBLE_SCALE } };
    }
    const external = (nibble & 8) !== 0;
    let size = nibble & 7;
    if (external) {
      if (size > 4) this.fail(`a length of ${size} bytes (at most 4)`, at);
      const b = this.take(size, 'a record length');
      size = 0;
      for (const x of b) size = size * 256 + x;
    }
    switch (type) {
      case T_STRUCT:
      case T_ARRAY: {
        const kind = type === T_STRUCT ? 'struct' : 'array';
        if (size !== 0) this.fail(`a ${kind} mark with a size of ${size} (must be 0)`, at);
        return external ? { t: 'close', kind } : { t: 'open', kind };
      }
      case T_INT: {
        if (size > 4) this.fail(`an int of ${size} bytes (at most 4)`, at);
        let u = 0;
        for (const x of this.take(size, 'an int')) u = u * 256 + x;
        return { t: 'value', value: { kind: 'int', value: u | 0 } };
      }
      case T_STR:
      case T_AVP: {
        if (size === 0) {
          if (type === T_AVP) this.fail('an avp name of size 0', at);
          return { t: 'value', value: { kind: 'null' } };
        }
        const b = this.take(size, type === T_STR ? 'a str' : 'an avp name');
        if (b[size - 1] !== 0)
          this.fail(`a ${type === T_STR ? 'str' : 'avp name'} that does not end with a 0 byte`, at);
        const text = Buffer.from(b.buffer, b.byteOffset, size - 1).toString('utf8');
        return type === T_STR ? { t: 'value', value: { kind: 'str', value: text } } : { t: 'avp', name: text };
      }
      case T_BYTES:
        return { t: 'value', value: { kind: 'bytes', value: Uint8Array.from(this.take(size, 'bytes')) } };
      default:
        return this.fail(
          `unknown record type ${type} (known: ${TYPE_NAMES.map((n, i) => `${i} ${n}`).join(', ')})`,
          at,
        );
    }
  }

  /** Turns a raw record into a value, reading a struct or array to its end mark. */
  finish(r: Raw, depth: number, where: 'top' | 'struct' | 'array' | 'avp'): BinrpcValue {
    switch (r.t) {
      case 'value':
        return r.value;
      case 'avp':
        return this.fail(`an avp ("${r.name}") outside a struct`);
      case 'close':
        return this.fail(`the end of a ${r.kind} that was not open`);
      case 'open': {
        if (depth >= BINRPC_MAX_DEPTH) this.fail(`structs and arrays nest deeper than ${BINRPC_MAX_DEPTH}`);
        if (r.kind === 'array' && where === 'avp') this.fail("an array as a struct member's value");
        return r.kind === 'struct' ? this.readStruct(depth + 1) : this.readArray(depth + 1);
      }
    }
  }

  private readStruct(depth: number): BinrpcValue {
    const members: BinrpcMember[] = [];
    for (;;) {
      if (this.done) this.fail('a struct without its end mark');
      const r = this.next();
      if (r.t === 'close') {
        if (r.kind !== 'struct') this.fail('the end of an array inside a struct');
        return { kind: 'struct', members };
      }
      if (r.t === 'avp') {
        if (this.done) this.fail(`struct member "${r.name}" without a value`);
        const v = this.next();
        if (v.t === 'avp') this.fail(`struct member "${r.name}": an avp as a value`);
        members.push({ name: r.name, value: this.finish(v, depth, 'avp') });
      } else {
        members.push({ value: this.finish(r, depth, 'struct') });
      }
    }
  }

  private readArray(depth: number): BinrpcValue {
    const items: BinrpcValue[] = [];
    for (;;) {
      if (this.done) this.fail('an array without its end mark');
      const r = this.next();
      if (r.t === 'close') {
        if (r.kind !== 'array') this.fail('the end of a struct inside an array');
        return { kind: 'array', items };
      }
      items.push(this.finish(r, depth, 'array'));
    }
  }
}
