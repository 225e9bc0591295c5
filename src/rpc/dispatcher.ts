/**
 * JSON-RPC 2.0 over a TimerControl: the reference's methods (ptimer.list, ptimer.pause,
 * ptimer.continue, ptimer.start, ptimer.loop, ptimer.end) plus system.listMethods and
 * system.methodHelp, and Kamailio's mqueue and htable methods on the queues and tables, with
 * ptimer.push (methods-mqueue.ts, methods-htable.ts; they reach the data through
 * `control.dataAccess()`). Pure: text or a parsed value in, a response out; the HTTP and Unix
 * socket servers are thin shells around it.
 *
 * Error codes: the JSON-RPC ones for the envelope (-32700 not JSON, -32600 not a valid
 * request, -32601 unknown method) and the reference's for the call (400 bad arguments,
 * 404 unknown timer, 500 internal failure).
 *
 * Every request of a batch runs concurrently, and the dispatcher keeps no lock: a command
 * that takes long (the engine resolves `start` only after the worker has run its start
 * route) holds up nothing but its own response.
 *
 * Bounds (src/rpc/limits.ts): a batch holds at most 1,000 requests, its answer at most
 * 4 MiB, and params nest at most 32 levels. A batch is served from one `list()` snapshot
 * (taken when its first request needs it) and each response is serialized as soon as it
 * is ready, so a batch of `ptimer.list` costs one snapshot plus the answer so far; once
 * the answer would pass the limit, the rest of the batch is not run and the whole batch
 * is answered with one error (never a partial answer). The commands of a batch wait for
 * its reads to be answered and counted, so a batch refused for the size of its
 * `ptimer.list` answers changes nothing. A single request is always answered in full: its
 * size is set by the config, not by the client.
 */
import { ControlError, type CommandResult, type TimerControl, type TimerInfo } from '../control-types.js';
import { DEFAULT_RPC_LIMITS, formatBytes, type RpcLimits } from './limits.js';
import { FORCEABLE_COMMANDS } from '../core/words.js';
import { DataMethodError, NO_DATA, type DataMethod } from './data-methods.js';
import { HTABLE_METHODS } from './methods-htable.js';
import { MQUEUE_METHODS } from './methods-mqueue.js';

/** The operator methods on queues and tables. */
const DATA_METHODS: Readonly<Record<string, DataMethod>> = { ...MQUEUE_METHODS, ...HTABLE_METHODS };

export const RPC_PARSE_ERROR = -32700;
export const RPC_INVALID_REQUEST = -32600;
export const RPC_METHOD_NOT_FOUND = -32601;
export const RPC_BAD_ARGUMENTS = 400;
export const RPC_NOT_FOUND = 404;
export const RPC_INTERNAL = 500;

export type JsonRpcId = string | number | null;

export interface JsonRpcError {
  code: number;
  message: string;
  data?: unknown;
}

export type JsonRpcResponse =
  { jsonrpc: '2.0'; result: unknown; id: JsonRpcId } | { jsonrpc: '2.0'; error: JsonRpcError; id: JsonRpcId };

/** What a control method answers: each worker's outcome and state, once the command has taken effect. */
export type ControlResult = CommandResult;

interface MethodSpec {
  params: string;
  help: string;
}

const CONTROL_HELP = {
  pause: "Pause a timer's workers (all, or the one given) after the route they are in. Resolves once paused.",
  continue:
    'Continue paused workers where they were paused. On a running worker it succeeds and changes nothing; on an ended worker it is refused (use ptimer.start).',
  start:
    'Send workers back to their start route: a worker that holds state runs its end route first; then fresh message, empty vars. Also resumes a paused, ended or failed worker. Resolves once the start route has run (fails with its message if it throws). force: terminate the thread and start it again (a stuck route).',
  loop: 'Jump into the loop route (also resumes a paused worker). Refused on an ended worker (use ptimer.start).',
  end: 'Run the end route, then pause (also resumes a paused worker first). Refused on an ended worker (use ptimer.start). Resolves once the end route has run. force: terminate the thread and start it again, leaving the worker ended without its end route.',
} as const;

