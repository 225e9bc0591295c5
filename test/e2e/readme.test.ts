/**
 * The README, as a new npm user follows it: in a fresh project folder with `ptimer` installed
 * (linked to this checkout, as `npm install ptimer` would place it), every file the README
 * shows (a code block whose first line is `// NAME`, and its tsconfig.json) is written, `tsc`
 * checks them with that tsconfig, and every shell command it shows is run as written:
 * `ptimer check`, the long-running `ptimer run` (then the `ptimer rpc` commands against it, then
 * Ctrl-C: its end route runs), `npx tsx host.ts` (its output as the README says).
 *
 * The exceptions, each checked another way: `npm ci && npm start|test` (the scripts exist and
 * .ci/run runs `npm ci` then `npm test`), and `npm install X` (the packages are this one and
 * its dev dependencies, linked instead of downloaded). `ptimer run` gets a free loopback port
 * (`--http`) and `ptimer rpc` the matching `--url`: other servers may hold the default one.
 * A command this test does not know fails it, so a command added to the README gets run too.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../support/wait.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

interface Block {
  lang: string;
  text: string;
}

function blocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, text: m[2]! }));
}

const project = mkdtempSync(join(tmpdir(), 'ptimer-readme-'));
after(() => rmSync(project, { recursive: true, force: true }));

function link(name: string, target: string): void {
  const at = join(project, 'node_modules', name);
  mkdirSync(join(at, '..'), { recursive: true });
  symlinkSync(target, at);
}

/** `npm install NAMES...`, without the network: each must be this package or one of its dev dependencies. */
function install(names: string[]): void {
  for (const name of names) {
    if (name === pkg.name) {
      link('ptimer', root);
      link('.bin/ptimer', join(root, 'dist/cli/main.js'));
      chmodSync(join(root, 'dist/cli/main.js'), 0o755); // as npm makes a bin executable
      continue;
    }
    assert.ok(
      pkg.devDependencies[name] ?? pkg.dependencies[name],
      `README installs ${name}, which this package does not depend on`,
    );
    link(name, join(root, 'node_modules', name));
    const bin = (
      JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
        bin?: string | Record<string, string>;
      }
    ).bin;
    const bins = typeof bin === 'string' ? { [name]: bin } : (bin ?? {});
    for (const [command, file] of Object.entries(bins)) link(`.bin/${command}`, join(root, 'node_modules', name, file));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function sh(command: string, timeoutMs = 60_000): { code: number | null; out: string } {
  const r = spawnSync('bash', ['-c', command], {
    cwd: project,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test("the README's files compile with its tsconfig, and its commands run as shown", async (t) => {
  assert.ok(readme.split('\n').length < 400, 'the README stays under 400 lines');
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'my-timers', private: true, type: 'module' }, null, 2),
  );

  const all = blocks(readme);
  for (const b of all) {
    const name = /^\/\/ (\S+\.(?:ts|mts|js|mjs))\n/.exec(b.text)?.[1];
    if (name) writeFileSync(join(project, name), b.text);
  }
  const tsconfigs = all.filter((b) => b.lang === 'json' && b.text.includes('compilerOptions'));
  assert.equal(tsconfigs.length, 1, 'the README shows one tsconfig.json');
  writeFileSync(join(project, 'tsconfig.json'), tsconfigs[0]!.text);

  const commands = all
    .filter((b) => b.lang === 'sh')
    .flatMap((b) => b.text.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
  assert.ok(commands.length > 0);

  const port = await freePort();
  let server: { child: ChildProcess; out: () => string; exited: Promise<number | null> } | undefined;
  const ran: string[] = [];
  try {
    for (const command of commands) {
      let m: RegExpExecArray | null;
      if ((m = /^npm ci && npm (start|test)$/.exec(command))) {
        assert.ok(pkg.scripts[m[1]!], `package.json has a ${m[1]} script`);
        if (m[1] === 'test')
          assert.match(
            readFileSync(join(root, '.ci/run'), 'utf8'),
            /^npm ci\nnpm test$/m,
            'CI runs npm ci, then npm test',
          );
      } else if ((m = /^npm install (?:--save-dev )?([\w@/. -]+)$/.exec(command))) {
        install(m[1]!.split(/\s+/));
      } else if (/^\.\/node_modules\/\.bin\/ptimer run \S+$/.test(command)) {
        const child = spawn('bash', ['-c', `exec ${command} --http 127.0.0.1:${port}`], {
          cwd: project,
          env: { ...process.env, NO_COLOR: '1' },
        });
        let text = '';
        child.stdout.on('data', (b: Buffer) => (text += b.toString()));
        child.stderr.on('data', (b: Buffer) => (text += b.toString()));
        server = {
          child,
          out: () => text,
          exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
        };
        await waitFor(`"${command}" to serve`, () => text.includes('control interface ready'), 30_000);
        await waitFor('ten runs of the beat', () => text.includes('ten more runs'), 10_000);
      } else if (/^\.\/node_modules\/\.bin\/ptimer rpc /.test(command)) {
        assert.ok(server, `${command}: the README runs ptimer run before it`);
        const r = sh(`${command} --url http://127.0.0.1:${port}/RPC`);
        assert.equal(r.code, 0, `${command}: ${r.out}`);
        if (command.includes('ptimer.list')) assert.match(r.out, /beat/);
      } else if (/^npx ptimer check \S+$/.test(command)) {
        const r = sh(command);
        assert.equal(r.code, 0, `${command}: ${r.out}`);
      } else if (command === 'npx tsx host.ts') {
        const r = sh(command);
        assert.equal(r.code, 0, `${command}: ${r.out}`);
        const said = /after 1.5 s: (\d+) sent, (\d+) still queued/.exec(r.out);
        assert.ok(said, `${command} prints what was sent: ${r.out}`);
        t.diagnostic(`host.ts printed: ${said[0]}`);
        const [sent, queued] = [Number(said[1]), Number(said[2])];
        assert.equal(sent + queued, 100, 'every job sent or still queued');
        // limit=20/1s over 1.5 s: 40, give or take the window's edges (a loaded machine may send fewer).
        assert.ok(sent >= 15 && sent <= 60, `sent ${sent}`);
        assert.match(readme, /It prints `after 1.5 s: 40 sent, 60 still queued`/);
      } else {
        assert.fail(`a README command this test does not run: ${command}`);
      }
      ran.push(command);
    }
    assert.ok(server, 'the README runs ptimer run');
    server.child.kill('SIGINT'); // Ctrl-C
    assert.equal(await server.exited, 0, server.out());
    assert.match(server.out(), /beat ended/, 'Ctrl-C ran the end route');
    server = undefined;

    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], {
      cwd: project,
      encoding: 'utf8',
    });
    assert.equal(tsc.status, 0, `tsc with the README's tsconfig: ${tsc.stdout}${tsc.stderr}`);
  } finally {
    server?.child.kill('SIGKILL');
  }
  assert.ok(ran.includes('npx tsx host.ts') && ran.some((c) => c.includes('ptimer run')));
});

