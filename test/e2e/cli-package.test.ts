/**
 * The npm package as `npm pack` would make it (dry run, no scripts): the files a user needs,
 * source maps whose sources are in the package, nothing from tests or caches, and the
 * repository/homepage/bugs fields. Needs dist/ (npm test builds it first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { ROOT } from '../fixtures/cli/harness.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const packed = JSON.parse(
  execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }),
)[0] as {
  files: Array<{ path: string }>;
};
const files = new Set(packed.files.map((f) => f.path));

test('the package holds what a user needs, and nothing from tests or caches', () => {
  for (const f of [
    'package.json',
    'README.md',
    'LICENSE',
    'CHANGELOG.md',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/cli/main.js',
    'deploy/ptimer.service',
    'deploy/Dockerfile',
    'docs/grafana-dashboard.json',
    'src/index.ts',
  ]) {
    assert.ok(files.has(f), `${f} is packed`);
  }
  for (const f of files) assert.doesNotMatch(f, /(^|\/)(test|\.ptimer-cache|node_modules)\/|^docs\/api\//, f);
});

/**
 * A dist/ file whose source is gone (a module removed since the last build) is a leftover of this
 * working copy: `npm pack` and `npm publish` run prepack, which empties dist/ and builds it anew.
 */
const leftover = (f: string) =>
  f.startsWith('dist/') &&
  !existsSync(join(ROOT, f.replace(/^dist\//, 'src/').replace(/(\.d\.ts|\.js\.map|\.js)$/, '.ts')));

test('prepack builds dist/ from scratch, so that no leftover of an earlier build is packed', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.match(pkg.scripts.prepack, /rmSync\('dist'.*&& npm run build$/);
});

test('every source map in dist/ resolves: its sources are in the package, and each .js names a packed map', () => {
  const maps = [...files].filter((f) => f.endsWith('.js.map') && !leftover(f));
  assert.ok(maps.length > 20, `maps: ${maps.length}`);
  for (const map of maps) {
    const m = JSON.parse(readFileSync(join(ROOT, map), 'utf8')) as { sources: string[]; sourceRoot?: string };
    for (const source of m.sources) {
      const resolved = normalize(join(dirname(map), m.sourceRoot ?? '', source));
      assert.ok(files.has(resolved), `${map}: source ${source} (${resolved}) is not in the package`);
    }
  }
  for (const js of [...files].filter((f) => f.startsWith('dist/') && f.endsWith('.js') && !leftover(f))) {
    const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(ROOT, js), 'utf8'))?.[1];
    if (ref === undefined) continue;
    assert.ok(files.has(normalize(join(dirname(js), ref))), `${js} names ${ref}, which is not packed`);
  }
});

test('package.json: MIT as the LICENSE file says, repository, homepage and bugs', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(pkg.license, 'MIT');
  assert.match(
    readFileSync(join(ROOT, 'LICENSE'), 'utf8'),
    /^MIT License\n\nCopyright \(c\) \d{4} the ptimer authors\n/,
  );
  assert.equal(pkg.repository.type, 'git');
  assert.match(pkg.repository.url, /^git\+https:\/\/.+\.git$/);
  assert.match(pkg.homepage, /^https:\/\//);
  assert.match(pkg.bugs.url, /^https:\/\/.+\/issues$/);
  assert.equal(pkg.type, 'module');
  assert.match(pkg.scripts.test, /npm run docs/, 'the API reference is built in the tests');
});

test('CHANGELOG.md follows Keep a Changelog: Unreleased first, then 0.1.0 with a date', () => {
  const text = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
  const versions = [...text.matchAll(/^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(versions[0], ['Unreleased', undefined]);
  assert.deepEqual(versions[1]![0], '0.1.0');
  assert.match(versions[1]![1]!, /^\d{4}-\d{2}-\d{2}$/);
  assert.match(text, /^\[Unreleased\]: /m);
});