export const RPC_METHODS: Readonly<Record<string, MethodSpec>> = {
  'ptimer.list': {
    params: '',
    help: 'Every timer (type, interval, nworkers, ntasks, nslices, routes) and, per worker: pid, tasks, slice, paused, current route, iterations, overruns, errors, restarts, and loop lateness (p50/p99/max, microseconds).',
  },
  'ptimer.pause': { params: 'timer [, worker]', help: CONTROL_HELP.pause },
  'ptimer.continue': { params: 'timer [, worker]', help: CONTROL_HELP.continue },
  'ptimer.start': { params: 'timer [, worker [, force]]', help: CONTROL_HELP.start },
  'ptimer.loop': { params: 'timer [, worker]', help: CONTROL_HELP.loop },
  'ptimer.end': { params: 'timer [, worker [, force]]', help: CONTROL_HELP.end },
  'ptimer.reload': {
    params: '',
    help: 'Re-read the config: validated first (if invalid, nothing changes and the error is the answer); new timers added, removed ones ended, changed ones (parameters or route code) ended and started again, the others left running untouched. Answers what changed.',
  },
  ...Object.fromEntries(Object.entries(DATA_METHODS).map(([name, m]) => [name, { params: m.params, help: m.help }])),
  'system.listMethods': { params: '', help: 'The methods this server answers.' },
  'system.methodHelp': { params: 'method', help: 'What a method does and which params it takes.' },
};

/** A call refused with a code of the protocol or of the reference. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export interface DispatcherOptions {
  /** Requests wait for it before reaching the control (e.g. until the workers are up). */
  ready?: Promise<unknown>;
  /** Told about internal failures (500), which the client only sees as a message. */
  onInternalError?: (err: unknown, method: string) => void;
  /** Bounds on batches and params; the defaults of src/rpc/limits.ts otherwise. */
  limits?: Partial<Pick<RpcLimits, 'maxBatch' | 'maxAnswerBytes' | 'maxParamsDepth'>>;
}

/** What the requests of one batch share: one snapshot of the timers, and whether the answer has gone over its limit. */
interface BatchContext {
  snapshot?: TimerInfo[];
  over: boolean;
  /** Settles once every request of the batch that is not a command has been answered and counted. */
  readsDone: Promise<void>;
}

/** Methods that only read. Anything else is a command (and waits for the reads of its batch); a read never waits. */
const READ_METHODS = new Set([
  'ptimer.list',
  'system.listMethods',
  'system.methodHelp',
  ...Object.keys(DATA_METHODS).filter((name) => DATA_METHODS[name]!.read),
]);

function isCommand(request: unknown): boolean {
  if (typeof request !== 'object' || request === null) return false;
  const method = (request as { method?: unknown }).method;
  return typeof method === 'string' && Object.hasOwn(RPC_METHODS, method) && !READ_METHODS.has(method);
}

/** Thrown instead of running a request of a batch whose answer is already over the limit. */
const SKIPPED = Symbol('skipped: the batch answer is over its limit');

export class RpcDispatcher {
  private readonly maxBatch: number;
  private readonly maxAnswerBytes: number;
  private readonly maxParamsDepth: number;

  constructor(
    private readonly control: TimerControl,
    private readonly options: DispatcherOptions = {},
  ) {
    this.maxBatch = options.limits?.maxBatch ?? DEFAULT_RPC_LIMITS.maxBatch;
    this.maxAnswerBytes = options.limits?.maxAnswerBytes ?? DEFAULT_RPC_LIMITS.maxAnswerBytes;
    this.maxParamsDepth = options.limits?.maxParamsDepth ?? DEFAULT_RPC_LIMITS.maxParamsDepth;
  }

  /**
   * One message as text (a request or a batch). Returns the response text, or
   * undefined when nothing is to be sent back (notifications only).
   */
  async handleText(text: string): Promise<string | undefined> {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (err) {
      return JSON.stringify(
        errorResponse(null, RPC_PARSE_ERROR, `parse error: the request is not valid JSON (${(err as Error).message})`),
      );
    }
    if (Array.isArray(message)) return this.answerBatch(message);
    const response = await this.handleOne(message);
    return response === undefined ? undefined : JSON.stringify(response);
  }

