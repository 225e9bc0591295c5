/**
 * The deploy recipes, run as an operator runs them: the package as `npm pack` makes it,
 * installed globally into a temp prefix (as `npm install -g ptimer` does), and a config that
 * does `import { defineConfig } from 'ptimer'` in a read-only folder elsewhere, with no
 * node_modules near it (/etc/ptimer, a Docker volume).
 *
 * - The systemd unit: its ExecStart (ptimer found through PATH, WorkingDirectory the config
 *   folder, its flags), its ExecReload (kill -HUP $MAINPID), the control command of its head
 *   comment, then its KillSignal; the end route must run within TimeoutStopSec.
 * - The Dockerfile: its CMD and HEALTHCHECK in the image's layout (/app holding the package
 *   with its production dependencies, `ptimer` on PATH, the config in /config), then its
 *   STOPSIGNAL within docker's stop timeout. Only loopback is used here: the CMD's 0.0.0.0 is
 *   replaced by 127.0.0.1 (the token the Dockerfile asks for is still given).
 * - A .ts config in the read-only folder compiles to a cache the process can write; a broken
 *   import in it is reported naming the user's file, not the cache's.
 *
 * Running as root (CI's container), the servers run as `nobody`, like the unit's User=: root
 * writes through a read-only mode, nobody does not.
 *
 * Needs the built dist/ (npm test builds first) and npm's cache or registry for the
 * dependencies of the global install.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../support/wait.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const asRoot = process.getuid?.() === 0;
const TOKEN = 'a-deploy-test-token-0123456789abcdef';

let work: string;
let prefix: string;
let installed: string; // prefix/lib/node_modules/ptimer

const CONFIG_MJS = `import { defineConfig } from 'ptimer';
export default defineConfig({
  timer: ['name=beat;interval=20ms'],
  loop: ['timer=beat;route=BEAT'],
  end: ['timer=beat;route=BEAT_END'],
});
let said = false;
export function BEAT() { if (!said) { said = true; console.log('first tick'); } }
export function BEAT_END() { console.log('end route ran'); }
`;

const CONFIG_TS = CONFIG_MJS.replace(
  "import { defineConfig } from 'ptimer';",
  "import { defineConfig, type RouteContext } from 'ptimer';",
).replace('export function BEAT()', 'export function BEAT(_ctx: RouteContext)');

/** The command that runs a server: as nobody when we are root (so that read-only means read-only). */
function asService(command: string, args: string[]): [string, string[]] {
  return asRoot
    ? ['setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', command, ...args]]
    : [command, args];
}

interface Server {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function start(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Server {
  const [cmd, argv] = asService(command, args);
  const child = spawn(cmd, argv, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr.on('data', (b: Buffer) => (text += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => text, exited };
}

/** A folder nobody may write, with `files` in it (readable by everyone, so by `nobody` too). */
function readOnlyFolder(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text, { mode: 0o644 });
  chmodSync(dir, 0o555);
  return dir;
}

function serviceEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: `${join(prefix, 'bin')}:/usr/local/bin:/usr/bin:/bin`, ...extra };
}

before(() => {
  assert.ok(existsSync(join(root, 'dist/cli/main.js')), 'dist/ is built (npm run build)');
  work = mkdtempSync(join(tmpdir(), 'ptimer-deploy-'));
  chmodSync(work, 0o755);
  // npm pack as a release makes it (dist/ as built; prepack would only rebuild it).
  const packed = execFileSync(
    'npm',
    ['pack', '--ignore-scripts', '--loglevel=error', '--pack-destination', work, root],
    { cwd: work, encoding: 'utf8' },
  );
  const tarball = join(work, packed.trim().split('\n').pop()!);
  prefix = join(work, 'prefix');
  execFileSync(
    'npm',
    ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball],
    {
      cwd: work,
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 120_000,
    },
  );
  installed = join(prefix, 'lib/node_modules/ptimer');
  assert.ok(existsSync(join(prefix, 'bin/ptimer')), 'the global install put ptimer on its PATH');
  // No dev dependencies: neither typescript nor tsx (a .ts config is compiled by esbuild, a runtime dependency).
  for (const dev of ['typescript', 'tsx'])
    assert.ok(!existsSync(join(installed, 'node_modules', dev)), `no ${dev} in a global install`);
});

