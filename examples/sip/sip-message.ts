/**
 * SIP messages as the examples' forwarder needs them (RFC 3261 section 7): a datagram parsed
 * into its start line, its header fields in order and its body, and written back byte for byte
 * except where the forwarder changed something.
 *
 * Header names are matched case-insensitively and in their compact forms (v = Via, i = Call-ID,
 * ...); folded lines (a continuation starting with a space or tab) are unfolded. A header line
 * carrying several comma-separated values (`Via: a, b`) is kept as one line; the Via helpers in
 * sip-via.ts split it. The body is bytes, untouched. Anything that is not a SIP message throws a
 * SipParseError naming what is wrong; every size is bounded (a UDP datagram, 256 header lines).
 */

/** Largest message: a UDP datagram over IPv4. */
export const MAX_SIP_MESSAGE_BYTES = 65_507;
/** Most header lines in a message. */
export const MAX_SIP_HEADERS = 256;

export class SipParseError extends Error {
  readonly code = 'ESIPPARSE';
}

const COMPACT: Record<string, string> = {
  v: 'via',
  i: 'call-id',
  f: 'from',
  t: 'to',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
  o: 'event',
  r: 'refer-to',
  u: 'allow-events',
};

/** The lower-case full name of a header name (`v` -> `via`). */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return COMPACT[lower] ?? lower;
}

export interface SipHeader {
  /** As written (`Via`, `v`, `CALL-ID`). */
  name: string;
  value: string;
}

export interface SipRequestLine {
  kind: 'request';
  method: string;
  uri: string;
}

export interface SipStatusLine {
  kind: 'response';
  status: number;
  reason: string;
}

export class SipMessage {
  constructor(
    public start: SipRequestLine | SipStatusLine,
    public headers: SipHeader[],
    public body: Uint8Array,
  ) {}

  get isRequest(): boolean {
    return this.start.kind === 'request';
  }

  /** The request method, or for a response the method of its CSeq. */
  get method(): string {
    return this.start.kind === 'request' ? this.start.method : this.cseq.method;
  }

  get status(): number | undefined {
    return this.start.kind === 'response' ? this.start.status : undefined;
  }

  /** The first value of a header, or undefined. */
  get(name: string): string | undefined {
    const want = canonicalName(name);
    return this.headers.find((h) => canonicalName(h.name) === want)?.value;
  }

  /** Every line of a header, in order. */
  getAll(name: string): string[] {
    const want = canonicalName(name);
    return this.headers.filter((h) => canonicalName(h.name) === want).map((h) => h.value);
  }

  /** Sets a header: replaces its first line (dropping the others), or appends it. */
  set(name: string, value: string): void {
    const want = canonicalName(name);
    const i = this.headers.findIndex((h) => canonicalName(h.name) === want);
    if (i < 0) this.headers.push({ name, value });
    else {
      this.headers[i] = { name: this.headers[i]!.name, value };
      this.headers = this.headers.filter((h, j) => j <= i || canonicalName(h.name) !== want);
    }
  }

  get callId(): string {
    const v = this.get('call-id');
    if (!v) throw new SipParseError('the message has no Call-ID');
    return v.trim();
  }

  get cseq(): { seq: number; method: string } {
    const v = this.get('cseq');
    const m = v && /^\s*(\d{1,10})\s+([A-Za-z!%*_+`'~.-]+)\s*$/.exec(v);
    if (!m) throw new SipParseError(`the CSeq ${JSON.stringify(v ?? null)} is not "NUMBER METHOD"`);
    return { seq: Number(m[1]), method: m[2]!.toUpperCase() };
  }

  /** The message as bytes; Content-Length is whatever the headers say (the body is never changed). */
  toBuffer(): Buffer {
    const start =
      this.start.kind === 'request'
        ? `${this.start.method} ${this.start.uri} SIP/2.0`
        : `SIP/2.0 ${this.start.status} ${this.start.reason}`;
    const head = [start, ...this.headers.map((h) => `${h.name}: ${h.value}`), '', ''].join('\r\n');
    return Buffer.concat([Buffer.from(head, 'utf8'), this.body]);
  }
}

const TOKEN = /^[A-Za-z0-9!%*_+`'~.-]+$/;

/** Parses one datagram. Throws SipParseError on anything that is not a SIP/2.0 message. */
export function parseSipMessage(data: Uint8Array): SipMessage {
  if (data.length > MAX_SIP_MESSAGE_BYTES)
    throw new SipParseError(`the message has ${data.length} bytes; at most ${MAX_SIP_MESSAGE_BYTES}`);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  let end = buf.indexOf('\r\n\r\n');
  let sep = 4;
  if (end < 0) {
    // RFC 3261 7.5: a bare LF is tolerated by robust parsers.
    end = buf.indexOf('\n\n');
    sep = 2;
  }
  if (end < 0) throw new SipParseError('the message has no empty line ending its header');
  const lines = buf.toString('utf8', 0, end).split(/\r?\n/);
  const body = new Uint8Array(buf.subarray(end + sep));
  const first = lines.shift()!;
  let start: SipRequestLine | SipStatusLine;
  const status = /^SIP\/2\.0 ([1-6]\d\d) (.*)$/.exec(first);
  if (status) start = { kind: 'response', status: Number(status[1]), reason: status[2]! };
  else {
    const req = /^(\S+) (\S+) SIP\/2\.0$/.exec(first);
    if (!req || !TOKEN.test(req[1]!))
      throw new SipParseError(
        `the first line ${JSON.stringify(first.slice(0, 80))} is neither "METHOD URI SIP/2.0" nor "SIP/2.0 CODE REASON"`,
      );
    start = { kind: 'request', method: req[1]!, uri: req[2]! };
  }
  const headers: SipHeader[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line)) {
      const last = headers.at(-1);
      if (!last) throw new SipParseError('the header starts with a continuation line');
      last.value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!TOKEN.test(name))
      throw new SipParseError(`the header line ${JSON.stringify(line.slice(0, 80))} is not "Name: value"`);
    if (headers.length >= MAX_SIP_HEADERS)
      throw new SipParseError(`the message has more than ${MAX_SIP_HEADERS} header lines`);
    headers.push({ name, value: line.slice(colon + 1).trim() });
  }
  const message = new SipMessage(start, headers, body);
  const length = message.get('content-length');
  if (length !== undefined) {
    if (!/^\d{1,6}$/.test(length))
      throw new SipParseError(`the Content-Length ${JSON.stringify(length)} is not a number`);
    const n = Number(length);
    if (n > body.length) throw new SipParseError(`the Content-Length is ${n} but the body has ${body.length} bytes`);
    message.body = body.subarray(0, n); // RFC 3261 18.3: bytes past Content-Length are dropped
  }
  return message;
}
