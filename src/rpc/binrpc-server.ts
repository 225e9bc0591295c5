/**
 * The BINRPC server: what Kamailio's ctl module is to kamcmd, on a Unix stream socket
 * (`unix:PATH`, mode 0600: file permissions are the access control) or on TCP
 * (`tcp:HOST:PORT`, loopback only, since BINRPC has no authentication at all).
 *
 * A connection carries packets back to back; each is answered in turn (kamcmd sends one and
 * waits for its reply, and checks the reply's cookie), and the next is read only once the
 * answer is written out, so a client that does not read holds at most one answer.
 *
 * Bounds, as ctl has them: a packet is at most 64 KiB (ctl's stream buffer), a connection
 * idle for 120 s is closed. Beyond ctl (issue 19): a packet begun must arrive whole within
 * 10 s (else a 408 fault and the connection is closed: a byte every 30 s no longer keeps a
 * connection), and past 128 connections the idlest one not being answered is closed for each
 * new one (connection-shedding.ts), so that connections that sit or drip cannot keep kamcmd
 * out. A client that sends and then half-closes (socat, `nc -N`, a script) gets its reply
 * (allowHalfOpen), and the connection ends once it is written.
 *
 * Bad input: a packet whose records are not valid BINRPC gets a fault (400) and the
 * connection goes on, since the header still says where the next packet starts. Bytes that
 * are not a BINRPC header, or a packet over the limit, get a fault and the connection is
 * closed: there is no telling where a next packet would start. Nothing a client sends can
 * throw out of here.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { BINRPC_MAX_HEADER, BinrpcError, decodeHeader, encodeFault, type BinrpcHeader } from './binrpc-codec.js';
import { handleBinrpcRequest } from './binrpc-handler.js';
import { claimSocketPath, fileRemover, listenOn, listenPrivate } from './unix-socket-file.js';
import { closeGracefully, endConnections, trackConnections } from './graceful-close.js';
import { isLoopbackHost } from './http-server.js';
import type { RpcDispatcher } from './dispatcher.js';
import { ConnectionShedder, LISTEN_BACKLOG } from './connection-shedding.js';
import type { DropReporter } from './drop-log.js';

export const BINRPC_MAX_PACKET_BYTES = 65535;
export const BINRPC_MAX_CONNECTIONS = 128;
export const BINRPC_IDLE_TIMEOUT_MS = 120_000;
/** A packet begun must arrive whole within this (ms), however slowly its bytes drip in. */
export const BINRPC_PACKET_TIMEOUT_MS = 10_000;
/** ctl's default TCP port, when `tcp:HOST` gives none. */
export const BINRPC_DEFAULT_PORT = 2049;

export type BinrpcAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export class BinrpcAddressError extends Error {
  override name = 'BinrpcAddressError';
}

