/**
 * Redis unreachable (guarantee 6): a node with a local timer and a cluster timer; redis-server is
 * killed. The local timer goes on untouched; the cluster workers stop by the node's own clock
 * within the lease time (never run without a lease); the outage shows in /metrics. Redis comes
 * back (a new server on the same port: a new run_id, so the node waits out its quarantine) and the
 * cluster workers run again.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, freePort, httpRequest, waitFor } from '../fixtures/cli/harness.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

const TTL_MS = 900;
const dir = mkdtempSync(join(tmpdir(), 'ptimer-cluster-down-'));
const cleanup: Array<() => Promise<void>> = [];

after(async () => {
  for (const fn of cleanup) await fn();
  rmSync(dir, { recursive: true, force: true });
});

function runs(): Array<{ timer: string; at: number }> {
  const file = join(dir, 'runs.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => ({ timer: l.split(' ')[0]!, at: Number(l.split(' ')[1]) }));
}

test('Redis down: local timers go on, cluster workers stop within the lease time, and run again when Redis is back', async () => {
  let redis: RedisServer = await startRedis();
  cleanup.push(() => redis.stop());
  writeFileSync(
    join(dir, 'down.config.mjs'),
    `import { appendFileSync } from 'node:fs';
export default {
  timer: ['name=l;interval=100ms', 'name=c;interval=100ms;nworkers=2;cluster=1'],
  loop: ['timer=l;route=LOOP', 'timer=c;route=LOOP'],
  cluster: 'url=${redis.url};name=down;ttl=${TTL_MS}ms',
};
export function LOOP(ctx) { appendFileSync(${JSON.stringify(join(dir, 'runs.log'))}, ctx.ptimer.name + ' ' + Date.now() + '\\n'); }
`,
  );
  const port = await freePort();
  const node = new Server([join(dir, 'down.config.mjs'), '--node', 'solo', '--http', `127.0.0.1:${port}`]);
  cleanup.push(() => node.kill());
  const since = (timer: string, t: number) => runs().filter((r) => r.timer === timer && r.at > t);
  await waitFor(
    'both timers running',
    () => since('c', Date.now() - 300).length >= 2 && since('l', Date.now() - 300).length >= 2,
    20_000,
  );

  const killedAt = Date.now();
  await redis.kill(true);
  await new Promise((r) => setTimeout(r, 2 * TTL_MS));
  const lastCluster = Math.max(
    ...runs()
      .filter((r) => r.timer === 'c')
      .map((r) => r.at),
  );
  assert.ok(
    lastCluster < killedAt + TTL_MS,
    `a cluster worker ran ${lastCluster - killedAt} ms after Redis died (lease ${TTL_MS} ms)`,
  );
  const localRuns = since('l', killedAt).length;
  assert.ok(localRuns >= 10, `the local timer ran ${localRuns} times in ${2 * TTL_MS} ms without Redis`);
  const metrics = (await httpRequest(port, { method: 'GET', path: '/metrics' })).body;
  assert.match(metrics, /^ptimer_cluster_store_reachable 0$/m);
  assert.match(metrics, /^ptimer_cluster_leases_held 0$/m);
  assert.match(metrics, /^ptimer_cluster_round_errors_total [1-9]/m);

  // Back on the same port: a new server (new run_id), so the node takes no slot before its quarantine ends.
  const backAt = Date.now();
  redis = await startRedis({ port: redis.port, dir: redis.dir });
  await waitFor('cluster workers running again', () => since('c', backAt).length >= 4, 15_000);
  const resumedAfter = since('c', backAt)[0]!.at - backAt;
  console.log(
    `# cluster workers resumed ${resumedAfter} ms after Redis came back (quarantine 2 x ttl = ${2 * TTL_MS} ms, then a round)`,
  );
  assert.ok(
    resumedAfter >= 2 * TTL_MS - 100,
    `resumed ${resumedAfter} ms after Redis came back: inside the quarantine`,
  );
  const after = (await httpRequest(port, { method: 'GET', path: '/metrics' })).body;
  assert.match(after, /^ptimer_cluster_failovers_total 1$/m);
  assert.match(after, /^ptimer_cluster_store_reachable 1$/m);
});
