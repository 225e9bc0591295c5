/** ptimer: precise, drift-free, multi-worker timers for Node.js. */
export { PTimer, type PTimerOptions, type StopOptions, type StopResult } from './ptimer.js';
export type { ServeOptions, ControlServers } from './serve.js';
export {
  defineConfig,
  type StrictConfig,
  type NotAllowed,
  type Known,
  type KnownItems,
} from './config/define-config.js';
export { resolveConfig } from './config/resolve.js';
export { ConfigError, ConfigErrors } from './config/errors.js';
export { ControlError, CONTROL_COMMANDS } from './control-types.js';
export type {
  ControlCommand,
  TimerControl,
  TimerInfo,
  WorkerInfo,
  WorkerRoute,
  LatenessSummary,
} from './control-types.js';
export type * from './config/types.js';
export type {
  RouteContext,
  RouteFunction,
  RouteResult,
  RouteKind,
  PTimerAttributes,
  FakeSipMessage,
} from './route-types.js';
export type { PTimerEvents, PTimerEventName, MessageEvent, RouteErrorEvent, WorkerExitEvent } from './events.js';
export type { ClusterOverride } from './config/cluster-params.js';
export type { ClusterStatus } from './cluster/cluster-node.js';
export type { Queue, HostQueue, QueueItem, QueueStats, QueueValue, Table, TableValue } from './data-types.js';
// Errors: ConfigError (a config that cannot run; KamailioCfgError adds file, line, column),
// ControlError (a refused command: code 400/404/500), RpcCallError (an error answer from a server:
// its code) and RpcTransportError (no usable answer).
export { KamailioCfgError } from './config/kamailio-cfg.js';

// A typed client for a running server (what `ptimer rpc` and `ptimer top` use).
export { connect, RPC_ERROR_CODES, RpcCallError, RpcTransportError } from './client/index.js';
export type {
  ConnectOptions,
  ConnectTarget,
  ForceOption,
  PTimerClient,
  ParamsOf,
  ResultOf,
  ControlParams,
  ControlResult,
  ReloadResult,
  RpcMethodName,
  RpcMethods,
} from './client/index.js';
export type { AnyLogger, LogOptions, LogLevel, LogSetting, LogDestination } from './runtime/logger.js';

// Serving the control interface from your own process (what `ptimer run` does).
export { RpcDispatcher, RPC_METHODS, type JsonRpcResponse } from './rpc/dispatcher.js';
export {
  startHttpServer,
  DEFAULT_HTTP_HOST,
  DEFAULT_HTTP_PORT,
  type HttpServerOptions,
  type RunningHttpServer,
} from './rpc/http-server.js';
export { startSocketServer, type SocketServerOptions, type RunningSocketServer } from './rpc/socket-server.js';
export { createMetrics, type Metrics, type MetricsOptions } from './rpc/metrics.js';
export {
  TransportDropLog,
  type DropKind,
  type DropReporter,
  type DropTotals,
  type DropTransport,
} from './rpc/drop-log.js';
export { callRpc, type RpcTarget } from './rpc/client.js';
// Kamailio's own tools: BINRPC for kamcmd, the jsonrpcs FIFO and datagram socket for kamctl.
export {
  startBinrpcServer,
  parseBinrpcAddress,
  type BinrpcAddress,
  type BinrpcServerOptions,
  type RunningBinrpcServer,
} from './rpc/binrpc-server.js';
export {
  BinrpcError,
  encodePacket,
  decodeHeader,
  decodeValues,
  type BinrpcValue,
  type BinrpcMember,
  type BinrpcHeader,
} from './rpc/binrpc-codec.js';
export { startFifoServer, type FifoServerOptions, type RunningFifoServer } from './rpc/jsonrpcs-fifo.js';
export { startDgramServer, type DgramServerOptions, type RunningDgramServer } from './rpc/jsonrpcs-dgram.js';
export {
  parseKamailioCfg,
  resolveKamailioCfg,
  locateConfigError,
  parseDefineFlag,
  definesFromFlags,
  type KamailioCfgResult,
  type KamailioCfgOptions,
  type CfgLocation,
  type DefineFlag,
} from './config/kamailio-cfg.js';
