/**
 * hot-reload's host: a task-list server on 127.0.0.1 (its URL handed to the routes in `data`),
 * the timer t1 of config.ts, and the control interface (JSON-RPC over HTTP, `ptimer rpc --url`)
 * serving reportingControl (control.ts): a failed reload answers an error while t1 keeps serving.
 *
 *   node --import tsx examples/hot-reload/main.ts
 *       the walkthrough: serves version 1, changes the list and sends ptimer.start t1 over the
 *       RPC (reloaded), makes the server fail and sends it again (reported, last list kept),
 *       brings the server back with version 3 (reloaded); checks each step and exits (1 if a
 *       step did not hold)
 *   node --import tsx examples/hot-reload/main.ts --tasks FILE [--http 127.0.0.1:PORT]
 *       for you to try: serves FILE ({"version": ..., "tasks": [...]}, read at each request)
 *       until Ctrl-C; edit FILE (or break it), then `npx ptimer rpc --url URL ptimer.start t1`
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { PTimer, RpcDispatcher, connect, createMetrics, startHttpServer } from 'ptimer';
import { reportingControl } from './control.js';
import { fileSource, startTaskServer, type Answer } from './task-server.js';

const CONFIG = fileURLToPath(new URL('./config.ts', import.meta.url));

const { values } = parseArgs({
  options: {
    tasks: { type: 'string' },
    http: { type: 'string', default: '127.0.0.1:0' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: node --import tsx examples/hot-reload/main.ts [--tasks FILE] [--http 127.0.0.1:PORT]');
  process.exit(0);
}
const http = /^(127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})$/.exec(values.http);
if (!http || Number(http[2]) > 65535) {
  console.error(
    `--http must be a loopback HOST:PORT such as 127.0.0.1:8712 (port 0 picks a free one), got ${JSON.stringify(values.http)}`,
  );
  process.exit(2);
}

const list = (version: number, n: number) =>
  JSON.stringify({ version, tasks: Array.from({ length: n }, (_, i) => `task-${version}-${i + 1}`) });
let answer: Answer = { status: 200, body: list(1, 20) };
const tasks = await startTaskServer(values.tasks === undefined ? () => answer : fileSource(values.tasks));
const pt = await PTimer.fromFile(CONFIG, {
  log: { level: values.tasks === undefined ? 'fatal' : 'warn' },
  data: { tasksUrl: tasks.url, timeoutMs: 2_000 },
});
const control = reportingControl(pt);
const rpc = await startHttpServer({
  host: http[1]!.replace(/^\[|\]$/g, ''),
  port: Number(http[2]),
  dispatcher: new RpcDispatcher(control),
  metrics: createMetrics(control),
});
const table = pt.table('tasklist');
const serving = () => ({
  version: table.get('version') as string | undefined,
  ntasks: table.get('ntasks') as number | undefined,
  handled: (table.get(`handled:${table.get('version')}`) as number | undefined) ?? 0,
  state: pt.list()[0]!.workers[0]!.state,
});
pt.on('message', (m) => {
  if (m.event === 'tasks-failed') console.log(`  (event from t1: tasks-failed ${JSON.stringify(m.data)})`);
});
pt.on('routeError', (e) => console.log(`  (routeError from t1's ${e.route} route: ${e.message})`));

async function stop(code: number) {
  await pt.stop();
  await rpc.close();
  await tasks.close();
  process.exit(code);
}

await pt.run();
console.log(`task list at ${tasks.url}; control at ${rpc.url}`);

if (values.tasks !== undefined) {
  const file = values.tasks;
  console.log(`serving ${file}: edit it, then \`npx ptimer rpc --url ${rpc.url} ptimer.start t1\` (Ctrl-C stops)`);
  setInterval(() => {
    const s = serving();
    console.log(`t1 ${s.state}: version ${s.version ?? '(none)'}, ${s.ntasks ?? 0} tasks, ${s.handled} handled`);
  }, 1000);
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
} else {
  const client = connect({ url: rpc.url });
  const failures: string[] = [];
  /** Waits (at most 5 s) for t1 to serve `version` with `n` tasks, each handled at least once. */
  const until = async (what: string, version: string, n: number) => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const s = serving();
      if (s.state === 'running' && s.version === version && s.ntasks === n && s.handled >= n) {
        console.log(`  t1 serves version ${version}: ${n} tasks, ${s.handled} handled so far`);
        return;
      }
      if (Date.now() > deadline) {
        failures.push(`${what}: t1 did not serve version ${version} with ${n} tasks within 5 s (${JSON.stringify(s)})`);
        console.log(`  FAILED: ${failures.at(-1)}`);
        return;
      }
      await sleep(20);
    }
  };
  const start = async () => {
    try {
      const result = await client.start('t1');
      console.log(`  -> ok: ${JSON.stringify(result.workers)}`);
      return null;
    } catch (err) {
      console.log(`  -> error ${(err as { code?: number }).code}: ${(err as Error).message}`);
      return err as Error;
    }
  };

  console.log('1. the server has version 1 (20 tasks)');
  await until('at start', '1', 20);

  console.log(`2. the list changes to version 2 (35 tasks); ptimer rpc --url ${rpc.url} ptimer.start t1`);
  answer = { status: 200, body: list(2, 35) };
  if (await start()) failures.push('the reload of version 2 was refused');
  await until('after the reload', '2', 35);

  console.log('3. the server fails (503); ptimer.start t1 again');
  answer = { status: 503, body: 'down for maintenance' };
  const handledBefore = serving().handled;
  const error = await start();
  if (!error || !/not reloaded: GET .* HTTP 503.*keeps serving version 2 \(35 tasks\)/.test(error.message)) {
    failures.push(`the failed reload was not reported as such: ${error?.message ?? 'it answered ok'}`);
  }
  await until('after the failed reload', '2', 35);
  await sleep(300);
  if (serving().handled <= handledBefore) failures.push('t1 stopped handling the last good list');
  else console.log(`  t1 goes on with version 2: ${serving().handled - handledBefore} tasks handled since the failure`);

  console.log('4. the server is back with version 3 (10 tasks); ptimer.start t1');
  answer = { status: 200, body: list(3, 10) };
  if (await start()) failures.push('the reload of version 3 was refused');
  await until('after the server came back', '3', 10);

  await client.close();
  console.log(
    failures.length === 0 ? 'every step held' : `${failures.length} step(s) did not hold:\n${failures.join('\n')}`,
  );
  await stop(failures.length === 0 ? 0 : 1);
}
