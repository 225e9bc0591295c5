/**
 * defineConfig: the identity at run time; at compile time, a check that the config holds
 * only known parameters.
 *
 * A plain generic (`<T extends PTimerConfig>(config: T)`) turns TypeScript's excess-property
 * check off, so `default_intervall` or a timer's `nworker: 2` type-checked. Here the config's
 * own type is kept (`const T`: route names, timer names and values as literals, for types built
 * on it) and intersected with `StrictConfig<T>`, which maps every key that is not a parameter -
 * at the top level and in timer, queue and table objects - to a message type, so the mistake is
 * an error on that very key: `Type 'number' is not assignable to type
 * 'NotAllowed<"\"nworker\" is not a timer attribute">'`. Strings (`'name=q;nworkers=2'`) are checked when the config is
 * resolved, at run time.
 */
import type { LimiterObject, PTimerConfig, QueueObject, TableObject, TimerObject } from './types.js';

export type * from './types.js';

/** Every key of `T` not in `Shape` becomes a type no value has, named by `What`. */
export type Known<T, Shape, What extends string> = {
  [K in keyof T]: K extends keyof Shape ? T[K] : NotAllowed<`"${K & string}" is not ${What}`>;
};

/**
 * The type of a key that is not allowed. An object, not the message itself: intersected with the
 * value's literal type, a string literal would reduce the whole config to `never` and lose the message.
 */
export interface NotAllowed<Message extends string> {
  readonly error: Message;
}

/** Objects inside a repeatable parameter (one, or an array of them) checked against `Shape`; strings pass. */
export type KnownItems<L, Shape, What extends string> = L extends readonly unknown[]
  ? { [I in keyof L]: L[I] extends string ? L[I] : Known<L[I], Shape, What> }
  : L extends string
    ? L
    : Known<L, Shape, What>;

/** `T` with every unknown key (top level, timer, queue and table objects) turned into an error. */
export type StrictConfig<T> = Known<T, PTimerConfig, 'a ptimer parameter'> & {
  [K in keyof T & 'timer']: KnownItems<T[K], TimerObject, 'a timer attribute'>;
} & {
  [K in keyof T & 'queue']: KnownItems<T[K], QueueObject, 'a queue attribute'>;
} & {
  [K in keyof T & 'table']: KnownItems<T[K], TableObject, 'a table attribute'>;
} & {
  [K in keyof T & 'limiter']: KnownItems<T[K], LimiterObject, 'a limiter attribute'>;
};

/**
 * Gives back `config` as it is. Its use is the type check: an unknown parameter, or an unknown
 * attribute in a timer, queue or table object, is a compile-time error on that key.
 */
export function defineConfig<const T extends PTimerConfig>(config: T & StrictConfig<T>): T {
  return config;
}
