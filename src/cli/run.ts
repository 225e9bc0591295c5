/**
 * `ptimer run [CONFIG]`: the server. Loads and validates the config (nothing starts
 * half-configured), opens the control interface (HTTP and/or Unix socket), starts the
 * workers, and runs until SIGINT/SIGTERM.
 *
 * Stopping: the first signal stops gracefully - the servers stop accepting, every worker
 * that is not paused runs its end route, the threads exit - and the process exits 0.
 * A second signal exits at once with 128 + the signal number (the socket file is still
 * removed).
 */
import { constants as osConstants } from 'node:os';
import { LOG_LEVELS, createLogger, type LogLevel, type LogOptions } from '../runtime/logger.js';
import { PTimer } from '../ptimer.js';
import { startControlServers, type StartedControlServers } from '../serve.js';
import {
  DEFAULT_HTTP_HOST,
  DEFAULT_HTTP_PORT,
  tokenShortfall,
  MIN_TOKEN_LENGTH,
  parseHostPort,
  HttpServerConfigError,
} from '../rpc/http-server.js';
import {
  hasToolServer,
  KAMAILIO_TOOL_OPTIONS,
  parseToolFlags,
  startToolServers,
  type RunningToolServers,
  type ToolSettings,
} from '../rpc/binrpc-tools.js';
import { CliError, EXIT_FAILURE, EXIT_OK, parse, parsePositiveNumber, UsageError } from './args.js';
import { definesOf, findConfig, openConfig } from './config-file.js';
import { locateConfigError } from '../config/kamailio-cfg.js';
import { RUN_HELP } from './help.js';
import { readDataFile } from './data-file.js';
import type { Io } from './rpc.js';
import type { ClusterOverride } from '../config/cluster-params.js';

/** --cluster and --node as a ClusterOverride (absent when neither is given; their values are checked with the config). */
function clusterFlags(url: string | undefined, node: string | undefined): { cluster?: ClusterOverride } {
  if (url === undefined && node === undefined) return {};
  return { cluster: { ...(url !== undefined ? { url } : {}), ...(node !== undefined ? { node } : {}) } };
}

