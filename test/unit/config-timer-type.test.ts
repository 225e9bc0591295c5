/** Timer types: two switches, bit 0 = synced pacing, bit 1 = slicing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.js';
import * as resolveModule from '../../src/config/resolve.js';
import {
  TIMER_TYPE_NAMES,
  isSliced,
  isSynced,
  parseTimerType,
  timerTypeFromName,
  timerTypeName,
} from '../../src/config/timer-type.js';

test('names by number', () => {
  assert.deepEqual([...TIMER_TYPE_NAMES], ['basic', 'sync', 'slice', 'synced-slice']);
  assert.equal(timerTypeName(0), 'basic');
  assert.equal(timerTypeName(3), 'synced-slice');
});

test('numbers by name; unknown names give undefined', () => {
  assert.equal(timerTypeFromName('basic'), 0);
  assert.equal(timerTypeFromName('sync'), 1);
  assert.equal(timerTypeFromName('slice'), 2);
  assert.equal(timerTypeFromName('synced-slice'), 3);
  for (const name of ['Sync', 'synced_slice', 'synced slice', '1', '', 'toString']) {
    assert.equal(timerTypeFromName(name), undefined, name);
  }
});

test('bit 0 is synced pacing, bit 1 is slicing', () => {
  assert.deepEqual(
    ([0, 1, 2, 3] as const).map((type) => [isSynced(type), isSliced(type)]),
    [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ],
  );
});

test('parseTimerType takes 0-3 as a number or digit string, or a name', () => {
  for (const [value, type] of [
    [0, 0],
    [3, 3],
    ['1', 1],
    ['2', 2],
    ['03', 3],
    ['basic', 0],
    ['synced-slice', 3],
  ] as const) {
    assert.equal(parseTimerType(value, 'default_type'), type, String(value));
  }
});

test('parseTimerType rejects anything else, listing the types', () => {
  for (const value of [4, -1, 1.5, '4', '-1', '1.0', ' 1', 'Sync', 'synced_slice', '', null, true, undefined]) {
    assert.throws(
      () => parseTimerType(value, 'default_type'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /^default_type: /);
        assert.match(
          error.message,
          /expected 0 \(basic\), 1 \(sync\), 2 \(slice\) or 3 \(synced-slice\), as a number or by name$/,
        );
        return true;
      },
      String(value),
    );
  }
});

test('resolve.js re-exports the helpers', () => {
  assert.equal(resolveModule.TIMER_TYPE_NAMES, TIMER_TYPE_NAMES);
  assert.equal(resolveModule.timerTypeFromName, timerTypeFromName);
  assert.equal(resolveModule.isSynced, isSynced);
  assert.equal(resolveModule.isSliced, isSliced);
});
