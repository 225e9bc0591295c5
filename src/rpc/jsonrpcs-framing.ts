/**
 * The jsonrpcs transports of Kamailio (the FIFO that `kamctl rpc` writes to, the Unix datagram
 * socket): how a request is cut from the stream and answered. Facts from Kamailio's
 * src/modules/jsonrpcs (jsonrpcs_fifo.c, jsonrpcs_sock.c, jsonrpcs_mod.c); no code of theirs.
 *
 * - On the FIFO, requests are JSON objects back to back. jsonrpcs finds where one ends by
 *   counting braces outside strings; so does JsonDocumentSplitter. Anything between objects
 *   (newlines, stray bytes) is skipped.
 * - A FIFO request names, in `reply_name`, a FIFO the client made in the reply directory
 *   (jsonrpcs' fifo_reply_dir, /tmp/ by default: kamctl makes /tmp/kamailio_receiver_PID),
 *   into which the answer is written. The name may not hold '.', '/' or '\', so that it
 *   cannot leave that directory. A request without one is not run: there is nowhere to answer.
 * - The answer is the JSON-RPC response, pretty-printed (jsonrpcs' default pretty_format),
 *   which kamctl's output filter expects one member per line.
 */
import type { JsonRpcResponse, RpcDispatcher } from './dispatcher.js';

/** A FIFO request larger than this is dropped (jsonrpcs reads 8 KiB at most). */
export const JSONRPCS_MAX_REQUEST_BYTES = 64 * 1024;
/** jsonrpcs caps the reply FIFO's whole path at 128 bytes. */
export const JSONRPCS_MAX_REPLY_PATH = 127;

export type SplitEvent =
  { kind: 'document'; text: string } | { kind: 'oversize'; bytes: number } | { kind: 'stray'; chars: number };

/**
 * Cuts JSON objects out of a text stream by counting braces outside strings. Bounded: an
 * object over `maxBytes` is reported as `oversize` and skipped to its end, never buffered.
 * Pure: no I/O.
 */
export class JsonDocumentSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private current: string[] = [];
  private currentBytes = 0;
  private oversize = false;
  private stray = 0;

  constructor(private readonly maxBytes = JSONRPCS_MAX_REQUEST_BYTES) {}

  /** Feeds text; returns what was completed in it. */
  push(text: string): SplitEvent[] {
    const events: SplitEvent[] = [];
    let start = this.depth > 0 ? 0 : -1; // where the current object's part of `text` begins
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.depth === 0) {
        if (c === 0x7b /* { */) {
          if (this.stray > 0) events.push({ kind: 'stray', chars: this.stray });
          this.stray = 0;
          this.depth = 1;
          start = i;
        } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
          this.stray++;
        }
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c /* \ */) this.escaped = true;
        else if (c === 0x22 /* " */) this.inString = false;
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b) this.depth++;
      else if (c === 0x7d /* } */) {
        this.depth--;
        if (this.depth === 0) {
          this.append(text, start, i + 1);
          start = -1;
          if (this.oversize) events.push({ kind: 'oversize', bytes: this.currentBytes });
          else events.push({ kind: 'document', text: this.current.join('') });
          this.current = [];
          this.currentBytes = 0;
          this.oversize = false;
        }
      }
    }
    if (this.depth > 0) this.append(text, start, text.length);
    return events;
  }

  /** Whether an object has begun and not yet ended. */
  get inObject(): boolean {
    return this.depth > 0;
  }

  /**
   * Forgets an object begun and not ended (its writer closed, or its deadline passed), so
   * that the next `{` starts a new one: the resync. Returns what was let go.
   */
  reset(): { partialBytes: number; strayChars: number } {
    const out = { partialBytes: this.depth > 0 ? this.currentBytes : 0, strayChars: this.stray };
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.current = [];
    this.currentBytes = 0;
    this.oversize = false;
    this.stray = 0;
    return out;
  }

  /** Bytes held for an object not yet complete. */
  get pending(): number {
    return this.oversize ? 0 : this.currentBytes;
  }

  private append(text: string, from: number, to: number): void {
    const piece = text.slice(from, to);
    this.currentBytes += Buffer.byteLength(piece, 'utf8');
    if (this.oversize) return;
    if (this.currentBytes > this.maxBytes) {
      this.oversize = true;
      this.current = [];
      return;
    }
    this.current.push(piece);
  }
}

/** Why a FIFO request got no answer (for the log), or the answer and where it goes. */
export type FifoRequestOutcome =
  { kind: 'answer'; replyName: string; text: string } | { kind: 'dropped'; reason: string };

/** A reply_name jsonrpcs would accept: no '.', '/' or '\', and the whole path within its bound. */
export function checkReplyName(name: unknown, replyDir: string): string | undefined {
  if (typeof name !== 'string' || name === '') return 'reply_name must be a non-empty string';
  if (/[./\\\0]/.test(name))
    return `reply_name ${JSON.stringify(name)} may not contain '.', '/' or '\\' (it names a FIFO in ${replyDir})`;
  if (Buffer.byteLength(replyPath(replyDir, name)) > JSONRPCS_MAX_REPLY_PATH) {
    return `reply_name ${JSON.stringify(name.slice(0, 40))}...: the reply FIFO's path would be over ${JSONRPCS_MAX_REPLY_PATH} bytes`;
  }
  return undefined;
}

export function replyPath(replyDir: string, name: string): string {
  return `${replyDir.replace(/\/+$/, '')}/${name}`;
}

/** A FIFO request read and checked: to be run (with where its answer goes), or dropped and why. */
export type ParsedFifoRequest =
  { kind: 'run'; replyName: string; request: Record<string, unknown> } | { kind: 'dropped'; reason: string };

/**
 * Parses and checks one FIFO request (the text of a JSON object), without running it: done at
 * once as requests are cut from the stream, so that junk (1 MB of `{}`) is dropped at the rate
 * it is read, never queued behind the requests in flight.
 */
export function parseFifoRequest(text: string, replyDir: string): ParsedFifoRequest {
  let request: unknown;
  try {
    request = JSON.parse(text);
  } catch (err) {
    return {
      kind: 'dropped',
      reason: `a request that is not valid JSON (${(err as Error).message}): no reply_name to answer to`,
    };
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return { kind: 'dropped', reason: 'a request that is not a JSON object: no reply_name to answer to' };
  }
  const { reply_name: replyName, ...rest } = request as Record<string, unknown>;
  const bad = checkReplyName(replyName, replyDir);
  if (bad) return { kind: 'dropped', reason: `request not run: ${bad}` };
  return { kind: 'run', replyName: replyName as string, request: rest };
}

/** Runs one FIFO request through the dispatcher. */
export async function runFifoRequest(
  dispatcher: RpcDispatcher,
  text: string | ParsedFifoRequest,
  replyDir: string,
): Promise<FifoRequestOutcome> {
  const parsed = typeof text === 'string' ? parseFifoRequest(text, replyDir) : text;
  if (parsed.kind === 'dropped') return parsed;
  const response = await dispatcher.handle(parsed.request);
  return { kind: 'answer', replyName: parsed.replyName, text: formatResponse(response) };
}

/** The response as jsonrpcs prints it: one member per line, tab-indented. Nothing for a notification. */
export function formatResponse(response: JsonRpcResponse | JsonRpcResponse[] | undefined): string {
  return response === undefined ? '' : `${JSON.stringify(response, null, '\t')}\n`;
}