const OPTIONS = {
  http: { type: 'string' },
  'no-http': { type: 'boolean' },
  socket: { type: 'string' },
  'rpc-token': { type: 'string' },
  routes: { type: 'string' },
  define: { type: 'string', short: 'D', multiple: true },
  data: { type: 'string' },
  'log-level': { type: 'string' },
  'log-pretty': { type: 'boolean' },
  'stop-timeout': { type: 'string' },
  cluster: { type: 'string' },
  node: { type: 'string' },
  ...KAMAILIO_TOOL_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

export interface RunSettings {
  config: string | undefined;
  http: { host: string; port: number } | null;
  socket: string | undefined;
  token: string | undefined;
  routes: string | undefined;
  /** -D NAME[=VALUE]: defines for a Kamailio-style file's #!ifdef. */
  defines: Record<string, string | true>;
  /** --data FILE.json: its JSON is ctx.data in every route (read by runCommand). */
  dataFile?: string;
  log: LogOptions;
  stopTimeoutMs: number | undefined;
  /** --binrpc, --fifo, --dgram: the transports for Kamailio's tools (absent when none is asked for). */
  tools?: ToolSettings;
  /** --cluster URL, --node ID: override the config's cluster url and node (checked with the config). */
  cluster?: ClusterOverride;
}

export function parseRunArgs(args: string[], env: NodeJS.ProcessEnv = process.env): RunSettings | 'help' {
  const { values, positionals } = parse('run', args, OPTIONS);
  if (values.help) return 'help';
  if (positionals.length > 1)
    throw new UsageError(`one CONFIG at a time, got ${positionals.length}: ${positionals.join(' ')}`, 'run');
  if (values['no-http'] && values.http !== undefined) throw new UsageError('give --http or --no-http, not both', 'run');
  const tools = parseToolFlags(values, (message) => new UsageError(message, 'run'));
  if (values['no-http'] && values.socket === undefined && !hasToolServer(tools)) {
    throw new UsageError(
      '--no-http without --socket (or --binrpc, --fifo, --dgram) leaves no way to control the timers; add --socket PATH',
      'run',
    );
  }
  let http: RunSettings['http'] = null;
  if (!values['no-http']) {
    try {
      http =
        values.http === undefined ? { host: DEFAULT_HTTP_HOST, port: DEFAULT_HTTP_PORT } : parseHostPort(values.http);
    } catch (err) {
      throw new UsageError(`--http ${(err as Error).message}`, 'run');
    }
  }
  const level = values['log-level'];
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`, 'run');
  }
  const log: LogOptions = {};
  if (level !== undefined) log.level = level as LogLevel;
  if (values['log-pretty']) log.pretty = true;
  const stopTimeoutMs =
    values['stop-timeout'] === undefined
      ? undefined
      : parsePositiveNumber('run', '--stop-timeout', values['stop-timeout']);
  return {
    config: positionals[0],
    http,
    socket: values.socket,
    token: values['rpc-token'] || env.PTIMER_RPC_TOKEN || undefined,
    routes: values.routes,
    defines: definesOf('run', values.define),
    log,
    stopTimeoutMs,
    ...(values.data !== undefined ? { dataFile: values.data } : {}),
    ...(hasToolServer(tools) ? { tools } : {}),
    ...clusterFlags(values.cluster, values.node),
  };
}

export async function runCommand(args: string[], io: Io): Promise<number> {
  const settings = parseRunArgs(args);
  if (settings === 'help') {
    io.out(RUN_HELP);
    return EXIT_OK;
  }
  const { http: httpAddress, token } = settings;
  const shortfall = httpAddress ? tokenShortfall(httpAddress.host, token) : undefined;
  if (httpAddress && shortfall === 'missing') {
    throw new CliError(
      `refusing to start: --http ${httpAddress.host}:${httpAddress.port} is not a loopback address, and the control interface there needs a token; give --rpc-token TOKEN (or set PTIMER_RPC_TOKEN), or bind 127.0.0.1`,
    );
  }
  if (httpAddress && shortfall === 'short') {
    throw new CliError(
      `refusing to start: --http ${httpAddress.host}:${httpAddress.port} is not a loopback address, and a token there must be at least ${MIN_TOKEN_LENGTH} characters (this one has ${token!.length}); give a longer --rpc-token (e.g. openssl rand -hex 16)`,
    );
  }

  const path = findConfig('run', settings.config);
  const source = openConfig('run', path, settings.routes, settings.defines);
  if (source.kind === 'kamailio' && source.routes === undefined) {
    throw new UsageError(
      `${path} is a Kamailio-style file: give the module that exports its routes with --routes MODULE`,
      'run',
    );
  }
  const data = settings.dataFile === undefined ? undefined : readDataFile(settings.dataFile);
  const logger = createLogger(settings.log, { component: 'cli' });
  if (source.kind === 'kamailio') for (const notice of source.notices) logger.info(notice);

  let pt: PTimer;
  try {
    pt =
      source.kind === 'module'
        ? await PTimer.fromFile(path, { log: settings.log, data, cluster: settings.cluster })
        : await PTimer.create(source.config, {
            log: settings.log,
            data,
            cluster: settings.cluster,
            routes: source.routes!,
            reloadFrom: () => {
              const again = openConfig('run', path, settings.routes, settings.defines);
              if (again.kind !== 'kamailio') throw new Error(`${path} is no longer a Kamailio-style file`);
              return again.config;
            },
          });
  } catch (err) {
    throw new CliError(prefixPath(path, source.kind === 'kamailio' ? locateConfigError(err, source.parsed) : err));
  }
  pt.on('message', (m: { timer: string; worker: number; event: string; data: unknown }) => {
    logger.info(
      { timer: m.timer, worker: m.worker, event: m.event, data: m.data },
      `message from ${m.timer}[${m.worker}]: ${m.event}`,
    );
  });

  let settleRun!: () => void;
  const runSettled = new Promise<void>((resolve) => (settleRun = resolve));
  let servers: StartedControlServers | undefined;
  let tools: RunningToolServers | undefined;
  const closeServers = async (): Promise<void> => {
    await Promise.all([servers?.close(1000), tools?.close()]);
  };
  const removeFilesSync = (): void => {
    servers?.socket?.removeFileSync();
    tools?.removeFilesSync();
  };
  process.on('exit', removeFilesSync);
  try {
    servers = await startControlServers(
      pt,
      { http: httpAddress ?? undefined, socket: settings.socket, token },
      logger,
      {
        ready: runSettled,
        onStaleSocket: (p) =>
          logger.warn({ socket: p }, 'removed a stale socket file (left by a run that did not exit cleanly)'),
      },
    );
  } catch (err) {
    await closeServers();
    throw new CliError(listenMessage(err, httpAddress, settings.socket));
  }
  const { http, socket, dispatcher } = servers;
  try {
    if (settings.tools) tools = await startToolServers(settings.tools, dispatcher, logger, servers.drops);
  } catch (err) {
    await closeServers();
    throw new CliError((err as Error).message);
  }

  // Signals: installed before the workers start, so that a signal during startup still stops them.
  let stopping = false;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting at once (end routes may not have run)');
      removeFilesSync();
      process.exit(128 + (osConstants.signals[signal] ?? 1));
    }
    stopping = true;
    logger.info(
      { signal },
      'stopping: workers that are not paused run their end route (a second signal exits at once)',
    );
    void (async () => {
      // Not waiting for run() to finish: if a worker never comes up, the signal must still stop the others.
      try {
        const [result] = await Promise.all([pt.stop({ timeoutMs: settings.stopTimeoutMs }), closeServers()]);
        if (result.terminated.length > 0) {
          logger.warn(
            { terminated: result.terminated },
            'some workers did not finish their end route in time and were terminated',
          );
        }
        finish(EXIT_OK);
      } catch (err) {
        logger.error({ err }, 'stop failed');
        finish(EXIT_FAILURE);
      }
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // SIGHUP (systemctl reload, or a closed terminal) re-reads the config; it never exits without end routes.
  process.on('SIGHUP', () => {
    if (stopping) return;
    logger.info({ signal: 'SIGHUP' }, `reloading ${path}`);
    pt.reload().then(
      (result) => logger.info({ ...result }, 'reload done'),
      (err: Error) => logger.error({ err }, `reload failed: ${err.message}`),
    );
  });

  try {
    await pt.run();
  } catch (err) {
    settleRun();
    if (stopping) return finished; // the stop cut the startup short: not a failure
    await closeServers();
    throw new CliError(`the timers did not start: ${(err as Error).message}`);
  }
  settleRun();
  if (stopping) return finished; // a signal came during startup: the stop is under way
  logger.info(
    {
      http: http?.url ?? null,
      metrics: http ? http.url.replace(/\/RPC$/, '/metrics') : null,
      socket: socket?.path ?? null,
      ...tools?.describe(),
    },
    `control interface ready${http ? ` at ${http.url}` : ''}${socket ? ` and ${socket.path}` : ''}${
      tools
        ? Object.entries(tools.describe())
            .filter(([, v]) => v)
            .map(([k, v]) => `, ${k} ${v}`)
            .join('')
        : ''
    }`,
  );
  return finished;
}

function prefixPath(path: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.includes(path) ? message : `${path}: ${message}`;
}

function listenMessage(err: unknown, http: RunSettings['http'], socket: string | undefined): string {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (err instanceof HttpServerConfigError) return e.message;
  const where = e.port !== undefined ? `${http?.host}:${http?.port}` : (socket ?? e.address ?? '');
  switch (e.code) {
    case 'EADDRINUSE':
      if (e.port !== undefined && http) {
        return `cannot listen on ${where}: the HTTP port ${http.port} is taken (another ptimer run, or another program): give another with --http ${http.host}:PORT (--http ${http.host}:0 picks a free one), or --no-http with --socket PATH`;
      }
      return `cannot listen on ${where}: address in use`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: no such local address`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied`;
    default:
      return e.message;
  }
}
