/**
 * The queue-control scenario with real SIP traffic, for main.ts and the end-to-end test:
 *
 *   sipp UAC --> front (host) --> queue 'calls' --> normal_timer  --> sipp UAS "normal"
 *                                              \-> holiday_timer --> sipp UAS "holiday"
 *
 * Calls arrive at `rate` per second. At each of `switchesAtMs` (ms after the first call) the
 * operator switches the route, through the real CLI against the host's own control interface
 * (`pt.serve`): the first time `ptimer rpc ptimer.pause normal_timer --url URL`, then
 * `ptimer rpc ptimer.continue holiday_timer`; the second time back (pause holiday_timer, continue
 * normal_timer); and so on. Each UAS logs the messages it receives (`-trace_msg`); the result
 * lists, per UAS, the INVITEs it got (Call-ID and sipp's time), and when each timer was active,
 * so `queueControlProblems` can check that every call reached exactly one UAS, an active one.
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
  /** When the operator switches, in ms after the first call, ascending (1 to 10 switches, inside the traffic). */
  switchesAtMs: number[];
  /** Progress lines (default: none). */
  say?: (line: string) => void;
}

export interface Invite {
  callId: string;
  /** sipp's wall-clock time, ms since the epoch. */
  at: number;
}

export interface Switch {
  paused: string;
  resumed: string;
  pauseSentAt: number;
  pauseAnsweredAt: number;
  continueSentAt: number;
  continueAnsweredAt: number;
  /** What the CLI printed for each command (its JSON). */
  pauseOutput: unknown;
  continueOutput: unknown;
}

export interface QueueControlResult {
  uac: { code: number | null; successful: number; failed: number; output: string };
  invites: { normal: Invite[]; holiday: Invite[] };
  /** Each switch: wall-clock times (ms) before the pause was sent and after it was answered, and the same for the continue. */
  switches: Switch[];
  /** The front's counters (queued, forwarded, ...). */
  front: Record<string, number>;
  /** The control interface the commands went to. */
  url: string;
}

