/**
 * `ptimer rpc` is quick enough for an operator's command line: the bench (bench/cli-latency.ts)
 * times it beside kamcmd against ptimer's own BINRPC, and beside `node -e 0`, in the same run,
 * and prints the figures. A command loads only what it uses (src/cli/cli.ts imports each command
 * when it runs), so `ptimer rpc` costs little more than Node's own start: the bound here is
 * generous (the machine is shared and loaded), and an rpc that loaded the runtime, esbuild and
 * pino again (as all commands once did: 200 to 430 ms more than node -e 0 here) would break it.
 * Needs the built dist/ and kamcmd (CI installs kamailio; without it this fails naming it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCliLatency, measureCliLatency } from '../../bench/cli-latency.js';

test('ptimer rpc ptimer.list beside kamcmd and node -e 0: every run answers, and ptimer adds little to Node', async (t) => {
  const rows = await measureCliLatency(15);
  for (const line of formatCliLatency(rows).split('\n')) t.diagnostic(line);
  const floor = rows.find((r) => r.name.startsWith('node -e 0'))!.medianMs;
  for (const row of rows.filter((r) => r.name.startsWith('ptimer'))) {
    assert.ok(row.medianMs - floor < 150, `${row.name}: median ${row.medianMs.toFixed(1)} ms, node -e 0 ${floor.toFixed(1)} ms`);
  }
});
