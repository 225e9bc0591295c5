/**
 * A configuration that cannot run. The message names the parameter, the value given
 * and what is allowed; the same facts are kept as fields for programs.
 */
export class ConfigError extends Error {
  constructor(
    /** Where the value came from, e.g. `timer "queue": interval` or `default_nworkers`. */
    readonly param: string,
    /** The offending value, as given. */
    readonly value: unknown,
    /** What would have been accepted. */
    readonly allowed: string,
  ) {
    super(`${param}: ${describeValue(value)} is not valid; ${allowed}`);
    this.name = 'ConfigError';
  }
}

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'no value';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
