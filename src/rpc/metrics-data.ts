/**
 * `/metrics` for the data plane: per queue its size, bytes, and counts of items pushed, taken,
 * refused (the queue was full) and expired (dropped at take time for maxage); per table its live
 * entries and the entries that expired; per limiter (named, or a timer's own `limit=N/W`) the
 * items granted and refused. Read at each scrape from the shared counters (every thread's
 * operations), through the control's `dataAccess()`; nothing when the control has none.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { TimerControl } from '../control-types.js';

export function registerDataMetrics(registry: Registry, control: TimerControl): void {
  const data = () => control.dataAccess?.();
  const queueStats = () => {
    const d = data();
    return d ? d.queueNames.map((name) => d.queue(name).stats()) : [];
  };
  const queueMetric = (
    Kind: typeof Gauge | typeof Counter,
    name: string,
    help: string,
    field: 'size' | 'bytes' | 'pushed' | 'taken' | 'refused' | 'expired',
  ) =>
    new Kind({
      name,
      help,
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of queueStats()) (this as Gauge).inc({ queue: s.name }, s[field]);
      },
    });
  queueMetric(Gauge, 'ptimer_queue_items', 'Items in each queue now.', 'size');
  queueMetric(Gauge, 'ptimer_queue_bytes', 'Bytes of keys and values in each queue now.', 'bytes');
  queueMetric(
    Counter,
    'ptimer_queue_pushed_total',
    'Items pushed into each queue (by the host, routes or ptimer.push).',
    'pushed',
  );
  queueMetric(
    Counter,
    'ptimer_queue_taken_total',
    'Items taken from each queue (by routes, the host or mqueue.fetch).',
    'taken',
  );
  queueMetric(
    Counter,
    'ptimer_queue_refused_total',
    'Pushes each queue refused because it was full (its size in items, or its maxbytes).',
    'refused',
  );
  queueMetric(
    Counter,
    'ptimer_queue_expired_total',
    'Items each queue dropped at take time for being older than its maxage.',
    'expired',
  );

  const tableStats = () => {
    const d = data();
    return d ? d.tableNames.map((name) => d.table(name).stats()) : [];
  };
  new Gauge({
    name: 'ptimer_table_entries',
    help: 'Live entries in each table now.',
    labelNames: ['table'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of tableStats()) this.set({ table: s.name }, s.entries);
    },
  });
  new Counter({
    name: 'ptimer_table_expired_total',
    help: 'Entries of each table that expired (autoexpire or a set with expires), counted when their slot was reclaimed.',
    labelNames: ['table'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of tableStats()) this.inc({ table: s.name }, s.expired);
    },
  });

  const limiterMetric = (name: string, help: string, field: 'granted' | 'refused') =>
    new Counter({
      name,
      help,
      labelNames: ['limiter', 'kind'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of data()?.limiterStats() ?? []) this.inc({ limiter: s.name, kind: s.kind }, s[field]);
      },
    });
  limiterMetric(
    'ptimer_limiter_granted_total',
    'Items each limiter let routes take (kind "limiter": a named limiter shared by its timers; "timer": a timer\'s own limit=N/W).',
    'granted',
  );
  limiterMetric(
    'ptimer_limiter_refused_total',
    'Items routes asked each limiter for, queued, that its window did not grant at that take.',
    'refused',
  );
}