/** The address as `parseBinrpcAddress` reads it: `unix:PATH`, `tcp:HOST:PORT`, an IPv6 host in brackets. */
export function formatBinrpcAddress(address: BinrpcAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return `tcp:${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}

/**
 * `unix:PATH` (or kamcmd's `unixs:PATH`), `tcp:HOST:PORT`, `tcp:[::1]:PORT`, `tcp:HOST`
 * (port 2049). A TCP host must be loopback.
 */
export function parseBinrpcAddress(text: string): BinrpcAddress {
  const usage = 'expected unix:PATH or tcp:HOST:PORT (e.g. unix:/run/ptimer/ptimer_ctl or tcp:127.0.0.1:2049)';
  const m = /^(unix|unixs|tcp):(.*)$/i.exec(text);
  if (!m) throw new BinrpcAddressError(`"${text}": ${usage}`);
  const proto = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (proto !== 'tcp') {
    if (rest === '') throw new BinrpcAddressError(`"${text}": the socket path is missing; ${usage}`);
    return { kind: 'unix', path: rest };
  }
  const hp = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(rest);
  if (!hp) throw new BinrpcAddressError(`"${text}": ${usage}`);
  const host = hp[1] ?? hp[2]!;
  const port = hp[3] === undefined ? BINRPC_DEFAULT_PORT : Number(hp[3]);
  if (port > 65535) throw new BinrpcAddressError(`"${text}": port ${port} is out of range (0-65535)`);
  if (!isLoopbackHost(host)) {
    throw new BinrpcAddressError(
      `${text}: refused, ${host} is not a loopback address: BINRPC has no authentication, so ptimer serves it on loopback only (127.0.0.1, ::1, localhost); use unix:PATH to control access with file permissions`,
    );
  }
  return { kind: 'tcp', host, port };
}

export interface BinrpcServerOptions {
  address: BinrpcAddress;
  dispatcher: RpcDispatcher;
  maxPacketBytes?: number;
  maxConnections?: number;
  idleTimeoutMs?: number;
  /** A packet begun must be complete within this (ms); default BINRPC_PACKET_TIMEOUT_MS. */
  packetTimeoutMs?: number;
  onError?: (err: unknown) => void;
  /** Told when a stale socket file was removed. */
  onStaleSocket?: (path: string) => void;
  /** Told when a connection is shed, refused, timed out or closed for bad input (for the log and the metrics). */
  onDrop?: DropReporter;
}

export interface RunningBinrpcServer {
  readonly server: Server;
  /** `unix:PATH` or `tcp:HOST:PORT` (with the port bound, for port 0). */
  readonly url: string;
  close(graceMs?: number): Promise<void>;
  /** Synchronous removal of the socket file, for a process that must exit at once. */
  removeFileSync(): void;
}

export async function startBinrpcServer(options: BinrpcServerOptions): Promise<RunningBinrpcServer> {
  const { address, dispatcher } = options;
  const maxPacket = options.maxPacketBytes ?? BINRPC_MAX_PACKET_BYTES;
  const maxConnections = options.maxConnections ?? BINRPC_MAX_CONNECTIONS;
  const idleMs = options.idleTimeoutMs ?? BINRPC_IDLE_TIMEOUT_MS;
  const packetMs = options.packetTimeoutMs ?? BINRPC_PACKET_TIMEOUT_MS;

  if (address.kind === 'unix') await claimSocketPath(address.path, '--binrpc', options.onStaleSocket);
  // Past maxConnections the idlest connection is shed for a new one (connection-shedding.ts):
  // kamcmd opens a connection per command, and must not be kept out by connections that sit
  // or drip. A new one is refused only when every open connection is being answered.
  const shedder = new ConnectionShedder<Socket>({ maxConnections });
  // allowHalfOpen: a client that sends and then half-closes (socat, nc -N, a script) still gets its reply.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const admission = shedder.admit(socket);
    if (!admission.admitted) {
      options.onDrop?.(`all ${shedder.size} BINRPC connections are being answered; refused a new one`, 'refused');
      socket.destroy();
      return;
    }
    socket.once('close', () => shedder.remove(socket));
    if (admission.shed) {
      options.onDrop?.(
        `${shedder.size} BINRPC connections open (limit ${maxConnections}); closed the idlest for a new one`,
        'shed',
      );
      admission.shed.destroy();
    }
    serveConnection(socket, {
      dispatcher,
      maxPacket,
      idleMs,
      packetMs,
      shedder,
      onError: options.onError,
      onDrop: options.onDrop,
    });
  });
  const connections = trackConnections(server);
  if (address.kind === 'unix') await listenPrivate(server, address.path);
  else await listenOn(server, { port: address.port, host: address.host, backlog: LISTEN_BACKLOG });
  server.on('error', (err) => options.onError?.(err));

  const removeFileSync = address.kind === 'unix' ? fileRemover(address.path) : () => {};
  // For port 0, the port the system chose.
  const url = formatBinrpcAddress(
    address.kind === 'unix' ? address : { ...address, port: (server.address() as { port: number }).port },
  );
  return {
    server,
    url,
    removeFileSync,
    async close(graceMs = 1000) {
      await closeGracefully(server, connections, graceMs, () => endConnections(connections));
      removeFileSync();
    },
  };
}

interface ConnectionOptions {
  dispatcher: RpcDispatcher;
  maxPacket: number;
  idleMs: number;
  packetMs: number;
  shedder: ConnectionShedder<Socket>;
  onError?: (err: unknown) => void;
  onDrop?: DropReporter;
}

function serveConnection(socket: Socket, o: ConnectionOptions): void {
  const framer = new BinrpcFramer(o.maxPacket);
  let busy = false;
  let ended = false;
  let broken = false; // a framing error was answered: nothing more is read
  // Set while bytes of a packet not yet whole are held: the packet's deadline.
  let packetTimer: NodeJS.Timeout | undefined;

  socket.setTimeout(o.idleMs, () => {
    o.onDrop?.(`BINRPC connection idle for ${o.idleMs} ms; closed`, 'idle');
    socket.destroy();
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => clearTimeout(packetTimer));

  const armPacketDeadline = (): void => {
    if (framer.buffered === 0 || broken) {
      clearTimeout(packetTimer);
      packetTimer = undefined;
    } else if (packetTimer === undefined) {
      packetTimer = setTimeout(onPacketDeadline, o.packetMs);
      packetTimer.unref();
    }
  };
  const onPacketDeadline = (): void => {
    packetTimer = undefined;
    if (socket.destroyed || broken) return;
    if (busy) return void armPacketDeadline(); // the packets wait on an answer, not on the client
    broken = true;
    o.onDrop?.(
      `BINRPC packet not complete within ${o.packetMs} ms (${framer.buffered} bytes of it arrived); closed`,
      'timeout',
    );
    socket.end(
      encodeFault(framer.cookie, 408, `request timeout: the packet did not arrive whole within ${o.packetMs} ms`),
    );
    setTimeout(() => socket.destroy(), 1000).unref();
  };

  const pump = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      for (;;) {
        let packet: BinrpcPacket | undefined;
        try {
          packet = framer.next();
        } catch (err) {
          const reason = err instanceof BinrpcError ? err.message : String(err);
          o.onDrop?.(`BINRPC connection closed: ${reason}`, 'bad-request');
          broken = true;
          if (!socket.destroyed) socket.end(encodeFault(framer.cookie, 400, `bad request: ${reason}`));
          return;
        }
        if (!packet) break;
        clearTimeout(packetTimer);
        packetTimer = undefined;
        o.shedder.working(socket);
        let reply: Buffer;
        try {
          reply = await handleBinrpcRequest(o.dispatcher, packet.header, packet.body);
        } catch (err) {
          o.onError?.(err);
          reply = encodeFault(packet.header.cookie, 500, 'internal server error');
        }
        if (socket.destroyed) return;
        // A client that sends without reading its answers is not answered faster than it reads.
        if (!socket.write(reply)) await drained(socket);
        o.shedder.answered(socket);
      }
      armPacketDeadline();
      if (framer.buffered <= o.maxPacket && socket.isPaused()) socket.resume();
      if (ended && !socket.destroyed) {
        if (framer.buffered > 0) o.onDrop?.('BINRPC connection ended in the middle of a packet', 'bad-request');
        socket.end();
      }
    } finally {
      busy = false;
    }
  };

  socket.on('data', (chunk: Buffer) => {
    if (broken) return;
    framer.push(chunk);
    // Backpressure: while a request is being answered, hold at most about one more packet.
    if (framer.buffered > o.maxPacket + BINRPC_MAX_HEADER) socket.pause();
    void pump();
  });
  socket.on('end', () => {
    ended = true;
    if (!broken) void pump();
  });
}

/** Resolves when the socket's write buffer has drained, or the socket is gone. */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

export interface BinrpcPacket {
  header: BinrpcHeader;
  body: Buffer;
}

/**
 * Cuts a byte stream into packets. `next()` gives the next whole packet, undefined while
 * more bytes are needed, or throws BinrpcError for bytes that are not a header or a packet
 * over `maxPacket`. Pure: no sockets, no clock.
 */
export class BinrpcFramer {
  private chunks: Buffer[] = [];
  private size = 0;
  /** The cookie of the packet being read, for a fault about it (0 before one is known). */
  cookie = 0;

  constructor(private readonly maxPacket: number) {}

  get buffered(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  next(): BinrpcPacket | undefined {
    if (this.size === 0) return undefined;
    const head = this.peek(Math.min(this.size, BINRPC_MAX_HEADER));
    const header = decodeHeader(head);
    if (!header) return undefined;
    this.cookie = header.cookie;
    const total = header.headerLength + header.bodyLength;
    if (total > this.maxPacket) {
      throw new BinrpcError(`a packet of ${total} bytes, over the limit of ${this.maxPacket}`);
    }
    if (this.size < total) return undefined;
    const all = this.peek(total);
    this.drop(total);
    return { header, body: Buffer.from(all.subarray(header.headerLength)) };
  }

  private peek(n: number): Buffer {
    if (this.chunks.length > 1 && this.chunks[0]!.length < n) {
      this.chunks = [Buffer.concat(this.chunks)];
    }
    return this.chunks[0]!.subarray(0, n);
  }

  private drop(n: number): void {
    const first = this.chunks[0]!;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.size -= n;
  }
}
