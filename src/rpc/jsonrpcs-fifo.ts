/**
 * The jsonrpcs FIFO transport (`ptimer run --fifo PATH`), for `kamctl rpc`: ptimer makes a
 * FIFO at PATH (mode 0600: only its owner may write requests), reads JSON-RPC requests from
 * it, and writes each answer into the FIFO its `reply_name` names in the reply directory
 * (see jsonrpcs-framing.ts for the rules).
 *
 * Node has no mkfifo, so the FIFO is made by coreutils' `mkfifo -m 0600`. A FIFO at PATH
 * that nobody reads (left by a run that crashed) is replaced; one that another process reads,
 * or a file that is not a FIFO, is never touched.
 *
 * A request cut short (a kamctl killed mid-write) must not swallow the ones after it (issue
 * 19): a request must be complete when its writer closes the FIFO, or within 5 s, else it is
 * dropped and reading starts afresh at the next '{'. ptimer keeps no writer of its own on the
 * FIFO, so each writer's close is seen as an end of file; a new reader is opened before the old
 * one is let go, so the FIFO never lacks one. Junk (1 MB of `{}`) is parsed and dropped as it
 * is read; the drops are summarised in the log (drop-log.ts), not a line each.
 *
 * Writing an answer, as jsonrpcs does it: the reply FIFO is opened without blocking (a
 * client that is not reading yet is waited for a little, then given up), and must be a FIFO,
 * not a symbolic link, not hard-linked. The write itself is bounded in time, so a client that
 * stops reading cannot hold a request forever. Requests run concurrently, at most
 * `maxInFlight` at a time (reading pauses beyond that).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsc, fstatSync, lstatSync, openSync, statSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import type { RpcDispatcher } from './dispatcher.js';
import {
  JsonDocumentSplitter,
  parseFifoRequest,
  replyPath,
  runFifoRequest,
  type ParsedFifoRequest,
} from './jsonrpcs-framing.js';
import { fileRemover } from './unix-socket-file.js';
import type { DropKind, DropReporter } from './drop-log.js';

/** jsonrpcs' fifo_reply_dir default, where kamctl makes its reply FIFOs. */
export const JSONRPCS_DEFAULT_REPLY_DIR = '/tmp';
export const FIFO_MAX_IN_FLIGHT = 32;
/** How long a reply FIFO may have no reader before the answer is given up (jsonrpcs: 4 x 80 ms). */
export const FIFO_REPLY_OPEN_WAIT_MS = 2000;
export const FIFO_REPLY_WRITE_TIMEOUT_MS = 10_000;
/** A request begun must be complete within this (ms), if its writer has not closed first. */
export const FIFO_REQUEST_TIMEOUT_MS = 5_000;

export class FifoError extends Error {
  override name = 'FifoError';
}

export interface FifoServerOptions {
  path: string;
  dispatcher: RpcDispatcher;
  replyDir?: string;
  maxInFlight?: number;
  replyOpenWaitMs?: number;
  replyWriteTimeoutMs?: number;
  /** A request begun must be complete within this (ms); default FIFO_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
  /** A request that got no answer, and why (for the log and the metrics). */
  onDrop?: DropReporter;
  onError?: (err: unknown) => void;
  /** Told when a FIFO left by an earlier run was replaced. */
  onStale?: (path: string) => void;
}

export interface RunningFifoServer {
  readonly path: string;
  readonly replyDir: string;
  close(): Promise<void>;
  /** Synchronous removal of the FIFO, for a process that must exit at once. */
  removeFileSync(): void;
}

