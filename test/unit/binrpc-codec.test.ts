/**
 * The BINRPC codec against the byte examples of Kamailio's own format description
 * (src/modules/ctl/binrpc.h), plus the forms kamcmd sends, and every way a packet can be bad.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BINRPC_FAULT,
  BINRPC_REPLY,
  BINRPC_REQUEST,
  BinrpcError,
  decodeHeader,
  decodeValues,
  encodeFault,
  encodeHeader,
  encodePacket,
  encodeValues,
  type BinrpcValue,
} from '../../src/rpc/binrpc-codec.js';

const int = (value: number): BinrpcValue => ({ kind: 'int', value });
const str = (value: string): BinrpcValue => ({ kind: 'str', value });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (...b: Array<number | string>) =>
  Buffer.concat(b.map((x) => (typeof x === 'string' ? Buffer.from(x) : Buffer.from([x]))));

test('ints are written in as few bytes as hold them, as binrpc.h shows', () => {
  assert.equal(hex(encodeValues([int(0x1234)])), '201234');
  assert.equal(hex(encodeValues([int(7)])), '1007');
  assert.equal(hex(encodeValues([int(0)])), '00');
  assert.equal(hex(encodeValues([int(-1)])), '40ffffffff');
  assert.equal(hex(encodeValues([int(0x7fffffff)])), '407fffffff');
  assert.throws(() => encodeValues([int(2 ** 31)]), BinrpcError);
  assert.throws(() => encodeValues([int(1.5)]), BinrpcError);
});

test('ints read back, in the optimal and in the suboptimal forms of binrpc.h', () => {
  for (const form of ['201234', '90021234', 'a000021234']) {
    assert.deepEqual(decodeValues(Buffer.from(form, 'hex')), [int(0x1234)], form);
  }
  assert.deepEqual(decodeValues(Buffer.from('1000', 'hex')), [int(0)]);
  assert.deepEqual(decodeValues(Buffer.from('40ffffffff', 'hex')), [int(-1)]);
  assert.deepEqual(decodeValues(Buffer.from('1080', 'hex')), [int(128)], 'below 4 bytes an int is unsigned');
});

test('strings carry a trailing 0 in their length; 8 bytes and more take a separate length', () => {
  assert.deepEqual(encodeValues([str('abcdef')]), bytes(0x71, 'abcdef', 0));
  assert.deepEqual(encodeValues([str('abcdefhij')]), bytes(0x91, 0x0a, 'abcdefhij', 0));
  assert.deepEqual(encodeValues([str('')]), bytes(0x11, 0));
  const long = 'x'.repeat(300);
  assert.deepEqual(encodeValues([str(long)]), bytes(0xa1, 0x01, 0x2d, long, 0));
  for (const s of ['', 'abcdef', 'abcdefhij', long, 'grüße ✓'])
    assert.deepEqual(decodeValues(encodeValues([str(s)])), [str(s)]);
  assert.deepEqual(encodeValues([{ kind: 'bytes', value: Buffer.from('abcdef') }]), bytes(0x66, 'abcdef'));
});

test('the struct example of binrpc.h, both ways', () => {
  const wire = bytes(0x03, 0x75, 'intval', 0, 0x10, 0x03, 0x25, 's', 0, 0x41, 'abc', 0, 0x83);
  const value: BinrpcValue = {
    kind: 'struct',
    members: [
      { name: 'intval', value: int(3) },
      { name: 's', value: str('abc') },
    ],
  };
  assert.deepEqual(encodeValues([value]), wire);
  assert.deepEqual(decodeValues(wire), [value]);
});

test('arrays, and structs holding unnamed values (what Kamailio adds for "[") and nested structs', () => {
  assert.equal(hex(encodeValues([{ kind: 'array', items: [int(1), int(2)] }])), '04100110' + '0284');
  assert.deepEqual(decodeValues(bytes(0x04, 0x10, 0x07, 0x41, 'abc', 0, 0x84)), [
    { kind: 'array', items: [int(7), str('abc')] },
  ]);
  const nested: BinrpcValue = {
    kind: 'struct',
    members: [
      {
        name: 'workers',
        value: {
          kind: 'struct',
          members: [{ value: { kind: 'struct', members: [{ name: 'worker', value: int(0) }] } }],
        },
      },
      { name: 'n', value: int(1) },
    ],
  };
  assert.deepEqual(decodeValues(encodeValues([nested])), [nested]);
});

test('doubles are fixed point: the value * 1000 in up to 8 bytes', () => {
  assert.equal(hex(encodeValues([{ kind: 'double', value: 1.5 }])), '2205dc');
  assert.equal(hex(encodeValues([{ kind: 'double', value: 0 }])), '02');
  for (const v of [1.5, -2.25, 0.001, 123456.789, -0.5, 9e12]) {
    assert.deepEqual(
      decodeValues(encodeValues([{ kind: 'double', value: v }])),
      [{ kind: 'double', value: v }],
      String(v),
    );
  }
  assert.throws(() => encodeValues([{ kind: 'double', value: Number.POSITIVE_INFINITY }]), BinrpcError);
  assert.throws(() => encodeValues([{ kind: 'double', value: 1e16 }]), BinrpcError);
});

test('headers: magic and version, type, length-of-length and cookie-length bits', () => {
  assert.equal(hex(encodeHeader(BINRPC_REQUEST, 5, 0x12)), 'a1000512');
  assert.equal(hex(encodeHeader(BINRPC_REPLY, 0x1234, 0x01020304)), 'a1171234' + '01020304');
  assert.equal(hex(encodeHeader(BINRPC_FAULT, 0, 0)), 'a1300000');
  assert.deepEqual(decodeHeader(Buffer.from('a1171234' + '01020304', 'hex')), {
    type: BINRPC_REPLY,
    bodyLength: 0x1234,
    cookie: 0x01020304,
    headerLength: 8,
  });
  assert.deepEqual(decodeHeader(Buffer.from('a103ff' + '7fffffff', 'hex')), {
    type: BINRPC_REQUEST,
    bodyLength: 255,
    cookie: 0x7fffffff,
    headerLength: 7,
  });
  assert.equal(decodeHeader(Buffer.from('a1', 'hex')), undefined, 'more bytes needed');
  assert.equal(decodeHeader(Buffer.from('a117', 'hex')), undefined, 'more bytes needed');
  assert.throws(() => decodeHeader(Buffer.from('b1000000', 'hex')), /first byte is 0xb1, expected 0xa1/);
  assert.throws(() => decodeHeader(Buffer.from('a2000000', 'hex')), /first byte is 0xa2/);
  assert.throws(() => decodeHeader(Buffer.from('a1200000', 'hex')), /unknown BINRPC packet type 2/);
});

test('what kamcmd sends for "ptimer.pause t1 1" decodes to the method and its params', () => {
  // Built byte by byte as kamcmd builds it: binrpc_addstr(method), then each argument.
  const body = bytes(0x91, 0x0d, 'ptimer.pause', 0, 0x31, 't1', 0, 0x10, 0x01);
  const packet = Buffer.concat([Buffer.from([0xa1, 0x03, body.length]), Buffer.from([0x12, 0x34, 0x56, 0x78]), body]);
  const header = decodeHeader(packet)!;
  assert.deepEqual(header, { type: BINRPC_REQUEST, bodyLength: body.length, cookie: 0x12345678, headerLength: 7 });
  assert.deepEqual(decodeValues(packet.subarray(header.headerLength)), [str('ptimer.pause'), str('t1'), int(1)]);
  assert.deepEqual(encodePacket(BINRPC_REQUEST, 0x12345678, [str('ptimer.pause'), str('t1'), int(1)]), packet);
});

test('a fault is an int code and a str message', () => {
  const f = encodeFault(7, 404, 'no such timer');
  const h = decodeHeader(f)!;
  assert.equal(h.type, BINRPC_FAULT);
  assert.equal(h.cookie, 7);
  assert.deepEqual(decodeValues(f.subarray(h.headerLength)), [int(404), str('no such timer')]);
});

test('bad records are BinrpcErrors that say what is wrong', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['truncated str', bytes(0x71, 'abc'), /a str needs 7 bytes, only 3 left/],
    ['str without its 0', bytes(0x31, 'abc'), /does not end with a 0 byte/],
    ['truncated int', bytes(0x30, 0x01), /an int needs 3 bytes/],
    ['int of 5 bytes', bytes(0x50, 1, 2, 3, 4, 5), /an int of 5 bytes/],
    ['length of 5 bytes', bytes(0xd1, 0, 0, 0, 0, 1), /a length of 5 bytes/],
    ['unknown type', bytes(0x07), /unknown record type 7/],
    ['avp outside a struct', bytes(0x25, 'a', 0, 0x10, 0x01), /an avp \("a"\) outside a struct/],
    ['struct without end', bytes(0x03, 0x25, 'a', 0, 0x10, 0x01), /a struct without its end mark/],
    ['end without start', bytes(0x83), /the end of a struct that was not open/],
    ['array end in struct', bytes(0x03, 0x84), /the end of an array inside a struct/],
    ['member without value', bytes(0x03, 0x25, 'a', 0), /struct member "a" without a value/],
    ['array as member value', bytes(0x03, 0x25, 'a', 0, 0x04, 0x84, 0x83), /an array as a struct member's value/],
    ['struct mark with a size', bytes(0x13, 0x00), /a struct mark with a size of 1/],
    ['double of 9 bytes', bytes(0x92, 1, 2, 3, 4, 5, 6, 7, 8, 9), /a double of 9 bytes/],
    ['nesting too deep', Buffer.alloc(40, 0x03), /nest deeper than 32/],
  ];
  for (const [what, body, message] of cases) {
    assert.throws(
      () => decodeValues(body),
      (err: unknown) => err instanceof BinrpcError && message.test(err.message),
      what,
    );
  }
});
