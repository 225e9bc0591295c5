/**
 * Reading what sipp writes (examples/sip/sipp.ts), from text as sipp 3.6 writes it: the
 * -trace_msg log (time, direction, first line, Call-ID of each message) and the last row of a
 * -trace_stat file; and the queue-control example's verdict over a result (pure, no sipp run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessageLog, parseStatFile, startSipp } from '../../examples/sip/sipp.js';
import { queueControlProblems, type QueueControlResult } from '../../examples/queue-control/scenario.js';

const LOG = [
  '----------------------------------------------- 2026-12-01 18:52:11.510258',
  'UDP message received [506] bytes :',
  '',
  'INVITE sip:service@127.0.0.1:5091 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5092;branch=z9hG4bK-7335-1-0',
  'Call-ID: 1-7335@127.0.0.1',
  'CSeq: 1 INVITE',
  'Content-Length:   0',
  '',
  '',
  '----------------------------------------------- 2026-12-01 18:52:11.510579',
  'UDP message sent (305 bytes):',
  '',
  'SIP/2.0 180 Ringing',
  'Via: SIP/2.0/UDP 127.0.0.1:5092;branch=z9hG4bK-7335-1-0',
  'i: 1-7335@127.0.0.1',
  'CSeq: 1 INVITE',
  '',
  '',
  '----------------------------------------------- 2026-12-01 18:52:12.000001',
  'UDP message received [300] bytes :',
  '',
  'BYE sip:service@127.0.0.1:5091 SIP/2.0',
  'CSeq: 2 BYE',
  '',
].join('\n');

test('a -trace_msg log: each message with its time to the microsecond, direction, first line, method and Call-ID', () => {
  const m = parseMessageLog(LOG);
  assert.equal(m.length, 3);
  assert.deepEqual(
    m.map(({ direction, firstLine, method, callId }) => ({ direction, firstLine, method, callId })),
    [
      {
        direction: 'received',
        firstLine: 'INVITE sip:service@127.0.0.1:5091 SIP/2.0',
        method: 'INVITE',
        callId: '1-7335@127.0.0.1',
      },
      { direction: 'sent', firstLine: 'SIP/2.0 180 Ringing', method: undefined, callId: '1-7335@127.0.0.1' },
      { direction: 'received', firstLine: 'BYE sip:service@127.0.0.1:5091 SIP/2.0', method: 'BYE', callId: undefined },
    ],
  );
  // sipp writes local time; differences are good to a microsecond (ms since the epoch in a double).
  assert.equal(m[0]!.at, new Date('2026-12-01T18:52:11').getTime() + 510.258);
  assert.ok(Math.abs(m[1]!.at - m[0]!.at - 0.321) < 1e-3);
  assert.ok(Math.abs(m[2]!.at - m[0]!.at - 489.743) < 1e-3);
  assert.deepEqual(parseMessageLog(''), []);
});

test('a -trace_stat file: the last row by column name; a file without a row is an error', () => {
  const csv = [
    'StartTime;CurrentTime;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);',
    '2026-12-01\t18:52:11.406157\t1796151131.406157;2026-12-01\t18:52:11.406645\t1796151131.406645;0;0;0;0;',
    '2026-12-01\t18:52:11.406157\t1796151131.406157;2026-12-01\t18:52:11.918502\t1796151131.918502;0;5;0;0;',
    '',
  ].join('\n');
  const last = parseStatFile(csv);
  assert.equal(last['SuccessfulCall(C)'], '5');
  assert.equal(last['FailedCall(C)'], '0');
  assert.match(last.CurrentTime!, /18:52:11\.918502/);
  assert.throws(() => parseStatFile('StartTime;CurrentTime;\n'), /has 1 rows; expected a header and at least one row/);
});

test('startSipp refuses a run without a call bound or with an unbounded time', () => {
  assert.throws(() => startSipp(['-sn', 'uas'], { timeoutMs: 1000 }), /give -m/);
  assert.throws(
    () => startSipp(['-sn', 'uas', '-m', '1'], { timeoutMs: 0 }),
    /timeoutMs 0 is not valid; expected 1 to 600000/,
  );
});

function result(normal: string[], holiday: string[], over: Partial<QueueControlResult> = {}): QueueControlResult {
  const at = (i: number) => 1_000 + i;
  return {
    uac: { code: 0, successful: normal.length + holiday.length, failed: 0, output: '' },
    invites: {
      normal: normal.map((callId, i) => ({ callId, at: at(i) })),
      holiday: holiday.map((callId, i) => ({ callId, at: 5_000 + i })),
    },
    switches: [
      {
        paused: 'normal_timer',
        resumed: 'holiday_timer',
        pauseSentAt: 2_000,
        pauseAnsweredAt: 2_010,
        continueSentAt: 2_020,
        continueAnsweredAt: 2_030,
        pauseOutput: {},
        continueOutput: {},
      },
      {
        paused: 'holiday_timer',
        resumed: 'normal_timer',
        pauseSentAt: 8_000,
        pauseAnsweredAt: 8_010,
        continueSentAt: 8_020,
        continueAnsweredAt: 8_030,
        pauseOutput: {},
        continueOutput: {},
      },
    ],
    front: {},
    url: 'http://127.0.0.1:1/RPC',
    ...over,
  };
}

test('queue-control verdict: every call at exactly one UAS, each while its timer was active', () => {
  assert.deepEqual(queueControlProblems(result(['a', 'b'], ['c']), 3), []);
  assert.deepEqual(queueControlProblems(result(['a', 'b'], ['b']), 3), [
    '1 calls reached both UAS (e.g. b)',
    '2 distinct calls reached a UAS; 3 were made',
  ]);
  assert.deepEqual(queueControlProblems(result(['a', 'a'], ['c']), 3), [
    'the normal UAS got 1 INVITEs twice',
    '2 distinct calls reached a UAS; 3 were made',
  ]);
  // normal_timer is active until 2,060 (answered + 50 ms slack) and again from 8,020; holiday_timer from 2,020 to 8,060.
  const r = result(['a', 'b', 'd'], ['c', 'e']);
  r.invites.normal[0]!.at = 2_059;
  r.invites.normal[1]!.at = 8_020;
  r.invites.normal[2]!.at = 9_999;
  r.invites.holiday[0]!.at = 2_020;
  r.invites.holiday[1]!.at = 8_059;
  assert.deepEqual(queueControlProblems(r, 5), []);
  r.invites.normal[0]!.at = 2_060;
  r.invites.normal[1]!.at = 8_019;
  r.invites.holiday[0]!.at = 2_019;
  r.invites.holiday[1]!.at = 8_060;
  assert.deepEqual(queueControlProblems(r, 5), [
    '2 INVITEs reached the normal UAS while normal_timer was paused',
    '2 INVITEs reached the holiday UAS while holiday_timer was paused',
  ]);
  assert.deepEqual(
    queueControlProblems(result(['a'], ['c'], { uac: { code: 1, successful: 1, failed: 1, output: '' } }), 2),
    ['the UAC: exit 1, 1 of 2 calls succeeded, 1 failed'],
  );
});