  /** One parsed message: a request, or a batch (an array of requests). */
  async handle(message: unknown): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
    if (Array.isArray(message)) {
      const text = await this.answerBatch(message);
      return text === undefined ? undefined : (JSON.parse(text) as JsonRpcResponse | JsonRpcResponse[]);
    }
    return this.handleOne(message);
  }

  /**
   * A batch's answer as text: the responses in request order, or one error when the batch
   * is empty, too long, or its answer would pass the limit.
   */
  private async answerBatch(batch: unknown[]): Promise<string | undefined> {
    if (batch.length === 0)
      return JSON.stringify(errorResponse(null, RPC_INVALID_REQUEST, 'invalid request: an empty batch'));
    if (batch.length > this.maxBatch) {
      return JSON.stringify(
        errorResponse(
          null,
          RPC_INVALID_REQUEST,
          `invalid request: a batch of ${batch.length} requests; at most ${this.maxBatch} per batch`,
        ),
      );
    }
    // Commands wait for the batch's other requests (reads, which are quick), so that a batch
    // whose reads already pass the answer limit changes nothing.
    let readsLeft = batch.filter((r) => !isCommand(r)).length;
    let readsSettled!: () => void;
    const ctx: BatchContext = { over: false, readsDone: new Promise<void>((resolve) => (readsSettled = resolve)) };
    if (readsLeft === 0) readsSettled();
    const parts: Array<string | undefined> = new Array<string | undefined>(batch.length);
    let bytes = 2; // the brackets
    await Promise.all(
      batch.map(async (request, i) => {
        try {
          const response = await this.handleOne(request, ctx);
          if (response === undefined || ctx.over) return;
          const text = JSON.stringify(response);
          bytes += Buffer.byteLength(text) + 1;
          if (bytes > this.maxAnswerBytes) {
            ctx.over = true;
            parts.length = 0; // let go of what was serialized so far
            return;
          }
          parts[i] = text;
        } finally {
          if (!isCommand(request) && --readsLeft === 0) readsSettled();
        }
      }),
    );
    if (ctx.over) {
      return JSON.stringify(
        errorResponse(
          null,
          RPC_INVALID_REQUEST,
          `invalid request: the answer to this batch of ${batch.length} requests would be larger than ${this.maxAnswerBytes} bytes (${formatBytes(this.maxAnswerBytes)}); send fewer requests per batch`,
        ),
      );
    }
    const sent = parts.filter((p): p is string => p !== undefined);
    return sent.length > 0 ? `[${sent.join(',')}]` : undefined;
  }

  private async handleOne(request: unknown, ctx?: BatchContext): Promise<JsonRpcResponse | undefined> {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return errorResponse(
        null,
        RPC_INVALID_REQUEST,
        'invalid request: expected an object with jsonrpc, method, params and id',
      );
    }
    const r = request as Record<string, unknown>;
    const hasId = Object.hasOwn(r, 'id');
    const idOk =
      !hasId || r.id === null || typeof r.id === 'string' || (typeof r.id === 'number' && Number.isFinite(r.id));
    const id: JsonRpcId = hasId && idOk ? (r.id as JsonRpcId) : null;
    if (!idOk)
      return errorResponse(null, RPC_INVALID_REQUEST, 'invalid request: id must be a string, a number or null');
    if (r.jsonrpc !== '2.0') return errorResponse(id, RPC_INVALID_REQUEST, 'invalid request: jsonrpc must be "2.0"');
    if (typeof r.method !== 'string')
      return errorResponse(id, RPC_INVALID_REQUEST, 'invalid request: method must be a string');
    if (r.params !== undefined && (typeof r.params !== 'object' || r.params === null)) {
      return errorResponse(id, RPC_INVALID_REQUEST, 'invalid request: params must be an array or an object');
    }

    let response: JsonRpcResponse;
    try {
      const result = await this.callIn(r.method, r.params as unknown[] | Record<string, unknown> | undefined, ctx);
      response = { jsonrpc: '2.0', result: result ?? null, id };
    } catch (err) {
      if (err === SKIPPED) return undefined;
      response = this.toErrorResponse(id, err, r.method);
    }
    // A notification (no id) gets no answer, not even an error.
    return hasId ? response : undefined;
  }

  /** Runs one method. Throws RpcError (or ControlError from the engine). */
  async call(method: string, params?: unknown[] | Record<string, unknown>): Promise<unknown> {
    return this.callIn(method, params, undefined);
  }

  private async callIn(
    method: string,
    params: unknown[] | Record<string, unknown> | undefined,
    ctx: BatchContext | undefined,
  ): Promise<unknown> {
    if (!Object.hasOwn(RPC_METHODS, method)) {
      throw new RpcError(RPC_METHOD_NOT_FOUND, `method not found: ${clip(method)} (system.listMethods lists them)`);
    }
    if (params !== undefined && nestsDeeperThan(params, this.maxParamsDepth)) {
      throw new RpcError(
        RPC_BAD_ARGUMENTS,
        `${method}: params nest more than ${this.maxParamsDepth} levels deep; at most ${this.maxParamsDepth}`,
      );
    }
    if (Object.hasOwn(DATA_METHODS, method)) return this.dataMethod(method, DATA_METHODS[method]!, params, ctx);
    switch (method) {
      case 'system.listMethods':
        noParams(method, params);
        return Object.keys(RPC_METHODS);
      case 'system.methodHelp': {
        const [name] = takeParams(method, params, ['method']);
        if (typeof name !== 'string')
          throw new RpcError(
            RPC_BAD_ARGUMENTS,
            `${method}: the param must be a string naming a method, got ${show(name)}`,
          );
        if (!Object.hasOwn(RPC_METHODS, name))
          throw new RpcError(RPC_NOT_FOUND, `${method}: no method named ${show(name)}`);
        const spec = RPC_METHODS[name]!;
        return `${name}(${spec.params}): ${spec.help}`;
      }
      case 'ptimer.list':
        noParams(method, params);
        await this.options.ready;
        return this.snapshot(ctx);
      case 'ptimer.reload':
        noParams(method, params);
        await this.options.ready;
        if (!this.control.reload) throw new RpcError(RPC_INTERNAL, `${method}: this server cannot reload`);
        return this.control.reload();
      default:
        return this.control_(method.slice('ptimer.'.length) as ControlResult['command'], method, params, ctx);
    }
  }

  /** A method on the queues and tables: after the workers are up; a command after its batch's reads. */
  private async dataMethod(
    method: string,
    spec: DataMethod,
    params: unknown,
    ctx: BatchContext | undefined,
  ): Promise<unknown> {
    const values = takeParams(method, params, spec.names);
    await this.options.ready;
    if (ctx && !spec.read) await ctx.readsDone;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- a sentinel, caught by handleOne
    if (ctx?.over) throw SKIPPED;
    // A control without a data plane answers as a config without queues and tables does.
    const data = this.control.dataAccess?.() ?? NO_DATA;
    try {
      return spec.call(data, values);
    } catch (err) {
      if (err instanceof DataMethodError) throw new RpcError(err.code, err.message);
      throw err;
    }
  }

  /** The timers as they are: one snapshot per batch, a fresh one for a single request. */
  private snapshot(ctx: BatchContext | undefined): TimerInfo[] {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- a sentinel, caught by handleOne
    if (ctx?.over) throw SKIPPED;
    if (!ctx) return this.control.list();
    return (ctx.snapshot ??= this.control.list());
  }

  private async control_(
    command: ControlResult['command'],
    method: string,
    params: unknown,
    ctx: BatchContext | undefined,
  ): Promise<ControlResult> {
    const forceable = FORCEABLE_COMMANDS.includes(command);
    const [timer, worker, forceParam] = takeParams(
      method,
      params,
      forceable ? ['timer', 'worker', 'force'] : ['timer', 'worker'],
    );
    const force = parseForce(method, forceParam);
    if (timer === undefined)
      throw new RpcError(RPC_BAD_ARGUMENTS, `${method}: missing the timer name (params: [timer] or [timer, worker])`);
    if (typeof timer !== 'string' || timer === '') {
      throw new RpcError(RPC_BAD_ARGUMENTS, `${method}: the timer must be a non-empty string, got ${show(timer)}`);
    }
    if (worker !== undefined && !(typeof worker === 'number' && Number.isInteger(worker))) {
      throw new RpcError(RPC_BAD_ARGUMENTS, `${method}: the worker must be an integer index, got ${show(worker)}`);
    }
    await this.options.ready;
    if (ctx) await ctx.readsDone;
    // O(1) where the control can say (PTimer): a command names one timer, it does not need list().
    const info = this.control.workerCount
      ? { nworkers: this.control.workerCount(timer) }
      : findTimer(this.snapshot(ctx), timer);
    if (info?.nworkers === undefined) throw new RpcError(RPC_NOT_FOUND, `${method}: unknown timer ${show(timer)}`);
    if (worker !== undefined && (worker < 0 || worker >= info.nworkers)) {
      throw new RpcError(
        RPC_BAD_ARGUMENTS,
        `${method}: worker ${worker} is out of range: timer ${JSON.stringify(timer)} has ${info.nworkers} worker${info.nworkers === 1 ? '' : 's'} (0-${info.nworkers - 1})`,
      );
    }
    if (command === 'start' || command === 'end') return this.control[command](timer, worker, { force });
    return this.control[command](timer, worker);
  }

  private toErrorResponse(id: JsonRpcId, err: unknown, method: string): JsonRpcResponse {
    if (err instanceof RpcError) return errorResponse(id, err.code, err.message, err.data);
    if (err instanceof ControlError || isControlErrorLike(err)) {
      const e = err as ControlError;
      return errorResponse(id, e.code, `${method}: ${e.message}`);
    }
    this.options.onInternalError?.(err, method);
    const message = err instanceof Error ? err.message : String(err);
    return errorResponse(id, RPC_INTERNAL, `${method}: internal failure: ${message}`);
  }
}

