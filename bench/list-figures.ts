/**
 * ptimer's own view of one timer: runs a sync timer (one worker, an empty loop route) for a
 * while and prints what `list()` reports - loop lateness p50/p99/max, runs, overruns - and
 * the CPU time the whole process used meanwhile.
 *   npm run build && node --import tsx bench/list-figures.ts [--interval 1ms] [--seconds 10] [--spin auto]
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { PTimer } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    interval: { type: 'string', default: '1ms' },
    seconds: { type: 'string', default: '10' },
    spin: { type: 'string', default: 'auto' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: node --import tsx bench/list-figures.ts [--interval 1ms] [--seconds 10] [--spin auto|0|50us]');
  process.exit(0);
}
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, got ${values.seconds}`);

const pt = await PTimer.create(
  { timer: [{ name: 'probe', type: 'sync', interval: values.interval, spin: values.spin, loop: 'PROBE_LOOP' }] },
  { routes: new URL('./list-figures-routes.ts', import.meta.url), log: { level: 'warn' } },
);
await pt.run();
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
await sleep(seconds * 1000);
const cpu = process.cpuUsage(cpuBefore);
const wallMs = performance.now() - wallBefore;
const w = pt.list()[0]!.workers[0]!;
await pt.stop();
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(
  JSON.stringify({
    interval: values.interval,
    spin: values.spin,
    seconds,
    iterations: w.iterations,
    overruns: w.overruns,
    latenessUs: { p50: w.lateness.p50, p99: w.lateness.p99, max: w.lateness.max },
    spinUsAtEnd: w.spin,
    cpuMs: Math.round(cpuMs),
    cpuPercentOfOneCore: Number(((cpuMs / wallMs) * 100).toFixed(2)),
  }),
);
