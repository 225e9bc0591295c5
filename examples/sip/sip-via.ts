/**
 * Via header fields (RFC 3261 sections 18.2 and 20.42; rport from RFC 3581) as a stateless
 * forwarder uses them: parse the top one, add its own on top of a request, strip its own from
 * a response, and work out where a response goes next.
 *
 * A Via line may hold several comma-separated values; "the top Via" is the first value of the
 * first Via line. The forwarder's branch is derived from the incoming top branch (a hash), so a
 * retransmission, and the CANCEL or the ACK of a non-2xx answer for an INVITE, get the same
 * branch as the INVITE did: that is how a stateless proxy lets the next hop match them
 * (RFC 3261 section 16.11).
 */
import { createHash } from 'node:crypto';
import { SipParseError, canonicalName, type SipMessage } from './sip-message.js';

export const MAGIC_COOKIE = 'z9hG4bK';

export interface Via {
  transport: string;
  host: string;
  port: number | undefined;
  /** Parameters in order; a flag parameter (`;rport`) has the value ''. */
  params: Array<[string, string]>;
}

export function viaParam(via: Via, name: string): string | undefined {
  return via.params.find(([k]) => k.toLowerCase() === name)?.[1];
}

/** Splits a header value at commas that are outside quotes and angle brackets. */
export function splitHeaderValues(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      out.push(value.slice(from, i).trim());
      from = i + 1;
    }
  }
  out.push(value.slice(from).trim());
  return out.filter((v) => v !== '');
}

/** Parses one Via value: `SIP/2.0/UDP host[:port];param=value;flag`. */
export function parseVia(value: string): Via {
  const m =
    /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?\s*((?:;.*)?)$/.exec(
      value.trim(),
    );
  if (!m)
    throw new SipParseError(
      `the Via ${JSON.stringify(value.slice(0, 80))} is not "SIP/2.0/TRANSPORT host[:port];params"`,
    );
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535))
    throw new SipParseError(`the Via's port ${port} is not 1-65535`);
  const params: Array<[string, string]> = [];
  for (const p of m[4]!.split(';').slice(1)) {
    const eq = p.indexOf('=');
    params.push(eq < 0 ? [p.trim(), ''] : [p.slice(0, eq).trim(), p.slice(eq + 1).trim()]);
  }
  return { transport: m[1]!.toUpperCase(), host: m[2]!, port, params };
}

export function formatVia(via: Via): string {
  const hostPort = via.port === undefined ? via.host : `${via.host}:${via.port}`;
  return `SIP/2.0/${via.transport} ${hostPort}${via.params.map(([k, v]) => (v === '' ? `;${k}` : `;${k}=${v}`)).join('')}`;
}

/** The index of the first Via line, or -1. */
function firstViaLine(msg: SipMessage): number {
  return msg.headers.findIndex((h) => canonicalName(h.name) === 'via');
}

/** The top Via, or undefined when the message has none. */
export function topVia(msg: SipMessage): Via | undefined {
  const i = firstViaLine(msg);
  if (i < 0) return undefined;
  const first = splitHeaderValues(msg.headers[i]!.value)[0];
  if (first === undefined) throw new SipParseError('the message has an empty Via');
  return parseVia(first);
}

/** Replaces the top Via value (keeping any others on its line). */
export function replaceTopVia(msg: SipMessage, via: Via): void {
  const i = firstViaLine(msg);
  if (i < 0) throw new SipParseError('the message has no Via');
  const values = splitHeaderValues(msg.headers[i]!.value);
  values[0] = formatVia(via);
  msg.headers[i] = { name: msg.headers[i]!.name, value: values.join(', ') };
}

/** Puts a Via on top: a line of its own before the first Via line. */
export function pushVia(msg: SipMessage, via: Via): void {
  const i = firstViaLine(msg);
  msg.headers.splice(i < 0 ? 0 : i, 0, { name: 'Via', value: formatVia(via) });
}

/** Removes the top Via value (and its line, if it was the only value on it); returns it. */
export function popVia(msg: SipMessage): Via {
  const i = firstViaLine(msg);
  if (i < 0) throw new SipParseError('the message has no Via');
  const values = splitHeaderValues(msg.headers[i]!.value);
  const top = parseVia(values.shift()!);
  if (values.length === 0) msg.headers.splice(i, 1);
  else msg.headers[i] = { name: msg.headers[i]!.name, value: values.join(', ') };
  return top;
}

/**
 * The forwarder's branch for a request whose own top Via has `branch` (RFC 3261 16.11: the
 * same input branch gives the same output branch), or, for a request without an RFC 3261
 * branch, derived from the fields that identify its transaction.
 */
export function statelessBranch(msg: SipMessage, incoming: Via | undefined): string {
  const branch = incoming && viaParam(incoming, 'branch');
  // An ACK for a non-2xx and a CANCEL carry the INVITE's branch, so they hash to the INVITE's.
  const method = msg.method === 'ACK' || msg.method === 'CANCEL' ? 'INVITE' : msg.method;
  const seed =
    branch && branch.startsWith(MAGIC_COOKIE)
      ? `b:${branch}`
      : `t:${msg.callId}|${msg.cseq.seq}|${method}|${msg.get('from') ?? ''}|${incoming ? formatVia(incoming) : ''}`;
  return MAGIC_COOKIE + '-ptf-' + createHash('sha1').update(seed).digest('base64url').slice(0, 16);
}

/**
 * Where a response to a request with this Via goes (RFC 3261 18.2.2, RFC 3581): to `received`
 * (else the sent-by host), at `rport` when it has a value (else the sent-by port, else 5060).
 */
export function responseTarget(via: Via): { address: string; port: number } {
  const received = viaParam(via, 'received');
  const rport = viaParam(via, 'rport');
  const host = received || via.host.replace(/^\[|\]$/g, '');
  const port = rport && /^\d{1,5}$/.test(rport) ? Number(rport) : (via.port ?? 5060);
  return { address: host, port };
}

/** Records where a request really came from on its top Via (received, and rport when asked for). */
export function stampReceived(via: Via, from: { address: string; port: number }): Via {
  const params = via.params.map(([k, v]): [string, string] =>
    k.toLowerCase() === 'rport' ? [k, String(from.port)] : [k, v],
  );
  const hasRport = via.params.some(([k]) => k.toLowerCase() === 'rport');
  if (
    (hasRport || via.host.replace(/^\[|\]$/g, '') !== from.address) &&
    !params.some(([k]) => k.toLowerCase() === 'received')
  )
    params.push(['received', from.address]);
  return { ...via, params };
}
