/**
 * The rate-shaping scenario with real SIP traffic, for main.ts and an end-to-end test:
 *
 *   sipp UAC (burst) --\
 *                       >--> front (host) --> queue 'calls' --> shaper[0..1] --> tap --> sipp UAS
 *   sipp UAC (steady) -/
 *
 * A burst of `burst` calls in 1 s, then `rate` calls per second for `seconds`. The tap in front
 * of the UAS (invite-tap.ts: invite-tap.c, a process of its own) records when each INVITE arrives (the kernel's receive timestamp), on
 * process.hrtime's clock: that is "at the upstream". The shaper's `released` messages give each
 * run's tick, deadline, send time, count and Call-IDs. The result has what the closing note reports: the most INVITEs in any
 * sliding 1 s window at the UAS, the count in each 100 ms slot, the release lateness p50/p99,
 * the throughput while the backlog lasted, and whether every call was answered, none twice.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PTimer, type MessageEvent, type Queue } from 'ptimer';
import { freeUdpPorts, parseStatFile, startSipp, type SippRun } from '../sip/sipp.js';
import { Forwarder } from '../sip/forwarder.js';
import { InviteTap } from './invite-tap.js';
import { rateShapingFigures } from './figures.js';
import type { RateShapingData, Released } from './rate-shaping.config.js';

const CONFIG = fileURLToPath(new URL('./rate-shaping.config.ts', import.meta.url));
const SLOT_NS = 100e6;
const CANCEL_SCENARIO = fileURLToPath(new URL('./uac-cancel.xml', import.meta.url));

export interface RateShapingOptions {
  /** Calls in the first second (0 to 5,000). */
  burst: number;
  /** Calls per second after it (0 to 200)... */
  rate: number;
  /** ... for this many seconds (0 to 300). */
  seconds: number;
  /**
   * Callers that give up (0 to 1,000, default 0): 300 ms into the burst, at 50 per second, calls
   * that send CANCEL 200 ms after their INVITE (uac-cancel.xml), while it still waits in the queue
   * behind the burst: the front must answer 200 and 487 itself, and the UAS never see them.
   */
  cancels?: number;
  say?: (line: string) => void;
}

export interface RateShapingResult {
  calls: number;
  uac: Array<{ code: number | null; successful: number; failed: number; output: string }>;
  /** The cancelling caller, when `cancels` > 0: its calls succeed when each got 200 for its CANCEL and 487 for its INVITE. */
  cancelUac?: { code: number | null; successful: number; failed: number; output: string };
  /** INVITEs the UAS side got, and the Call-IDs that came more than once. */
  invitesAtUas: number;
  duplicates: string[];
  /** The most INVITEs at the UAS (by the kernel's receive time) in any sliding 1 s window, and where. */
  maxPerSecond: number;
  /** The least spacing of a call and the 50th after it, minus 1 s (us): >= 0 when no second held more than 50. */
  slackUs: { atUas: number; atRelease: number; readAtUas: number };
  /** The most INVITEs in any sliding 1 s by when the relay at the UAS read them (its scheduling delays added). */
  maxPerSecondRead: number;
  /** The most released in any sliding 1 s window, by the time each run had sent its calls. */
  maxPerSecondAtRelease: number;
  busiest: { startMsAfterFirst: number; count: number };
  /** INVITEs at the UAS per 100 ms slot of the timer's grid, from the first released slot. */
  perSlotAtUas: number[];
  /** Calls released per slot (tick), from the shaper's messages. */
  perSlotReleased: number[];
  /** Slots while the backlog lasted (the queue not empty after the slot), and how many carried 5. */
  backlogSlots: number;
  backlogSlotsWithFive: number;
  /** Calls per second released while the backlog lasted. */
  backlogThroughput: number;
  /** Release lateness against the slot's deadline, microseconds. */
  latenessUs: { p50: number; p99: number; max: number };
  /** How long the runs' sends took, microseconds. */
  sendUs: { p50: number; p99: number; max: number };
  /** The release lateness p99 over the backlog's first 5 s and its last 5 s (NaN for a backlog under 10 s), and how long it lasted. */
  backlogLatenessUs: { firstP99: number; lastP99: number; seconds: number };
  /**
   * From when each run's send began to its calls' arrival at the UAS's socket, microseconds.
   */
  transitUs: { p50: number; p99: number; min: number; max: number };
  front: Record<string, number>;
  /** For the chart: when each INVITE was queued at the front, and when each was sent upstream (ns, process.hrtime). */
  arrivalsNs: number[];
  releasesNs: number[];
}

