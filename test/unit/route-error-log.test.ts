/**
 * Route errors in the log: the summarizer's bookkeeping and the log it writes, on a virtual
 * clock (no real time passes; `tick()` is called by hand where the real log's timer would).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Logger } from 'pino';
import {
  RouteErrorLog,
  RouteErrorSummarizer,
  formatSpan,
  summaryMessage,
  type RouteErrorSite,
} from '../../src/runtime/route-error-log.js';
import { errorRecord } from '../../src/runtime/log-forward.js';

const loop0: RouteErrorSite = { timer: 't', worker: 0, route: 'loop' };

test('the first 5 errors of a route are full, the rest counted and summarised once the period is over', () => {
  const s = new RouteErrorSummarizer();
  const outcomes = Array.from({ length: 2486 }, (_, i) => s.record(loop0, `boom ${i}`, i * 4)); // every 4 ms for ~10 s
  assert.deepEqual(outcomes.slice(0, 6), ['full', 'full', 'full', 'full', 'full', 'counted']);
  assert.equal(outcomes.filter((o) => o === 'full').length, 5);
  assert.deepEqual(s.due(9_999), [], 'the window opened at 20 ms: not over at 9999 ms');
  const [summary, ...rest] = s.due(10_020);
  assert.deepEqual(rest, []);
  assert.deepEqual(summary, { site: loop0, count: 2481, sinceMs: 10_000, last: 'boom 2485' });
  assert.equal(
    summaryMessage(summary),
    'loop route of worker 0 of "t" threw 2481 more times in the last 10 s (last: boom 2485)',
  );
  assert.deepEqual(s.due(10_021), [], 'given once');
  assert.equal(s.pending, false);
});

test('budgets are per worker and per route', () => {
  const s = new RouteErrorSummarizer({ fullFirst: 2 });
  const w1: RouteErrorSite = { timer: 't', worker: 1, route: 'loop' };
  const start0: RouteErrorSite = { timer: 't', worker: 0, route: 'start' };
  const other: RouteErrorSite = { timer: 'u', worker: 0, route: 'loop' };
  for (const site of [loop0, w1, start0, other]) {
    assert.deepEqual(
      [0, 1, 2].map((i) => s.record(site, 'x', i)),
      ['full', 'full', 'counted'],
      `${site.timer} ${site.worker} ${site.route}`,
    );
  }
  assert.equal(s.flush(5).length, 4);
});

test('a route quiet for a whole period gets its full lines back; one that keeps throwing does not', () => {
  const s = new RouteErrorSummarizer({ fullFirst: 1, periodMs: 1_000 });
  assert.equal(s.record(loop0, 'a', 0), 'full');
  assert.equal(s.record(loop0, 'b', 500), 'counted');
  assert.equal(s.record(loop0, 'c', 1_400), 'counted', 'only 900 ms since the last error');
  assert.equal(s.due(1_500).length, 1);
  assert.equal(s.record(loop0, 'd', 2_300), 'counted', 'still only 900 ms since the last error');
  assert.equal(s.flush(2_300).length, 1);
  assert.equal(s.record(loop0, 'e', 3_300), 'full', 'quiet for 1000 ms');
  assert.equal(s.record(loop0, 'f', 3_301), 'counted');
});

test('flush gives what is pending before the period is over; due forgets quiet sites', () => {
  const s = new RouteErrorSummarizer({ fullFirst: 0, periodMs: 10_000 });
  s.record(loop0, 'x', 100);
  s.record(loop0, 'y', 200);
  assert.equal(s.pending, true);
  assert.deepEqual(s.due(3_000), []);
  assert.deepEqual(s.flush(3_100), [{ site: loop0, count: 2, sinceMs: 3_000, last: 'y' }]);
  assert.deepEqual(s.flush(3_200), []);
  assert.equal(s.pending, false);
  s.record(loop0, 'z', 3_300);
  assert.equal(
    summaryMessage(s.flush(6_300)[0]!),
    'loop route of worker 0 of "t" threw 1 more time in the last 3 s (last: z)',
  );
  assert.deepEqual(s.due(20_000), [], 'quiet: forgotten');
  assert.equal(s.record(loop0, 'again', 20_001), 'counted', 'fullFirst 0: never full');
});

test('every error is either logged in full or counted in exactly one summary (any timing)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ gap: fc.integer({ min: 0, max: 3_000 }), worker: fc.integer({ min: 0, max: 2 }) }), {
        maxLength: 300,
      }),
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 1, max: 2_000 }),
      (errors, fullFirst, periodMs) => {
        const s = new RouteErrorSummarizer({ fullFirst, periodMs });
        let now = 0;
        let full = 0;
        let summarised = 0;
        let summaries = 0;
        for (const e of errors) {
          // the real log checks for due summaries at least once a period
          for (let t = now + periodMs; t < now + e.gap; t += periodMs) {
            for (const x of s.due(t)) {
              summarised += x.count;
              summaries++;
            }
          }
          now += e.gap;
          for (const x of s.due(now)) {
            summarised += x.count;
            summaries++;
          }
          if (s.record({ timer: 't', worker: e.worker, route: 'loop' }, 'm', now) === 'full') full++;
        }
        for (const x of s.flush(now)) {
          summarised += x.count;
          summaries++;
        }
        assert.equal(full + summarised, errors.length);
        // at most one summary per site per period, plus the flush
        assert.ok(summaries <= 3 * (Math.floor(now / periodMs) + 2), `${summaries} summaries in ${now} ms`);
      },
    ),
    { numRuns: 200 },
  );
});

test('bad budgets are refused, naming the bound', () => {
  assert.throws(
    () => new RouteErrorSummarizer({ fullFirst: -1 }),
    /fullFirst must be an integer from 0 to 1000, got -1/,
  );
  assert.throws(
    () => new RouteErrorSummarizer({ periodMs: 0 }),
    /periodMs must be an integer from 1 to 86400000, got 0/,
  );
  assert.throws(() => new RouteErrorSummarizer({ periodMs: 1.5 }), /periodMs must be an integer/);
});

test('formatSpan', () => {
  assert.equal(formatSpan(10_000), '10 s');
  assert.equal(formatSpan(10_960), '11 s');
  assert.equal(formatSpan(2_540), '2.5 s');
  assert.equal(formatSpan(0), '0.1 s');
});

/** A logger that records its error calls. */
function recordingLogger(): { logger: Logger; calls: Array<{ obj: Record<string, unknown>; msg: string }> } {
  const calls: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const logger = {
    error: (obj: Record<string, unknown>, msg: string) => calls.push({ obj, msg }),
  } as unknown as Logger;
  return { logger, calls };
}

