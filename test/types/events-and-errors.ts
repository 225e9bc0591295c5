/**
 * Type test (compiled by tsc in `npm test`, never run): the event map types listeners'
 * arguments; the error classes are exported with their fields; the client's methods are typed.
 */
import { EventEmitter } from 'node:events';
import {
  ConfigError,
  ControlError,
  KamailioCfgError,
  RpcCallError,
  RpcTransportError,
  connect,
  type PTimer,
  type PTimerEvents,
  type TimerInfo,
  type ControlResult,
  type ReloadResult,
} from '../../src/index.js';

const events = new EventEmitter<PTimerEvents>();
events.on('message', (m) => {
  const where: string = `${m.timer}[${m.worker}] ${m.event}`;
  const data: unknown = m.data;
  void [where, data];
});
events.on('routeError', (e) => {
  const route: 'start' | 'loop' | 'end' = e.route;
  const text: string = e.message;
  void [route, text];
});
events.on('workerExit', (e) => {
  const code: number = e.code;
  const err: Error = e.error;
  const delay: number = e.restartInMs;
  void [code, err, delay];
});
// @ts-expect-error no such event
events.on('mesage', () => {});
// @ts-expect-error a routeError has no data
events.on('routeError', (e) => e.data);

function describe(err: unknown): string {
  if (err instanceof KamailioCfgError) return `${err.file}:${err.line}:${err.column}: ${err.reason}`;
  if (err instanceof ConfigError) return `${err.param}: ${err.allowed}`;
  if (err instanceof ControlError) {
    const code: 400 | 404 | 500 = err.code;
    return `${code}`;
  }
  if (err instanceof RpcCallError) {
    const code: number = err.code;
    return `${code} ${err.message}`;
  }
  if (err instanceof RpcTransportError) return err.message;
  return String(err);
}
void describe;

export async function client(): Promise<void> {
  const c = connect({ socket: '/run/ptimer.sock' }, { token: 't' });
  const timers: TimerInfo[] = await c.list();
  const paused: ControlResult = await c.pause('queue', 3);
  await c.start('queue', undefined, { force: true });
  const reloaded: ReloadResult = await c.reload();
  const listed: TimerInfo[] = await c.call('ptimer.list');
  const other: unknown = await c.call('my.method', { a: 1 });
  void [timers, paused, reloaded, listed, other];
  // @ts-expect-error worker is a number
  await c.pause('queue', '3');
  // @ts-expect-error the params of a known method are typed
  await c.call('system.methodHelp', [1]);
  // @ts-expect-error url or socket, not both
  connect({ url: 'http://127.0.0.1:8711', socket: '/x' });
  await c.close();
}

// The PTimer itself emits the typed events.
export function listen(pt: PTimer): void {
  pt.on('message', (m) => {
    const t: string = m.timer;
    void t;
  });
  pt.on('workerExit', (e) => void e.restartInMs.toFixed());
  // @ts-expect-error no such event on a PTimer
  pt.on('mesage', () => {});
  // @ts-expect-error a message's worker is a number
  pt.on('message', (m) => m.worker.toUpperCase());
}
