/** Every approach by the name `--only` accepts. */
import type { ApproachName } from '../catalog.js';
import type { Approach } from './approach.js';
import { measureCNanosleep } from './c-nanosleep.js';
import { measureCyclictest } from './cyclictest.js';
import { measureNanotimer } from './nanotimer.js';
import { ptimerApproach } from './ptimer.js';
import { measureSetInterval } from './set-interval.js';
import { measureSetTimeoutChain } from './set-timeout-chain.js';
import { measureTimersPromises } from './timers-promises.js';

export const APPROACHES: Record<ApproachName, Approach> = {
  'ptimer-sync': ptimerApproach({ type: 1, nworkers: 1 }),
  'ptimer-sync-spin0': ptimerApproach({ type: 1, nworkers: 1, spin: '0' }),
  'ptimer-basic': ptimerApproach({ type: 0, nworkers: 1 }),
  setInterval: measureSetInterval,
  'setTimeout-chain': measureSetTimeoutChain,
  'timers-promises': measureTimersPromises,
  nanotimer: measureNanotimer,
  cyclictest: measureCyclictest,
  'c-nanosleep': measureCNanosleep,
  // 8 workers share 80 slices of 8000 tasks, 10 slices each, as the reference's example does.
  'ptimer-synced-slice-8w': ptimerApproach({ type: 3, nworkers: 8, ntasks: 8000, nslices: 80 }),
};
