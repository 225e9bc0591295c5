/**
 * The queue-control example with real SIP traffic (needs sipp, Debian's sip-tester, and a built
 * dist/: `npm run build`):
 *
 *   node --import tsx examples/queue-control/main.ts [--calls 300] [--rate 30] [--switch-at 3500,7000]
 *
 * sipp calls the front at --rate per second; normal_timer sends the calls to one sipp UAS. At
 * each --switch-at time (ms into the traffic) the operator switches, with the reference's
 * commands against the example's own control interface: first `ptimer rpc ptimer.pause
 * normal_timer` and `ptimer rpc ptimer.continue holiday_timer` (calls go to the other UAS), then
 * back (`ptimer.pause holiday_timer`, `ptimer.continue normal_timer`). It prints where the calls
 * went and exits 1 unless every call succeeded and reached exactly one destination, an active one.
 */
import { parseArgs } from 'node:util';
import { queueControlProblems, runQueueControl } from './scenario.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '300' },
    rate: { type: 'string', default: '30' },
    'switch-at': { type: 'string', default: '3500,7000' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'usage: node --import tsx examples/queue-control/main.ts [--calls N (1-10000)] [--rate CPS (1-100)] [--switch-at MS,MS,...]',
  );
  process.exit(0);
}

const calls = Number(values.calls);
const switchesAtMs = values['switch-at'].split(',').map(Number);
const result = await runQueueControl({ calls, rate: Number(values.rate), switchesAtMs, say: (l) => console.log(l) });
const wrong = queueControlProblems(result, calls);
console.log(
  `queue-control: ${calls} calls, ${result.invites.normal.length} to the normal UAS, ${result.invites.holiday.length} to the holiday UAS ` +
    `(each switch took ${result.switches.map((s) => s.continueAnsweredAt - s.pauseSentAt).join(', ')} ms from the pause sent to the continue answered); ` +
    (wrong.length === 0 ? 'every call reached exactly one, while its timer was active' : wrong.join('; ')),
);
process.exitCode = wrong.length === 0 ? 0 : 1;
