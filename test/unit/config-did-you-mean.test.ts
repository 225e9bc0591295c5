/**
 * Config errors suggest the name meant when the one given is a slip (a parameter, a timer
 * attribute in an object or in a string, a route name), and nothing when no name is close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.js';
import { resolveConfig } from '../../src/config/resolve.js';

const fail = (config: unknown, options = {}) => {
  try {
    resolveConfig(config, options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('no ConfigError');
};

test('a mistyped parameter, object attribute or route name: did you mean', () => {
  assert.match(
    fail({ default_intervall: '1s', timer: ['name=t'], loop: ['timer=t;route=L'] }),
    /not a ptimer parameter \(did you mean 'default_interval'\?\)/,
  );
  assert.match(
    fail({ timer: [{ name: 't', loop: 'L', nworker: 2 }] }),
    /not a timer key \(did you mean 'nworkers'\?\)/,
  );
  const routes = { DRAIN_LOOP: () => {}, DRAIN_START: () => {} };
  assert.match(
    fail({ timer: ['name=t'], loop: ['timer=t;route=DRAIN_LOOPX'] }, { routeExports: routes }),
    /exports no function "DRAIN_LOOPX" \(did you mean 'DRAIN_LOOP'\?\)/,
  );
});

test('an unknown attribute in a timer string is a warning, with a did you mean', () => {
  const resolved = resolveConfig({ timer: ['name=t;nworker=2'], loop: ['timer=t;route=L'] });
  assert.deepEqual(resolved.warnings, [`timer "t": unknown attribute "nworker" ignored (did you mean 'nworkers'?)`]);
});

test('no suggestion when nothing is close', () => {
  assert.doesNotMatch(fail({ colour: 'red', timer: ['name=t'], loop: ['timer=t;route=L'] }), /did you mean/);
  assert.doesNotMatch(fail({ timer: [{ name: 't', loop: 'L', speed: 2 }] }), /did you mean/);
  assert.doesNotMatch(
    fail({ timer: ['name=t'], loop: ['timer=t;route=ELSEWHERE'] }, { routeExports: { DRAIN_LOOP: () => {} } }),
    /did you mean/,
  );
});