after(() => {
  if (!work) return;
  for (const d of readdirSync(work)) chmodSync(join(work, d), 0o755);
  rmSync(work, { recursive: true, force: true });
});

function unitSetting(unit: string, key: string): string {
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(unit);
  assert.ok(m, `the unit sets ${key}`);
  return m[1]!;
}

test('systemd unit: ExecStart from a global install runs a config in a read-only /etc/ptimer; reload, control, stop', async () => {
  const unit = readFileSync(join(root, 'deploy/ptimer.service'), 'utf8');
  const etc = readOnlyFolder('etc-ptimer', { 'ptimer.config.mjs': CONFIG_MJS });
  const runDir = join(work, 'run-ptimer'); // RuntimeDirectory=ptimer
  mkdirSync(runDir, { mode: 0o777 });
  chmodSync(runDir, 0o777);
  const socket = join(runDir, 'ptimer.sock');
  const words = unitSetting(unit, 'ExecStart')
    .replaceAll('/etc/ptimer', etc)
    .replaceAll('/run/ptimer', runDir)
    .replace(/--http 127\.0\.0\.1:\d+/, '--http 127.0.0.1:0')
    .split(/\s+/);
  assert.equal(words[0], '/usr/bin/env', 'ExecStart finds ptimer through PATH');
  assert.equal(unitSetting(unit, 'WorkingDirectory'), '/etc/ptimer');
  const env = serviceEnv({ NODE_ENV: /^Environment=NODE_ENV=(\S+)$/m.exec(unit)?.[1] });
  const server = start(words[0], words.slice(1), { cwd: etc, env });
  try {
    await waitFor('the first tick', () => server.out().includes('first tick'), 20_000);
    await waitFor('the control socket', () => server.out().includes('control interface ready'), 10_000);

    // ExecReload, as systemd runs it.
    const reload = unitSetting(unit, 'ExecReload').replace('$MAINPID', String(server.child.pid)).split(/\s+/);
    execFileSync(reload[0]!, reload.slice(1));
    await waitFor('the reload', () => server.out().includes('reload done'), 10_000);

    // The control command of the unit's head comment.
    const control = /`(ptimer rpc -s \S+ ptimer\.list)`/
      .exec(unit)![1]!
      .replace('/run/ptimer/ptimer.sock', socket)
      .split(' ');
    const [cmd, argv] = asService(join(prefix, 'bin', control[0]!), control.slice(1));
    const listed = execFileSync(cmd, argv, { env, encoding: 'utf8' });
    assert.match(listed, /beat/);

    assert.equal(unitSetting(unit, 'KillSignal'), 'SIGTERM');
    const stopSec = Number(unitSetting(unit, 'TimeoutStopSec'));
    const t0 = Date.now();
    server.child.kill('SIGTERM');
    const code = await server.exited;
    assert.ok(Date.now() - t0 < stopSec * 1000, 'stopped within TimeoutStopSec');
    assert.equal(code, 0, server.out());
    assert.match(server.out(), /end route ran/);
    assert.doesNotMatch(server.out(), /Cannot find package/);
  } finally {
    server.child.kill('SIGKILL');
  }
});

