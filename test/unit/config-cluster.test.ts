/** The cluster parameter, timer and queue cluster=1, and ptimer run --cluster/--node: both forms, defaults, bounds, clear errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { ConfigError } from '../../src/config/errors.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { parseRunArgs } from '../../src/cli/run.js';

const base = { timer: 'name=t;interval=100ms', loop: 'timer=t;route=L' };

function clusterOf(cluster: unknown, override?: { url?: string; node?: string }) {
  return resolveConfig({ ...base, cluster }, override ? { clusterOverride: override } : {}).cluster;
}

function assertConfigError(fn: () => unknown, param: string, allowed: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.param, param);
    assert.match(error.message, allowed);
    return true;
  });
}

test('cluster string: url, name, ttl, node, max_offset; defaults filled in', () => {
  const c = clusterOf('url=redis://127.0.0.1:6390/3;name=prod;ttl=1500ms;node=a1;max_offset=500us')!;
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 6390);
  assert.equal(c.db, 3);
  assert.equal(c.name, 'prod');
  assert.equal(c.ttlNs, 1_500e6);
  assert.equal(c.node, 'a1');
  assert.equal(c.maxOffsetNs, 500e3);
  const d = clusterOf('url=redis://localhost')!;
  assert.equal(d.port, 6379);
  assert.equal(d.db, 0);
  assert.equal(d.name, 'ptimer');
  assert.equal(d.ttlNs, 1_500e6);
  assert.equal(d.maxOffsetNs, 2e6);
  assert.equal(d.node, `${hostname()}:${process.pid}`);
  assert.deepEqual(d.sentinels, []);
  assert.equal(d.masterName, null);
});

test('cluster object: the same keys, sentinels as a list or a string', () => {
  const c = clusterOf({
    url: 'redis://127.0.0.1:6379/0',
    ttl: '2s',
    sentinels: ['127.0.0.1:26379', '[::1]:26380'],
    masterName: 'mymaster',
  })!;
  assert.equal(c.ttlNs, 2e9);
  assert.deepEqual(c.sentinels, [
    { host: '127.0.0.1', port: 26379 },
    { host: '::1', port: 26380 },
  ]);
  assert.equal(c.masterName, 'mymaster');
  const s = clusterOf('url=redis://127.0.0.1;sentinels=127.0.0.1:26379,127.0.0.1:26380;masterName=m')!;
  assert.equal(s.sentinels.length, 2);
});

test('no cluster: the resolved config has none, and timers and queues stay local', () => {
  const r = resolveConfig({ ...base, queue: 'name=q' });
  assert.equal(r.cluster, undefined);
  assert.equal(r.timers[0]!.cluster, undefined);
  assert.equal(r.queues[0]!.cluster, undefined);
});

test('timer cluster=1 / cluster: true and queue cluster=1 are marked; 0 and false are local', () => {
  const r = resolveConfig({
    timer: ['name=a;cluster=1', { name: 'b', cluster: true }, 'name=c;cluster=0'],
    loop: ['timer=a;route=L', 'timer=b;route=L', 'timer=c;route=L'],
    queue: ['name=q1;cluster=1', { name: 'q2', cluster: true }, 'name=q3'],
    cluster: 'url=redis://127.0.0.1:6379',
  });
  assert.deepEqual(
    r.timers.map((t) => t.cluster ?? false),
    [true, true, false],
  );
  assert.deepEqual(
    r.queues.map((q) => q.cluster ?? false),
    [true, true, false],
  );
});

test('what is not yet cluster-wide is warned about: a limit on a cluster timer, a cluster queue', () => {
  const r = resolveConfig({
    timer: ['name=a;cluster=1;limit=5/1s', 'name=b;cluster=1', 'name=c;limit=5/1s'],
    loop: ['timer=a;route=L', 'timer=b;route=L', 'timer=c;route=L'],
    queue: ['name=q1;cluster=1', 'name=q2'],
    cluster: 'url=redis://127.0.0.1:6379',
  });
  assert.deepEqual(r.warnings, [
    'timer "a": its limit holds per node for now, not cluster-wide (docs/cluster.md)',
    'queue "q1": cluster=1 is not served yet; the queue is local to each node (docs/cluster.md)',
  ]);
});

test('cluster=1 without a cluster, and a keyed cluster queue, are refused by name', () => {
  assertConfigError(
    () => resolveConfig({ ...base, timer: 'name=t;cluster=1' }),
    'timer "t": cluster',
    /no cluster is configured/,
  );
  assertConfigError(
    () => resolveConfig({ ...base, queue: 'name=q;cluster=1' }),
    'queue "q": cluster',
    /no cluster is configured/,
  );
  assertConfigError(
    () => resolveConfig({ ...base, queue: 'name=q;cluster=1;addmode=1', cluster: 'url=redis://127.0.0.1' }),
    'queue "q": addmode',
    /addmode 0/,
  );
  assertConfigError(
    () => resolveConfig({ ...base, timer: 'name=t;cluster=yes' }),
    'timer "t": cluster',
    /expected 0 or 1/,
  );
});

test('bad cluster values name the key and what is allowed', () => {
  assertConfigError(() => clusterOf('name=prod'), 'cluster: url', /redis:\/\//);
  assertConfigError(() => clusterOf('url=http://127.0.0.1'), 'cluster: url', /not a Redis scheme/);
  assertConfigError(() => clusterOf('url=redis://127.0.0.1/16'), 'cluster: url', /DB number/);
  assertConfigError(() => clusterOf('url=redis://127.0.0.1:6379;ttl=100ms'), 'cluster: ttl', /from 300ms to 60s/);
  assertConfigError(() => clusterOf('url=redis://127.0.0.1:6379;ttl=2m'), 'cluster: ttl', /./);
  assertConfigError(() => clusterOf('url=redis://127.0.0.1:6379;ttl=61s'), 'cluster: ttl', /from 300ms to 60s/);
  assertConfigError(() => clusterOf('url=redis://127.0.0.1:6379;max_offset=5s'), 'cluster: max_offset', /to 1s/);
  assertConfigError(() => clusterOf('url=redis://127.0.0.1:6379;name=a b'), 'cluster: name', /name of letters/);
  assertConfigError(() => clusterOf('url=redis://127.0.0.1:6379;node=a/b'), 'cluster: node', /node id/);
  assertConfigError(() => clusterOf('url=redis://127.0.0.1:6379;colour=red'), 'cluster', /unknown key "colour"/);
  assertConfigError(() => clusterOf({ url: 'redis://127.0.0.1', colour: 1 }), 'cluster', /not a cluster key/);
  assertConfigError(() => clusterOf(42), 'cluster', /expected a cluster string/);
  assertConfigError(() => clusterOf('url=redis://127.0.0.1;masterName=m'), 'cluster: sentinels', /needs the sentinels/);
  assertConfigError(
    () => clusterOf('url=redis://127.0.0.1;sentinels=127.0.0.1:26379'),
    'cluster: masterName',
    /need the name/,
  );
  assertConfigError(
    () => clusterOf('url=redis://127.0.0.1;sentinels=127.0.0.1:70000;masterName=m'),
    'cluster: sentinels[0]',
    /HOST:PORT/,
  );
});

test('a password in the url is masked in messages and kept for the connection', () => {
  const c = clusterOf('url=redis://user:s3cret@127.0.0.1:6379/1')!;
  assert.equal(c.password, 's3cret');
  assert.equal(c.shownUrl, 'redis://user:***@127.0.0.1:6379/1');
  assert.throws(
    () => clusterOf('url=redis://user:s3cret@127.0.0.1:6379/99'),
    (error: unknown) =>
      error instanceof ConfigError && !error.message.includes('s3cret') && error.message.includes('***'),
  );
});

test('ptimer run --cluster/--node override the config, or make a cluster of the url', () => {
  const settings = parseRunArgs(['x.ts', '--cluster', 'redis://127.0.0.1:6400/2', '--node', 'n2'], {});
  assert.notEqual(settings, 'help');
  const override = (settings as { cluster?: { url?: string; node?: string } }).cluster!;
  assert.deepEqual(override, { url: 'redis://127.0.0.1:6400/2', node: 'n2' });
  const fromFlags = clusterOf(undefined, override)!;
  assert.equal(fromFlags.port, 6400);
  assert.equal(fromFlags.node, 'n2');
  const overridden = clusterOf('url=redis://127.0.0.1:6379;name=prod;node=a', { node: 'b' })!;
  assert.equal(overridden.node, 'b');
  assert.equal(overridden.name, 'prod');
  assertConfigError(() => clusterOf(undefined, { node: 'b' }), '--node', /needs a cluster/);
  assertConfigError(() => clusterOf(undefined, { url: 'ftp://x' }), '--cluster: url', /not a Redis scheme/);
  assert.equal((parseRunArgs(['x.ts'], {}) as { cluster?: unknown }).cluster, undefined);
});
