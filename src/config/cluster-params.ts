/**
 * The `cluster` parameter: where the nodes of a cluster meet (one Redis primary, or
 * Sentinels that name it), what the cluster is called, and the slot lease time.
 *
 * - string: `url=redis://127.0.0.1:6379/0;name=prod;ttl=1500ms;node=a1;max_offset=2ms`,
 *   with Sentinel: `sentinels=127.0.0.1:26379,127.0.0.1:26380;masterName=mymaster`
 * - object: `{ url, name?, ttl?, node?, sentinels?, masterName?, max_offset? }`
 *
 * `name` namespaces every key (several clusters can share one Redis); `node` defaults to
 * `hostname:pid`; `ttl` bounds how long a dead node's slots stay unrun (takeover within
 * ttl + ttl/3 + one interval) and must leave room for three renewals' round trips, so it is
 * bounded below; `max_offset` is the clock offset to Redis past which cluster limits refuse to
 * book. `ptimer run --cluster URL --node ID` override url and node (ClusterOverride).
 *
 * A password in the url is never echoed: messages show the url with it masked.
 */
import { hostname } from 'node:os';
import { parseAttributeList } from './attribute-list.js';
import { ConfigError } from './errors.js';
import { formatDurationNs } from './interval.js';
import { MAX_NAME_CHARS } from './limits.js';
import { isPlainObject, objectFields, parseBoundedDuration, parseName } from './values.js';

/** What users write under `cluster` in an object config. */
export interface ClusterObject {
  /** `redis://[user:password@]HOST:PORT[/DB]` (or `rediss://`); with sentinels, the db and password used on the primary. */
  url?: string;
  /** Namespace of every key (default `ptimer`). */
  name?: string;
  /** Slot lease time (default 1500ms; from 300ms to 60s). */
  ttl?: string | number;
  /** This node's id (default `hostname:pid`). */
  node?: string;
  /** Sentinels as `HOST:PORT` items (or one comma-separated string); needs masterName. */
  sentinels?: string | string[];
  masterName?: string;
  /** Clock offset to Redis past which cluster limits refuse to book (default 2ms). */
  max_offset?: string | number;
}

export interface ResolvedCluster {
  /** As given, password included (never shown: see `shownUrl`). */
  url: string;
  /** The url with any password masked, for messages and logs. */
  shownUrl: string;
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username: string | null;
  password: string | null;
  name: string;
  ttlNs: number;
  node: string;
  sentinels: Array<{ host: string; port: number }>;
  masterName: string | null;
  maxOffsetNs: number;
}

/** `ptimer run --cluster URL --node ID`: replace the config's url and node (or make a cluster of the url). */
export interface ClusterOverride {
  url?: string;
  node?: string;
}

export const DEFAULT_CLUSTER_NAME = 'ptimer';
export const DEFAULT_CLUSTER_TTL_NS = 1_500e6;
/** Below this, three renewals per ttl leave too little room for a loaded machine's round trips. */
export const MIN_CLUSTER_TTL_NS = 300e6;
export const MAX_CLUSTER_TTL_NS = 60e9;
export const DEFAULT_MAX_OFFSET_NS = 2e6;
const MIN_MAX_OFFSET_NS = 10e3;
const MAX_MAX_OFFSET_NS = 1e9;
const MAX_SENTINELS = 16;
const MAX_DB = 15;
const MAX_URL_CHARS = 1024;
const NODE_ID = /^[A-Za-z0-9_.:@-]+$/;
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

const KEYS = ['url', 'name', 'ttl', 'node', 'sentinels', 'masterName', 'max_offset'] as const;
const CLUSTER_EXPECTED =
  'expected a cluster string "url=redis://HOST:PORT/DB;name=NAME;ttl=1500ms" or an object ' +
  `{ ${KEYS.map((k) => (k === 'url' ? k : `${k}?`)).join(', ')} }`;
const URL_EXPECTED = 'expected redis://[USER:PASSWORD@]HOST:PORT[/DB] or rediss://... (DB from 0 to 15)';
const NODE_EXPECTED = `expected a node id of letters, digits, "_", "-", ".", ":" and "@" (at most ${MAX_NAME_CHARS} characters)`;

