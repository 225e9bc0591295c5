/**
 * `pt.serve()`: the control interface from the host's own process - the same JSON-RPC (over
 * HTTP, with /metrics, and over a Unix socket) that `ptimer run` serves, for an application
 * that builds its PTimer in code. Bounds, token rules and error codes are those of the servers
 * themselves (src/rpc/*); this file only puts them together.
 */
import { RpcDispatcher } from './rpc/dispatcher.js';
import { DEFAULT_HTTP_HOST, startHttpServer, type RunningHttpServer } from './rpc/http-server.js';
import { createMetrics } from './rpc/metrics.js';
import { startSocketServer, type RunningSocketServer, type SocketServerOptions } from './rpc/socket-server.js';
import { TransportDropLog } from './rpc/drop-log.js';
import type { TimerControl } from './control-types.js';
import type { Logger } from 'pino';

export interface ServeOptions {
  /** JSON-RPC at POST /RPC and /metrics: `{ host, port }` (port 0 picks a free one). Loopback unless a token is given. */
  http?: { host?: string; port: number };
  /** JSON-RPC over a Unix socket (mode 0600) at this path. */
  socket?: string;
  /** Required for a non-loopback HTTP address (at least 16 visible characters, 6 of them different: e.g. openssl rand -hex 16). */
  token?: string;
}

export interface ControlServers {
  /** The HTTP endpoint, e.g. `http://127.0.0.1:8711/RPC`, when served. */
  readonly url: string | null;
  /** The socket's path, when served. */
  readonly socket: string | null;
  /** Closes both (requests under way get `graceMs` to finish). */
  close(graceMs?: number): Promise<void>;
}

/** The servers started, with the dispatcher they share (for further transports, as `ptimer run` adds). */
export interface StartedControlServers {
  readonly dispatcher: RpcDispatcher;
  /** Drops and refusals of every control transport: summarised in the log, counted in /metrics. */
  readonly drops: TransportDropLog;
  readonly http: RunningHttpServer | undefined;
  readonly socket: RunningSocketServer | undefined;
  close(graceMs?: number): Promise<void>;
}

/**
 * One dispatcher, and the HTTP and socket servers asked for (none is fine); if one fails to
 * start, what had started is closed and the error thrown. `pt.serve()` and `ptimer run` both
 * start their control interface here.
 */
export async function startControlServers(
  control: TimerControl,
  options: ServeOptions,
  logger: Logger,
  extra: { ready?: Promise<unknown> } & Pick<SocketServerOptions, 'onStaleSocket' | 'onClientClosed'> = {},
): Promise<StartedControlServers> {
  const dispatcher = new RpcDispatcher(control, {
    ready: extra.ready,
    onInternalError: (err, method) => logger.error({ err, method }, `${method} failed`),
  });
  const drops = new TransportDropLog(logger);
  let http: RunningHttpServer | undefined;
  let socket: RunningSocketServer | undefined;
  try {
    if (options.http) {
      http = await startHttpServer({
        host: options.http.host ?? DEFAULT_HTTP_HOST,
        port: options.http.port,
        dispatcher,
        metrics: createMetrics(control, { drops }),
        token: options.token,
        onError: (err) => logger.error({ err }, 'HTTP control server error'),
        onDrop: drops.reporter('http'),
      });
    }
    if (options.socket !== undefined) {
      socket = await startSocketServer({
        path: options.socket,
        dispatcher,
        onError: (err) => logger.error({ err }, 'socket control server error'),
        onStaleSocket: extra.onStaleSocket,
        onClientClosed: (reason, kind) => {
          drops.report('socket', kind ?? 'idle', reason);
          extra.onClientClosed?.(reason, kind);
        },
      });
    }
  } catch (err) {
    await Promise.all([http?.close(0), socket?.close(0)]);
    throw err;
  }
  return {
    dispatcher,
    drops,
    http,
    socket,
    close: async (graceMs = 1_000) => {
      await Promise.all([http?.close(graceMs), socket?.close(graceMs)]);
      drops.flush();
    },
  };
}

export async function serveControl(
  control: TimerControl,
  options: ServeOptions,
  logger: Logger,
): Promise<ControlServers> {
  if (!options || (options.http === undefined && options.socket === undefined)) {
    throw new TypeError('serve({ http?, socket?, token? }): give http ({ host, port }) or socket (a path), or both');
  }
  const servers = await startControlServers(control, options, logger);
  return {
    url: servers.http?.url ?? null,
    socket: servers.socket?.path ?? null,
    close: (graceMs) => servers.close(graceMs),
  };
}
