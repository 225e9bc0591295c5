/**
 * SIP message parsing and writing for the rate-shaping example: start lines, headers (case,
 * compact forms, folding, several values on a line), bodies and Content-Length, the bounds,
 * and Via handling (top Via, push, pop, received/rport, the stateless branch, where responses go).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SIP_HEADERS, SipParseError, parseSipMessage } from '../../examples/sip/sip-message.js';
import {
  formatVia,
  parseVia,
  popVia,
  pushVia,
  responseTarget,
  splitHeaderValues,
  stampReceived,
  statelessBranch,
  topVia,
  viaParam,
} from '../../examples/sip/sip-via.js';
import { makeResponse } from '../../examples/sip/sip-response.js';
import { INVITE, sdp } from '../fixtures/sip/messages.js';

test('a request: start line, headers by any case and compact name, body cut at Content-Length', () => {
  const m = parseSipMessage(Buffer.from(INVITE + 'trailing junk'));
  assert.equal(m.isRequest, true);
  assert.deepEqual(m.start, { kind: 'request', method: 'INVITE', uri: 'sip:service@127.0.0.1:5070' });
  assert.equal(m.callId, '1-100@127.0.0.1');
  assert.equal(m.get('CALL-ID'), '1-100@127.0.0.1');
  assert.equal(m.get('i'), '1-100@127.0.0.1', 'compact form');
  assert.deepEqual(m.cseq, { seq: 1, method: 'INVITE' });
  assert.equal(Buffer.from(m.body).toString(), sdp);
  assert.equal(m.toBuffer().toString(), INVITE, 'written back byte for byte');
});

test('a response, compact headers, folded lines and several Vias on one line', () => {
  const raw = [
    'SIP/2.0 180 Ringing',
    'v: SIP/2.0/UDP a.example:5070;branch=z9hG4bK-x, SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1',
    'f: <sip:a@b>;tag=1',
    't: <sip:c@d>',
    '  ;tag=2',
    'i: abc',
    'CSeq: 7 invite',
    'l: 0',
    '',
    '',
  ].join('\r\n');
  const m = parseSipMessage(Buffer.from(raw));
  assert.equal(m.status, 180);
  assert.equal(m.method, 'INVITE', "a response's method is its CSeq's");
  assert.equal(m.get('to'), '<sip:c@d> ;tag=2', 'unfolded');
  assert.deepEqual(splitHeaderValues(m.get('via')!), [
    'SIP/2.0/UDP a.example:5070;branch=z9hG4bK-x',
    'SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1',
  ]);
  assert.equal(topVia(m)!.host, 'a.example');
  assert.equal(popVia(m).host, 'a.example');
  assert.equal(m.get('v'), 'SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1', 'the other value stays on its line');
  popVia(m);
  assert.equal(topVia(m), undefined);
  // A bare LF line ending is tolerated.
  assert.equal(
    parseSipMessage(Buffer.from('OPTIONS sip:x SIP/2.0\nCall-ID: 1\nCSeq: 1 OPTIONS\n\n')).method,
    'OPTIONS',
  );
});

test('set replaces the first line of a header and drops the others, or appends it', () => {
  const m = parseSipMessage(
    Buffer.from('BYE sip:x SIP/2.0\r\nRoute: <sip:a>\r\nRoute: <sip:b>\r\nCall-ID: 1\r\nCSeq: 2 BYE\r\n\r\n'),
  );
  m.set('route', '<sip:c>');
  assert.deepEqual(m.getAll('Route'), ['<sip:c>']);
  m.set('Max-Forwards', '69');
  assert.equal(m.headers.at(-1)!.name, 'Max-Forwards');
});

test('what is not a SIP message is a SipParseError naming the problem', () => {
  const bad: Array<[string, RegExp]> = [
    ['hello', /no empty line ending its header/],
    ['HTTP/1.1 200 OK\r\n\r\n', /neither "METHOD URI SIP\/2.0" nor "SIP\/2.0 CODE REASON"/],
    ['INVITE sip:x SIP/3.0\r\n\r\n', /neither/],
    ['SIP/2.0 99 Odd\r\n\r\n', /neither/],
    ['INVITE sip:x SIP/2.0\r\n folded first\r\n\r\n', /continuation line/],
    ['INVITE sip:x SIP/2.0\r\nno colon here\r\n\r\n', /is not "Name: value"/],
    ['INVITE sip:x SIP/2.0\r\nContent-Length: 10\r\n\r\nshort', /Content-Length is 10 but the body has 5 bytes/],
    ['INVITE sip:x SIP/2.0\r\nContent-Length: -1\r\n\r\n', /Content-Length "-1" is not a number/],
    ['INVITE sip:x SIP/2.0\r\n' + 'X-A: 1\r\n'.repeat(MAX_SIP_HEADERS + 1) + '\r\n', /more than 256 header lines/],
  ];
  for (const [raw, why] of bad)
    assert.throws(
      () => parseSipMessage(Buffer.from(raw)),
      (e: unknown) => e instanceof SipParseError && why.test(e.message),
      raw.slice(0, 30),
    );
  assert.throws(() => parseSipMessage(new Uint8Array(70_000)), /70000 bytes; at most 65507/);
  const noCseq = parseSipMessage(Buffer.from('INVITE sip:x SIP/2.0\r\nCSeq: one INVITE\r\n\r\n'));
  assert.throws(() => noCseq.cseq, /the CSeq "one INVITE" is not "NUMBER METHOD"/);
  assert.throws(() => noCseq.callId, /no Call-ID/);
});

test('Via: parse and format, received and rport, where responses go', () => {
  const v = parseVia('SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK-1;rport');
  assert.deepEqual(v, {
    transport: 'UDP',
    host: '10.0.0.1',
    port: 5061,
    params: [
      ['branch', 'z9hG4bK-1'],
      ['rport', ''],
    ],
  });
  assert.equal(formatVia(v), 'SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK-1;rport');
  assert.deepEqual(responseTarget(v), { address: '10.0.0.1', port: 5061 });
  const stamped = stampReceived(v, { address: '127.0.0.1', port: 40000 });
  assert.equal(formatVia(stamped), 'SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK-1;rport=40000;received=127.0.0.1');
  assert.deepEqual(responseTarget(stamped), { address: '127.0.0.1', port: 40000 });
  // No rport: the port of sent-by (5060 when none), and received only when the host differs.
  assert.deepEqual(responseTarget(parseVia('SIP/2.0/UDP host.example')), { address: 'host.example', port: 5060 });
  assert.equal(
    viaParam(
      stampReceived(parseVia('SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-2'), { address: '127.0.0.1', port: 5061 }),
      'received',
    ),
    undefined,
  );
  assert.deepEqual(responseTarget(parseVia('SIP/2.0/UDP [::1]:5062;branch=z9hG4bK-3')), { address: '::1', port: 5062 });
  assert.throws(() => parseVia('SIP/2.0 UDP x'), /is not "SIP\/2.0\/TRANSPORT host\[:port\];params"/);
  assert.throws(() => parseVia('SIP/2.0/UDP x:70000'), /port 70000 is not 1-65535/);
});

test('pushVia puts a line of its own on top; the stateless branch is the same for an INVITE, its retransmission and its CANCEL', () => {
  const invite = parseSipMessage(Buffer.from(INVITE));
  const branch = statelessBranch(invite, topVia(invite));
  assert.match(branch, /^z9hG4bK-ptf-[A-Za-z0-9_-]{16}$/);
  assert.equal(statelessBranch(parseSipMessage(Buffer.from(INVITE)), topVia(invite)), branch, 'a retransmission');
  const cancel = parseSipMessage(
    Buffer.from(INVITE.replace('INVITE sip:', 'CANCEL sip:').replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL')),
  );
  assert.equal(statelessBranch(cancel, topVia(cancel)), branch, 'its CANCEL');
  const other = parseSipMessage(Buffer.from(INVITE.replace('branch=z9hG4bK-1-0', 'branch=z9hG4bK-2-0')));
  assert.notEqual(statelessBranch(other, topVia(other)), branch);
  pushVia(invite, { transport: 'UDP', host: '127.0.0.1', port: 5060, params: [['branch', branch]] });
  assert.equal(invite.headers[0]!.value, `SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}`);
  assert.equal(invite.getAll('via').length, 2);
  // Without an RFC 3261 branch: from the transaction's fields, CANCEL and INVITE alike.
  const old = INVITE.replace(';branch=z9hG4bK-1-0', ';branch=1');
  const a = parseSipMessage(Buffer.from(old));
  const c = parseSipMessage(
    Buffer.from(old.replace('INVITE sip:', 'CANCEL sip:').replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL')),
  );
  assert.equal(statelessBranch(a, topVia(a)), statelessBranch(c, topVia(c)));
});

test('responses made here copy Via, From, To, Call-ID and CSeq, add a To tag to final ones, and carry no body', () => {
  const invite = parseSipMessage(Buffer.from(INVITE));
  const trying = makeResponse(invite, 100);
  assert.equal(trying.toBuffer().toString().split('\r\n')[0], 'SIP/2.0 100 Trying');
  assert.equal(trying.get('to'), 'service <sip:service@127.0.0.1:5070>', 'no tag on a 100');
  const busy = parseSipMessage(makeResponse(invite, 503).toBuffer());
  assert.equal(busy.status, 503);
  assert.match(busy.get('to')!, /;tag=ptf[0-9a-f]{12}$/);
  assert.equal(
    busy.get('to'),
    parseSipMessage(makeResponse(invite, 503).toBuffer()).get('to'),
    'the same tag for a retransmission',
  );
  assert.deepEqual(
    [busy.get('via'), busy.get('from'), busy.callId, busy.get('cseq'), busy.get('content-length')],
    [invite.get('via'), invite.get('from'), invite.callId, '1 INVITE', '0'],
  );
  assert.equal(busy.get('contact'), undefined);
  assert.equal(busy.body.length, 0);
  const cancel = parseSipMessage(
    Buffer.from(INVITE.replace('INVITE sip:', 'CANCEL sip:').replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL')),
  );
  assert.equal(parseSipMessage(makeResponse(cancel, 487, { cseqMethod: 'INVITE' }).toBuffer()).get('cseq'), '1 INVITE');
});
