/** defineConfig: the identity, so that a config module gets the config's types in the editor. */
import type { PTimerConfig } from './types.js';

export type * from './types.js';

export function defineConfig<T extends PTimerConfig>(config: T): T {
  return config;
}
