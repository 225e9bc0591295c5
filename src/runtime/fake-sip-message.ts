/**
 * The faked request each route receives. Kamailio builds a SIP OPTIONS request so that every
 * request-route function works on it; ptimer gives the same request as plain data.
 */
import { randomUUID } from 'node:crypto';
import type { FakeSipMessage } from '../route-types.js';

const FAKED_URI = 'sip:you@kamailio.org';

export function createFakeSipMessage(): FakeSipMessage {
  const headers: Record<string, string> = {
    Via: `SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK${randomUUID().slice(0, 8)}`,
    From: `<${FAKED_URI}>;tag=${randomUUID().slice(0, 8)}`,
    To: `<${FAKED_URI}>`,
    'Call-ID': randomUUID(),
    CSeq: '1 OPTIONS',
    'Content-Length': '0',
  };
  const raw = [`OPTIONS ${FAKED_URI} SIP/2.0`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join(
    '\r\n',
  );
  return Object.freeze({ method: 'OPTIONS', ruri: FAKED_URI, headers: Object.freeze(headers), raw });
}
