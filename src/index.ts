/** ptimer: precise, drift-free, multi-worker timers for Node.js. */
export { PTimer, type PTimerOptions, type StopOptions, type StopResult } from './ptimer.js';
export { defineConfig } from './config/define-config.js';
export { resolveConfig } from './config/resolve.js';
export { ConfigError } from './config/errors.js';
export { ControlError, CONTROL_COMMANDS } from './control-types.js';
export type { ControlCommand, TimerControl, TimerInfo, WorkerInfo, WorkerRoute, LatenessSummary } from './control-types.js';
export type * from './config/types.js';
export type { RouteContext, RouteFunction, RouteResult, RouteKind, PTimerAttributes, FakeSipMessage } from './route-types.js';
export type { LogOptions, LogLevel } from './runtime/logger.js';
