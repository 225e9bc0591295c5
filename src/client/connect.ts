/**
 * A typed client for a running ptimer server (`ptimer run`, or `pt.serve()` in a host):
 *
 *   const client = connect({ url: 'http://127.0.0.1:8711' }, { token });   // or { socket: PATH }
 *   const timers = await client.list();            // TimerInfo[]
 *   await client.pause('queue', 3);                // ControlResult, once worker 3 has paused
 *   await client.close();
 *
 * Each call is one JSON-RPC request over HTTP (`POST /RPC`) or the Unix socket (one line out,
 * one line back), through `callRpc`. Errors are typed: `RpcCallError` when the server answered
 * with an error (`code`: 400 bad arguments, 404 unknown timer, 500 failure, -326xx protocol),
 * `RpcTransportError` when no usable answer came (nothing listening, wrong URL, timeout); both
 * name the server. `ptimer rpc` and `ptimer top` are built on it.
 */
import type { TimerInfo } from '../control-types.js';
import { callRpc, DEFAULT_RPC_URL, RpcTransportError, rpcUrl, type RpcTarget } from '../rpc/client.js';
import type { ControlResult, ReloadResult, RpcMethodName, RpcMethods } from './types.js';

/** Where the server is: its HTTP URL (default `http://127.0.0.1:8711/RPC`), or its Unix socket. */
export type ConnectTarget = { url?: string; socket?: undefined } | { socket: string; url?: undefined };

export interface ConnectOptions {
  /** The bearer token of a server started with `--rpc-token`. */
  token?: string;
  /** How long one call may wait for its answer, in ms (default 30 000). */
  timeoutMs?: number;
}

/** `start` and `end` on a stuck worker: `force` terminates its thread and starts it again. */
export interface ForceOption {
  force?: boolean;
}

/** A known method's params; any array or object for another method. */
export type ParamsOf<M extends string> = M extends RpcMethodName
  ? RpcMethods[M]['params']
  : unknown[] | Record<string, unknown>;
/** A known method's result; `unknown` for another method. */
export type ResultOf<M extends string> = M extends RpcMethodName ? RpcMethods[M]['result'] : unknown;

export interface PTimerClient {
  /** The server this client talks to: `http://HOST:PORT/RPC` or `unix:PATH`. */
  readonly server: string;
  /** Every timer and worker (`ptimer.list`). */
  list(): Promise<TimerInfo[]>;
  pause(timer: string, worker?: number): Promise<ControlResult>;
  continue(timer: string, worker?: number): Promise<ControlResult>;
  start(timer: string, worker?: number, options?: ForceOption): Promise<ControlResult>;
  loop(timer: string, worker?: number): Promise<ControlResult>;
  end(timer: string, worker?: number, options?: ForceOption): Promise<ControlResult>;
  /** Re-reads the server's config file (`ptimer.reload`): validated first, then applied; the answer lists what changed. */
  reload(): Promise<ReloadResult>;
  /** The methods the server answers. */
  listMethods(): Promise<string[]>;
  /** What a method does. */
  methodHelp(method: string): Promise<string>;
  /** Any method: typed for the known ones, `unknown` for others. */
  call<M extends string>(method: M, params?: ParamsOf<M>): Promise<ResultOf<M>>;
  /** No more calls after this; resolves when the calls in flight have settled. */
  close(): Promise<void>;
}

/** Makes a client. No connection is opened until the first call (and none is kept between calls). */
export function connect(target: ConnectTarget = {}, options: ConnectOptions = {}): PTimerClient {
  if (target === null || typeof target !== 'object')
    throw new TypeError('connect(target): target must be { url } or { socket }');
  if (target.url !== undefined && target.socket !== undefined)
    throw new TypeError('connect(target): give url or socket, not both');
  if (target.socket !== undefined && (typeof target.socket !== 'string' || target.socket === '')) {
    throw new TypeError(`connect({ socket }): socket must be a path, got ${JSON.stringify(target.socket)}`);
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new TypeError(`connect(): timeoutMs must be a positive number, got ${timeoutMs}`);
  const rpcTarget: RpcTarget = { timeoutMs };
  let server: string;
  if (target.socket !== undefined) {
    rpcTarget.socket = target.socket;
    server = `unix:${target.socket}`;
  } else {
    server = rpcUrl(target.url ?? DEFAULT_RPC_URL).href; // a bad URL is refused here, before any call
    rpcTarget.url = server;
  }
  if (options.token) rpcTarget.token = options.token;

  let closed = false;
  const inFlight = new Set<Promise<unknown>>();
  const call = (method: string, params?: unknown[] | Record<string, unknown>): Promise<unknown> => {
    if (closed) return Promise.reject(new RpcTransportError(`${server}: the client is closed`));
    const p = callRpc(rpcTarget, method, params);
    inFlight.add(p);
    const forget = () => inFlight.delete(p);
    p.then(forget, forget);
    return p;
  };
  const control = (
    command: string,
    timer: string,
    worker: number | undefined,
    force?: boolean,
  ): Promise<ControlResult> => {
    if (typeof timer !== 'string' || timer === '')
      return Promise.reject(
        new TypeError(`${command}(timer): timer must be a timer's name, got ${JSON.stringify(timer)}`),
      );
    if (worker !== undefined && (!Number.isInteger(worker) || worker < 0)) {
      return Promise.reject(
        new TypeError(
          `${command}(timer, worker): worker must be an integer >= 0 (workers count from 0), got ${JSON.stringify(worker)}`,
        ),
      );
    }
    let params: unknown[] | Record<string, unknown>;
    if (force) params = worker === undefined ? { timer, force: true } : { timer, worker, force: true };
    else params = worker === undefined ? [timer] : [timer, worker];
    return call(`ptimer.${command}`, params) as Promise<ControlResult>;
  };

  return {
    server,
    list: () => call('ptimer.list') as Promise<TimerInfo[]>,
    pause: (timer, worker) => control('pause', timer, worker),
    continue: (timer, worker) => control('continue', timer, worker),
    start: (timer, worker, opts) => control('start', timer, worker, opts?.force),
    loop: (timer, worker) => control('loop', timer, worker),
    end: (timer, worker, opts) => control('end', timer, worker, opts?.force),
    reload: () => call('ptimer.reload') as Promise<ReloadResult>,
    listMethods: () => call('system.listMethods') as Promise<string[]>,
    methodHelp: (method) => call('system.methodHelp', [method]) as Promise<string>,
    call: call as PTimerClient['call'],
    async close() {
      closed = true;
      await Promise.allSettled([...inFlight]);
    },
  };
}
