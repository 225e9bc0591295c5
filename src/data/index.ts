/**
 * The data plane: queues (mqueue), tables (htable) and window limits (`limit=N/W`) in shared
 * memory for the host thread and every worker thread, and the user's `data`. See data-plane.ts.
 */
export type { Queue, Table, QueueItem, QueueValue, TableValue, TakeOptions } from './api-types.js';
export { DataPlane, MAX_DATA_BYTES, type DataPlaneHandles, type DataPlaneOptions } from './data-plane.js';
export { SharedQueue, MAX_QUEUE_KEY_BYTES, type SharedQueueHandle } from './shared-queue.js';
export {
  SharedTable,
  TableFullError,
  DEFAULT_TABLE_KEY_BYTES,
  DEFAULT_TABLE_VALUE_BYTES,
  hrtimeNs,
  type NsClock,
  type SharedTableHandle,
  type TableOptions,
} from './shared-table.js';
export { WindowLimiter, limitedTake, type WindowLimiterHandle } from './window-limiter.js';
export { TimerQueue } from './timer-queue.js';
export { LockTimeoutError } from './shared-mutex.js';
