/**
 * The INVITE tap: invite-tap.c, a transparent UDP relay in front of the upstream UAS, run as a
 * process of its own. It records when each INVITE reached it by the kernel's receive timestamp,
 * on CLOCK_MONOTONIC (process.hrtime's clock: the clock of the timer's grid and of the shaper's
 * own records), and when the relay read it. The kernel's time is "at the upstream": a relay that
 * times arrivals when it gets round to reading them adds its own scheduling delays (measured:
 * 5 ms stalls of a Node relay thread on this 2-core machine while sipp and the forwarder ran),
 * and sipp's `-trace_msg` times are its wall clock read after its own event loop's delays.
 *
 *   const tap = await InviteTap.start({ target: uas });     // the shaper's upstream: tap.address
 *   ...
 *   const invites = await tap.invites();                     // [{ callId, at, readAt }] in arrival order
 *   await tap.close();
 *
 * The C source is compiled with the machine's `cc` on first use (cached by its hash).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { compiledSource, findCompiler } from '../../bench/c-compile.js';
import type { Address } from '../sip/forwarder-core.js';

const SOURCE = fileURLToPath(new URL('./invite-tap.c', import.meta.url));
const START_TIMEOUT_MS = 60_000;

export interface TappedInvite {
  callId: string;
  /** When it reached the tap's socket (the kernel's timestamp), ns on process.hrtime's clock. */
  at: number;
  /** When the relay read it, ns on the same clock. */
  readAt: number;
}

export class InviteTap {
  private readonly waiting: Array<(line: string) => void> = [];

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: Interface,
    readonly address: Address,
  ) {
    lines.on('line', (line) => this.waiting.shift()?.(line));
  }

  static async start(options: { target: Address; address?: string }): Promise<InviteTap> {
    const address = options.address ?? '127.0.0.1';
    const cc = findCompiler();
    if (!cc) throw new Error('the INVITE tap needs a C compiler (cc, gcc or clang) on PATH: apt-get install gcc');
    const binary = await compiledSource(cc, SOURCE);
    const child = spawn(binary, [address, options.target.address, String(options.target.port)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the INVITE tap did not start within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      lines.once('line', (line) => (clearTimeout(timer), resolve(line)));
      child.once(
        'exit',
        (code) => (
          clearTimeout(timer),
          reject(new Error(`the INVITE tap exited (${code}) before listening: ${stderr.trim()}`))
        ),
      );
      child.once('error', (e) => (clearTimeout(timer), reject(e)));
    });
    const m = /^listening (\d+)$/.exec(first);
    if (!m) {
      child.kill();
      throw new Error(`the INVITE tap did not start: ${first} ${stderr.trim()}`);
    }
    return new InviteTap(child, lines, { address, port: Number(m[1]) });
  }

  /** The INVITEs relayed so far, in arrival order. */
  async invites(): Promise<TappedInvite[]> {
    const out: TappedInvite[] = [];
    await new Promise<void>((resolve, reject) => {
      const onExit = () => reject(new Error('the INVITE tap exited while answering'));
      this.child.once('exit', onExit);
      const next = (line: string) => {
        if (line.startsWith('end ')) {
          this.child.off('exit', onExit);
          return resolve();
        }
        const [at, readAt, ...callId] = line.split(' ');
        out.push({ callId: callId.join(' '), at: Number(at), readAt: Number(readAt) });
        this.waiting.push(next);
      };
      this.waiting.push(next);
      this.child.stdin.write('invites\n');
    });
    return out;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
    this.lines.close();
  }
}
