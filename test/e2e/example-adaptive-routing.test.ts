/**
 * examples/adaptive-routing end to end: the optimizer's workers mark destinations up and down in
 * `dst_kpi` from the KPIs the host writes into `kpi_in`, and the host's calls follow the marks
 * (away from gw-eu-1 while its MOS is low, back when it recovers; "no route" when a whole set is
 * down); the worker of the unknown set `apac` ended at start. Then the same config under
 * `ptimer run --data data.json` (ctx.data from the CLI), and without --data (every start fails,
 * saying what is missing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRouting, FEED } from '../../examples/adaptive-routing/main.js';
import { Server, freePort, waitFor, workersOf } from '../fixtures/cli/harness.js';

const CONFIG = 'examples/adaptive-routing/config.ts';
const DATA = 'examples/adaptive-routing/data.json';
/** How long a change of KPIs may take to show in the marks: one 500 ms run, plus a loaded machine's delays. */
const REACT_MS = 1_500;

test('marks follow the KPIs, calls follow the marks, the unknown set ends its worker', async () => {
  const s = await runRouting({ seconds: 6 });
  assert.deepEqual(
    s.workers.map((w) => [w.worker, w.state, w.errors]),
    [
      [0, 'running', 0],
      [1, 'running', 0],
      [2, 'ended', 0],
    ],
  );
  assert.equal(s.workers[2]!.route, 'none');
  const [degradeAt, , , recoverAt] = FEED.map((f) => f[0]);
  const eu1 = s.marks.filter((m) => m.dst === 'gw-eu-1');
  const down = eu1.find((m) => m.up === false);
  assert.ok(
    down && down.at >= degradeAt! && down.at <= degradeAt! + REACT_MS,
    `gw-eu-1 marked down after its MOS dropped at ${degradeAt} ms: ${JSON.stringify(eu1)}`,
  );
  assert.match(down.why!, /^mos 2\.9 < 3\.5$/);
  const up = eu1.find((m) => m.up === true && m.at > down.at);
  assert.ok(
    up && up.at >= recoverAt! && up.at <= recoverAt! + REACT_MS,
    `gw-eu-1 up again after it recovered at ${recoverAt} ms: ${JSON.stringify(eu1)}`,
  );

  const eu = s.calls.filter((c) => c.set === 'eu');
  const firstUp = eu1.find((m) => m.up === true)!;
  assert.ok(firstUp.at <= 500, `marked from the start route on: ${JSON.stringify(eu1)}`);
  const before = eu.filter((c) => c.at >= firstUp.at && c.at < down.at);
  const during = eu.filter((c) => c.at >= down.at && c.at < up.at);
  const after = eu.filter((c) => c.at >= up.at);
  for (const [calls, dst, what] of [
    [before, 'gw-eu-1', 'before the drop'],
    [during, 'gw-eu-2', 'while gw-eu-1 is down'],
    [after, 'gw-eu-1', 'after it recovered'],
  ] as const) {
    assert.ok(calls.length >= 5, `calls ${what}: ${calls.length}`);
    assert.deepEqual([...new Set(calls.map((c) => c.dst))], [dst], `eu calls ${what}`);
  }
  // Both us destinations go down at 2 s: no route for us after both marks.
  const usDown = Math.max(
    ...['gw-us-1', 'gw-us-2'].map((d) => s.marks.find((m) => m.dst === d && m.up === false)?.at ?? Infinity),
  );
  assert.ok(usDown <= 2_000 + REACT_MS, JSON.stringify(s.marks));
  const usAfter = s.calls.filter((c) => c.set === 'us' && c.at >= usDown);
  assert.ok(usAfter.length >= 5 && usAfter.every((c) => c.dst === null), 'no route for us once both are down');
  assert.ok(
    s.calls.filter((c) => c.set === 'apac').every((c) => c.dst === null),
    'apac has no worker: never routed',
  );
});

test('ptimer run --data data.json: ctx.data from the CLI; without it, every start fails and says why', async () => {
  const port = await freePort();
  const withData = new Server([CONFIG, '--data', DATA, '--http', `127.0.0.1:${port}`, '--log-level', 'warn']);
  try {
    const workers = await waitFor('eu and us running, apac ended', async () => {
      if (!withData.running) throw new Error(`ptimer run exited: ${withData.stderr}`);
      const w = await workersOf(port, 'route_optimizer');
      return w.map((x) => x.state).join() === 'running,running,ended' ? w : undefined;
    });
    assert.deepEqual(
      workers.map((w: { errors: number }) => w.errors),
      [0, 0, 0],
    );
    assert.ok(
      withData.logs().some((l) => /unknown destination set "apac"/.test(String(l.msg))),
      withData.stdout,
    );
  } finally {
    await withData.kill();
  }
  const port2 = await freePort();
  const noData = new Server([CONFIG, '--http', `127.0.0.1:${port2}`, '--log-level', 'error']);
  try {
    await waitFor('every worker ended with an error', async () => {
      if (!noData.running) throw new Error(`ptimer run exited: ${noData.stderr}`);
      const w = await workersOf(port2, 'route_optimizer');
      return w.every((x) => x.state === 'ended' && x.errors === 1);
    });
    await waitFor('the error in the log', () =>
      noData.stdout.includes('route_optimizer needs its destination sets in ctx.data'),
    );
    assert.match(noData.stdout, /--data examples\/adaptive-routing\/data\.json/);
  } finally {
    await noData.kill();
  }
});