// eslint-disable-next-line @typescript-eslint/require-await -- async so that a refusal (a check that throws) is a rejection
export async function startFifoServer(options: FifoServerOptions): Promise<RunningFifoServer> {
  const { path, dispatcher } = options;
  const replyDir = options.replyDir ?? JSONRPCS_DEFAULT_REPLY_DIR;
  const maxInFlight = options.maxInFlight ?? FIFO_MAX_IN_FLIGHT;
  checkReplyDir(replyDir);
  claimFifoPath(path, options.onStale);
  try {
    execFileSync('mkfifo', ['-m', '0600', '--', path], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new FifoError(`--fifo ${path}: cannot make the FIFO: ${stderr || (err as Error).message}`);
  }

  const splitter = new JsonDocumentSplitter();
  let closed = false;
  const running = new Set<Promise<void>>();
  const drop = (reason: string, kind: DropKind = 'bad-request'): void => options.onDrop?.(reason, kind);

  const answer = async (request: ParsedFifoRequest): Promise<void> => {
    const outcome = await runFifoRequest(dispatcher, request, replyDir);
    if (outcome.kind === 'dropped') {
      drop(outcome.reason);
      return;
    }
    const target = replyPath(replyDir, outcome.replyName);
    const problem = await writeReply(
      target,
      outcome.text,
      options.replyOpenWaitMs ?? FIFO_REPLY_OPEN_WAIT_MS,
      options.replyWriteTimeoutMs ?? FIFO_REPLY_WRITE_TIMEOUT_MS,
    );
    if (problem) drop(`answer not delivered to ${target}: ${problem}`, 'undelivered');
  };

  // Requests beyond maxInFlight wait here; reading pauses while any wait, so this holds at
  // most what one read brought in.
  const waiting: ParsedFifoRequest[] = [];
  let reader: Socket;
  const launch = (): void => {
    while (!closed && running.size < maxInFlight && waiting.length > 0) {
      const job: Promise<void> = answer(waiting.shift()!)
        .catch((err) => options.onError?.(err))
        .finally(() => {
          running.delete(job);
          launch();
        });
      running.add(job);
    }
    if (closed) return;
    if (waiting.length > 0) reader.pause();
    else if (reader.isPaused()) reader.resume();
  };

  // A request begun must end by its writer's close or within requestTimeoutMs: else it is
  // dropped and the splitter starts afresh at the next '{' (a kamctl killed mid-write must not
  // swallow the requests after it).
  const requestTimeoutMs = options.requestTimeoutMs ?? FIFO_REQUEST_TIMEOUT_MS;
  let requestTimer: NodeJS.Timeout | undefined;
  const resync = (why: 'eof' | 'deadline'): void => {
    clearTimeout(requestTimer);
    requestTimer = undefined;
    const { partialBytes, strayChars } = splitter.reset();
    if (partialBytes > 0) {
      drop(
        why === 'eof'
          ? `a request cut short by its writer's close (${partialBytes} bytes, no closing brace); dropped`
          : `a request not complete within ${requestTimeoutMs} ms (${partialBytes} bytes so far); dropped`,
        why === 'eof' ? 'bad-request' : 'timeout',
      );
    }
    if (strayChars > 0) drop(`${strayChars} characters outside any JSON object; skipped`);
  };
  const armDeadline = (): void => {
    if (!splitter.inObject) {
      clearTimeout(requestTimer);
      requestTimer = undefined;
    } else if (requestTimer === undefined) {
      requestTimer = setTimeout(() => {
        requestTimer = undefined;
        if (!closed && splitter.inObject) resync('deadline');
      }, requestTimeoutMs);
      requestTimer.unref();
    }
  };

  const onData = (chunk: string): void => {
    let completed = false;
    for (const event of splitter.push(chunk)) {
      if (event.kind === 'oversize') drop(`a request of ${event.bytes} bytes, over the limit; dropped`);
      else if (event.kind === 'stray') drop(`${event.chars} characters outside any JSON object; skipped`);
      else {
        const parsed = parseFifoRequest(event.text, replyDir);
        if (parsed.kind === 'dropped') drop(parsed.reason);
        else waiting.push(parsed);
      }
      completed = true;
    }
    // A request completed: the one begun after it (if any) gets a deadline of its own.
    if (completed) {
      clearTimeout(requestTimer);
      requestTimer = undefined;
    }
    armDeadline();
    launch();
  };
  // No writer of ptimer's own is kept open, so that each writer's close reaches the reader as
  // an end of file: the end of whatever that writer sent. The next reader is opened before the
  // old one is let go, so that the FIFO always has a reader (a writer's open never fails or
  // blocks for want of one, and what is in the pipe stays there).
  const openReader = (): Socket => {
    const fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
    const r = new Socket({ fd, readable: true, writable: false });
    r.setEncoding('utf8');
    r.on('data', onData);
    r.on('error', (err) => options.onError?.(err));
    r.once('end', () => {
      if (closed) return;
      resync('eof');
      reader = openReader();
      r.destroy();
      launch();
    });
    return r;
  };
  reader = openReader();

  const removeFileSync = fileRemover(path, (s) => s.isFIFO());

  return {
    path,
    replyDir,
    removeFileSync,
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(requestTimer);
      reader.destroy();
      removeFileSync();
      await Promise.allSettled([...running]);
    },
  };
}

