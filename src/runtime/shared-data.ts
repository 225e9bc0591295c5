/**
 * What `ctx.data`, `ctx.queue(name)` and `ctx.table(name)` give a timer's routes in a thread:
 * the thread's attached DataPlane, seen by that timer (its `limit=N/W` applies to take()).
 */
import type { ResolvedTimer } from '../config/types.js';
import type { DataPlane } from '../data/index.js';
import type { SharedData } from './route-context.js';

export function createSharedData(plane: DataPlane, timer: ResolvedTimer): SharedData {
  return {
    data: plane.data,
    queue: (name) => plane.queueFor(timer.name, name),
    table: (name) => plane.table(name),
  };
}
