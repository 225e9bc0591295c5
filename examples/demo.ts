/**
 * `npm start`: runs the demo config for a while and prints, once a second, what each timer did.
 *   node --import tsx examples/demo.ts [--seconds N]   (N = 0: until Ctrl-C; default 10)
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { PTimer } from 'ptimer';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log('usage: npm start [-- --seconds N]   run the demo timers for N seconds (0: until Ctrl-C); default 10');
  process.exit(0);
}
const seconds = Number(values.seconds);
if (!Number.isInteger(seconds) || seconds < 0) {
  console.error(`--seconds must be an integer >= 0, got ${JSON.stringify(values.seconds)}`);
  process.exit(2);
}

const pt = await PTimer.fromFile(fileURLToPath(new URL('./demo.config.ts', import.meta.url)), { log: { level: 'warn' } });
// The releaser's workers report their running totals through ctx.emit.
const releasedByWorker = new Map<number, number>();
pt.on('message', (m) => {
  const data = m.data as { worker: number; total: number };
  if (m.event === 'released') releasedByWorker.set(data.worker, data.total);
});
await pt.run();
console.log(`ptimer demo: ${pt.timers.map((t) => `${t.name} (${t.typeName}, every ${t.interval}, ${t.nworkers} worker${t.nworkers > 1 ? 's' : ''})`).join(', ')}`);
console.log('each line: per timer, loop runs so far, overruns, and loop lateness p50/p99/max in microseconds');

let elapsed = 0;
const tick = setInterval(() => {
  elapsed++;
  const parts = pt.list().map((t) => {
    const runs = t.workers.reduce((sum, w) => sum + w.iterations, 0);
    const overruns = t.workers.reduce((sum, w) => sum + w.overruns, 0);
    const w = t.workers[0]!.lateness;
    const extra = t.name === 'releaser' ? `, ${[...releasedByWorker.values()].reduce((a, b) => a + b, 0)} released` : '';
    return `${t.name}: ${runs} runs${extra}, ${overruns} overruns, lateness ${w.p50}/${w.p99}/${w.max} us`;
  });
  console.log(`[${String(elapsed).padStart(3)} s] ${parts.join(' | ')}`);
  if (seconds > 0 && elapsed >= seconds) void finish();
}, 1000);

async function finish() {
  clearInterval(tick);
  const { terminated } = await pt.stop();
  console.log(`stopped: end routes ran${terminated.length ? `; terminated: ${JSON.stringify(terminated)}` : ''}`);
}
process.once('SIGINT', () => void finish());
