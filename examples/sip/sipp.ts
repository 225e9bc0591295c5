/**
 * Driving sipp (Debian's sip-tester) from the SIP examples and their tests, on loopback only.
 *
 * - `startSipp(args, { timeoutMs })` spawns sipp with `-nostdin` and a hard deadline: sipp's own
 *   `-timeout` a little before ours, and ours kills that one child by its pid (never by name).
 *   `done` resolves with the exit code; sipp's codes: 0 every call succeeded, 1 at least one
 *   failed, 97 stopped by a command, 99 ended without processing a call, 255/-1/-2 fatal.
 * - `parseMessageLog(text)` reads a `-trace_msg` file: each message with its time (sipp's own
 *   wall clock, to the microsecond), direction, first line and Call-ID. The UAS side of a test
 *   counts and times the INVITEs it received from this.
 * - `parseStatFile(text)` reads the last row of a `-trace_stat` CSV (`;`-separated) as a record,
 *   e.g. `SuccessfulCall(C)`.
 * - `freeUdpPorts(n)` finds ports on 127.0.0.1 that were free a moment ago (bind 0, close).
 *
 * Every sipp started here is bounded in calls (`-m`, set by the caller) and in time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';

export const SIPP = process.env.SIPP ?? '/usr/bin/sipp';

/** True when sipp runs here (`sipp -v`). */
export function sippAvailable(): boolean {
  const r = spawnSync(SIPP, ['-v'], { encoding: 'utf8', timeout: 5_000 });
  return r.error === undefined && /SIPp v\d/.test(`${r.stdout}${r.stderr}`);
}

export interface SippRun {
  readonly pid: number;
  /** Resolves when sipp has exited: its code (or null and the signal when killed). */
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
  /** Ends this sipp (SIGTERM to its pid, SIGKILL a second later if still there). */
  kill(): void;
}

/** Longest sipp run any example asks for. */
export const MAX_SIPP_MS = 10 * 60_000;

export function startSipp(args: string[], options: { timeoutMs: number; label?: string }): SippRun {
  const { timeoutMs } = options;
  if (!(timeoutMs > 0 && timeoutMs <= MAX_SIPP_MS))
    throw new RangeError(`startSipp: timeoutMs ${timeoutMs} is not valid; expected 1 to ${MAX_SIPP_MS}`);
  if (!args.includes('-m')) throw new Error('startSipp: give -m (the number of calls): every run here is bounded');
  const sippTimeoutS = Math.max(1, Math.floor(timeoutMs / 1000) - 1);
  const child = spawn(SIPP, [...args, '-nostdin', '-timeout', `${sippTimeoutS}s`, '-timeout_error'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-64 * 1024); // the tail is what tells
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let killTimer: NodeJS.Timeout | undefined;
  const kill = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), 1_000);
    killTimer.unref();
  };
  const deadline = setTimeout(kill, timeoutMs);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>(
    (resolve, reject) => {
      child.once('error', (e) => {
        clearTimeout(deadline);
        reject(
          new Error(`could not run ${SIPP} (${options.label ?? 'sipp'}): ${e.message}; install Debian's sip-tester`),
        );
      });
      child.once('close', (code, signal) => {
        clearTimeout(deadline);
        if (killTimer) clearTimeout(killTimer);
        resolve({ code, signal, output });
      });
    },
  );
  return { pid: child.pid ?? -1, done, kill };
}

export interface LoggedMessage {
  /** sipp's wall-clock time of the message, in ms since the epoch (microsecond resolution). */
  at: number;
  direction: 'received' | 'sent';
  firstLine: string;
  /** The request method, or undefined for a response. */
  method: string | undefined;
  callId: string | undefined;
}

const ENTRY = /^-{20,} (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d{6})\s*$/;

/** The messages of a sipp `-trace_msg` file, in file order. */
export function parseMessageLog(text: string): LoggedMessage[] {
  const out: LoggedMessage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = ENTRY.exec(lines[i]!);
    if (!m) continue;
    const at = new Date(`${m[1]}T${m[2]}`).getTime() + Number(m[3]) / 1000; // sipp writes local time
    const kind = lines[i + 1] ?? '';
    const direction = /received/i.test(kind) ? 'received' : 'sent';
    // The message starts after the empty line that follows the "UDP message ..." line.
    let j = i + 2;
    while (j < lines.length && lines[j]!.trim() === '') j++;
    const firstLine = (lines[j] ?? '').trim();
    let callId: string | undefined;
    for (let k = j + 1; k < lines.length && !ENTRY.test(lines[k]!) && lines[k]!.trim() !== ''; k++) {
      const h = /^(?:call-id|i)\s*:\s*(.+)$/i.exec(lines[k]!.trim());
      if (h) {
        callId = h[1]!.trim();
        break;
      }
    }
    const method = /^SIP\/2\.0 /.test(firstLine) ? undefined : firstLine.split(' ')[0];
    out.push({ at, direction, firstLine, method, callId });
  }
  return out;
}

/** The last row of a sipp `-trace_stat` file, by column name. */
export function parseStatFile(text: string): Record<string, string> {
  const rows = text.split('\n').filter((l) => l.trim() !== '');
  if (rows.length < 2)
    throw new Error(`the sipp statistics file has ${rows.length} rows; expected a header and at least one row`);
  const names = rows[0]!.split(';');
  const values = rows.at(-1)!.split(';');
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? '']));
}

/** `n` UDP ports on 127.0.0.1 that were free when asked. */
export async function freeUdpPorts(n: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from({ length: n }, async () => {
      const s = createSocket('udp4');
      s.bind(0, '127.0.0.1');
      await once(s, 'listening');
      return s;
    }),
  );
  const ports = sockets.map((s) => s.address().port);
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}
