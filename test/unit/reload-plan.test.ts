/**
 * What a reload says changed names the attributes as a user writes them: `interval` (not the
 * resolved `intervalNs`), `type` (not `typeName`), each once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../src/config/resolve.js';
import { planReload } from '../../src/runtime/reload-plan.js';

const L = () => {};

test('a changed interval and type are named interval and type, once each', () => {
  const before = resolveConfig({ timer: ['name=t;type=1;interval=100ms'], loop: ['timer=t;route=L'] });
  const after = resolveConfig({ timer: ['name=t;type=0;interval=200ms;nworkers=2'], loop: ['timer=t;route=L'] });
  const plan = planReload(before, { L }, after, { L });
  assert.equal(plan.changed.length, 1);
  assert.equal(plan.changed[0]!.why, 'type, interval, nworkers changed');
});
