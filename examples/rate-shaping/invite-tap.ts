/**
 * A transparent UDP relay in front of the upstream UAS, in a thread of its own, that records
 * when each INVITE arrives on process.hrtime's clock: the clock of the timer's grid and of the
 * shaper's own records, so "at the upstream" is measured without mixing clocks. (sipp's
 * `-trace_msg` times are its wall clock, which a VM slews by milliseconds within a minute; a
 * relay in the host's event loop would add that loop's delays to every arrival.)
 *
 *   const tap = await InviteTap.start({ target: uas });     // the shaper's upstream: tap.address
 *   ...
 *   const invites = await tap.invites();                     // [{ callId, at }] in arrival order
 *   await tap.close();
 *
 * Each client address gets a relay socket of its own towards the target, so the UAS's answers
 * (sent back to where a request came from) return to it and are relayed to that client. Every
 * datagram is relayed unchanged; only INVITEs' first bytes and Call-ID are read. Bounded: at
 * most 1,024 client addresses and 1,000,000 recorded INVITEs. The thread runs plain JavaScript
 * (an eval'd worker), so it needs no TypeScript loader.
 */
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import type { Address } from '../sip/forwarder-core.js';

const TAP_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { target, address } = workerData;
const front = dgram.createSocket('udp4');
const relays = new Map();
const invites = [];
let dropped = 0;
front.on('message', (data, rinfo) => {
  const at = Number(process.hrtime.bigint());
  if (invites.length < 1000000 && data.length > 7 && data.toString('latin1', 0, 7) === 'INVITE ') {
    const head = data.toString('latin1', 0, Math.min(data.length, 8192));
    const m = /\\r?\\n(?:Call-ID|i)[ \\t]*:[ \\t]*([^\\r\\n]+)/i.exec(head);
    invites.push({ callId: m ? m[1].trim() : '', at });
  }
  const id = rinfo.address + ':' + rinfo.port;
  let relay = relays.get(id);
  if (!relay) {
    if (relays.size >= 1024) { dropped++; return; }
    relay = dgram.createSocket('udp4');
    relay.bind(0, address);
    relay.on('message', (answer) => front.send(answer, rinfo.port, rinfo.address));
    relays.set(id, relay);
  }
  relay.send(data, target.port, target.address);
});
front.bind(0, address, () => parentPort.postMessage({ kind: 'listening', port: front.address().port }));
parentPort.on('message', (m) => {
  if (m === 'invites') parentPort.postMessage({ kind: 'invites', invites, dropped });
  if (m === 'close') {
    let open = relays.size + 1;
    const closed = () => { if (--open === 0) process.exit(0); };
    front.close(closed);
    for (const r of relays.values()) r.close(closed);
  }
});
`;

export class InviteTap {
  private constructor(
    private readonly worker: Worker,
    readonly address: Address,
  ) {}

  static async start(options: { target: Address; address?: string }): Promise<InviteTap> {
    const address = options.address ?? '127.0.0.1';
    const worker = new Worker(TAP_SOURCE, { eval: true, workerData: { target: options.target, address } });
    const [m] = (await once(worker, 'message')) as [{ kind: string; port: number }];
    if (m.kind !== 'listening') throw new Error(`the INVITE tap did not start: ${JSON.stringify(m)}`);
    return new InviteTap(worker, { address, port: m.port });
  }

  /** The INVITEs that went through so far: Call-ID and arrival time (ns, process.hrtime), in order. */
  async invites(): Promise<Array<{ callId: string; at: number }>> {
    this.worker.postMessage('invites');
    for (;;) {
      const [m] = (await once(this.worker, 'message')) as [{ kind: string; invites: Array<{ callId: string; at: number }> }];
      if (m.kind === 'invites') return m.invites;
    }
  }

  async close(): Promise<void> {
    const exited = once(this.worker, 'exit');
    this.worker.postMessage('close');
    const timer = setTimeout(() => void this.worker.terminate(), 2_000);
    await exited;
    clearTimeout(timer);
  }
}
