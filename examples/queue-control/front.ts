/**
 * The queue-control front: the address the callers (the UAC) send to. It is the stateless
 * forwarder of ../sip/forwarder-core.ts with one twist: there are several destinations,
 * and a call's later requests (ACK, BYE, a CANCEL after release) must reach the destination its
 * INVITE went to. The timer that sent the INVITE wrote its own name in the `call_routes` table
 * under the Call-ID; the front reads it and hands the datagram to the ForwarderCore of that
 * destination. Initial INVITEs (queued, whichever timer takes them) and responses (relayed on
 * their Via) are the same for every core; a request of a call the table does not know goes to
 * `fallback`.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { Queue, Table } from 'ptimer';
import { ForwarderCore, type Address, type ForwarderStats } from '../sip/forwarder-core.js';
import { parseSipMessage } from '../sip/sip-message.js';

export interface FrontOptions {
  listen: Address;
  /** Timer name -> its destination. */
  upstreams: Record<string, Address>;
  /** The timer whose destination takes requests of calls not in the table. */
  fallback: string;
  queue: Queue;
  /** Call-ID -> the timer that sent the call's INVITE. */
  routes: Table;
  onError?: (error: Error) => void;
}

export class Front {
  private constructor(
    private readonly socket: Socket,
    private readonly cores: Map<string, ForwarderCore>,
    readonly address: Address,
  ) {}

  static async start(options: FrontOptions): Promise<Front> {
    if (!(options.fallback in options.upstreams))
      throw new Error(
        `Front: fallback ${JSON.stringify(options.fallback)} is not one of the upstreams (${Object.keys(options.upstreams).join(', ')})`,
      );
    const socket = createSocket('udp4');
    socket.bind(options.listen.port, options.listen.address);
    await once(socket, 'listening');
    const self = { address: socket.address().address, port: socket.address().port };
    const cores = new Map(
      Object.entries(options.upstreams).map(([timer, upstream]) => [
        timer,
        new ForwarderCore({ self, upstream, queue: options.queue }),
      ]),
    );
    const fallback = cores.get(options.fallback)!;
    const front = new Front(socket, cores, self);
    socket.on('message', (data, rinfo) => {
      try {
        let core = fallback;
        try {
          const timer = options.routes.get(parseSipMessage(data).callId);
          if (typeof timer === 'string') core = cores.get(timer) ?? fallback;
        } catch {
          // not SIP, or no Call-ID: the core counts and drops it
        }
        for (const action of core.handle(data, { address: rinfo.address, port: rinfo.port }))
          socket.send(action.send, action.to.port, action.to.address);
      } catch (e) {
        options.onError?.(e as Error);
      }
    });
    socket.on('error', (e) => options.onError?.(e));
    return front;
  }

  /** The counters of every core, added up. */
  get stats(): ForwarderStats {
    const sum = {} as Record<string, number>;
    for (const core of this.cores.values()) for (const [k, v] of Object.entries(core.stats)) sum[k] = (sum[k] ?? 0) + v;
    return sum as unknown as ForwarderStats;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
