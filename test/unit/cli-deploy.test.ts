/**
 * deploy/: the systemd unit and the Dockerfile start `ptimer run` with flags it accepts,
 * and their stop timeouts leave room for ptimer's own --stop-timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { parseRunArgs } from '../../src/cli/run.js';

const root = new URL('../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');

/** The `ptimer run ...` arguments of a command line. */
function runArgs(words: string[]): string[] {
  const i = words.indexOf('run');
  assert.ok(i > 0 && /ptimer$/.test(words[i - 1]!), `no "ptimer run" in ${words.join(' ')}`);
  return words.slice(i + 1);
}

test('the systemd unit: flags ptimer accepts, TimeoutStopSec above --stop-timeout, SIGHUP reload, restart on failure', () => {
  const unit = read('deploy/ptimer.service');
  const setting = (key: string) => {
    const m = new RegExp(`^${key}=(.*)$`, 'm').exec(unit);
    assert.ok(m, `${key} is set`);
    return m[1]!;
  };
  const settings = parseRunArgs(runArgs(setting('ExecStart').split(/\s+/)), {});
  assert.notEqual(settings, 'help');
  if (settings === 'help') return;
  assert.deepEqual(settings.http, { host: '127.0.0.1', port: 8711 });
  assert.equal(settings.socket, '/run/ptimer/ptimer.sock');
  assert.ok(settings.stopTimeoutMs !== undefined, '--stop-timeout given, so the two timeouts are kept together');
  const stopSec = Number(setting('TimeoutStopSec'));
  assert.ok(
    stopSec * 1000 >= settings.stopTimeoutMs + 2000,
    `TimeoutStopSec=${stopSec} leaves 2 s over --stop-timeout ${settings.stopTimeoutMs}`,
  );
  assert.equal(setting('ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.equal(setting('Restart'), 'on-failure');
  assert.equal(setting('KillSignal'), 'SIGTERM');
  assert.equal(setting('RuntimeDirectory'), 'ptimer', '/run/ptimer exists for the socket');
});

test('the Dockerfile: flags ptimer accepts (with a token for 0.0.0.0), files it copies exist, stop timeouts agree', () => {
  const docker = read('deploy/Dockerfile');
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(docker)![1]!) as string[];
  const settings = parseRunArgs(runArgs(cmd), { PTIMER_RPC_TOKEN: 'a-token-of-32-characters-abcdefg' });
  assert.notEqual(settings, 'help');
  if (settings === 'help') return;
  assert.deepEqual(settings.http, { host: '0.0.0.0', port: 8711 });
  assert.equal(settings.token, 'a-token-of-32-characters-abcdefg', 'the token comes from the environment');
  const dockerStop = Number(/--stop-timeout (\d+) ptimer/.exec(docker)![1]);
  assert.ok(
    dockerStop * 1000 >= settings.stopTimeoutMs! + 2000,
    `docker --stop-timeout ${dockerStop} s vs ptimer's ${settings.stopTimeoutMs} ms`,
  );
  assert.match(docker, /^EXPOSE 8711$/m);
  assert.match(docker, /^USER node$/m);
  for (const m of docker.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
    for (const src of m[1]!.split(/\s+/)) assert.ok(existsSync(new URL(src, root)), `COPY ${src} exists`);
  }
  const health = JSON.parse(/CMD (\["ptimer", "rpc".*\])$/m.exec(docker)![1]!) as string[];
  assert.ok(health.includes(settings.socket!), 'the health check asks the socket ptimer serves');
});
