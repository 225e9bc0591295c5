/**
 * What a scheduler thread and the main thread say to each other.
 *
 * Main -> thread goes over a MessagePort that the thread reads synchronously
 * (receiveMessageOnPort) between routes, after the main thread has rung the thread's doorbell
 * (see thread-doorbell.ts): so a command reaches a thread that is blocked in a precise sleep.
 * Thread -> main goes over the thread's parentPort, handled by the main thread's event loop.
 * Workers are named by their placement on the thread (`worker`, 0-based).
 */
import type { CommandReply } from '../core/thread-driver.js';
import type { MachineCommand } from '../core/worker-machine.js';
import type { RouteKind } from '../core/words.js';
import type { ErrorRecord } from './log-forward.js';
import type { QueueItem } from '../data/api-types.js';

export type MainToThread =
  | { type: 'command'; worker: number; seq: number; command: MachineCommand }
  /** Every worker that is not paused runs its end route; then the thread exits. */
  | { type: 'stop' };

export type ThreadToMain =
  /** Routes loaded, and every worker has begun its first route (synchronous start routes have run). */
  | { type: 'ready' }
  | { type: 'answer'; worker: number; seq: number; reply: CommandReply }
  /** `ctx.emit(event, data)` in a route. */
  | { type: 'message'; worker: number; event: string; data: unknown }
  /** A route threw (counted by the thread; the main thread logs it, in full or summarised). `err` is bounded (log-forward.ts). */
  | { type: 'route-error'; worker: number; route: RouteKind; err: ErrorRecord }
  /** One JSON line the thread's logger wrote (log-forward.ts). */
  | { type: 'log'; line: string }
  /** Items a take in this thread dropped for their age (a queue's maxage), for the host's listeners. */
  | { type: 'expired'; queue: string; items: QueueItem[] };
