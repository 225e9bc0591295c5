/**
 * The SIP forwarder on UDP (for rate-shaping and queue-control): a socket that runs every datagram through ForwarderCore
 * (forwarder-core.ts) and sends what it says; and `release(items)`, which sends queued INVITEs
 * upstream from that socket.
 *
 *   // the host: where the UAC sends
 *   const front = await Forwarder.start({ listen: { address: '127.0.0.1', port: 5060 }, upstream, queue: pt.queue('calls') });
 *   // each releasing worker (its own thread, its own socket), in its start route:
 *   ctx.vars.out = await Forwarder.start({ listen: { address: '127.0.0.1', port: 0 }, upstream, queue: ctx.queue('calls'), via: front.address });
 *   // and in its loop route (under a limit, `send` runs under the window's lock: see TakeOptions):
 *   ctx.queue('calls').take(ctx.ptimer.tasks, { send: (calls) => ctx.vars.out.release(calls) });
 *
 * A worker's forwarder is a whole forwarder too: many UAS (sipp among them) answer to the
 * address a request came from rather than to its Via, so the responses to the INVITEs a worker
 * released arrive at the worker's socket, and it relays them on their Vias like the front does.
 * Every forwarder writes the front's address in its Via (`via`), so each recognizes the Vias of
 * the others as its own.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { Queue, QueueItem } from '../../src/data/api-types.js';
import { ForwarderCore, type Address, type ForwarderStats } from './forwarder-core.js';

export interface ForwarderOptions {
  listen: Address;
  upstream: Address;
  queue: Queue;
  /** The sent-by of its Via (default: the address it listens on); a releasing worker gives the front's. */
  via?: Address;
  /** Called with each datagram's error, if any (default: ignored; counted in stats.dropped). */
  onError?: (error: Error) => void;
}

export class Forwarder {
  private constructor(
    private readonly socket: Socket,
    /** Connected to the upstream: its sends are synchronous (no address lookup), see release(). */
    private readonly out: Socket,
    private readonly core: ForwarderCore,
    /** Where it listens (the port the OS chose, when 0 was asked). */
    readonly address: Address,
  ) {}

  static async start(options: ForwarderOptions): Promise<Forwarder> {
    const socket = createSocket('udp4');
    socket.bind(options.listen.port, options.listen.address);
    await once(socket, 'listening');
    const { address, port } = socket.address();
    const self = { address, port };
    const out = createSocket('udp4');
    out.bind(0, address);
    await once(out, 'listening');
    out.connect(options.upstream.port, options.upstream.address);
    await once(out, 'connect');
    const core = new ForwarderCore({ self: options.via ?? self, upstream: options.upstream, queue: options.queue });
    const forwarder = new Forwarder(socket, out, core, self);
    const onMessage = (data: Buffer, rinfo: { address: string; port: number }) => {
      try {
        for (const action of core.handle(data, { address: rinfo.address, port: rinfo.port }))
          socket.send(action.send, action.to.port, action.to.address);
      } catch (e) {
        core.stats.dropped++;
        options.onError?.(e as Error);
      }
    };
    // The upstream answers released INVITEs at the socket they came from: the connected one.
    socket.on('message', onMessage);
    out.on('message', onMessage);
    socket.on('error', (e) => options.onError?.(e));
    out.on('error', (e) => options.onError?.(e));
    return forwarder;
  }

  get stats(): ForwarderStats {
    return this.core.stats;
  }

  /**
   * Sends released INVITEs (queue items whose values are the rewritten requests) upstream, each
   * handed to the kernel before this returns (a connected socket: Node's send on an unconnected
   * one waits for an address lookup, a later tick); returns how many.
   */
  release(items: QueueItem[]): number {
    for (const { value } of items) this.out.send(value);
    return items.length;
  }

  async close(): Promise<void> {
    await Promise.all([this.socket, this.out].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
