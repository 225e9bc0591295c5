/**
 * Responses the forwarder answers itself (RFC 3261 section 8.2.6): 100 Trying for an INVITE it
 * queued, 200 for a CANCEL, 487 Request Terminated for an INVITE cancelled while queued, 503
 * when the queue is full, 483 when Max-Forwards ran out, 400 for a request it cannot read.
 *
 * The response copies the request's Via lines, From, To, Call-ID and CSeq; a final response
 * adds a To tag, derived from the call and the request's branch so that a retransmitted request
 * gets the same one.
 */
import { createHash } from 'node:crypto';
import { SipMessage, canonicalName } from './sip-message.js';
import { topVia, viaParam } from './sip-via.js';

export const REASONS: Record<number, string> = {
  100: 'Trying',
  200: 'OK',
  400: 'Bad Request',
  481: 'Call/Transaction Does Not Exist',
  483: 'Too Many Hops',
  487: 'Request Terminated',
  503: 'Service Unavailable',
};

const COPIED = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

/**
 * A response to `request`. `cseqMethod` overrides the CSeq method: the 487 for an INVITE is
 * built from its CANCEL, which carries the INVITE's Via, From, To, Call-ID and CSeq number.
 */
export function makeResponse(
  request: SipMessage,
  status: number,
  options: { cseqMethod?: string; extra?: Array<[string, string]> } = {},
): SipMessage {
  const headers = request.headers
    .filter((h) => COPIED.has(canonicalName(h.name)) || (status === 100 && canonicalName(h.name) === 'timestamp'))
    .map((h) => ({ name: h.name, value: h.value }));
  if (status > 100) {
    const to = headers.find((h) => canonicalName(h.name) === 'to');
    if (to && !/;\s*tag=/i.test(to.value)) to.value += `;tag=${toTag(request)}`;
  }
  if (options.cseqMethod) {
    const cseq = headers.find((h) => canonicalName(h.name) === 'cseq');
    if (cseq) cseq.value = `${request.cseq.seq} ${options.cseqMethod}`;
  }
  for (const [name, value] of options.extra ?? []) headers.push({ name, value });
  headers.push({ name: 'Content-Length', value: '0' });
  return new SipMessage({ kind: 'response', status, reason: REASONS[status] ?? 'Unknown' }, headers, new Uint8Array(0));
}

function toTag(request: SipMessage): string {
  const via = topVia(request);
  const seed = `${request.get('call-id') ?? ''}|${request.get('from') ?? ''}|${(via && viaParam(via, 'branch')) ?? ''}`;
  return 'ptf' + createHash('sha1').update(seed).digest('hex').slice(0, 12);
}
