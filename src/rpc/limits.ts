/**
 * Every bound of the control interface in one place, so that the servers, the dispatcher,
 * the "Limits" table of docs/operating.md and the tests agree.
 *
 * Why each exists (issue 8, probed as an attacker): without them one 1 MiB batch of
 * `ptimer.list` was answered with up to 193 MB, a socket client that never read its
 * answers grew the server to 1.1 GB, and slow or idle connections were held for 86-300 s.
 * With them, what one client can cost is bounded by its request (1 MiB), one answer
 * (4 MiB for a batch) and a handful of requests in flight, and the number of clients is
 * bounded too. Every bound can be changed through the servers' `limits` option; the
 * defaults are what `ptimer run` uses.
 */

export interface RpcLimits {
  /** Requests in one batch (a JSON array); a longer batch is refused whole with -32600. */
  maxBatch: number;
  /** The size of a batch's answer, in bytes (UTF-8); past it the batch is answered with one -32600 error instead. */
  maxAnswerBytes: number;
  /** How deep params may nest (params itself is level 1); deeper is refused with 400. */
  maxParamsDepth: number;
  /** An HTTP request body, or one line on the socket, in bytes. */
  maxBodyBytes: number;
  /**
   * Open connections per server (HTTP and socket each) kept when others are idle: past it the idlest
   * connection not being answered is closed for each new one, and newcomers are refused only when
   * all are being answered (connection-shedding.ts; a burst may open up to 8x this while each
   * newcomer has its 1 s to send a request).
   */
  maxConnections: number;
  /** Requests of one socket connection being answered at the same time; the next lines wait (and reading pauses). */
  maxInFlightPerConnection: number;
  /** HTTP: the request line and headers must arrive within this (ms). */
  headersTimeoutMs: number;
  /** HTTP: the whole request, body included, must arrive within this (ms); on the socket, each line. */
  requestTimeoutMs: number;
  /** HTTP: an idle keep-alive connection is closed after this (ms). */
  keepAliveTimeoutMs: number;
  /** A connection with nothing under way (no request being read, answered or written) is closed after this (ms). */
  idleTimeoutMs: number;
  /** A client whose unread answers fill the socket's buffer is closed if it has not read them within this (ms). */
  stuckWriteMs: number;
}

export const MAX_BATCH = 1000;
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
export const MAX_PARAMS_DEPTH = 32;
export const MAX_BODY_BYTES = 1024 * 1024;

export const DEFAULT_RPC_LIMITS: Readonly<RpcLimits> = Object.freeze({
  maxBatch: MAX_BATCH,
  maxAnswerBytes: MAX_ANSWER_BYTES,
  maxParamsDepth: MAX_PARAMS_DEPTH,
  maxBodyBytes: MAX_BODY_BYTES,
  maxConnections: 64,
  maxInFlightPerConnection: 16,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 10_000,
  stuckWriteMs: 5_000,
});

/** Upper ends of what may be configured: a bound must stay a bound. */
const CEILINGS: Record<keyof RpcLimits, number> = {
  maxBatch: 100_000,
  maxAnswerBytes: 256 * 1024 * 1024,
  maxParamsDepth: 1_000,
  maxBodyBytes: 64 * 1024 * 1024,
  maxConnections: 10_000,
  maxInFlightPerConnection: 1_000,
  headersTimeoutMs: 3_600_000,
  requestTimeoutMs: 3_600_000,
  keepAliveTimeoutMs: 3_600_000,
  idleTimeoutMs: 3_600_000,
  stuckWriteMs: 3_600_000,
};

export class RpcLimitsError extends Error {
  override name = 'RpcLimitsError';
}

/** The defaults with `overrides` applied; each override must be an integer from 1 to its ceiling. */
export function resolveRpcLimits(overrides: Partial<RpcLimits> = {}): RpcLimits {
  const limits: RpcLimits = { ...DEFAULT_RPC_LIMITS };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(CEILINGS, key)) {
      throw new RpcLimitsError(`unknown RPC limit "${key}"; the limits are ${Object.keys(CEILINGS).join(', ')}`);
    }
    const ceiling = CEILINGS[key as keyof RpcLimits];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > ceiling) {
      throw new RpcLimitsError(
        `RPC limit ${key} must be an integer from 1 to ${ceiling}, got ${String(value).slice(0, 40)}`,
      );
    }
    limits[key as keyof RpcLimits] = value;
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new RpcLimitsError(
      `RPC limit headersTimeoutMs (${limits.headersTimeoutMs}) must not be larger than requestTimeoutMs (${limits.requestTimeoutMs})`,
    );
  }
  return limits;
}

/** `4194304` -> `4 MiB`, for messages. */
export function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}
