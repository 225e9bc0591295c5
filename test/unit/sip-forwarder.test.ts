/**
 * The rate-shaping forwarder's decisions (forwarder-core.ts) without sockets, on a virtual
 * clock: INVITEs queued and answered 100, 503 when full, CANCEL of a queued call (200 + 487, its
 * ACK absorbed), everything else forwarded with our Via, responses routed back on the Vias.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ForwarderCore, type Address } from '../../examples/sip/forwarder-core.js';
import { parseSipMessage, type SipMessage } from '../../examples/sip/sip-message.js';
import { topVia, viaParam } from '../../examples/sip/sip-via.js';
import { SharedQueue } from '../../src/data/shared-queue.js';
import { INVITE, inviteOf, sameTransaction } from '../fixtures/sip/messages.js';

const self: Address = { address: '127.0.0.1', port: 5060 };
const upstream: Address = { address: '127.0.0.1', port: 5070 };
const uac: Address = { address: '127.0.0.1', port: 5061 };

function setup(size = 10) {
  const clock = { ms: 0 };
  const queue = SharedQueue.create({ name: 'calls', size, maxBytes: 1 << 20, addmode: 1 });
  const core = new ForwarderCore({ self, upstream, queue, now: () => clock.ms });
  const send = (raw: string, from = uac) =>
    core.handle(Buffer.from(raw), from).map((a) => ({ msg: parseSipMessage(a.send), to: a.to }));
  return { clock, queue, core, send };
}

/** A response the upstream would send to the forwarded request. */
function answer(request: SipMessage, status: number, reason: string): string {
  const keep = request.headers
    .filter((h) => /^(via|from|to|call-id|cseq)$/i.test(h.name))
    .map((h) => `${h.name}: ${h.name.toLowerCase() === 'to' ? h.value + ';tag=uas1' : h.value}`);
  return [`SIP/2.0 ${status} ${reason}`, ...keep, 'Content-Length: 0', '', ''].join('\r\n');
}

test('an initial INVITE is queued under its Call-ID with our Via on top and answered 100 Trying', () => {
  const { queue, core, send } = setup();
  const out = send(INVITE);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.msg.status, 100);
  assert.deepEqual(out[0]!.to, { address: '127.0.0.1', port: 5061 }, 'to the rport it came from');
  assert.match(
    out[0]!.msg.get('via')!,
    /;rport=5061;received=127.0.0.1$/,
    'RFC 3581: with rport, received is added even when it matches',
  );
  assert.equal(queue.size, 1);
  const [item] = queue.take();
  assert.equal(item!.key, '1-100@127.0.0.1');
  assert.ok(Buffer.isBuffer(item!.value));
  const queued = parseSipMessage(item!.value);
  const vias = queued.getAll('via');
  assert.equal(vias.length, 2);
  assert.match(vias[0]!, /^SIP\/2\.0\/UDP 127\.0\.0\.1:5060;branch=z9hG4bK-ptf-/);
  assert.equal(vias[1], 'SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0;rport=5061;received=127.0.0.1');
  assert.equal(queued.get('max-forwards'), '69');
  assert.equal(
    Buffer.from(queued.body).toString(),
    Buffer.from(parseSipMessage(Buffer.from(INVITE)).body).toString(),
    'the body untouched',
  );
  assert.equal(core.stats.queued, 1);
});

test('a retransmitted INVITE while queued changes nothing (addmode 1) and gets another 100', () => {
  const { queue, send } = setup();
  send(INVITE);
  assert.equal(send(INVITE)[0]!.msg.status, 100);
  assert.equal(queue.size, 1);
});

test('a full queue answers 503, and the ACK for the 503 is absorbed', () => {
  const { queue, core, send } = setup(2);
  send(inviteOf(1));
  send(inviteOf(2));
  const out = send(inviteOf(3));
  assert.equal(out[0]!.msg.status, 503);
  assert.match(out[0]!.msg.get('to')!, /;tag=/);
  assert.equal(queue.size, 2);
  assert.deepEqual(send(sameTransaction('ACK', inviteOf(3))), [], 'absorbed, not forwarded');
  assert.deepEqual([core.stats.rejectedFull, core.stats.absorbedAcks], [1, 1]);
});

test('a CANCEL for a queued call removes it and is answered 200, the INVITE 487; its ACK is absorbed', () => {
  const { queue, core, send, clock } = setup();
  send(inviteOf(1));
  send(inviteOf(2));
  const out = send(sameTransaction('CANCEL', inviteOf(1)));
  assert.deepEqual(
    out.map((o) => [o.msg.status, o.msg.get('cseq')]),
    [
      [200, '1 CANCEL'],
      [487, '1 INVITE'],
    ],
  );
  assert.ok(out.every((o) => o.to.port === 5061));
  assert.equal(viaParam(topVia(out[1]!.msg)!, 'branch'), 'z9hG4bK-1-0', "the 487 carries the INVITE's branch");
  assert.deepEqual(
    queue.take(5).map((i) => i.key),
    ['2-100@127.0.0.1'],
    'only the cancelled call left the queue',
  );
  assert.equal(core.stats.cancelledQueued, 1);
  assert.deepEqual(send(sameTransaction('ACK', inviteOf(1))), []);
  // Remembered for 32 s, then an ACK with that branch is forwarded like any other.
  clock.ms += 32_001;
  assert.equal(send(sameTransaction('ACK', inviteOf(1))).length, 1);
});

