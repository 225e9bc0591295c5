/**
 * Type test (compiled by tsc in `npm test`, never run): RouteContext<Vars, Data> types
 * ctx.vars and ctx.data without casts; queues and tables take and give their value types.
 */
import type { RouteContext, RouteFunction } from '../../src/index.js';

interface Vars {
  sent: number;
  gateway?: string;
}
interface Data {
  gateways: readonly string[];
}

export function LOOP(ctx: RouteContext<Vars, Data>): void {
  ctx.vars.sent++;
  const first: string | undefined = ctx.data.gateways[0];
  ctx.vars.gateway = first;
  // @ts-expect-error vars has no such field
  ctx.vars.recieved = 1;
  // @ts-expect-error a field's type holds
  ctx.vars.sent = 'many';
  // @ts-expect-error data is read-only
  ctx.data = { gateways: [] };

  const calls = ctx.queue('calls');
  const ok: boolean = calls.push('INVITE', 'call-1') && calls.push(new Uint8Array([1]));
  void ok;
  for (const { key, value } of calls.take(ctx.ptimer.tasks)) {
    const k: string | undefined = key;
    const v: string | Uint8Array = value;
    void [k, v];
  }
  const removed: number = calls.remove('call-1');
  void removed;
  // @ts-expect-error a queue holds strings and bytes only
  calls.push(42);
  // @ts-expect-error size is read-only
  calls.size = 0;

  const kpi = ctx.table('kpi');
  kpi.set('gw1', 1, { expires: 5 });
  kpi.set('gw2', 'up');
  const got: string | number | undefined = kpi.get('gw1');
  void got;
  // @ts-expect-error a table holds strings and numbers only
  kpi.set('gw3', { up: true });
  // @ts-expect-error expires is a number of seconds
  kpi.set('gw4', 1, { expires: '5s' });
}

// Without type arguments vars is a record of unknowns, as before.
export function PLAIN(ctx: RouteContext): number {
  ctx.vars.anything = 1;
  // @ts-expect-error unknown needs narrowing
  // eslint-disable-next-line @typescript-eslint/restrict-plus-operands -- the type error is what this line checks
  return ctx.vars.anything + 1;
}

export const typed: RouteFunction<Vars> = (ctx) => {
  ctx.vars.sent = 0;
  return -1;
};
