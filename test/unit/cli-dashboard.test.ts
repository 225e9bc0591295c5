/**
 * docs/grafana-dashboard.json: every metric it queries exists in what GET /metrics serves
 * (a real HTTP server on loopback over a fake control), and every panel reads the
 * dashboard's data source variable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RpcDispatcher } from '../../src/rpc/dispatcher.js';
import { startHttpServer } from '../../src/rpc/http-server.js';
import { createMetrics } from '../../src/rpc/metrics.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';
import { httpRequest } from '../fixtures/cli/harness.js';
import { parsePrometheusText } from '../fixtures/cli/prom-text.js';

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: Array<{ expr: string; datasource?: { uid: string } }>;
}
const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; definition?: string }> };
};

/** Metric names in a PromQL expression: words starting ptimer_ (label values and names are not ptimer_ words). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\bptimer_[a-zA-Z0-9_:]*/g)].map((m) => m[0]);
}

test('every metric the dashboard queries is served by /metrics', async (t) => {
  const control = new FakeControl([{ name: 'queue', nworkers: 2 }]);
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    dispatcher: new RpcDispatcher(control),
    metrics: createMetrics(control),
  });
  t.after(() => server.close(100));
  const port = Number(new URL(server.url).port);
  const answer = await httpRequest(port, { method: 'GET', path: '/metrics' });
  assert.equal(answer.status, 200);
  const exposition = parsePrometheusText(answer.body);
  const served = new Set([...exposition.types.keys(), ...exposition.samples.map((s) => s.name)]);

  const queries = [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((q) => ({ where: p.title, expr: q.expr }))),
    ...dashboard.templating.list
      .filter((v) => v.definition)
      .map((v) => ({ where: `variable ${v.name}`, expr: v.definition! })),
  ];
  assert.ok(queries.length >= 15, `queries: ${queries.length}`);
  const used = new Set<string>();
  for (const { where, expr } of queries) {
    const names = metricNames(expr);
    assert.ok(names.length > 0, `${where}: no ptimer metric in ${expr}`);
    for (const name of names) {
      used.add(name);
      assert.ok(served.has(name), `${where}: ${name} is not in /metrics`);
    }
  }
  // The dashboard shows every ptimer_ family of the timers (the process ones are a choice).
  for (const family of exposition.types.keys()) {
    if (/^ptimer_(process|nodejs)_/.test(family)) continue;
    assert.ok(
      [...used].some((n) => n === family || n.startsWith(`${family}_`)),
      `${family} is served but on no panel`,
    );
  }
});

test('the dashboard is well-formed: a uid, a data source variable every query uses, panels in the grid', () => {
  assert.equal(dashboard.uid, 'ptimer-overview');
  assert.ok(dashboard.templating.list.some((v) => v.name === 'datasource'));
  for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
    assert.equal(p.datasource?.uid, '${datasource}', p.title);
    for (const q of p.targets ?? []) assert.equal(q.datasource?.uid, '${datasource}', p.title);
  }
});
