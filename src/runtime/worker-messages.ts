/** Messages a worker thread posts to the main thread. Commands go the other way through shared memory. */
export type WorkerToMain =
  /** Routes loaded; the worker has begun its first start (its start route, if it has one). */
  | { type: 'ready'; threadId: number }
  /** `ctx.emit(event, data)` in a route. */
  | { type: 'message'; event: string; data: unknown }
  /** A route threw (already logged and counted by the worker). */
  | { type: 'route-error'; route: 'start' | 'loop' | 'end'; message: string; stack?: string };
