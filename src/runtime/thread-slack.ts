/**
 * Linux lets a sleeping thread wake up to its "timer slack" late (50 us by default) so the
 * kernel can batch wake-ups. A timer thread wants the opposite. Any thread may lower its own
 * slack without privileges by writing to /proc/<its kernel thread id>/timerslack_ns; the
 * thread id is the last part of what /proc/thread-self links to.
 * Returns the slack now in force (ns), or null where this is not Linux or not allowed.
 */
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';

export function lowerOwnTimerSlack(slackNs = 1): number | null {
  try {
    const tid = readlinkSync('/proc/thread-self').split('/').pop();
    const file = `/proc/${tid}/timerslack_ns`;
    writeFileSync(file, String(slackNs));
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return null;
  }
}
