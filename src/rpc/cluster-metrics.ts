/**
 * `/metrics` of a cluster node: leases held, takeovers, stale-token refusals, clock offset to the
 * store, failovers seen, live nodes and whether the store is reachable (cluster/cluster-node.ts
 * keeps the counts; each scrape reads one status). Registered only when the control is in a cluster.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterStatus } from '../cluster/cluster-node.js';
import type { LeaseCounters } from '../cluster/lease-table.js';

export function registerClusterMetrics(registry: Registry, status: () => ClusterStatus | null): void {
  const gauge = (name: string, help: string, value: (s: ClusterStatus) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        const s = status();
        if (s) this.set(value(s));
      },
    });
  };
  const counter = (name: string, help: string, field: keyof LeaseCounters): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        const s = status();
        if (s) this.inc(s.counters[field]);
      },
    });
  };
  gauge(
    'ptimer_cluster_leases_held',
    'Cluster slots (timer, worker) this node holds a lease on, and runs.',
    (s) => s.leasesHeld,
  );
  gauge(
    'ptimer_cluster_live_nodes',
    'Nodes of the cluster whose presence has not expired, this one included.',
    (s) => s.liveNodes.length,
  );
  gauge(
    'ptimer_cluster_store_reachable',
    '1 when the last lease round reached the cluster store (Redis), else 0.',
    (s) => (s.reachable ? 1 : 0),
  );
  gauge(
    'ptimer_cluster_quarantined',
    '1 while this node takes no new slot and books nothing after a primary change.',
    (s) => (s.quarantined ? 1 : 0),
  );
  gauge(
    'ptimer_cluster_clock_offset_seconds',
    "This host's wall-clock offset to the cluster store's clock (Redis TIME), from the best recent round trip's midpoint.",
    (s) => (s.clockOffset ? s.clockOffset.offsetNs / 1e9 : Number.NaN),
  );
  gauge(
    'ptimer_cluster_clock_offset_error_seconds',
    'Bound of the clock offset measurement: half the round trip it came from.',
    (s) => (s.clockOffset ? s.clockOffset.errorNs / 1e9 : Number.NaN),
  );
  counter('ptimer_cluster_leases_acquired_total', 'Slot leases this node acquired.', 'acquired');
  counter(
    'ptimer_cluster_takeovers_total',
    'Slots this node took over after another node held them (its lease ran out).',
    'takeovers',
  );
  counter(
    'ptimer_cluster_leases_released_total',
    'Slot leases this node gave up (to spread slots, or at shutdown).',
    'released',
  );
  counter(
    'ptimer_cluster_leases_expired_total',
    'Slots this node stopped because its lease ended on its own clock (renewals failed).',
    'expired',
  );
  counter(
    'ptimer_cluster_stale_refusals_total',
    'Effects of this node the store refused for a stale fencing token.',
    'staleRefusals',
  );
  counter(
    'ptimer_cluster_failovers_total',
    'Changes of the store primary (a new run_id) this node has seen.',
    'failovers',
  );
  counter(
    'ptimer_cluster_round_errors_total',
    'Lease rounds that failed (the store unreachable or too slow).',
    'roundErrors',
  );
}
