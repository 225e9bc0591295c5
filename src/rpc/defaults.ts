/**
 * Where the control interface listens when nothing else is said. A module of its own so that
 * the CLI's quick commands (`ptimer rpc`, `--help`) can name it without loading the HTTP server.
 */
export const DEFAULT_HTTP_HOST = '127.0.0.1';
export const DEFAULT_HTTP_PORT = 8711;
