/**
 * `npm start`: runs the demo config for a while and prints, once a second, what each timer did.
 *   node --import tsx examples/demo.ts [--seconds N]   (N = 0: until Ctrl-C; default 10)
 *
 * The host plays the part of a SIP proxy: it pushes fake calls into the `calls` queue, in a
 * 10 s cycle of a 2 s burst at 100 calls/s and then 30 calls/s, and the releaser timer's
 * routes take them off at 50/s (see demo.config.ts). Each line gives the calls pushed so far,
 * released so far (what the routes counted in the `stats` table) and queued now (the queue's
 * size), and checks that they add up: pushed = released + queued. The three are read at one
 * instant when no route is between taking calls and counting them (read again until the
 * counts are still, at most 50 ms), so a line that did not add up would be a call lost or
 * released twice.
 */
import { secondsArg } from './seconds-arg.js';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { PTimer } from 'ptimer';

const seconds = secondsArg({
  usage: 'usage: npm start [-- --seconds N]   run the demo timers for N seconds (0: until Ctrl-C); default 10',
  defaultSeconds: 10,
  min: 0,
  max: 86_400,
});

const pt = await PTimer.fromFile(fileURLToPath(new URL('./demo.config.ts', import.meta.url)), {
  log: { level: 'warn' },
});
const calls = pt.queue('calls');
const stats = pt.table('stats');
const releaser = pt.timers.find((t) => t.name === 'releaser')!;
const released = () => {
  let sum = 0;
  for (let w = 0; w < releaser.nworkers; w++) sum += (stats.get(`released:${w}`) as number | undefined) ?? 0;
  return sum;
};

// The fake traffic: every 100 ms, rate / 10 calls (100/s for 2 s of every 10, then 30/s).
let pushed = 0;
let refused = 0;
let ticks = 0;
const rateAt = (tick: number) => (tick % 100 < 20 ? 100 : 30);
function pushCalls() {
  const rate = rateAt(ticks);
  // Spread the fractional part: 30/s is 3 per 100 ms.
  const n = Math.floor((((ticks % 10) + 1) * rate) / 10) - Math.floor(((ticks % 10) * rate) / 10);
  ticks++;
  for (let i = 0; i < n; i++) {
    const callId = `call-${pushed + refused + 1}@demo`;
    if (
      calls.push(
        `INVITE sip:+1555${String(pushed % 10_000).padStart(4, '0')}@gw.example.com Call-ID: ${callId}`,
        callId,
      )
    )
      pushed++;
    else refused++;
  }
}

/** pushed, released and queued at one instant, or the closest reading and how far it is off. */
async function snapshot() {
  let reading = { pushed, released: released(), queued: calls.size };
  for (let attempt = 0; attempt < 50; attempt++) {
    const before = released();
    const queued = calls.size;
    const after = released();
    reading = { pushed, released: after, queued };
    if (before === after && before + queued === pushed) return { ...reading, addsUp: true };
    await sleep(1);
  }
  return { ...reading, addsUp: false };
}

function accounts(s: { pushed: number; released: number; queued: number; addsUp: boolean }) {
  const check = s.addsUp ? '(adds up)' : `(DOES NOT ADD UP: ${s.pushed - s.released - s.queued} unaccounted)`;
  return `pushed ${s.pushed} = released ${s.released} + queued ${s.queued} ${check}${refused ? `, ${refused} refused (queue full)` : ''}`;
}

await pt.run();
console.log(
  `ptimer demo: ${pt.timers.map((t) => `${t.name} (${t.typeName}, every ${t.interval}, ${t.nworkers} worker${t.nworkers > 1 ? 's' : ''})`).join(', ')}`,
);
console.log(
  'the host pushes fake calls into the queue "calls" (100/s for 2 s of every 10, then 30/s); the releaser takes at most 50/s',
);
console.log(
  'each line: calls pushed, released and queued; then per timer, loop runs so far, overruns, and loop lateness p50/p99/max in microseconds',
);

const pusher = setInterval(pushCalls, 100);
pushCalls();
let elapsed = 0;
let lastReleased = 0;
let finishing = false;
const tick = setInterval(() => void report(), 1000);

async function report() {
  elapsed++;
  const s = await snapshot();
  const thisSecond = s.released - lastReleased;
  lastReleased = s.released;
  const parts = pt.list().map((t) => {
    const runs = t.workers.reduce((sum, w) => sum + w.iterations, 0);
    const overruns = t.workers.reduce((sum, w) => sum + w.overruns, 0);
    const w = t.workers[0]!.lateness;
    const extra = t.name === 'releaser' ? `, ${thisSecond} released this second` : '';
    const us = (x: number) => (x < 10 ? x.toFixed(1) : x.toFixed(0));
    return `${t.name}: ${runs} runs${extra}, ${overruns} overruns, lateness ${us(w.p50)}/${us(w.p99)}/${us(w.max)} us`;
  });
  if (finishing) return;
  console.log(`[${String(elapsed).padStart(3)} s] ${accounts(s)} | ${parts.join(' | ')}`);
  if (seconds > 0 && elapsed >= seconds) void finish();
}

async function finish() {
  if (finishing) return;
  finishing = true;
  clearInterval(pusher);
  clearInterval(tick);
  const { terminated } = await pt.stop();
  // Every route has finished: the counts are final.
  const s = { pushed, released: released(), queued: calls.size };
  console.log(`stopped: end routes ran${terminated.length ? `; terminated: ${JSON.stringify(terminated)}` : ''}`);
  console.log(`final: ${accounts({ ...s, addsUp: s.pushed === s.released + s.queued })}`);
}
process.once('SIGINT', () => void finish());
