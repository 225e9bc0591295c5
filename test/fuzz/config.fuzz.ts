/**
 * resolveConfig on generated configs (full count 10,000; `npm run fuzz`): any JSON-ish
 * value and worse (sparse arrays, objects without a prototype, bigints, symbols,
 * functions, getters that throw, cycles, Maps, Dates), in the places a config has values,
 * mixed with near-valid timer, route, queue and table strings. Each run either resolves
 * or throws a ConfigError whose message starts with the parameter it names, short enough
 * to read; anything else is a crash and fails the suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError, ConfigErrors, MAX_LISTED_PROBLEMS } from '../../src/config/errors.js';
import { CONFIG_KEYS, resolveConfig } from '../../src/config/resolve.js';
import { fuzzRuns } from '../support/fuzz-scale.js';

/** Values no JSON has: each a fresh one per case. */
const oddities: fc.Arbitrary<unknown> = fc
  .constantFrom(
    'symbol',
    'function',
    'throwing-getter',
    'cycle',
    'null-proto',
    'sparse',
    'bigint',
    'nan',
    'huge-string',
    'proxy',
  )
  .map((kind) => {
    switch (kind) {
      case 'symbol':
        return Symbol('s');
      case 'function':
        return function route() {};
      case 'throwing-getter':
        return Object.defineProperty({}, 'name', {
          enumerable: true,
          get() {
            throw new Error('getter');
          },
        });
      case 'cycle': {
        const cycle: Record<string, unknown> = { name: 'c' };
        cycle.self = cycle;
        return cycle;
      }
      case 'null-proto':
        return Object.assign(Object.create(null), { name: 'n', loop: 'L' });
      case 'sparse':
        // eslint-disable-next-line no-sparse-arrays
        return ['name=a', , 'name=b'];
      case 'bigint':
        return 12n;
      case 'nan':
        return Number.NaN;
      case 'huge-string':
        return `name=${'x'.repeat(70_000)}`;
      default:
        return new Proxy(
          {},
          {
            ownKeys: () => {
              throw new Error('proxy');
            },
          },
        );
    }
  });

const anything = fc.anything({
  maxDepth: 2,
  maxKeys: 4,
  withNullPrototype: true,
  withSparseArray: true,
  withBigInt: true,
  withMap: true,
  withDate: true,
  withBoxedValues: true,
  withTypedArray: true,
});

const nameish = fc.oneof(
  fc.constantFrom('t', 'q', 'a.b-c_1', 'pool', 'own', '', ' t ', 'a b', 'é'),
  fc.string({ maxLength: 12 }),
);
const numberish = fc.oneof(
  fc.constantFrom(
    '0',
    '1',
    '2',
    '3',
    '-1',
    '1.5',
    '1e3',
    '1024',
    '1025',
    '1000000001',
    '2147483648',
    '',
    'x',
    '10ms',
    '1s',
    '5/1s',
    '50/1s',
    '0/1s',
    '1/0',
  ),
  fc.integer({ min: -5, max: 2_000_000 }).map(String),
  fc.string({ maxLength: 8 }),
);
const attribute = fc
  .tuple(
    fc.constantFrom(
      'name',
      'type',
      'interval',
      'nworkers',
      'ntasks',
      'nslices',
      'spin',
      'thread',
      'paused',
      'limit',
      'timer',
      'route',
      'size',
      'addmode',
      'maxbytes',
      'autoexpire',
      'dbmode',
      'foo',
      'NAME',
      '',
    ),
    fc.oneof(nameish, numberish),
  )
  .map(([k, v]) => `${k}=${v}`);
/** Timer, route, queue and table strings: mostly well-formed pieces, sometimes broken. */
const attributeString = fc
  .tuple(
    fc.array(attribute, { maxLength: 6 }),
    fc.constantFrom(';', ';', ';;', ' ; ', ','),
    fc.option(fc.constantFrom('q=>', 'dst=>', '=>', 'a b=>'), { nil: undefined }),
  )
  .map(([parts, sep, arrow]) => `${arrow ?? ''}${parts.join(sep)}`);

const objectItem = fc.dictionary(
  fc.constantFrom(
    'name',
    'type',
    'interval',
    'nworkers',
    'ntasks',
    'nslices',
    'spin',
    'thread',
    'paused',
    'limit',
    'start',
    'loop',
    'end',
    'size',
    'maxBytes',
    'addmode',
    'autoexpire',
    'bogus',
    '__proto__',
  ),
  fc.oneof(nameish, numberish, fc.integer(), fc.boolean(), anything, oddities),
  { maxKeys: 6 },
);

const item = fc.oneof(
  { weight: 5, arbitrary: attributeString },
  { weight: 3, arbitrary: objectItem },
  { weight: 1, arbitrary: anything },
  { weight: 1, arbitrary: oddities },
);
const paramValue = fc.oneof(
  { weight: 4, arbitrary: fc.array(item, { maxLength: 5 }) },
  { weight: 2, arbitrary: item },
  { weight: 2, arbitrary: numberish },
  { weight: 1, arbitrary: fc.sparseArray(item, { maxLength: 5 }) },
  { weight: 1, arbitrary: anything },
  { weight: 1, arbitrary: oddities },
);
const configKey = fc.oneof(
  { weight: 9, arbitrary: fc.constantFrom(...CONFIG_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom('timers', 'defualt_type', '__proto__', 'constructor') },
);
const config = fc.oneof(
  { weight: 12, arbitrary: fc.dictionary(configKey, paramValue, { maxKeys: 8 }) },
  {
    weight: 1,
    arbitrary: fc.dictionary(configKey, paramValue, { maxKeys: 8 }).map((c) => Object.assign(Object.create(null), c)),
  },
  { weight: 1, arbitrary: anything },
  { weight: 1, arbitrary: oddities },
);

test('resolveConfig: any generated config resolves or throws a ConfigError naming its parameter', () => {
  const runs = fuzzRuns(10_000);
  let cases = 0;
  let resolved = 0;
  let rejected = 0;
  fc.assert(
    fc.property(config, (value) => {
      cases++;
      try {
        const result = resolveConfig(value);
        resolved++;
        for (const timer of result.timers) assert.equal(typeof timer.loop, 'string');
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        rejected++;
        assert.ok(
          error.message.startsWith(`${error.param}: `),
          `the message starts with the parameter: ${error.message.slice(0, 200)}`,
        );
        // Several problems come together, each as readable as one alone.
        const problems = error instanceof ConfigErrors ? error.errors : [error];
        assert.ok(
          error.message.length <= 1_500 * Math.min(problems.length, MAX_LISTED_PROBLEMS) + 100,
          'a readable list',
        );
        for (const problem of problems) {
          assert.ok(problem.param.length > 0, 'a ConfigError names a parameter');
          assert.ok(
            problem.message.startsWith(`${problem.param}: `),
            `the message starts with the parameter: ${problem.message.slice(0, 200)}`,
          );
          assert.ok(
            problem.message.length <= 1_500,
            `a readable message (${problem.message.length} chars): ${problem.message.slice(0, 200)}`,
          );
        }
      }
    }),
    { numRuns: runs },
  );
  assert.equal(cases, runs);
  console.log(`config fuzz: ${cases} cases, 0 crashes (${resolved} resolved, ${rejected} ConfigErrors)`);
});
