/**
 * `ptimer run --data FILE.json`: the flag is parsed, the file is read and parsed with errors
 * that name the file and what is wrong (JSON's own message, with line and column), and it is
 * bounded in size. No timer starts here: a bad --data file fails before anything is opened.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/cli.js';
import { parseRunArgs } from '../../src/cli/run.js';
import { readDataFile, MAX_DATA_FILE_BYTES } from '../../src/cli/data-file.js';
import { CliError } from '../../src/cli/args.js';
import { RUN_HELP } from '../../src/cli/help.js';

let dir: string;
const file = (name: string, text: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ptimer-data-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function fails(fn: () => unknown, message: RegExp) {
  assert.throws(fn, (err: unknown) => err instanceof CliError && message.test(err.message), String(message));
}

test('--data is parsed as a file name and shown in --help', () => {
  assert.equal(
    (parseRunArgs(['x.config.ts', '--data', 'sets.json'], {}) as { dataFile?: string }).dataFile,
    'sets.json',
  );
  assert.equal('dataFile' in (parseRunArgs(['x.config.ts'], {}) as object), false);
  assert.match(RUN_HELP, /--data FILE\.json\s+ctx\.data in every route/);
  assert.throws(() => parseRunArgs(['--data'], {}), /--data/);
});

test('a JSON file becomes the value, any JSON value, a byte-order mark tolerated', () => {
  assert.deepEqual(readDataFile(file('ok.json', '{"sets": {"eu": ["gw1", "gw2"]}, "n": 3}\n')), {
    sets: { eu: ['gw1', 'gw2'] },
    n: 3,
  });
  assert.deepEqual(readDataFile(file('array.json', '[1, "two", null]')), [1, 'two', null]);
  assert.equal(readDataFile(file('number.json', ' 42 ')), 42);
  assert.deepEqual(readDataFile(file('bom.json', '\ufeff{"a": 1}')), { a: 1 });
  const unicode = { name: 'caf\u00e9 \u{1f600}' };
  assert.deepEqual(readDataFile(file('unicode.json', JSON.stringify(unicode))), unicode);
});

test('bad files: each error names the file and what is wrong', () => {
  fails(() => readDataFile(join(dir, 'missing.json')), /^--data .*missing\.json: cannot read it: no such file$/);
  fails(() => readDataFile(dir), /: is a directory; give a JSON file$/);
  fails(() => readDataFile(file('empty.json', '  \n')), /empty\.json: the file is empty; it must hold one JSON value/);
  const bad = file('bad.json', '{\n  "a": 1,\n  "b": }\n');
  fails(() => readDataFile(bad), /bad\.json: not valid JSON.*Unexpected token/);
  const cut = file('cut.json', '{\n  "a": 1\n  "b": 2\n}');
  fails(
    () => readDataFile(cut),
    /cut\.json: not valid JSON \(line 3, column 3\): Expected ',' or '\}' after property value/,
  );
  fails(() => readDataFile(file('js.json', "{ a: 'single' }")), /js\.json: not valid JSON/);
});

test('the size is bounded: a file over the bound is refused before it is parsed', () => {
  assert.equal(MAX_DATA_FILE_BYTES, 64 * 2 ** 20);
  const big = file('big.json', `[${'1,'.repeat(600)}1]`);
  fails(() => readDataFile(big, 1000), /big\.json: 1203 bytes; at most 1000 \(.* MiB\)/);
  assert.equal((readDataFile(big, 1203) as number[]).length, 601);
  // A device that never ends is cut at the bound too (read, not stat, decides).
  fails(() => readDataFile('/dev/zero', 4096), /\/dev\/zero: more than 4096 bytes/);
});

test('ptimer run --data with a bad file exits 1 with the file and the JSON error, before any server or worker', async () => {
  const bad = file('run-bad.json', '{"sets": [1, 2] "x": 1}');
  let out = '';
  let err = '';
  const code = await main(
    ['run', 'test/fixtures/cli/e2e.config.ts', '--no-http', '--socket', join(dir, 'never.sock'), '--data', bad],
    {
      out: (t: string) => void (out += t),
      err: (t: string) => void (err += t),
    },
  );
  assert.equal(code, 1, err);
  assert.match(err, /^ptimer run: --data .*run-bad\.json: not valid JSON \(line 1, column 17\)/);
  assert.equal(out, '');
});