/** The cluster parameter (undefined: none) with the CLI's override applied; null when there is no cluster. */
export function resolveCluster(value: unknown, override: ClusterOverride = {}): ResolvedCluster | null {
  if (value === undefined && override.url === undefined) {
    if (override.node !== undefined)
      throw new ConfigError(
        '--node',
        override.node,
        'a node id needs a cluster: give --cluster URL or cluster in the config',
      );
    return null;
  }
  const fields = value === undefined ? {} : readFields(value);
  if (override.url !== undefined) fields.url = override.url;
  if (override.node !== undefined) fields.node = override.node;
  const param = override.url !== undefined && value === undefined ? '--cluster' : 'cluster';
  if (fields.url === undefined || fields.url === '') throw new ConfigError(`${param}: url`, fields.url, URL_EXPECTED);
  const url = parseRedisUrl(fields.url, `${param}: url`);
  const sentinels = fields.sentinels === undefined ? [] : parseSentinels(fields.sentinels, 'cluster: sentinels');
  const masterName = fields.masterName === undefined ? null : parseName(fields.masterName, 'cluster: masterName');
  if (sentinels.length > 0 && masterName === null) {
    throw new ConfigError(
      'cluster: masterName',
      undefined,
      'sentinels need the name of the primary they watch (masterName, e.g. mymaster)',
    );
  }
  if (masterName !== null && sentinels.length === 0) {
    throw new ConfigError(
      'cluster: sentinels',
      undefined,
      'masterName needs the sentinels to ask (e.g. sentinels=127.0.0.1:26379)',
    );
  }
  return {
    ...url,
    name: fields.name === undefined ? DEFAULT_CLUSTER_NAME : parseName(fields.name, 'cluster: name'),
    ttlNs:
      fields.ttl === undefined
        ? DEFAULT_CLUSTER_TTL_NS
        : parseBoundedDuration(fields.ttl, 'cluster: ttl', MIN_CLUSTER_TTL_NS, MAX_CLUSTER_TTL_NS),
    node:
      fields.node === undefined
        ? `${hostname()}:${process.pid}`
        : parseNodeId(fields.node, override.node !== undefined ? '--node' : 'cluster: node'),
    sentinels,
    masterName,
    maxOffsetNs:
      fields.max_offset === undefined
        ? DEFAULT_MAX_OFFSET_NS
        : parseBoundedDuration(fields.max_offset, 'cluster: max_offset', MIN_MAX_OFFSET_NS, MAX_MAX_OFFSET_NS),
  };
}

function readFields(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') {
    const fields: Record<string, unknown> = {};
    for (const { key, value: text } of parseAttributeList(value, 'cluster')) {
      if (!(KEYS as readonly string[]).includes(key)) {
        throw new ConfigError('cluster', maskPassword(value), `unknown key "${key}": the keys are ${KEYS.join(', ')}`);
      }
      fields[key] = text;
    }
    return fields;
  }
  if (isPlainObject(value)) return objectFields(value, 'cluster', KEYS, 'cluster');
  throw new ConfigError('cluster', value, CLUSTER_EXPECTED);
}

/** Masks the password of a redis url (for messages); any other text is returned as given. */
export function maskPassword(text: string): string {
  return text.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}