function checkReplyDir(dir: string): void {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new FifoError(`--fifo-reply-dir ${dir}: not a directory`);
}

/** PATH free for a new FIFO: nothing there, or a FIFO nobody reads (removed). */
function claimFifoPath(path: string, onStale?: (path: string) => void): void {
  let isFifo: boolean;
  try {
    isFifo = lstatSync(path).isFIFO();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new FifoError(`--fifo ${path}: ${(err as Error).message}`);
  }
  if (!isFifo) throw new FifoError(`--fifo ${path}: the file exists and is not a FIFO; not replacing it`);
  // Opening a FIFO to write without blocking fails with ENXIO exactly when nobody reads it.
  let fd: number | undefined;
  try {
    fd = openSync(path, fsc.O_WRONLY | fsc.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENXIO')
      throw new FifoError(`--fifo ${path}: cannot tell whether it is in use (${(err as NodeJS.ErrnoException).code})`);
  }
  if (fd !== undefined) {
    closeSync(fd);
    throw new FifoError(
      `--fifo ${path}: another process is reading this FIFO (a running Kamailio or ptimer?); stop it or choose another path`,
    );
  }
  unlinkSync(path);
  onStale?.(path);
}

/**
 * Writes `text` into the reply FIFO at `target`. Returns undefined when written, else why not.
 * An empty text (a notification's) still opens and closes the FIFO, so the client's read ends.
 */
export async function writeReply(
  target: string,
  text: string,
  openWaitMs: number,
  writeTimeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + openWaitMs;
  let fd: number;
  for (;;) {
    try {
      fd = openSync(target, fsc.O_WRONLY | fsc.O_NONBLOCK | fsc.O_NOFOLLOW);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENXIO' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 40));
        continue;
      }
      if (code === 'ENXIO') return `nobody read it within ${openWaitMs} ms`;
      if (code === 'ELOOP') return 'it is a symbolic link';
      return code === 'ENOENT'
        ? 'it does not exist (the client makes it before sending the request)'
        : `cannot open it (${code})`;
    }
  }
  const st = fstatSync(fd);
  const lst = lstatSync(target, { throwIfNoEntry: false });
  const problem = !st.isFIFO()
    ? 'it is not a FIFO'
    : st.nlink > 1
      ? `it is hard-linked ${st.nlink} times`
      : !lst || lst.ino !== st.ino || lst.dev !== st.dev
        ? 'it was replaced while being opened'
        : undefined;
  if (problem) {
    closeSync(fd);
    return problem;
  }
  const out = new Socket({ fd, readable: false, writable: true });
  return new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => {
      out.destroy();
      resolve(`the client did not read the answer within ${writeTimeoutMs} ms`);
    }, writeTimeoutMs);
    out.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      out.destroy();
      resolve(`write failed (${err.code ?? err.message})`);
    });
    out.end(text, () => {
      clearTimeout(timer);
      out.destroy();
      resolve(undefined);
    });
  });
}
