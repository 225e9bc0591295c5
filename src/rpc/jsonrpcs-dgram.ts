/**
 * The jsonrpcs datagram transport (`ptimer run --dgram PATH`): a Unix datagram socket at PATH
 * (mode 0600); each datagram is one JSON-RPC request (or batch), and the answer goes back as
 * one datagram to the address the client sent from (a client binds its own socket to get
 * answers, as kamcmd and Kamailio's tools do).
 *
 * Node has no Unix datagram sockets (node:dgram is udp4/udp6 only), so this uses the native
 * addon of the `unix-dgram` package, an optional dependency: when it could not be built,
 * only --dgram is unavailable, and says so. Its binding is called directly, with a receive
 * callback of ptimer's own that copes with a failed read (the package's wrapper would throw
 * on one), so nothing a client does can crash the process.
 *
 * Bounds: a datagram is read up to 64 KiB; an answer must fit one datagram (jsonrpcs:
 * 65456 bytes), else an error answer says to use another transport; at most `maxInFlight`
 * requests run at once (more are answered with an error at once, not queued).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chmodSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { errorResponse, RPC_INTERNAL, type RpcDispatcher } from './dispatcher.js';
import { claimSocketPath, fileRemover, withPrivateUmask } from './unix-socket-file.js';
import type { DropReporter } from './drop-log.js';

export const DGRAM_MAX_REPLY_BYTES = 65456;
export const DGRAM_MAX_IN_FLIGHT = 64;

export class DgramUnavailableError extends Error {
  override name = 'DgramUnavailableError';
}

interface UnixDgramBinding {
  AF_UNIX: number;
  SOCK_DGRAM: number;
  socket(
    domain: number,
    type: number,
    protocol: number,
    onRecv: (status: number, buf: Buffer | null, path: string | null) => void,
    onWritable: () => void,
  ): number;
  bind(fd: number, path: string): number;
  sendto(fd: number, buf: Buffer, offset: number, length: number, path: string): number;
  close(fd: number): number;
}

let binding: UnixDgramBinding | undefined;

/** The unix-dgram addon, or a DgramUnavailableError saying why not. */
export function loadUnixDgram(): UnixDgramBinding {
  if (binding) return binding;
  try {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('unix-dgram/package.json'));
    binding = require(join(dir, 'build', 'Release', 'unix_dgram.node')) as UnixDgramBinding;
    return binding;
  } catch (err) {
    throw new DgramUnavailableError(
      `--dgram needs the optional package unix-dgram (a native addon: Node has no Unix datagram sockets of its own), and it is not usable here: ${(err as Error).message.split('\n')[0]}. Reinstall with a C++ compiler present (npm ci), or use --fifo or --socket`,
    );
  }
}

function errnoName(status: number): string {
  const name = Object.entries(osConstants.errno).find(([, n]) => n === -status)?.[0];
  return name ?? `errno ${-status}`;
}

export interface DgramServerOptions {
  path: string;
  dispatcher: RpcDispatcher;
  maxInFlight?: number;
  /** An answer that could not be sent, or a datagram without a return address (for the log). */
  onDrop?: DropReporter;
  onError?: (err: unknown) => void;
  onStaleSocket?: (path: string) => void;
}

export interface RunningDgramServer {
  readonly path: string;
  close(): Promise<void>;
  removeFileSync(): void;
}

export async function startDgramServer(options: DgramServerOptions): Promise<RunningDgramServer> {
  const ud = loadUnixDgram();
  const { path, dispatcher } = options;
  const maxInFlight = options.maxInFlight ?? DGRAM_MAX_IN_FLIGHT;
  await claimSocketPath(path, '--dgram', options.onStaleSocket);

  let fd = -1;
  const running = new Set<Promise<void>>();

  const reply = (to: string, text: string): void => {
    if (fd < 0) return;
    let out = Buffer.from(text, 'utf8');
    if (out.length > DGRAM_MAX_REPLY_BYTES) {
      const id = idOf(text);
      out = Buffer.from(
        JSON.stringify(
          errorResponse(
            id,
            RPC_INTERNAL,
            `the answer is ${out.length} bytes, more than one datagram carries (${DGRAM_MAX_REPLY_BYTES}); ask over --fifo, --socket or HTTP`,
          ),
          null,
          '\t',
        ),
      );
    }
    const status = ud.sendto(fd, out, 0, out.length, to);
    if (status < 0) options.onDrop?.(`answer to ${to} not sent: ${errnoName(status)}`, 'undelivered');
    else if (status === 1) options.onDrop?.(`answer to ${to} not sent: its receive queue is full`, 'undelivered');
  };

  const onRecv = (status: number, buf: Buffer | null, from: string | null): void => {
    if (status < 0 || !buf) {
      if (status !== -(osConstants.errno.EAGAIN ?? 11))
        options.onDrop?.(`receive failed: ${errnoName(status)}`, 'bad-request');
      return;
    }
    if (!from) {
      options.onDrop?.('a datagram from an unbound socket: no address to answer to; not run', 'bad-request');
      return;
    }
    if (running.size >= maxInFlight) {
      reply(
        from,
        JSON.stringify(
          errorResponse(null, RPC_INTERNAL, `busy: ${maxInFlight} requests are being answered; try again`),
          null,
          '\t',
        ),
      );
      return;
    }
    const job = dispatcher
      .handleText(buf.toString('utf8'))
      .then((text) => {
        if (text !== undefined) reply(from, JSON.stringify(JSON.parse(text), null, '\t'));
      })
      .catch((err) => options.onError?.(err))
      .finally(() => {
        running.delete(job);
      });
    running.add(job);
  };

  fd = ud.socket(ud.AF_UNIX, ud.SOCK_DGRAM, 0, onRecv, () => {});
  if (fd < 0) throw new DgramUnavailableError(`--dgram ${path}: cannot make a socket: ${errnoName(fd)}`);
  const bound = await withPrivateUmask(() => Promise.resolve(ud.bind(fd, path)));
  if (bound < 0) {
    ud.close(fd);
    fd = -1;
    throw new DgramUnavailableError(`--dgram ${path}: cannot bind: ${errnoName(bound)}`);
  }
  chmodSync(path, 0o600);
  const removeFileSync = fileRemover(path);

  return {
    path,
    removeFileSync,
    async close() {
      if (fd >= 0) {
        ud.close(fd);
        fd = -1;
      }
      removeFileSync();
      await Promise.allSettled([...running]);
    },
  };
}

function idOf(text: string): string | number | null {
  try {
    const r = JSON.parse(text) as { id?: unknown };
    return typeof r.id === 'string' || typeof r.id === 'number' ? r.id : null;
  } catch {
    return null;
  }
}