function parseRedisUrl(
  value: unknown,
  param: string,
): Omit<ResolvedCluster, 'name' | 'ttlNs' | 'node' | 'sentinels' | 'masterName' | 'maxOffsetNs'> {
  if (typeof value !== 'string' || value.length > MAX_URL_CHARS) {
    throw new ConfigError(
      param,
      typeof value === 'string' ? `${value.slice(0, 40)}…` : value,
      `${URL_EXPECTED}; at most ${MAX_URL_CHARS} characters`,
    );
  }
  const shownUrl = maskPassword(value);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(param, shownUrl, URL_EXPECTED);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(param, shownUrl, `${URL_EXPECTED}; "${parsed.protocol.slice(0, -1)}" is not a Redis scheme`);
  }
  if (parsed.hostname === '') throw new ConfigError(param, shownUrl, `${URL_EXPECTED}; the host is missing`);
  if (parsed.search !== '' || parsed.hash !== '')
    throw new ConfigError(param, shownUrl, `${URL_EXPECTED}; no ?query or #fragment`);
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const path = parsed.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : /^\d{1,2}$/.test(path) ? Number(path) : NaN;
  if (!(db >= 0 && db <= MAX_DB))
    throw new ConfigError(param, shownUrl, `${URL_EXPECTED}; "/${path}" is not a DB number`);
  return {
    url: value,
    shownUrl,
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    tls: parsed.protocol === 'rediss:',
    username: parsed.username === '' ? null : decodeURIComponent(parsed.username),
    password: parsed.password === '' ? null : decodeURIComponent(parsed.password),
  };
}

function parseSentinels(value: unknown, param: string): Array<{ host: string; port: number }> {
  const items =
    typeof value === 'string'
      ? value
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : value;
  const expected = `expected HOST:PORT items (a list, or one string separated by ","), at most ${MAX_SENTINELS}, e.g. 127.0.0.1:26379`;
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_SENTINELS)
    throw new ConfigError(param, value, expected);
  return items.map((item, i) => {
    const match = typeof item === 'string' ? HOST_PORT.exec(item) : null;
    const port = match ? Number(match[3]) : NaN;
    if (!match || !(port >= 1 && port <= 65535)) throw new ConfigError(`${param}[${i}]`, item, expected);
    return { host: (match[1] ?? match[2])!, port };
  });
}

function parseNodeId(value: unknown, param: string): string {
  if (typeof value !== 'string' || value.length > MAX_NAME_CHARS || !NODE_ID.test(value))
    throw new ConfigError(param, value, NODE_EXPECTED);
  return value;
}

/** Shown in help texts and docs. */
export const CLUSTER_TTL_RANGE = `${formatDurationNs(MIN_CLUSTER_TTL_NS)} to ${formatDurationNs(MAX_CLUSTER_TTL_NS)}`;

/**
 * A timer or queue with cluster=1 needs a cluster to live in. A cluster queue's addmode 1 and 2
 * (one item per key) would need a key index in Redis that no node holds a lock on: not offered.
 */
export function checkClusterMembers(
  cluster: ResolvedCluster | null,
  timers: ReadonlyArray<{ name: string; cluster?: true }>,
  queues: ReadonlyArray<{ name: string; cluster?: true; addmode: number }>,
): void {
  const fix =
    'add cluster: "url=redis://HOST:PORT/DB" to the config (or ptimer run --cluster URL), or remove cluster=1';
  for (const timer of timers) {
    if (timer.cluster && cluster === null)
      throw new ConfigError(`timer "${timer.name}": cluster`, 1, `no cluster is configured; ${fix}`);
  }
  for (const queue of queues) {
    if (!queue.cluster) continue;
    if (cluster === null)
      throw new ConfigError(`queue "${queue.name}": cluster`, 1, `no cluster is configured; ${fix}`);
    if (queue.addmode !== 0) {
      throw new ConfigError(
        `queue "${queue.name}": addmode`,
        queue.addmode,
        'a cluster queue adds every item (addmode 0); keyed addmodes 1 and 2 are local queues only',
      );
    }
  }
}

/** What the runtime does not yet hold cluster-wide (docs/cluster.md, Status): said at start, not silently per node. */
export function clusterWarnings(
  timers: ReadonlyArray<{ name: string; cluster?: true; limit: unknown }>,
  queues: ReadonlyArray<{ name: string; cluster?: true }>,
): string[] {
  const warnings: string[] = [];
  for (const t of timers) {
    if (t.cluster && t.limit !== null)
      warnings.push(`timer "${t.name}": its limit holds per node for now, not cluster-wide (docs/cluster.md)`);
  }
  for (const q of queues) {
    if (q.cluster)
      warnings.push(
        `queue "${q.name}": cluster=1 is not served yet; the queue is local to each node (docs/cluster.md)`,
      );
  }
  return warnings;
}
