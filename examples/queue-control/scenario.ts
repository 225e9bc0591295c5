/**
 * The queue-control scenario with real SIP traffic, for main.ts and the end-to-end test:
 *
 *   sipp UAC --> front (host) --> queue 'calls' --> normal_timer  --> sipp UAS "normal"
 *                                              \-> holiday_timer --> sipp UAS "holiday"
 *
 * Calls arrive at `rate` per second; `switchAfterMs` into the traffic the operator's commands run
 * through the real CLI against the host's own control interface (`pt.serve`):
 * `ptimer rpc ptimer.pause normal_timer --url URL`, then `ptimer rpc ptimer.continue holiday_timer`.
 * Each UAS logs the messages it receives (`-trace_msg`); the result lists, per UAS, the INVITEs it
 * got (Call-ID and sipp's time) so a caller can check that every call reached exactly one.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PTimer } from 'ptimer';
import { freeUdpPorts, parseMessageLog, parseStatFile, startSipp, type SippRun } from '../sip/sipp.js';
import { Front } from './front.js';
import type { QueueControlData } from './queue-control.config.js';

const run = promisify(execFile);
const CONFIG = fileURLToPath(new URL('./queue-control.config.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface QueueControlOptions {
  /** Calls the UAC makes (1 to 10,000). */
  calls: number;
  /** Calls per second (1 to 100: each timer takes 100 per second). */
  rate: number;
  /** When the operator switches, in ms after the first call (must fall inside the traffic). */
  switchAfterMs: number;
  /** Progress lines (default: none). */
  say?: (line: string) => void;
}

export interface Invite {
  callId: string;
  /** sipp's wall-clock time, ms since the epoch. */
  at: number;
}

export interface QueueControlResult {
  uac: { code: number | null; successful: number; failed: number; output: string };
  invites: { normal: Invite[]; holiday: Invite[] };
  /** Wall-clock times (ms) around the two commands: before the pause was sent, after the continue answered. */
  switched: { pauseSentAt: number; pauseAnsweredAt: number; continueSentAt: number; continueAnsweredAt: number };
  /** What the CLI printed for the two commands (JSON). */
  commands: { pause: unknown; continue: unknown };
  /** The front's counters (queued, forwarded, ...). */
  front: Record<string, number>;
  /** The control interface the commands went to. */
  url: string;
}

