/**
 * What `ctx.data`, `ctx.queue(name)` and `ctx.table(name)` give a timer's routes in a thread.
 */
import type { ResolvedTimer } from '../config/types.js';
import type { Queue, Table } from '../data-types.js';
import type { SharedData } from './route-context.js';

export function createSharedData(data: unknown, _timer: ResolvedTimer): SharedData {
  return {
    data,
    queue(name: string): Queue {
      throw new Error(`ctx.queue(${JSON.stringify(name)}): the config declares no queue of that name`);
    },
    table(name: string): Table {
      throw new Error(`ctx.table(${JSON.stringify(name)}): the config declares no table of that name`);
    },
  };
}
