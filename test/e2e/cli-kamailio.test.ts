/**
 * End to end with Kamailio-style files: `ptimer check FILE.cfg --routes routes.ts` on the
 * reference's examples, and `ptimer run` on the queue-control example driven with the
 * reference's own operator commands.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, freePort, rpcHttp, runCli, waitFor, workersOf } from '../fixtures/cli/harness.js';

const K = 'test/fixtures/kamailio';
const ROUTES = `${K}/routes.ts`;
const servers: Server[] = [];
after(async () => {
  for (const s of servers) await s.kill();
});

test('ptimer check passes every example as meant, with its timers printed', async () => {
  const expected: Record<string, RegExp[]> = {
    '7.1-call-rate.cfg': [
      /^queue_timer\s+3 \(synced-slice\)\s+100ms\s+8\s+1000\s+80\s+auto.*QUEUE_START\s+QUEUE_LOOP\s+-$/m,
    ],
    '7.2-per-customer.cfg': [0, 1, 2].map(
      (i) => new RegExp(`^customer_${i}\\s+3 \\(synced-slice\\)\\s+100ms\\s+1\\s+8\\s+10\\s`, 'm'),
    ),
    '7.3-adaptive-routing.cfg': [/^route_optimizer\s+0 \(basic\)\s+500ms\s+3\s+0\s+1\s/m],
    '7.4-queue-control.cfg': [
      /^normal_timer\s+1 \(sync\)\s+100ms\s+1\s/m,
      /^holiday_timer\s+1 \(sync\)\s+100ms\s+1\s/m,
    ],
    '7.5-hot-reload.cfg': [/^t1\s+3 \(synced-slice\)\s+100ms\s+1\s+0\s+10\s.*GET_DATA\s+HANDLE_DATA/m],
    'defaults.cfg': [/^defaults_timer\s+3 \(synced-slice\)\s+10s\s+8\s+0\s+1\s/m],
    'full-kamailio.cfg': [/^queue_timer\s+3 \(synced-slice\)/m],
  };
  for (const [file, patterns] of Object.entries(expected)) {
    const r = await runCli(['check', `${K}/${file}`, '--routes', ROUTES]);
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^${K}/${file.replace(/\./g, '\\.')}: OK, \\d+ timers?\\n`), file);
    for (const p of patterns) assert.match(r.stdout, p, `${file}\n${r.stdout}`);
  }
  const notices = await runCli(['check', `${K}/7.1-call-rate.cfg`, '--routes', ROUTES]);
  assert.match(
    notices.stderr,
    /^notice: .*7\.1-call-rate\.cfg:2: loadmodule "mqueue\.so" ignored$/m,
    'notices go to stderr',
  );
  assert.doesNotMatch(notices.stdout, /notice:/);
  // Line 4 defines an mqueue, which ptimer reads as a queue: no notice for it.
  assert.doesNotMatch(notices.stderr, /^notice: .*:4: /m);
});

test('ptimer check --json prints the resolved timers with every default', async () => {
  const r = await runCli(['check', `${K}/defaults.cfg`, '--routes', ROUTES, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.timers.length, 1);
  assert.equal(json.timers[0].name, 'defaults_timer');
  assert.equal(json.timers[0].type, 3);
  assert.equal(json.timers[0].interval, '10s');
  assert.equal(json.timers[0].nworkers, 8);
  assert.deepEqual(json.warnings, []);
});

test('ptimer check fails with exit 1 and a line number: as written (second loop route), unquoted, misspelt', async () => {
  const cases: Array<[string, RegExp]> = [
    [
      '7.4-queue-control.as-written.cfg',
      /^ptimer check: test\/fixtures\/kamailio\/7\.4-queue-control\.as-written\.cfg:6:\d+: second loop route for timer "normal_timer"/,
    ],
    [
      '7.5-hot-reload.as-written.cfg',
      /^ptimer check: .*7\.5-hot-reload\.as-written\.cfg:4:\d+: second loop route for timer "t1"/,
    ],
    [
      'defaults-unquoted.cfg',
      /^ptimer check: .*defaults-unquoted\.cfg:3:40: modparam\("ptimer", "default_interval", 100ms\): 100ms is not a value/,
    ],
    ['defaults-misspelt.cfg', /^ptimer check: .*defaults-misspelt\.cfg:4:40: .*10ous is not a value/],
    ['section8-verbatim.cfg', /^ptimer check: .*section8-verbatim\.cfg:49:40: /],
  ];
  for (const [file, message] of cases) {
    const r = await runCli(['check', `${K}/${file}`, '--routes', ROUTES]);
    assert.equal(r.code, 1, file);
    assert.equal(r.stdout, '', file);
    assert.match(r.stderr, message, file);
    assert.equal(r.stderr.trim().split('\n').length, 1, file);
  }
});

test('ptimer check without --routes resolves, with a note; a missing route is an error with --routes', async () => {
  const r = await runCli(['check', `${K}/7.3-adaptive-routing.cfg`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^notice: route names not checked: no --routes MODULE given$/m);
  const missing = await runCli(['check', `${K}/7.1-call-rate.cfg`, '--routes', 'test/fixtures/cli/slow-end.config.ts']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /QUEUE_(START|LOOP)/);
});

test('ptimer run FILE.cfg needs --routes', async () => {
  const r = await runCli(['run', `${K}/7.4-queue-control.cfg`, '--no-http', '--socket', '/tmp/unused.sock']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /is a Kamailio-style file: give the module that exports its routes with --routes MODULE/);
});

test("ptimer run FILE.cfg --routes: the reference's queue-control operator commands", async () => {
  const port = await freePort();
  const server = new Server([`${K}/7.4-queue-control.cfg`, '--routes', ROUTES, '--http', `127.0.0.1:${port}`]);
  servers.push(server);
  await waitFor('both timers looping', async () => {
    if (!server.running) throw new Error(server.stderr);
    const list = (await rpcHttp(port, 'ptimer.list')).result;
    return list?.length === 2 && list.every((t: any) => t.workers[0]?.route === 'loop');
  });
  const url = `http://127.0.0.1:${port}`;
  // ptimer.pause normal_timer / ptimer.continue holiday_timer / ptimer.pause holiday_timer / ptimer.continue normal_timer
  const steps: Array<[string, string, { normal: boolean; holiday: boolean }]> = [
    ['ptimer.pause', 'normal_timer', { normal: true, holiday: false }],
    ['ptimer.continue', 'holiday_timer', { normal: true, holiday: false }],
    ['ptimer.pause', 'holiday_timer', { normal: true, holiday: true }],
    ['ptimer.continue', 'normal_timer', { normal: false, holiday: true }],
  ];
  for (const [method, timer, paused] of steps) {
    const r = await runCli(['rpc', method, timer, '--url', url]);
    assert.equal(r.code, 0, `${method} ${timer}: ${r.stderr}`);
    assert.equal((await workersOf(port, 'normal_timer'))[0].paused, paused.normal, `${method} ${timer}`);
    assert.equal((await workersOf(port, 'holiday_timer'))[0].paused, paused.holiday, `${method} ${timer}`);
  }
  server.child.kill('SIGTERM');
  assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
});