test('the source map names only files that exist', () => {
  const map = readFileSync(join(root, 'docs/ARCHITECTURE.md'), 'utf8');
  const named = new Set([...map.matchAll(/`((?:src\/)?[\w-]+(?:\/[\w-]+)*\.ts)`/g)].map((m) => m[1]!));
  assert.ok(named.size > 20);
  const all = spawnSync('git', ['ls-files', 'src'], { cwd: root, encoding: 'utf8' }).stdout.split('\n');
  for (const name of named) {
    const path = name.startsWith('src/') ? name : `/${name}`;
    assert.ok(
      all.some((f) => (name.startsWith('src/') ? f === path : f.endsWith(path))),
      `docs/ARCHITECTURE.md names ${name}, which is not in src/`,
    );
  }
});

test('the README links only files that exist, and the guides name no internal work items', () => {
  const guides = [
    'README.md',
    ...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/\]\((docs\/[\w.-]+\.md)\)/g),
  ].map((m) => (typeof m === 'string' ? m : m[1]!));
  for (const file of new Set(guides)) {
    const text = readFileSync(join(root, file), 'utf8');
    assert.doesNotMatch(text, /\bissue \d+|\(issue \d+\)/i, `${file} names an internal work item`);
    const dir = join(root, file, '..');
    for (const m of text.matchAll(/\]\(((?!https?:|#|mailto:)[^)\s#]+)(#[^)]*)?\)/g)) {
      const target = join(dir, m[1]!);
      assert.ok(spawnSync('test', ['-e', target]).status === 0, `${file} links ${m[1]}, which does not exist`);
    }
  }
});
