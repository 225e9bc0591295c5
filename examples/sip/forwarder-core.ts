/**
 * The SIP forwarder's decisions (shared by examples/rate-shaping and examples/queue-control), without sockets: given a datagram and where it came
 * from, what to send where, and what to queue. forwarder.ts runs it on a UDP socket.
 *
 * A stateless SIP forwarder between a UAC (downstream) and one upstream (RFC 3261 section 16.11):
 *
 * - An initial INVITE (no To tag) is rewritten (our Via on top, Max-Forwards down by one, the
 *   sender's address stamped on its Via as received/rport) and queued under its Call-ID, and
 *   answered 100 Trying so the UAC stops retransmitting it while it waits. A full queue answers
 *   503. Queued INVITEs are sent upstream by the releasing timer (`releaseTo` in forwarder.ts).
 *   With the queue's addmode 1, a retransmission of a queued INVITE changes nothing.
 * - A CANCEL for a call still queued removes it from the queue and is answered 200, and the
 *   INVITE 487 Request Terminated; the ACK for that 487 is absorbed. A CANCEL for a call already
 *   released is forwarded upstream, with the branch the INVITE got, so the upstream matches it.
 * - ACK, BYE, re-INVITEs and every other request go upstream at once, rewritten the same way.
 *   A request from the upstream (a BYE from the UAS) goes to its Request-URI.
 * - A response whose top Via is ours loses it and goes where the next Via says; any other
 *   response is dropped.
 * - A datagram that is not SIP is dropped; a request with a header it needs (Via, Call-ID,
 *   CSeq) unreadable is answered 400 when it can be, dropped otherwise. It sends only to IP
 *   addresses (no DNS): a Via or Request-URI naming a host is dropped. Each case is counted.
 */
import { isIP } from 'node:net';
import type { Queue } from '../../src/data/api-types.js';
import { SipMessage, SipParseError, parseSipMessage } from './sip-message.js';
import { makeResponse } from './sip-response.js';
import {
  type Via,
  popVia,
  pushVia,
  replaceTopVia,
  responseTarget,
  stampReceived,
  statelessBranch,
  topVia,
  viaParam,
} from './sip-via.js';

export interface Address {
  address: string;
  port: number;
}

export interface SendAction {
  send: Buffer;
  to: Address;
}

export interface ForwarderCoreOptions {
  /** Where the forwarder listens: its Via's sent-by, where responses come back. */
  self: Address;
  /** Where requests go. */
  upstream: Address;
  /** Where initial INVITEs wait to be released (keyed by Call-ID). */
  queue: Queue;
  /** How long a branch answered here (487, 503) absorbs its ACK (ms; default 32 s, 64*T1). */
  absorbMs?: number;
  /** How many such branches are remembered (default 10,000; the oldest is forgotten first). */
  absorbEntries?: number;
  /** Milliseconds on any clock (tests pass a virtual one). */
  now?: () => number;
}

export interface ForwarderStats {
  received: number;
  queued: number;
  rejectedFull: number;
  cancelledQueued: number;
  forwardedRequests: number;
  forwardedResponses: number;
  absorbedAcks: number;
  badRequests: number;
  dropped: number;
}

const OUR_BRANCH = 'z9hG4bK-ptf-';

