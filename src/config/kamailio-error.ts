/**
 * KamailioCfgError: a Kamailio-style file that cannot be read or whose values are not
 * valid, as `FILE:LINE:COLUMN: what is wrong`. A ConfigError, so callers catch both alike.
 */
import { ConfigError } from './errors.js';

export class KamailioCfgError extends ConfigError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
    value: unknown = undefined,
    /** The ConfigError of resolveConfig this one locates, if any. */
    readonly configError: ConfigError | undefined = undefined,
  ) {
    super(`${file}:${line}`, value, reason);
    this.name = 'KamailioCfgError';
    this.message = `${file}:${line}:${column}: ${reason}`;
  }
}
