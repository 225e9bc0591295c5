/**
 * The module loader: a .ts config compiled once with esbuild (its local imports bundled,
 * packages left to Node), cached by content, evaluated once per content.
 * Real files in a temp folder; no clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
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
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  buildModule,
  CACHE_DIR_NAME,
  compileModule,
  importModule,
  routesModuleUrlForWorkers,
} from '../../src/runtime/load-module.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ptimer-compile-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const counter = (key: string) =>
  `(globalThis as any)[${JSON.stringify(key)}] = ((globalThis as any)[${JSON.stringify(key)}] ?? 0) + 1;`;

test('a .ts module with a local .ts import and a package import compiles, and its top-level code runs once', async (t) => {
  const key = `ptimerCompileOnce${Math.random()}`;
  const dir = project({
    'node_modules/fakepkg/package.json': JSON.stringify({ name: 'fakepkg', type: 'module', exports: './index.js' }),
    'node_modules/fakepkg/index.js': 'export const fromPackage = 42;',
    'lib/helper.ts': 'export const double = (n: number): number => n * 2;',
    'app.config.ts': `import { double } from './lib/helper.js';\nimport { fromPackage } from 'fakepkg';\n${counter(key)}\nexport default { answer: double(fromPackage) as number };\nexport function LOOP(): void {}\nexport const here: string = import.meta.url;\n`,
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'app.config.ts');
  const a = await importModule(file);
  const b = await importModule(pathToFileURL(file));
  assert.equal(a, b, 'the same namespace for the same unchanged file');
  assert.deepEqual(a.default, { answer: 84 });
  assert.equal(typeof a.LOOP, 'function');
  assert.equal(a.here, pathToFileURL(file).href, 'import.meta.url is the source file, not the compiled one');
  assert.equal((globalThis as Record<string, unknown>)[key], 1, 'top-level code ran once');
  const cache = join(dir, CACHE_DIR_NAME);
  assert.ok(existsSync(join(cache, '.gitignore')));
  const outputs = readdirSync(cache).filter((n) => n.endsWith('.mjs'));
  assert.equal(outputs.length, 1);
  const manifest = JSON.parse(readFileSync(join(cache, 'app.config.ts.json'), 'utf8'));
  assert.deepEqual(Object.keys(manifest.inputs).sort(), [file, join(dir, 'lib/helper.ts')].sort());
  const url = await routesModuleUrlForWorkers(file);
  assert.equal(url, pathToFileURL(join(cache, outputs[0]!)).href, 'workers get the compiled JavaScript');
  assert.match(readFileSync(join(cache, outputs[0]!), 'utf8'), /sourceMappingURL=data:application\/json/);
});

test('a changed local import is compiled again and evaluated afresh; an unchanged one is not', async (t) => {
  const dir = project({
    'lib/value.ts': 'export const value: number = 1;',
    'mod.ts': "export { value } from './lib/value.js';",
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'mod.ts');
  const first = await compileModule(file);
  assert.equal(await compileModule(file), first);
  assert.equal((await importModule(file)).value, 1);
  writeFileSync(join(dir, 'lib/value.ts'), 'export const value: number = 2;');
  const second = await compileModule(file);
  assert.notEqual(second, first);
  assert.equal((await importModule(file)).value, 2);
});

test('a JavaScript module is imported as is, and again when its content changes', async (t) => {
  const dir = project({ 'mod.mjs': 'export const v = 1;' });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'mod.mjs');
  const a = await importModule(file);
  assert.equal(await importModule(file), a);
  writeFileSync(file, 'export const v = 2;');
  assert.equal((await importModule(file)).v, 2);
  assert.equal(await routesModuleUrlForWorkers(file), pathToFileURL(file).href);
  assert.equal(existsSync(join(dir, CACHE_DIR_NAME)), false, 'nothing compiled for JavaScript');
});

test('a syntax error names the file, line and column', async (t) => {
  const dir = project({ 'broken.ts': 'export const x: number = ;\n' });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await assert.rejects(importModule(join(dir, 'broken.ts')), (err: Error) => {
    assert.match(err.message, /cannot compile .*broken\.ts: .*broken\.ts:1:\d+: /);
    return true;
  });
});

test('when the cache folder cannot be made next to the source, a temp folder is used and packages still resolve', async (t) => {
  const dir = project({
    'node_modules/fakepkg/package.json': JSON.stringify({ name: 'fakepkg', type: 'module', exports: './index.js' }),
    'node_modules/fakepkg/index.js': 'export const fromPackage = 7;',
    [CACHE_DIR_NAME]: 'a file where the folder would go',
    'mod.ts': "import { fromPackage } from 'fakepkg';\nexport const got: number = fromPackage;",
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const url = await compileModule(join(dir, 'mod.ts'));
  assert.ok(url.startsWith(pathToFileURL(tmpdir()).href), url);
  assert.equal((await importModule(join(dir, 'mod.ts'))).got, 7);
});

test('buildModule writes a production module with a source map beside it', async (t) => {
  const dir = project({
    'lib/a.ts': 'export const a: string = "A";',
    'cfg.ts': "import { a } from './lib/a.js';\nexport default { a };",
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'dist', 'cfg.mjs');
  const result = await buildModule(join(dir, 'cfg.ts'), out);
  assert.equal(result.outfile, out);
  assert.equal(result.inputs.length, 2);
  assert.match(readFileSync(out, 'utf8'), /\/\/# sourceMappingURL=cfg\.mjs\.map\n$/);
  const map = JSON.parse(readFileSync(`${out}.map`, 'utf8'));
  assert.deepEqual(map.sources.sort(), ['../cfg.ts', '../lib/a.ts']);
  assert.deepEqual((await import(pathToFileURL(out).href)).default, { a: 'A' });
  await assert.rejects(buildModule(out, join(dir, 'x.mjs')), /already JavaScript/);
});

test('a file that is not a module, or is missing, is refused with what is expected', async () => {
  await assert.rejects(importModule('/nonexistent/dir/cfg.ts'), /no such file/);
  await assert.rejects(importModule('/etc/hostname'), /expected a module ending in \.ts, \.mts, \.js, \.mjs/);
});

test('a worker thread imports what the main thread compiled, even when the source changed since (it never compiles)', async (t) => {
  const dir = project({ 'mod.ts': 'export const value: number = 1;' });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'mod.ts');
  const compiledUrl = await compileModule(file);
  writeFileSync(file, 'export const value: number = 2;'); // changed after the main thread compiled it
  // The source, loaded in the worker through tsx's API (a worker does not inherit --import tsx's hooks for eval code).
  const loader = new URL('../../src/runtime/load-module.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const worker = new Worker(
    `import { parentPort, workerData } from 'node:worker_threads';
     const { tsImport } = await import(workerData.tsx);
     const { importModule, routesModuleUrlForWorkers } = await tsImport(workerData.loader, workerData.loader);
     const ns = await importModule(workerData.file);
     parentPort.postMessage({ value: ns.value, url: await routesModuleUrlForWorkers(workerData.file) });`,
    { eval: true, workerData: { loader, file, tsx } },
  );
  const answer = await new Promise<{ value: number; url: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.deepEqual(answer, { value: 1, url: compiledUrl });
  assert.notEqual(await compileModule(file), compiledUrl, 'the main thread compiles the change');
});

test('a cache folder others may write is not used: the local one is passed over, a temp one refused', async (t) => {
  const dir = project({ 'mod.ts': 'export const v: number = 3;' });
  const tmp = mkdtempSync(join(tmpdir(), 'ptimer-tmpdir-'));
  const savedTmp = process.env.TMPDIR;
  t.after(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    rmSync(dir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  });
  mkdirSync(join(dir, CACHE_DIR_NAME));
  chmodSync(join(dir, CACHE_DIR_NAME), 0o777);
  process.env.TMPDIR = tmp;
  const url = await compileModule(join(dir, 'mod.ts'));
  assert.ok(url.startsWith(pathToFileURL(tmp).href), `the world-writable local cache was passed over: ${url}`);
  assert.deepEqual(readdirSync(join(dir, CACHE_DIR_NAME)), [], 'nothing written to it');

  const other = project({ 'mod.ts': 'export const v: number = 4;' });
  t.after(() => rmSync(other, { recursive: true, force: true }));
  mkdirSync(join(other, CACHE_DIR_NAME));
  chmodSync(join(other, CACHE_DIR_NAME), 0o777);
  const uid = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  chmodSync(join(tmp, `ptimer-cache-${uid}`), 0o777); // as if another user had made it first
  await assert.rejects(
    compileModule(join(other, 'mod.ts')),
    /neither .* nor .* can be written as a folder of this user's only/,
  );
});
