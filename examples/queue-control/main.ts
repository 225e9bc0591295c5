/**
 * The queue-control example with real SIP traffic (needs sipp, Debian's sip-tester, and a built
 * dist/: `npm run build`):
 *
 *   node --import tsx examples/queue-control/main.ts [--calls 300] [--rate 30] [--switch-after 5000]
 *
 * sipp calls the front at --rate per second; normal_timer sends the calls to one sipp UAS; after
 * --switch-after ms the operator runs `ptimer rpc ptimer.pause normal_timer` and
 * `ptimer rpc ptimer.continue holiday_timer` against the example's own control interface, and
 * the calls go to the other UAS. It prints where each call went and exits 1 unless every call
 * succeeded and reached exactly one destination.
 */
import { parseArgs } from 'node:util';
import { queueControlProblems, runQueueControl } from './scenario.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '300' },
    rate: { type: 'string', default: '30' },
    'switch-after': { type: 'string', default: '5000' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: node --import tsx examples/queue-control/main.ts [--calls N (1-10000)] [--rate CPS (1-100)] [--switch-after MS]');
  process.exit(0);
}

const calls = Number(values.calls);
const result = await runQueueControl({ calls, rate: Number(values.rate), switchAfterMs: Number(values['switch-after']), say: (l) => console.log(l) });
const wrong = queueControlProblems(result, calls);
console.log(
  `queue-control: ${calls} calls, ${result.invites.normal.length} to the normal UAS, ${result.invites.holiday.length} to the holiday UAS ` +
    `(switched ${result.switched.continueAnsweredAt - result.switched.pauseSentAt} ms after the pause was sent); ${wrong.length === 0 ? 'every call reached exactly one' : wrong.join('; ')}`,
);
process.exitCode = wrong.length === 0 ? 0 : 1;
