/**
 * The forwarder takes whatever arrives on its port: random bytes and mangled SIP messages
 * (fast-check) never make it throw, and what it sends is always a parsable SIP message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ForwarderCore } from '../../examples/sip/forwarder-core.js';
import { SipParseError, parseSipMessage } from '../../examples/sip/sip-message.js';
import { SharedQueue } from '../../src/data/shared-queue.js';
import { fuzzRuns } from '../support/fuzz-scale.js';
import { INVITE, sameTransaction } from '../fixtures/sip/messages.js';

const samples = [
  INVITE,
  sameTransaction('CANCEL'),
  sameTransaction('ACK'),
  'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-ptf-x, SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n',
];

/** A sample with some bytes replaced, inserted or cut. */
const mangled = fc
  .tuple(
    fc.constantFrom(...samples),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom(
          '',
          ':',
          ';',
          ',',
          '\r\n',
          ' ',
          '\t',
          '<',
          '>',
          '"',
          '=',
          'z9hG4bK',
          'SIP/2.0',
          '0',
          '99999',
          '\u00ff',
          '\u0000',
        ),
      ),
      { maxLength: 6 },
    ),
  )
  .map(([s, edits]) => {
    let out = s;
    for (const [at, text] of edits) {
      const i = at % (out.length + 1);
      out = out.slice(0, i) + text + out.slice(i + (at % 3));
    }
    return Buffer.from(out, 'latin1');
  });

test('random and mangled datagrams: the parser throws only SipParseError, the forwarder never throws and sends only SIP', () => {
  const queue = SharedQueue.create({ name: 'calls', size: 50, maxBytes: 1 << 20, addmode: 1 });
  const core = new ForwarderCore({
    self: { address: '127.0.0.1', port: 5060 },
    upstream: { address: '127.0.0.1', port: 5070 },
    queue,
    now: () => 0,
  });
  fc.assert(
    fc.property(
      fc.oneof(
        mangled,
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      ),
      (data) => {
        try {
          parseSipMessage(data);
        } catch (e) {
          assert.ok(e instanceof SipParseError, String(e));
        }
        for (const action of core.handle(data, { address: '127.0.0.1', port: 5061 })) {
          parseSipMessage(action.send);
          assert.ok(
            Number.isInteger(action.to.port) && action.to.port > 0 && action.to.port < 65536,
            `port ${action.to.port}`,
          );
        }
        if (queue.size > 40) queue.clear();
      },
    ),
    { numRuns: fuzzRuns(5000) },
  );
});

test('host names are never sent to (no DNS): a response or request that would need one is dropped', () => {
  const queue = SharedQueue.create({ name: 'calls', size: 5, maxBytes: 1 << 16, addmode: 1 });
  const core = new ForwarderCore({
    self: { address: '127.0.0.1', port: 5060 },
    upstream: { address: '127.0.0.1', port: 5070 },
    queue,
    now: () => 0,
  });
  const response =
    'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-ptf-x\r\nVia: SIP/2.0/UDP uac.example.com:5061;branch=z9hG4bK-1\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n';
  assert.deepEqual(core.handle(Buffer.from(response), { address: '127.0.0.1', port: 5070 }), []);
  const bye =
    'BYE sip:sipp@uac.example.com:5061 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-u1\r\nCall-ID: a\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n';
  assert.deepEqual(core.handle(Buffer.from(bye), { address: '127.0.0.1', port: 5070 }), []);
  const fromName = INVITE.replace(
    'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0;rport',
    'Via: SIP/2.0/UDP uac.example.com:5061;branch=z9hG4bK-1-0',
  );
  assert.deepEqual(
    core.handle(Buffer.from(fromName), { address: 'uac.example.com', port: 5061 }),
    [],
    'nowhere to answer without DNS',
  );
  assert.equal(
    core.handle(Buffer.from(fromName), { address: '127.0.0.1', port: 5061 }).length,
    1,
    'received= makes it an IP again',
  );
  assert.equal(queue.size, 1);
});
