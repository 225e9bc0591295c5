/**
 * The transports for Kamailio's own tools that `ptimer run` opens, from its flags:
 *
 *   --binrpc unix:PATH | tcp:HOST:PORT   BINRPC, for kamcmd (binrpc-server.ts)
 *   --fifo PATH                          the jsonrpcs FIFO, for kamctl rpc (jsonrpcs-fifo.ts)
 *   --fifo-reply-dir DIR                 where the FIFO's clients make their reply FIFOs (/tmp)
 *   --dgram PATH                         the jsonrpcs Unix datagram socket (jsonrpcs-dgram.ts)
 *
 * All of them answer through the one RpcDispatcher of the run. Kept apart from run.ts so that
 * the CLI only wires them in.
 */
import {
  formatBinrpcAddress,
  parseBinrpcAddress,
  startBinrpcServer,
  BinrpcAddressError,
  type BinrpcAddress,
  type RunningBinrpcServer,
} from './binrpc-server.js';
import { startFifoServer, type RunningFifoServer } from './jsonrpcs-fifo.js';
import { startDgramServer, type RunningDgramServer } from './jsonrpcs-dgram.js';
import type { RpcDispatcher } from './dispatcher.js';
import type { DropReporter, DropTransport } from './drop-log.js';

export const KAMAILIO_TOOL_OPTIONS = {
  binrpc: { type: 'string' },
  fifo: { type: 'string' },
  'fifo-reply-dir': { type: 'string' },
  dgram: { type: 'string' },
} as const;

export interface ToolSettings {
  binrpc?: BinrpcAddress;
  fifo?: string;
  fifoReplyDir?: string;
  dgram?: string;
}

interface ToolFlags {
  binrpc?: string;
  fifo?: string;
  'fifo-reply-dir'?: string;
  dgram?: string;
}

/** The flags as settings; a bad value is thrown as `usage(message)`. */
export function parseToolFlags(values: ToolFlags, usage: (message: string) => Error): ToolSettings {
  const out: ToolSettings = {};
  if (values.binrpc !== undefined) {
    try {
      out.binrpc = parseBinrpcAddress(values.binrpc);
    } catch (err) {
      if (err instanceof BinrpcAddressError) throw usage(`--binrpc ${err.message}`);
      throw err;
    }
  }
  for (const flag of ['fifo', 'fifo-reply-dir', 'dgram'] as const) {
    if (values[flag] === '') throw usage(`--${flag} needs a path`);
  }
  if (values['fifo-reply-dir'] !== undefined && values.fifo === undefined)
    throw usage('--fifo-reply-dir goes with --fifo PATH');
  if (values.fifo !== undefined) out.fifo = values.fifo;
  if (values['fifo-reply-dir'] !== undefined) out.fifoReplyDir = values['fifo-reply-dir'];
  if (values.dgram !== undefined) out.dgram = values.dgram;
  return out;
}

export function hasToolServer(s: ToolSettings): boolean {
  return s.binrpc !== undefined || s.fifo !== undefined || s.dgram !== undefined;
}

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RunningToolServers {
  close(): Promise<void>;
  /** Removes the socket and FIFO files at once, for a process that must exit now. */
  removeFilesSync(): void;
  /** Where each one listens, for the "ready" log line. */
  describe(): { binrpc: string | null; fifo: string | null; dgram: string | null };
}

/** Starts the servers the settings ask for; if one fails, the ones started are closed and the error says which flag. */
export async function startToolServers(
  s: ToolSettings,
  dispatcher: RpcDispatcher,
  log: Log,
  drops?: { reporter(transport: DropTransport): DropReporter },
): Promise<RunningToolServers> {
  // Drops go to the run's drop log (summarised, counted in /metrics) when there is one.
  const onDrop = (transport: DropTransport): DropReporter =>
    drops?.reporter(transport) ?? ((reason) => log.warn({ transport }, reason));
  let binrpc: RunningBinrpcServer | undefined;
  let fifo: RunningFifoServer | undefined;
  let dgram: RunningDgramServer | undefined;
  const close = async (): Promise<void> => {
    await Promise.all([binrpc?.close(1000), fifo?.close(), dgram?.close()]);
  };
  const stale = (path: string): void =>
    log.warn({ path }, 'removed a stale socket or FIFO file (left by a run that did not exit cleanly)');
  try {
    if (s.binrpc) {
      binrpc = await startBinrpcServer({
        address: s.binrpc,
        dispatcher,
        onError: (err) => log.error({ err }, 'BINRPC server error'),
        onDrop: onDrop('binrpc'),
        onStaleSocket: stale,
      }).catch((err: NodeJS.ErrnoException) => {
        throw new Error(listenFailure(`--binrpc ${formatBinrpcAddress(s.binrpc!)}`, err));
      });
    }
    if (s.fifo !== undefined) {
      fifo = await startFifoServer({
        path: s.fifo,
        dispatcher,
        replyDir: s.fifoReplyDir,
        onError: (err) => log.error({ err }, 'jsonrpcs FIFO error'),
        onDrop: onDrop('fifo'),
        onStale: stale,
      });
    }
    if (s.dgram !== undefined) {
      dgram = await startDgramServer({
        path: s.dgram,
        dispatcher,
        onError: (err) => log.error({ err }, 'jsonrpcs datagram error'),
        onDrop: onDrop('dgram'),
        onStaleSocket: stale,
      });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    close,
    removeFilesSync() {
      binrpc?.removeFileSync();
      fifo?.removeFileSync();
      dgram?.removeFileSync();
    },
    describe: () => ({ binrpc: binrpc?.url ?? null, fifo: fifo?.path ?? null, dgram: dgram?.path ?? null }),
  };
}

function listenFailure(what: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `${what}: address in use (another ptimer run or Kamailio?)`;
    case 'EADDRNOTAVAIL':
      return `${what}: no such local address`;
    case 'EACCES':
      return `${what}: permission denied`;
    default:
      return err.message.startsWith('--binrpc') ? err.message : `${what}: ${err.message}`;
  }
}