function check(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} ${value} is not valid; expected an integer from ${min} to ${max}`);
}

export async function runQueueControl(options: QueueControlOptions): Promise<QueueControlResult> {
  check('calls', options.calls, 1, 10_000);
  check('rate', options.rate, 1, 100);
  const trafficMs = (options.calls / options.rate) * 1000;
  check('switchAfterMs', options.switchAfterMs, 0, Math.floor(trafficMs));
  const say = options.say ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'ptimer-queue-control-'));
  const [frontPort, normalPort, holidayPort, uacPort] = await freeUdpPorts(4);
  const address = '127.0.0.1';
  const upstreams = { normal_timer: { address, port: normalPort! }, holiday_timer: { address, port: holidayPort! } };
  const data: QueueControlData = { front: { address, port: frontPort! }, upstreams };
  const timeoutMs = Math.ceil(trafficMs) + 30_000;
  const sipps: SippRun[] = [];
  let pt: PTimer | undefined;
  let front: Front | undefined;
  try {
    const uas = (name: string, port: number) => {
      const s = startSipp(['-sn', 'uas', '-i', address, '-p', String(port), '-m', String(options.calls), '-trace_msg', '-message_file', join(dir, `${name}.log`)], { timeoutMs, label: `UAS ${name}` });
      sipps.push(s);
      return s;
    };
    uas('normal', normalPort!);
    uas('holiday', holidayPort!);

    pt = await PTimer.fromFile(CONFIG, { data, log: { level: 'warn' } });
    front = await Front.start({ listen: data.front, upstreams, fallback: 'normal_timer', queue: pt.queue('calls'), routes: pt.table('call_routes') });
    const server = await pt.serve({ http: { host: address, port: 0 } });
    const url = server.url!;
    await pt.run();
    say(`front ${address}:${frontPort}, normal UAS :${normalPort}, holiday UAS :${holidayPort}, control ${url}`);

    const stat = join(dir, 'uac-stat.csv');
    const uac = startSipp(
      ['-sn', 'uac', `${address}:${frontPort}`, '-i', address, '-p', String(uacPort), '-m', String(options.calls), '-r', String(options.rate), '-l', '1000', '-trace_stat', '-stf', stat, '-fd', '1'],
      { timeoutMs, label: 'UAC' },
    );
    sipps.push(uac);
    say(`UAC: ${options.calls} calls at ${options.rate} per second`);

    await new Promise((r) => setTimeout(r, options.switchAfterMs));
    const rpc = async (...args: string[]) => {
      const r = await run(process.execPath, [CLI, 'rpc', ...args, '--url', url], { timeout: 15_000 });
      return JSON.parse(r.stdout) as unknown;
    };
    const pauseSentAt = Date.now();
    const pause = await rpc('ptimer.pause', 'normal_timer');
    const pauseAnsweredAt = Date.now();
    say(`$ ptimer rpc ptimer.pause normal_timer --url ${url}`);
    const continueSentAt = Date.now();
    const resumed = await rpc('ptimer.continue', 'holiday_timer');
    const continueAnsweredAt = Date.now();
    say(`$ ptimer rpc ptimer.continue holiday_timer --url ${url}`);

    const done = await uac.done;
    const stats = parseStatFile(readFileSync(stat, 'utf8'));
    for (const s of sipps) s.kill();
    await Promise.all(sipps.map((s) => s.done));
    const invites = (name: string): Invite[] =>
      parseMessageLog(readFileSync(join(dir, `${name}.log`), 'utf8'))
        .filter((m) => m.direction === 'received' && m.method === 'INVITE')
        .map((m) => ({ callId: m.callId ?? '', at: m.at }));
    const result: QueueControlResult = {
      uac: { code: done.code, successful: Number(stats['SuccessfulCall(C)']), failed: Number(stats['FailedCall(C)']), output: done.output.slice(-2000) },
      invites: { normal: invites('normal'), holiday: invites('holiday') },
      switched: { pauseSentAt, pauseAnsweredAt, continueSentAt, continueAnsweredAt },
      commands: { pause, continue: resumed },
      front: { ...front.stats },
      url,
    };
    say(`UAC: ${result.uac.successful} calls succeeded, ${result.uac.failed} failed; INVITEs at normal ${result.invites.normal.length}, at holiday ${result.invites.holiday.length}`);
    return result;
  } finally {
    for (const s of sipps) s.kill();
    await Promise.allSettled(sipps.map((s) => s.done));
    await pt?.stop({ timeoutMs: 5_000 });
    await front?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What went wrong, if anything: every call succeeded, and reached exactly one UAS. */
export function queueControlProblems(r: QueueControlResult, calls: number): string[] {
  const out: string[] = [];
  if (r.uac.code !== 0 || r.uac.successful !== calls || r.uac.failed !== 0) out.push(`the UAC: exit ${r.uac.code}, ${r.uac.successful} of ${calls} calls succeeded, ${r.uac.failed} failed`);
  const normal = new Set(r.invites.normal.map((i) => i.callId));
  const holiday = new Set(r.invites.holiday.map((i) => i.callId));
  if (normal.size !== r.invites.normal.length) out.push(`the normal UAS got ${r.invites.normal.length - normal.size} INVITEs twice`);
  if (holiday.size !== r.invites.holiday.length) out.push(`the holiday UAS got ${r.invites.holiday.length - holiday.size} INVITEs twice`);
  const both = [...normal].filter((id) => holiday.has(id));
  if (both.length > 0) out.push(`${both.length} calls reached both UAS (e.g. ${both[0]})`);
  if (normal.size + holiday.size - both.length !== calls) out.push(`${normal.size + holiday.size - both.length} distinct calls reached a UAS; ${calls} were made`);
  const lateNormal = r.invites.normal.filter((i) => i.at > r.switched.pauseAnsweredAt + 50);
  if (lateNormal.length > 0) out.push(`${lateNormal.length} INVITEs reached the normal UAS after normal_timer was paused`);
  const earlyHoliday = r.invites.holiday.filter((i) => i.at < r.switched.continueSentAt);
  if (earlyHoliday.length > 0) out.push(`${earlyHoliday.length} INVITEs reached the holiday UAS before holiday_timer was continued`);
  return out;
}