test('RouteErrorLog: full lines with the error, a note on the last full one, then summaries as the clock passes', () => {
  let now = 0;
  const { logger, calls } = recordingLogger();
  const log = new RouteErrorLog(logger, { now: () => now, periodMs: 10_000 });
  const site: RouteErrorSite = { timer: 't', worker: 0, route: 'loop', routeName: 'LOOP', thread: 'pool-0' };
  const err = errorRecord(new TypeError('bad input'));
  try {
    for (let i = 0; i < 100; i++, now += 1) log.report(site, err);
    assert.equal(calls.length, 5);
    const first = calls[0]!;
    assert.equal(first.msg, 'loop route LOOP threw: bad input');
    assert.deepEqual(Object.keys(first.obj), ['thread', 'timer', 'worker', 'route', 'err']);
    const e = first.obj.err as Error;
    assert.ok(e instanceof Error);
    assert.equal(e.constructor.name, 'TypeError');
    assert.match(e.stack!, /^TypeError: bad input\n {4}at /);
    assert.match(
      calls[4]!.msg,
      /^loop route LOOP threw: bad input \(later errors of this route are counted and summarised every 10 s\)$/,
    );
    now = 9_000;
    log.tick();
    assert.equal(calls.length, 5, 'not due yet');
    now = 10_005;
    log.tick();
    assert.equal(calls.length, 6);
    assert.equal(calls[5]!.msg, 'loop route of worker 0 of "t" threw 95 more times in the last 10 s (last: bad input)');
    assert.deepEqual(calls[5]!.obj, {
      thread: 'pool-0',
      timer: 't',
      worker: 0,
      route: 'loop',
      errors: 95,
      periodMs: 10_000,
      lastError: 'bad input',
    });
    log.report(site, err);
    log.flush();
    assert.equal(calls.length, 7);
    assert.match(calls[6]!.msg, /threw 1 more time in the last 0\.1 s/);
  } finally {
    log.flush();
  }
});
