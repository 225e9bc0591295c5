/**
 * The rate-shaping test's INVITE tap (examples/rate-shaping/invite-tap.c): it relays both ways
 * unchanged, records INVITEs only, with their Call-ID, and its kernel receive time is on
 * process.hrtime's clock: after the send began, no later than the relay's read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { InviteTap } from '../../examples/rate-shaping/invite-tap.js';

const invite = (callId: string) =>
  `INVITE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\n\r\n`;

test(
  'the INVITE tap relays both ways, records INVITEs by their Call-ID, timed by the kernel on the hrtime clock',
  { timeout: 90_000 },
  async () => {
    const uas = dgram.createSocket('udp4');
    uas.bind(0, '127.0.0.1');
    await once(uas, 'listening');
    uas.on('message', (m, from) => uas.send(`answer to ${m.toString().split(' ')[0]}`, from.port, from.address));
    const tap = await InviteTap.start({ target: { address: '127.0.0.1', port: uas.address().port } });
    const client = dgram.createSocket('udp4');
    try {
      const answers: string[] = [];
      client.on('message', (m) => answers.push(m.toString()));
      const before = Number(process.hrtime.bigint());
      client.send(invite('call-1@here'), tap.address.port, tap.address.address);
      client.send('OPTIONS sip:x SIP/2.0\r\nCall-ID: not-an-invite\r\n\r\n', tap.address.port, tap.address.address);
      client.send(invite('call-2@here'), tap.address.port, tap.address.address);
      for (let i = 0; i < 200 && answers.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(answers.sort(), ['answer to INVITE', 'answer to INVITE', 'answer to OPTIONS']);
      const after = Number(process.hrtime.bigint());
      const invites = await tap.invites();
      assert.deepEqual(
        invites.map((i) => i.callId),
        ['call-1@here', 'call-2@here'],
      );
      for (const i of invites) {
        assert.ok(
          i.at >= before && i.at <= after,
          `the kernel's time ${i.at} is within the sends (${before} to ${after})`,
        );
        assert.ok(i.readAt >= i.at, 'read no earlier than it arrived');
      }
    } finally {
      client.close();
      uas.close();
      await tap.close();
    }
  },
);