export function errorResponse(id: JsonRpcId, code: number, message: string, data?: unknown): JsonRpcResponse {
  const error: JsonRpcError = data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: '2.0', error, id };
}

/** A ControlError from another copy of the module (e.g. a second load of dist) still counts. */
function isControlErrorLike(err: unknown): boolean {
  return (
    err instanceof Error &&
    err.name === 'ControlError' &&
    [400, 404, 500].includes((err as { code?: unknown }).code as number)
  );
}

function findTimer(list: TimerInfo[], name: string): TimerInfo | undefined {
  return list.find((t) => t.name === name);
}

function noParams(method: string, params: unknown): void {
  const empty =
    params === undefined || (Array.isArray(params) ? params.length === 0 : Object.keys(params as object).length === 0);
  if (!empty) throw new RpcError(RPC_BAD_ARGUMENTS, `${method} takes no params, got ${show(params)}`);
}

/** Positional (`[a, b]`) or named (`{a, b}`) params, in the order of `names`; too many or unknown names are refused. */
function takeParams(method: string, params: unknown, names: string[]): unknown[] {
  const usage = `${method} takes [${names.join(', ')}]`;
  if (params === undefined) return [];
  if (Array.isArray(params)) {
    if (params.length > names.length) {
      throw new RpcError(RPC_BAD_ARGUMENTS, `${usage}: got ${params.length} params`);
    }
    return params;
  }
  const named = params as Record<string, unknown>;
  const unknown = Object.keys(named).filter((k) => !names.includes(k));
  if (unknown.length > 0) {
    throw new RpcError(
      RPC_BAD_ARGUMENTS,
      `${usage}: unknown param ${clip(unknown.map((k) => JSON.stringify(k)).join(', '), 200)}`,
    );
  }
  return names.map((n) => named[n]);
}

/** `force` for start and end: true/false, or kamcmd's spellings ("force", 1, 0). */
function parseForce(method: string, value: unknown): boolean {
  if (value === undefined || value === false || value === 0 || value === '0') return false;
  if (value === true || value === 1 || value === '1' || value === 'force' || value === 'true') return true;
  throw new RpcError(RPC_BAD_ARGUMENTS, `${method}: force must be true or false (or "force"), got ${show(value)}`);
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return 'a value that cannot be shown';
  }
}

/** A string of the client's, cut to a readable length for a message. */
function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** Whether arrays and objects nest more than `max` levels (the value itself is level 1); iterative, so no depth overflows the stack. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