export class ForwarderCore {
  readonly stats: ForwarderStats = {
    received: 0,
    queued: 0,
    rejectedFull: 0,
    cancelledQueued: 0,
    forwardedRequests: 0,
    forwardedResponses: 0,
    absorbedAcks: 0,
    badRequests: 0,
    dropped: 0,
  };
  /** Branches of INVITEs answered here with a final response -> until when their ACK is absorbed. */
  private readonly answered = new Map<string, number>();
  private readonly absorbMs: number;
  private readonly absorbEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: ForwarderCoreOptions) {
    this.absorbMs = options.absorbMs ?? 32_000;
    this.absorbEntries = options.absorbEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** What to do with one datagram from `from`. */
  handle(data: Uint8Array, from: Address): SendAction[] {
    this.stats.received++;
    let msg: SipMessage;
    try {
      msg = parseSipMessage(data);
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      this.stats.dropped++;
      return [];
    }
    try {
      return msg.isRequest ? this.request(msg, from) : this.response(msg);
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      return this.bad(msg, from);
    }
  }

  private response(msg: SipMessage): SendAction[] {
    const top = topVia(msg);
    if (!top || !this.isOurs(top)) {
      this.stats.dropped++;
      return [];
    }
    popVia(msg);
    const next = topVia(msg);
    if (!next) {
      this.stats.dropped++;
      return [];
    }
    const to = responseTarget(next);
    if (!isIP(to.address)) return this.drop(); // a host name would need DNS: this forwarder stays on IP addresses
    this.stats.forwardedResponses++;
    return [{ send: msg.toBuffer(), to }];
  }

  private request(msg: SipMessage, from: Address): SendAction[] {
    const incoming = topVia(msg);
    if (!incoming) throw new SipParseError('the request has no Via');
    const method = msg.method.toUpperCase();
    const { callId } = msg; // throws on a missing Call-ID
    void msg.cseq; // and on a bad CSeq
    replaceTopVia(msg, stampReceived(incoming, from));
    const stamped = topVia(msg)!;
    const back = responseTarget(stamped);
    if (!isIP(back.address))
      throw new SipParseError(
        `the Via's host ${JSON.stringify(back.address)} is not an IP address (this forwarder does no DNS)`,
      );
    const reply = (status: number, cseqMethod?: string): SendAction => ({
      send: makeResponse(msg, status, { cseqMethod }).toBuffer(),
      to: back,
    });

    const maxForwards = msg.get('max-forwards');
    const hops =
      maxForwards === undefined ? 70 : /^\d{1,3}$/.test(maxForwards.trim()) ? Number(maxForwards.trim()) : NaN;
    if (Number.isNaN(hops)) throw new SipParseError(`the Max-Forwards ${JSON.stringify(maxForwards)} is not a number`);
    if (hops === 0) {
      if (method === 'ACK') return this.drop();
      return [reply(483)];
    }

    if (method === 'ACK') {
      const branch = viaParam(incoming, 'branch');
      if (branch && this.absorbs(branch)) {
        this.stats.absorbedAcks++;
        return [];
      }
    }
    if (method === 'CANCEL' && this.options.queue.remove(callId) > 0) {
      this.stats.cancelledQueued++;
      this.remember(incoming);
      return [reply(200), reply(487, 'INVITE')];
    }

    // Rewrite: our Via on top, one hop fewer.
    const forwarded = new SipMessage(
      msg.start,
      msg.headers.map((h) => ({ ...h })),
      msg.body,
    );
    forwarded.set('Max-Forwards', String(hops - 1));
    const via: Via = {
      transport: 'UDP',
      host: this.options.self.address,
      port: this.options.self.port,
      params: [['branch', statelessBranch(msg, incoming)]],
    };
    pushVia(forwarded, via);
    const bytes = forwarded.toBuffer();

    const initialInvite = method === 'INVITE' && !/;\s*tag=/i.test(msg.get('to') ?? '');
    if (initialInvite) {
      if (!this.options.queue.push(bytes, callId)) {
        this.stats.rejectedFull++;
        this.remember(incoming);
        return [reply(503)];
      }
      this.stats.queued++;
      return [reply(100)];
    }
    const fromUpstream = from.address === this.options.upstream.address && from.port === this.options.upstream.port;
    const to = fromUpstream ? uriTarget(msg) : this.options.upstream;
    if (!isIP(to.address)) return this.drop();
    this.stats.forwardedRequests++;
    return [{ send: bytes, to }];
  }

  private bad(msg: SipMessage, from: Address): SendAction[] {
    this.stats.badRequests++;
    if (!msg.isRequest || msg.method.toUpperCase() === 'ACK') return [];
    try {
      const via = topVia(msg);
      if (!via || msg.get('call-id') === undefined) return [];
      const to = responseTarget(stampReceived(via, from));
      return isIP(to.address) ? [{ send: makeResponse(msg, 400).toBuffer(), to }] : [];
    } catch {
      return [];
    }
  }

  private drop(): SendAction[] {
    this.stats.dropped++;
    return [];
  }

  private isOurs(via: Via): boolean {
    const branch = viaParam(via, 'branch') ?? '';
    return (
      branch.startsWith(OUR_BRANCH) &&
      via.host === this.options.self.address &&
      (via.port ?? 5060) === this.options.self.port
    );
  }

  /** Remembers that the INVITE with this Via was answered here, so its ACK is absorbed. */
  private remember(incoming: Via): void {
    const branch = viaParam(incoming, 'branch');
    if (!branch) return;
    this.answered.delete(branch);
    this.answered.set(branch, this.now() + this.absorbMs);
    while (this.answered.size > this.absorbEntries) this.answered.delete(this.answered.keys().next().value!);
  }

  private absorbs(branch: string): boolean {
    const until = this.answered.get(branch);
    if (until === undefined) return false;
    if (until <= this.now()) {
      this.answered.delete(branch);
      return false;
    }
    return true;
  }
}

/** Where a request from the upstream goes: its Request-URI's host and port. */
function uriTarget(msg: SipMessage): Address {
  const uri = msg.start.kind === 'request' ? msg.start.uri : '';
  const m = /^sips?:(?:[^@;>]*@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?/.exec(uri);
  if (!m) throw new SipParseError(`the Request-URI ${JSON.stringify(uri.slice(0, 80))} has no host`);
  return { address: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 5060 };
}
