/**
 * One BINRPC request in, its reply out: the method name is the first record (a str), the
 * params are the records after it. The call goes through the same RpcDispatcher as HTTP and
 * the Unix socket, so every transport answers alike; only the envelope differs:
 *
 * - a result is a reply (see binrpc-values.ts for how values map; ptimer.list carries the
 *   reference's shape and field names, see referenceList);
 * - an error is a fault with the reference's code (400, 404, 500) and the dispatcher's message;
 * - an unknown method is the fault Kamailio's ctl module gives: 500 "command NAME not found".
 *
 * Pure apart from the dispatcher: bytes in, bytes out. Framing lives in binrpc-server.ts.
 */
import {
  BINRPC_REPLY,
  BINRPC_REQUEST,
  BinrpcError,
  decodeValues,
  encodeFault,
  encodePacket,
  type BinrpcHeader,
  type BinrpcValue,
} from './binrpc-codec.js';
import { coerceTimerParams, fromBinrpc, referenceList, resultRecords, TIMER_COMMAND_METHODS } from './binrpc-values.js';
import { RPC_METHOD_NOT_FOUND, type RpcDispatcher } from './dispatcher.js';

/** Kamailio's ctl caps a reply's records at 32 KiB and kamcmd reads 128 KiB; ptimer allows this much. */
export const BINRPC_MAX_REPLY_BYTES = 1024 * 1024;

export async function handleBinrpcRequest(
  dispatcher: RpcDispatcher,
  header: BinrpcHeader,
  body: Uint8Array,
): Promise<Buffer> {
  const { cookie } = header;
  if (header.type !== BINRPC_REQUEST)
    return encodeFault(cookie, 400, `bad request: packet type ${header.type} is not a request (0)`);
  let records: BinrpcValue[];
  try {
    records = decodeValues(body);
  } catch (err) {
    if (err instanceof BinrpcError) return encodeFault(cookie, 400, `bad request: ${err.message}`);
    throw err;
  }
  const [first, ...rest] = records;
  if (first === undefined)
    return encodeFault(cookie, 400, 'bad request: no method name (the first record must be a str naming the method)');
  if (first.kind !== 'str')
    return encodeFault(
      cookie,
      400,
      `bad request method: the first record must be a str naming the method, got ${first.kind}`,
    );
  const method = first.value;

  let params = rest.map(fromBinrpc);
  if (TIMER_COMMAND_METHODS.has(method)) params = coerceTimerParams(params);
  // No params is "none given" (ptimer.list takes none); the dispatcher checks the rest.
  const response = await dispatcher.handle({ jsonrpc: '2.0', method, ...(params.length > 0 ? { params } : {}), id: 1 });
  if (response === undefined || Array.isArray(response))
    return encodeFault(cookie, 500, 'internal server error: no reply');

  if ('error' in response) {
    const { code, message } = response.error;
    if (code === RPC_METHOD_NOT_FOUND)
      return encodeFault(cookie, 500, `command ${method} not found (system.listMethods lists them)`);
    return encodeFault(cookie, code, message);
  }
  let reply: Buffer;
  try {
    reply = encodePacket(
      BINRPC_REPLY,
      cookie,
      method === 'ptimer.list' ? referenceList(response.result) : resultRecords(response.result),
    );
  } catch (err) {
    if (err instanceof BinrpcError)
      return encodeFault(cookie, 500, `internal server error: the reply cannot be written in BINRPC: ${err.message}`);
    throw err;
  }
  if (reply.length > BINRPC_MAX_REPLY_BYTES) {
    return encodeFault(
      cookie,
      500,
      `internal server error: the reply is ${reply.length} bytes, over the ${BINRPC_MAX_REPLY_BYTES} bytes BINRPC allows here; use JSON-RPC (HTTP or --socket) for it`,
    );
  }
  return reply;
}
