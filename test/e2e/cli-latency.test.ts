/**
 * `ptimer rpc` is quick enough for an operator's command line: the bench (bench/cli-latency.ts)
 * times it beside kamcmd against ptimer's own BINRPC, and beside `node -e 0`, in the same run,
 * and prints the figures. A command loads only what it uses (src/cli/cli.ts imports each command
 * when it runs), so `ptimer rpc` costs little more than Node's own start: the bound here is
 * on CPU time (user + system), which a loaded machine hardly changes, and an rpc that loaded
 * the runtime, esbuild and pino again (as all commands once did) would break it.
 * Needs the built dist/ and kamcmd (CI installs kamailio; without it this fails naming it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCliLatency, measureCliLatency } from '../../bench/cli-latency.js';

test('ptimer rpc ptimer.list beside kamcmd and node -e 0: every run answers, and ptimer adds little to Node', async (t) => {
  const rows = await measureCliLatency(15);
  for (const line of formatCliLatency(rows).split('\n')) t.diagnostic(line);
  // The bound is on CPU time, which a loaded machine hardly changes (the wall clock it does).
  const floor = rows.find((r) => r.name.startsWith('node -e 0'))!.cpuMedianMs!;
  for (const row of rows.filter((r) => r.name.startsWith('ptimer'))) {
    assert.ok(
      row.cpuMedianMs! - floor < 120,
      `${row.name}: CPU ${row.cpuMedianMs!.toFixed(1)} ms, node -e 0 ${floor.toFixed(1)} ms`,
    );
  }
});
