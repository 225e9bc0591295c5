/**
 * How quick `ptimer rpc` is for an operator's command line, beside kamcmd against ptimer's own
 * BINRPC socket, in the same run (`node --import tsx bench/cli-latency.ts [--runs N]`; needs
 * `npm run build` and kamcmd).
 *
 * It starts `ptimer run` (the built CLI) with a Unix socket, HTTP and BINRPC, then times, one
 * after another, N runs (default 20) of each command, wall clock from spawn to exit:
 *
 *   node -e 0                              Node's own start on this machine: the floor under any Node CLI
 *   ptimer rpc -s SOCKET ptimer.list       the JSON-RPC Unix socket
 *   ptimer rpc --url URL ptimer.list       HTTP
 *   kamcmd -s unix:BINRPC ptimer.list      Kamailio's C tool, the reference
 *
 * taking turns, and prints the median and p90 of each, and ptimer's own share (its median less Node's).
 * Every run must succeed; a missing kamcmd is an error that names it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LatencyRow {
  name: string;
  command: string;
  medianMs: number;
  p90Ms: number;
  /** The median CPU time (user + system, all threads) of a Node command; null for kamcmd. */
  cpuMedianMs: number | null;
  runs: number;
}

/**
 * Loaded before a Node command: prints its CPU time at exit. CPU time hardly depends on how
 * loaded the machine is (wall clock does: on a shared 2-core machine `node -e 0` took 100 to
 * 280 ms), so the test's bound is on it; the wall clock is what the bench reports.
 */
const CPU_PROBE = `data:text/javascript,${encodeURIComponent(
  "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('\\ncpu-us ' + (u.user + u.system) + '\\n'); });",
)}`;

const root = fileURLToPath(new URL('../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function runOnce(name: string, argv: string[]): { ms: number; cpuMs: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw new Error(`${name}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${name} failed (exit ${r.status}): ${r.stderr}`);
  if (name.includes('ptimer.list') && !r.stdout.includes('bench'))
    throw new Error(`${name} did not list the timer: ${r.stdout}`);
  const cpu = /\ncpu-us (\d+)\n/.exec(r.stderr);
  return { ms, cpuMs: cpu ? Number(cpu[1]) / 1000 : null };
}

/**
 * The commands take turns (one run of each, then the next round), so that a burst of load on
 * the shared machine falls on all of them alike rather than on whichever was being timed.
 */
function timeInTurns(commands: Array<[string, string[]]>, runs: number): LatencyRow[] {
  const samples = commands.map(() => [] as Array<{ ms: number; cpuMs: number | null }>);
  for (let i = 0; i < runs; i++) commands.forEach(([name, argv], c) => samples[c]!.push(runOnce(name, argv)));
  return commands.map(([name, argv], c) => {
    const sorted = samples[c]!.map((x) => x.ms).sort((a, b) => a - b);
    const cpu = samples[c]!.flatMap((x) => (x.cpuMs === null ? [] : [x.cpuMs])).sort((a, b) => a - b);
    const shown = argv.filter((a) => a !== '--import' && a !== CPU_PROBE);
    return {
      name,
      command: shown.join(' '),
      medianMs: quantile(sorted, 0.5),
      p90Ms: quantile(sorted, 0.9),
      cpuMedianMs: cpu.length > 0 ? quantile(cpu, 0.5) : null,
      runs,
    };
  });
}

export async function measureCliLatency(runs = 20): Promise<LatencyRow[]> {
  if (spawnSync('kamcmd', ['-h']).error) throw new Error('kamcmd is missing (Debian: apt-get install kamailio)');
  const dir = mkdtempSync(join(tmpdir(), 'ptimer-cli-bench-'));
  const config = join(dir, 'bench.config.mjs');
  writeFileSync(
    config,
    "export default { timer: ['name=bench;interval=100ms'], loop: ['timer=bench;route=L'] };\nexport function L() {}\n",
  );
  const socket = join(dir, 'rpc.sock');
  const binrpc = join(dir, 'binrpc.sock');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/RPC`;
  const server = spawn(
    process.execPath,
    [
      cli,
      'run',
      config,
      '--http',
      `127.0.0.1:${port}`,
      '--socket',
      socket,
      '--binrpc',
      `unix:${binrpc}`,
      '--log-level',
      'warn',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  server.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = spawnSync(process.execPath, [cli, 'rpc', '-s', socket, 'ptimer.list'], { encoding: 'utf8' });
      if (r.status === 0) break;
      if (server.exitCode !== null) throw new Error(`ptimer run exited: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`ptimer run did not answer within 20 s: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return timeInTurns(
      [
        ['node -e 0 (the floor)', [process.execPath, '--import', CPU_PROBE, '-e', '0']],
        [
          'ptimer rpc -s SOCKET ptimer.list',
          [process.execPath, '--import', CPU_PROBE, cli, 'rpc', '-s', socket, 'ptimer.list'],
        ],
        [
          'ptimer rpc --url URL ptimer.list',
          [process.execPath, '--import', CPU_PROBE, cli, 'rpc', '--url', url, 'ptimer.list'],
        ],
        ['kamcmd -s unix:BINRPC ptimer.list', ['kamcmd', '-s', `unix:${binrpc}`, 'ptimer.list']],
      ],
      runs,
    );
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => (server.exitCode !== null ? resolve(null) : server.on('exit', resolve)));
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatCliLatency(rows: LatencyRow[]): string {
  const floor = rows.find((r) => r.name.startsWith('node -e 0'))?.medianMs ?? 0;
  const lines = [
    '| command | median ms | p90 ms | CPU ms (median) | runs | over node -e 0 |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const over = r.name.startsWith('ptimer') ? `${(r.medianMs - floor).toFixed(1)}` : '';
    lines.push(
      `| ${r.name} | ${r.medianMs.toFixed(1)} | ${r.p90Ms.toFixed(1)} | ${r.cpuMedianMs === null ? '-' : r.cpuMedianMs.toFixed(1)} | ${r.runs} | ${over} |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 20;
  if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new Error('--runs is an integer from 1 to 1000');
  console.log(formatCliLatency(await measureCliLatency(runs)));
}
