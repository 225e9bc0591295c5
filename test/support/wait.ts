/** Waiting on conditions in end-to-end tests: poll until true, or fail after a generous deadline. */
import { once, type EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** The next `message` event of a PTimer whose `event` is `name`. */
export async function nextMessage<T = unknown>(
  emitter: EventEmitter,
  name: string,
  timeoutMs = 10_000,
): Promise<{ worker: number; data: T }> {
  const signal = AbortSignal.timeout(timeoutMs);
  for (;;) {
    const [m] = (await once(emitter, 'message', { signal })) as [{ event: string; worker: number; data: T }];
    if (m.event === name) return m;
  }
}