/** The queue as the front sees it, noting when each push was taken (for the chart's "in" series). */
function noteArrivals(queue: Queue, arrivals: number[]): Queue {
  return {
    get name() {
      return queue.name;
    },
    get size() {
      return queue.size;
    },
    push(value, key) {
      const ok = queue.push(value, key);
      if (ok && arrivals.length < 1_000_000) arrivals.push(Number(process.hrtime.bigint()));
      return ok;
    },
    take: (n, options) => queue.take(n, options),
    remove: (key) => queue.remove(key),
    clear: () => queue.clear(),
  };
}

function check(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} ${value} is not valid; expected an integer from ${min} to ${max}`);
}

export async function runRateShaping(options: RateShapingOptions): Promise<RateShapingResult> {
  check('burst', options.burst, 0, 5_000);
  check('rate', options.rate, 0, 200);
  check('seconds', options.seconds, 0, 300);
  const cancels = options.cancels ?? 0;
  check('cancels', cancels, 0, 1_000);
  const calls = options.burst + options.rate * options.seconds;
  if (calls === 0) throw new RangeError('no calls: give a burst or a rate');
  const say = options.say ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'ptimer-rate-shaping-'));
  const [frontPort, uasPort, burstPort, steadyPort, cancelPort] = await freeUdpPorts(5);
  const address = '127.0.0.1';
  // The backlog drains at 50 per second; allow for it and a margin.
  const timeoutMs = Math.ceil((calls / 50) * 1000) + options.seconds * 1000 + 30_000;
  const sipps: SippRun[] = [];
  let pt: PTimer | undefined;
  let front: Forwarder | undefined;
  let tap: InviteTap | undefined;
  const released: Released[] = [];
  const queueAfter = new Map<number, number>(); // tick -> queue size the slot left (see the message handler)
  const arrivalsNs: number[] = [];
  try {
    sipps.push(
      startSipp(['-sn', 'uas', '-i', address, '-p', String(uasPort), '-m', String(calls)], { timeoutMs, label: 'UAS' }),
    );
    tap = await InviteTap.start({ target: { address, port: uasPort! } });
    const data: RateShapingData = { front: { address, port: frontPort! }, upstream: tap.address };
    pt = await PTimer.fromFile(CONFIG, { data, log: { level: 'warn' } });
    const queue = pt.queue('calls');
    front = await Forwarder.start({
      listen: data.front,
      upstream: data.upstream,
      queue: noteArrivals(queue, arrivalsNs),
    });
    pt.on('message', (m: MessageEvent) => {
      if (m.event !== 'released') return;
      const r = m.data as Released;
      released.push(r);
      // What the slot left queued: the smaller of its runs' sizes right after their takes (read in
      // the worker: the host's view when the message lands also counts calls that arrived since).
      queueAfter.set(r.tick, Math.min(queueAfter.get(r.tick) ?? Infinity, r.left ?? queue.size));
    });
    await pt.run();
    say(`front ${address}:${frontPort}, UAS :${uasPort} behind the tap :${tap.address.port}`);

    const uac = (label: string, port: number, n: number, rate: number, scenario = ['-sn', 'uac']) => {
      const stat = join(dir, `${label}.csv`);
      const run = startSipp(
        [
          ...scenario,
          `${address}:${frontPort}`,
          '-i',
          address,
          '-p',
          String(port),
          '-m',
          String(n),
          '-r',
          String(rate),
          '-l',
          '10000',
          '-trace_stat',
          '-stf',
          stat,
          '-fd',
          '1',
        ],
        { timeoutMs, label },
      );
      sipps.push(run);
      return { run, stat };
    };
    const runs: Array<{ run: SippRun; stat: string }> = [];
    if (options.burst > 0) {
      runs.push(uac('burst', burstPort!, options.burst, options.burst));
      say(`UAC: a burst of ${options.burst} calls in 1 s`);
    }
    let cancelRun: { run: SippRun; stat: string } | undefined;
    if (cancels > 0) {
      await new Promise((r) => setTimeout(r, 300));
      cancelRun = uac('cancel', cancelPort!, cancels, 50, ['-sf', CANCEL_SCENARIO]);
      say(`UAC: ${cancels} callers that CANCEL 200 ms after their INVITE`);
    }
    if (options.rate > 0 && options.seconds > 0) {
      if (options.burst > 0) await new Promise((r) => setTimeout(r, cancels > 0 ? 700 : 1_000));
      runs.push(uac('steady', steadyPort!, options.rate * options.seconds, options.rate));
      say(`UAC: then ${options.rate} per second for ${options.seconds} s`);
    }
    const outcome = async ({ run, stat }: { run: SippRun; stat: string }) => {
      const done = await run.done;
      let s: Record<string, string> = {};
      try {
        s = parseStatFile(readFileSync(stat, 'utf8'));
      } catch {
        // no statistics: counted as 0 below
      }
      return {
        code: done.code,
        successful: Number(s['SuccessfulCall(C)'] ?? 0),
        failed: Number(s['FailedCall(C)'] ?? 0),
        output: done.output.slice(-2000),
      };
    };
    const uacResults = [];
    for (const run of runs) uacResults.push(await outcome(run));
    const cancelUac = cancelRun ? await outcome(cancelRun) : undefined;

    // The figures. Every sipp has ended by now (the UACs did; the UAS is told to).
    for (const x of sipps) x.kill();
    await Promise.allSettled(sipps.map((x) => x.done));
    const invites = await tap.invites();
    const f = rateShapingFigures({
      released,
      queueAfter,
      invites,
      slotNs: SLOT_NS,
      windowNs: 1e9,
      full: 5,
      limitCount: 50,
    });
    const result: RateShapingResult = {
      calls,
      uac: uacResults,
      cancelUac,
      invitesAtUas: f.invitesAtUas,
      duplicates: f.duplicates,
      maxPerSecond: f.maxPerWindow,
      maxPerSecondAtRelease: f.maxPerWindowAtRelease,
      slackUs: f.slackUs,
      maxPerSecondRead: f.maxPerWindowRead,
      busiest: f.busiest,
      perSlotAtUas: f.perSlotAtUas,
      perSlotReleased: f.perSlotReleased,
      backlogSlots: f.backlogSlots,
      backlogSlotsWithFive: f.backlogSlotsFull,
      backlogThroughput: f.backlogThroughput,
      latenessUs: f.latenessUs,
      backlogLatenessUs: f.backlogLatenessUs,
      sendUs: f.sendUs,
      transitUs: f.transitUs,
      front: { ...front.stats },
      arrivalsNs,
      releasesNs: f.releasesNs,
    };
    say(
      `UAS: ${result.invitesAtUas} INVITEs, at most ${result.maxPerSecond} in any 1 s; ${result.backlogSlotsWithFive} of ${result.backlogSlots} backlog slots carried 5`,
    );
    return result;
  } finally {
    for (const s of sipps) s.kill();
    await Promise.allSettled(sipps.map((s) => s.done));
    await pt?.stop({ timeoutMs: 5_000 });
    await front?.close();
    await tap?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What went wrong, if anything, against the example's promises: every call answered, none
 * twice, never more than 50 INVITEs in a sliding second where they were released (when each send
 * began) nor where they reached the UAS (the kernel's receive timestamps; the limit counts each
 * grant from where its send returned: docs/limits-at-the-receiver.md).
 * (The count by when the relay at the UAS read them, which adds that process's own scheduling
 * delays, is reported, not judged.)
 */
export function rateShapingProblems(r: RateShapingResult): string[] {
  const out: string[] = [];
  const ok = r.uac.reduce((s, u) => s + u.successful, 0);
  const failed = r.uac.reduce((s, u) => s + u.failed, 0);
  if (ok !== r.calls || failed !== 0 || r.uac.some((u) => u.code !== 0))
    out.push(
      `the UACs: ${ok} of ${r.calls} calls succeeded, ${failed} failed (exit ${r.uac.map((u) => u.code).join(', ')})`,
    );
  if (r.invitesAtUas !== r.calls) out.push(`${r.invitesAtUas} INVITEs reached the UAS; ${r.calls} calls were made`);
  if (r.duplicates.length > 0) out.push(`${r.duplicates.length} calls reached the UAS twice (e.g. ${r.duplicates[0]})`);
  if (r.cancelUac && (r.cancelUac.code !== 0 || r.cancelUac.failed !== 0))
    out.push(
      `the cancelling UAC: ${r.cancelUac.successful} calls got 200 and 487, ${r.cancelUac.failed} failed (exit ${r.cancelUac.code})`,
    );
  if (r.maxPerSecondAtRelease > 50)
    out.push(`${r.maxPerSecondAtRelease} calls released in one sliding second (at most 50)`);
  if (r.maxPerSecond > 50)
    out.push(
      `${r.maxPerSecond} INVITEs reached the UAS in one sliding second (at most 50; ${(-r.slackUs.atUas).toFixed(0)} us short of 1 s)`,
    );
  return out;
}
