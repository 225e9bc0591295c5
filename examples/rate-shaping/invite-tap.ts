/**
 * A transparent UDP relay in front of the upstream UAS that records when each INVITE arrives,
 * so the rate-shaping example can check its windows where the upstream sees them.
 *
 *   const tap = await InviteTap.start({ listen: { address: '127.0.0.1', port: 0 }, target: uas });
 *   // the forwarder's upstream is tap.address; afterwards: tap.invites (Call-ID -> arrival times)
 *
 * Each datagram from a client goes to `target` from a socket of its own per client address, so
 * the UAS's answers (sent back to the address a request came from) return to that socket and
 * are relayed to that client. Only the first line and the Call-ID of INVITEs are read; every
 * datagram is relayed unchanged. Bounded: at most 1,024 client addresses, 1,000,000 INVITEs.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { Address } from './forwarder-core.js';

const MAX_CLIENTS = 1024;
const MAX_INVITES = 1_000_000;

export class InviteTap {
  /** Call-ID -> the times (ns, process.hrtime) each INVITE with it arrived. */
  readonly invites = new Map<string, number[]>();
  /** Every INVITE's arrival time, in order. */
  readonly arrivals: number[] = [];
  dropped = 0;
  private readonly relays = new Map<string, Socket>();

  private constructor(
    private readonly front: Socket,
    private readonly target: Address,
    readonly address: Address,
  ) {}

  static async start(options: { listen: Address; target: Address }): Promise<InviteTap> {
    const front = createSocket('udp4');
    front.bind(options.listen.port, options.listen.address);
    await once(front, 'listening');
    const { address, port } = front.address();
    const tap = new InviteTap(front, options.target, { address, port });
    front.on('message', (data, rinfo) => tap.fromClient(data, { address: rinfo.address, port: rinfo.port }));
    return tap;
  }

  private fromClient(data: Buffer, client: Address): void {
    const now = Number(process.hrtime.bigint());
    if (data.subarray(0, 7).toString('latin1') === 'INVITE ') this.record(data, now);
    const id = `${client.address}:${client.port}`;
    let relay = this.relays.get(id);
    if (!relay) {
      if (this.relays.size >= MAX_CLIENTS) {
        this.dropped++;
        return;
      }
      relay = createSocket('udp4');
      relay.bind(0, this.address.address);
      relay.on('message', (answer) => this.front.send(answer, client.port, client.address));
      this.relays.set(id, relay);
    }
    relay.send(data, this.target.port, this.target.address);
  }

  private record(data: Buffer, now: number): void {
    if (this.arrivals.length >= MAX_INVITES) return;
    const head = data.toString('latin1', 0, Math.min(data.length, 8192));
    const m = /\r?\n(?:Call-ID|i)[ \t]*:[ \t]*([^\r\n]+)/i.exec(head);
    const callId = m ? m[1]!.trim() : '';
    this.arrivals.push(now);
    const times = this.invites.get(callId);
    if (times) times.push(now);
    else this.invites.set(callId, [now]);
  }

  async close(): Promise<void> {
    const all = [this.front, ...this.relays.values()];
    await Promise.all(all.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