test('a CANCEL for a call already released goes upstream with the branch its INVITE got', () => {
  const { queue, send } = setup();
  send(INVITE);
  const released = parseSipMessage(queue.take()[0]!.value as Uint8Array);
  const out = send(sameTransaction('CANCEL'));
  assert.equal(out.length, 1);
  assert.deepEqual(out[0]!.to, upstream);
  assert.equal(out[0]!.msg.method, 'CANCEL');
  assert.equal(viaParam(topVia(out[0]!.msg)!, 'branch'), viaParam(topVia(released)!, 'branch'));
});

test('ACK, BYE and re-INVITEs go upstream at once; a BYE from the upstream goes to its Request-URI', () => {
  const { queue, core, send } = setup();
  const bye = INVITE.replace('INVITE sip:', 'BYE sip:')
    .replace('CSeq: 1 INVITE', 'CSeq: 2 BYE')
    .replace('To: service <sip:service@127.0.0.1:5070>', 'To: service <sip:service@127.0.0.1:5070>;tag=uas1');
  const reinvite = INVITE.replace(
    'To: service <sip:service@127.0.0.1:5070>',
    'To: service <sip:service@127.0.0.1:5070>;tag=uas1',
  ).replace('CSeq: 1 INVITE', 'CSeq: 3 INVITE');
  for (const raw of [sameTransaction('ACK'), bye, reinvite]) {
    const out = send(raw);
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]!.to, upstream);
    assert.match(out[0]!.msg.get('via')!, /^SIP\/2\.0\/UDP 127\.0\.0\.1:5060;branch=z9hG4bK-ptf-/);
  }
  assert.equal(queue.size, 0, 'only initial INVITEs wait');
  assert.equal(core.stats.forwardedRequests, 3);
  const fromUas =
    'BYE sip:sipp@127.0.0.1:5061 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-u1\r\nFrom: <sip:service@x>;tag=uas1\r\nTo: <sip:sipp@y>;tag=1\r\nCall-ID: 1-100@127.0.0.1\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n';
  assert.deepEqual(send(fromUas, upstream)[0]!.to, { address: '127.0.0.1', port: 5061 });
});

test('responses lose our Via and go where the next Via says; responses not through us are dropped', () => {
  const { queue, core, send } = setup();
  send(INVITE);
  const released = parseSipMessage(queue.take()[0]!.value as Uint8Array);
  for (const [status, reason] of [
    [180, 'Ringing'],
    [200, 'OK'],
  ] as const) {
    const out = send(answer(released, status, reason), upstream);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.msg.status, status);
    assert.deepEqual(out[0]!.to, { address: '127.0.0.1', port: 5061 });
    assert.deepEqual(out[0]!.msg.getAll('via'), [
      'SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0;rport=5061;received=127.0.0.1',
    ]);
  }
  assert.equal(core.stats.forwardedResponses, 2);
  assert.deepEqual(send(answer(parseSipMessage(Buffer.from(INVITE)), 200, 'OK'), upstream), [], 'top Via not ours');
  const onlyOurs = answer(released, 200, 'OK').replace(/\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:5061[^\r]*/, '');
  assert.deepEqual(send(onlyOurs, upstream), [], 'no Via left to send it to');
  assert.equal(core.stats.dropped, 2);
});

test('Max-Forwards 0 is answered 483; garbage is dropped; a request missing what it needs is answered 400 when it can be', () => {
  const { core, send, queue } = setup();
  assert.equal(send(INVITE.replace('Max-Forwards: 70', 'Max-Forwards: 0'))[0]!.msg.status, 483);
  assert.equal(queue.size, 0);
  assert.deepEqual(send('not sip at all'), []);
  const noCseq = INVITE.replace('CSeq: 1 INVITE\r\n', '');
  const out = send(noCseq);
  assert.equal(out[0]!.msg.status, 400);
  assert.deepEqual(send(INVITE.replace(/Via: [^\r]*\r\n/, '')), [], 'no Via: nowhere to answer');
  assert.deepEqual(send(INVITE.replace('Max-Forwards: 70', 'Max-Forwards: lots'))[0]!.msg.status, 400);
  assert.deepEqual([core.stats.dropped, core.stats.badRequests], [1, 3]);
});