function check(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} ${value} is not valid; expected an integer from ${min} to ${max}`);
}

export async function runQueueControl(options: QueueControlOptions): Promise<QueueControlResult> {
  check('calls', options.calls, 1, 10_000);
  check('rate', options.rate, 1, 100);
  const trafficMs = (options.calls / options.rate) * 1000;
  if (!Array.isArray(options.switchesAtMs) || options.switchesAtMs.length < 1 || options.switchesAtMs.length > 10)
    throw new RangeError(`switchesAtMs must list 1 to 10 times; got ${JSON.stringify(options.switchesAtMs)}`);
  options.switchesAtMs.forEach((at, i) =>
    check(`switchesAtMs[${i}]`, at, i === 0 ? 0 : options.switchesAtMs[i - 1]! + 1, Math.floor(trafficMs)),
  );
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
      const s = startSipp(
        [
          '-sn',
          'uas',
          '-i',
          address,
          '-p',
          String(port),
          '-m',
          String(options.calls),
          '-trace_msg',
          '-message_file',
          join(dir, `${name}.log`),
        ],
        { timeoutMs, label: `UAS ${name}` },
      );
      sipps.push(s);
      return s;
    };
    const servers = [uas('normal', normalPort!), uas('holiday', holidayPort!)];
    let died: string | undefined;
    for (const s of servers)
      void s.done.then((d) => (died ??= `a sipp UAS exited early (code ${d.code}): ${d.output.slice(-500)}`));

    pt = await PTimer.fromFile(CONFIG, { data, log: { level: 'warn' } });
    front = await Front.start({
      listen: data.front,
      upstreams,
      fallback: 'normal_timer',
      queue: pt.queue('calls'),
      routes: pt.table('call_routes'),
    });
    const server = await pt.serve({ http: { host: address, port: 0 } });
    const url = server.url!;
    await pt.run();
    say(`front ${address}:${frontPort}, normal UAS :${normalPort}, holiday UAS :${holidayPort}, control ${url}`);
    if (died) throw new Error(died); // e.g. its port was taken between freeUdpPorts and its bind

    const stat = join(dir, 'uac-stat.csv');
    const uac = startSipp(
      [
        '-sn',
        'uac',
        `${address}:${frontPort}`,
        '-i',
        address,
        '-p',
        String(uacPort),
        '-m',
        String(options.calls),
        '-r',
        String(options.rate),
        '-l',
        '1000',
        '-trace_stat',
        '-stf',
        stat,
        '-fd',
        '1',
      ],
      { timeoutMs, label: 'UAC' },
    );
    sipps.push(uac);
    say(`UAC: ${options.calls} calls at ${options.rate} per second`);

    const rpc = async (...args: string[]) => {
      const r = await run(process.execPath, [CLI, 'rpc', ...args, '--url', url], { timeout: 15_000 });
      return JSON.parse(r.stdout) as unknown;
    };
    const trafficStart = Date.now();
    const switches: Switch[] = [];
    let [active, standby] = ['normal_timer', 'holiday_timer'];
    for (const at of options.switchesAtMs) {
      await new Promise((r) => setTimeout(r, Math.max(0, trafficStart + at - Date.now())));
      const pauseSentAt = Date.now();
      const pauseOutput = await rpc('ptimer.pause', active);
      const pauseAnsweredAt = Date.now();
      say(`$ ptimer rpc ptimer.pause ${active} --url ${url}`);
      const continueSentAt = Date.now();
      const continueOutput = await rpc('ptimer.continue', standby);
      const continueAnsweredAt = Date.now();
      say(`$ ptimer rpc ptimer.continue ${standby} --url ${url}`);
      switches.push({
        paused: active,
        resumed: standby,
        pauseSentAt,
        pauseAnsweredAt,
        continueSentAt,
        continueAnsweredAt,
        pauseOutput,
        continueOutput,
      });
      [active, standby] = [standby, active];
    }

    const done = await uac.done;
    const stats = parseStatFile(readFileSync(stat, 'utf8'));
    for (const s of sipps) s.kill();
    await Promise.all(sipps.map((s) => s.done));
    const invites = (name: string): Invite[] =>
      parseMessageLog(readFileSync(join(dir, `${name}.log`), 'utf8'))
        .filter((m) => m.direction === 'received' && m.method === 'INVITE')
        .map((m) => ({ callId: m.callId ?? '', at: m.at }));
    const result: QueueControlResult = {
      uac: {
        code: done.code,
        successful: Number(stats['SuccessfulCall(C)']),
        failed: Number(stats['FailedCall(C)']),
        output: done.output.slice(-2000),
      },
      invites: { normal: invites('normal'), holiday: invites('holiday') },
      switches,
      front: { ...front.stats },
      url,
    };
    say(
      `UAC: ${result.uac.successful} calls succeeded, ${result.uac.failed} failed; INVITEs at normal ${result.invites.normal.length}, at holiday ${result.invites.holiday.length}`,
    );
    return result;
  } finally {
    for (const s of sipps) s.kill();
    await Promise.allSettled(sipps.map((s) => s.done));
    await pt?.stop({ timeoutMs: 5_000 });
    await front?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Delivery and clock slack when placing an INVITE against the time a command was answered (ms). */
const SLACK_MS = 50;

/**
 * What went wrong, if anything: every call succeeded, reached exactly one UAS, once, and only
 * while that UAS's timer was active (normal_timer from the start to its first pause, ...).
 */
export function queueControlProblems(r: QueueControlResult, calls: number): string[] {
  const out: string[] = [];
  if (r.uac.code !== 0 || r.uac.successful !== calls || r.uac.failed !== 0)
    out.push(`the UAC: exit ${r.uac.code}, ${r.uac.successful} of ${calls} calls succeeded, ${r.uac.failed} failed`);
  const normal = new Set(r.invites.normal.map((i) => i.callId));
  const holiday = new Set(r.invites.holiday.map((i) => i.callId));
  if (normal.size !== r.invites.normal.length)
    out.push(`the normal UAS got ${r.invites.normal.length - normal.size} INVITEs twice`);
  if (holiday.size !== r.invites.holiday.length)
    out.push(`the holiday UAS got ${r.invites.holiday.length - holiday.size} INVITEs twice`);
  const both = [...normal].filter((id) => holiday.has(id));
  if (both.length > 0) out.push(`${both.length} calls reached both UAS (e.g. ${both[0]})`);
  if (normal.size + holiday.size - both.length !== calls)
    out.push(`${normal.size + holiday.size - both.length} distinct calls reached a UAS; ${calls} were made`);
  // When each timer was active: [from, to) in wall-clock ms.
  const active: Record<string, Array<[number, number]>> = { normal_timer: [[-Infinity, Infinity]], holiday_timer: [] };
  for (const s of r.switches) {
    const open = active[s.paused]!.at(-1);
    if (open) open[1] = s.pauseAnsweredAt + SLACK_MS;
    active[s.resumed]!.push([s.continueSentAt, Infinity]);
  }
  for (const [uas, timer] of [
    ['normal', 'normal_timer'],
    ['holiday', 'holiday_timer'],
  ] as const) {
    const outside = r.invites[uas].filter((i) => !active[timer]!.some(([from, to]) => i.at >= from && i.at < to));
    if (outside.length > 0) out.push(`${outside.length} INVITEs reached the ${uas} UAS while ${timer} was paused`);
  }
  return out;
}