test("Dockerfile: CMD and HEALTHCHECK in the image's layout, config on a read-only /config, stop", async () => {
  const docker = readFileSync(join(root, 'deploy/Dockerfile'), 'utf8');
  // The image: /app is the package with its production dependencies, ptimer a link on PATH.
  const app = join(work, 'app');
  cpSync(installed, app, { recursive: true, verbatimSymlinks: true });
  const bin = join(work, 'image-bin');
  mkdirSync(bin);
  const link = /ln -s (\S+) \/usr\/local\/bin\/ptimer/.exec(docker);
  assert.ok(link, 'the Dockerfile links ptimer onto PATH');
  execFileSync('ln', ['-s', link[1]!.replace('/app', app), join(bin, 'ptimer')]);
  chmodSync(join(app, 'dist/cli/main.js'), 0o755);
  const config = readOnlyFolder('config', { 'ptimer.config.mjs': CONFIG_MJS });
  const runDir = join(work, 'image-run-ptimer');
  mkdirSync(runDir);
  chmodSync(runDir, 0o777);

  const inImage = (s: string) => s.replaceAll('/config/', `${config}/`).replaceAll('/run/ptimer/', `${runDir}/`);
  const cmd = (JSON.parse(/^CMD (\[.*\])$/m.exec(docker)![1]!) as string[])
    .map(inImage)
    .map((w) => (w === '0.0.0.0:8711' ? '127.0.0.1:0' : w));
  const env = { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, NODE_ENV: 'production', PTIMER_RPC_TOKEN: TOKEN };
  const server = start(cmd[0] === 'ptimer' ? join(bin, 'ptimer') : cmd[0]!, cmd.slice(1), { cwd: app, env });
  try {
    await waitFor('the first tick', () => server.out().includes('first tick'), 20_000);
    await waitFor('the control socket', () => server.out().includes('control interface ready'), 10_000);
    const health = (JSON.parse(/HEALTHCHECK[\s\S]*?CMD (\["ptimer", "rpc".*\])$/m.exec(docker)![1]!) as string[]).map(
      inImage,
    );
    const [hc, hargv] = asService(join(bin, 'ptimer'), health.slice(1));
    execFileSync(hc, hargv, { env, encoding: 'utf8' }); // exit 0: healthy

    assert.match(docker, /^STOPSIGNAL SIGTERM$/m);
    const dockerStopSec = Number(/--stop-timeout (\d+) ptimer/.exec(docker)![1]);
    const t0 = Date.now();
    server.child.kill('SIGTERM');
    const code = await server.exited;
    assert.ok(Date.now() - t0 < dockerStopSec * 1000, "stopped within docker's stop timeout");
    assert.equal(code, 0, server.out());
    assert.match(server.out(), /end route ran/);
  } finally {
    server.child.kill('SIGKILL');
  }
});

test('a .ts config in a read-only folder: compiled to a cache ptimer can write; a broken import names the user file', async () => {
  const folder = readOnlyFolder('ts-config', {
    'ptimer.config.ts': CONFIG_TS,
    'broken.config.ts': `import { defineConfig } from 'ptimer';\nimport { nothing } from 'no-such-package-here';\nexport default defineConfig({ timer: ['name=t'] });\nexport const x = nothing;\n`,
  });
  const env = serviceEnv();
  const server = start(join(prefix, 'bin/ptimer'), ['run', join(folder, 'ptimer.config.ts'), '--http', '127.0.0.1:0'], {
    cwd: work,
    env,
  });
  try {
    await waitFor('the first tick', () => server.out().includes('first tick'), 20_000);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.out());
    assert.match(server.out(), /end route ran/);
  } finally {
    server.child.kill('SIGKILL');
  }
  assert.ok(!existsSync(join(folder, '.ptimer-cache')), 'nothing written into the read-only folder');

  const [cmd, argv] = asService(join(prefix, 'bin/ptimer'), ['check', join(folder, 'broken.config.ts')]);
  const result = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const child = spawn(cmd, argv, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b.toString()));
    child.stderr.on('data', (b: Buffer) => (text += b.toString()));
    child.on('exit', (code) => resolve({ code, text }));
  });
  assert.notEqual(result.code, 0);
  assert.match(result.text, /no-such-package-here/);
  assert.ok(result.text.includes(join(folder, 'broken.config.ts')), `the error names the user's file: ${result.text}`);
  assert.doesNotMatch(result.text, /ptimer-cache/, 'not the cache file');
});
