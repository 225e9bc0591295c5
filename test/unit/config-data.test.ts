/** The queue and table parameters (mqueue and htable definitions), in every form. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.js';
import { resolveConfig } from '../../src/config/resolve.js';

const MiB = 1024 * 1024;

function assertConfigError(
  config: unknown,
  param: string,
  allowed: RegExp,
  origin?: { key: string; index?: number },
): void {
  assert.throws(
    () => resolveConfig(config),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.equal(error.param, param);
      assert.match(error.message, allowed);
      if (origin) assert.deepEqual(error.origin, origin);
      return true;
    },
  );
}

test('queues: string and object forms, defaults 10000 items, 16 MiB, addmode 0', () => {
  const { queues, warnings } = resolveConfig({
    queue: [
      'name=calls',
      'NAME=big;Size=10000000;AddMode=2;MaxBytes=1073741824;dbmode=1',
      { name: 'obj', size: 5, maxBytes: 100, addmode: 1 },
    ],
  });
  assert.deepEqual(queues, [
    { name: 'calls', size: 10_000, maxBytes: 16 * MiB, addmode: 0 },
    { name: 'big', size: 10_000_000, maxBytes: 1024 * MiB, addmode: 2 },
    { name: 'obj', size: 5, maxBytes: 100, addmode: 1 },
  ]);
  assert.deepEqual(warnings, ['queue[1]: "dbmode" ignored (ptimer\'s queues keep no database)']);
  assert.deepEqual(
    resolveConfig({ queue: 'name=one' }).queues.map((q) => q.name),
    ['one'],
  );
});

test('bad queues are errors naming the queue, the key and the range', () => {
  assertConfigError({ queue: 'size=5' }, 'queue', /a queue needs a name/);
  assertConfigError({ queue: ['name=a', 'name=a b'] }, 'queue[1]: name', /expected a non-empty name/, {
    key: 'queue',
    index: 1,
  });
  assertConfigError({ queue: 'name=q;size=0' }, 'queue "q": size', /expected a number of items from 1 to 10000000$/);
  assertConfigError({ queue: 'name=q;size=10000001' }, 'queue "q": size', /at most 10000000$/);
  assertConfigError({ queue: 'name=q;maxbytes=1073741825' }, 'queue "q": maxBytes', /from 1 to 1073741824/);
  assertConfigError(
    { queue: 'name=q;addmode=3' },
    'queue "q": addmode',
    /expected 0 \(add every item\), 1 \(keep the oldest item of a key\) or 2 \(replace the item of a key\)$/,
  );
  assertConfigError(
    { queue: 'name=q;color=red' },
    'queue',
    /unknown key "color": the keys are name, size, addmode, maxbytes, maxage, cluster$/,
  );
  assertConfigError({ queue: 'name=q;size=1;SIZE=2' }, 'queue', /key "size" is given twice/);
  assertConfigError({ queue: 'name=q;maxbytes=1;MAXBYTES=2' }, 'queue', /key "maxbytes" is given twice/);
  assertConfigError(
    { queue: { name: 'q', maxbytes: 5 } },
    'queue "q"',
    /not a queue key \(did you mean 'maxBytes'\?\); the keys are name, size, maxBytes, addmode, maxage, cluster$/,
  );
  assertConfigError({ queue: 5 }, 'queue', /expected a queue string/);
  assertConfigError(
    { queue: ['name=a', 'name=b', 'name=a'] },
    'queue[2]: name',
    /queue "a" is already defined \(queue\[0\]\); names must be unique$/,
    { key: 'queue', index: 2 },
  );
  const five = Array.from({ length: 5 }, (_, i) => `name=q${i};maxbytes=1073741824`);
  assertConfigError(
    { queue: five },
    'queue "q4": maxBytes',
    /the queues hold 5368709120 bytes in all, up to this one; at most 4294967296 \(4 GiB\) in all$/,
  );
  assertConfigError(
    { queue: Array.from({ length: 1001 }, (_, i) => `name=q${i}`) },
    'queue',
    /^queue: 1001 queues is not valid; at most 1000 queues$/,
  );
});

test("tables: htable's NAME=>... form, name=... form and objects; maxEntries = 2^size * 64, at most 1,000,000", () => {
  const { tables, warnings } = resolveConfig({
    table: [
      'dst_kpi=>size=8;autoexpire=60',
      'name=gw',
      { name: 'obj', size: 20 },
      ' spaced => size=1 ',
      "db=>dbtable=x;cols='a,b';size=14",
    ],
  });
  assert.deepEqual(tables, [
    { name: 'dst_kpi', size: 8, maxEntries: 256 * 64, autoexpire: 60 },
    { name: 'gw', size: 10, maxEntries: 1024 * 64, autoexpire: 0 },
    { name: 'obj', size: 20, maxEntries: 1_000_000, autoexpire: 0 },
    { name: 'spaced', size: 1, maxEntries: 128, autoexpire: 0 },
    { name: 'db', size: 14, maxEntries: 1_000_000, autoexpire: 0 },
  ]);
  assert.deepEqual(warnings, [
    'table[4]: "dbtable" ignored (ptimer\'s tables have no database or replication)',
    'table[4]: "cols" ignored (ptimer\'s tables have no database or replication)',
  ]);
});

test('bad tables are errors naming the table, the key and the range', () => {
  assertConfigError({ table: '=>size=4' }, 'table', /a table needs a name/);
  assertConfigError({ table: 'size=4' }, 'table', /a table needs a name/);
  assertConfigError({ table: 'a b=>size=4' }, 'table: name', /expected a non-empty name/);
  assertConfigError(
    { table: 't=>size=0' },
    'table "t": size',
    /expected an exponent \(2\^size buckets\) from 1 to 20$/,
  );
  assertConfigError({ table: 't=>size=21' }, 'table "t": size', /from 1 to 20; at most 20$/);
  assertConfigError(
    { table: 't=>autoexpire=-1' },
    'table "t": autoexpire',
    /expected a number of seconds from 0 to 2147483647$/,
  );
  assertConfigError({ table: 't=>autoexpire=1.5' }, 'table "t": autoexpire', /a number of seconds/);
  assertConfigError({ table: 't=>name=u' }, 'table', /unknown key "name": the keys are size, autoexpire$/);
  assertConfigError({ table: 't=>Size=4' }, 'table', /unknown key "Size"/);
  assertConfigError(
    { table: { name: 't', buckets: 4 } },
    'table "t"',
    /not a table key; the keys are name, size, autoexpire$/,
  );
  assertConfigError({ table: null }, 'table', /expected a table string/);
  assertConfigError(
    { table: ['t=>size=2', 'name=t'] },
    'table[1]: name',
    /table "t" is already defined \(table\[0\]\)/,
    { key: 'table', index: 1 },
  );
});

test('queues and tables are independent of timers: the same name may be a queue, a table and a timer', () => {
  const resolved = resolveConfig({ queue: 'name=x', table: 'x=>size=2', timer: 'name=x', loop: 'timer=x;route=L' });
  assert.deepEqual([resolved.queues[0]?.name, resolved.tables[0]?.name, resolved.timers[0]?.name], ['x', 'x', 'x']);
});
