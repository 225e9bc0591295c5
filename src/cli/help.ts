/** The --help texts. Kept together so that they read as one manual. */
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT } from '../rpc/defaults.js';

const DEFAULT_HTTP = `${DEFAULT_HTTP_HOST}:${DEFAULT_HTTP_PORT}`;

export const MAIN_HELP = `ptimer - precise timers for Node.js (a take on Kamailio's ptimer module)

Usage:
  ptimer run [CONFIG] [options]           run the timers and the control server until SIGINT/SIGTERM
  ptimer rpc METHOD [ARGS...] [options]   send one command to a running server, print the answer
  ptimer check [CONFIG] [options]         validate a config, print the resolved timers
  ptimer top [options]                    a live table of every worker, refreshed every second
  ptimer build CONFIG.ts [-o OUT.mjs]     compile a .ts config to JavaScript for production
  ptimer completion bash|zsh              a shell completion script

Options:
  -h, --help       this help; \`ptimer COMMAND --help\` for a command's own
  -V, --version    the version (-v too)

CONFIG is a config module (ptimer.config.ts, .js or .mjs: the default export holds the
parameters, the named exports are the routes), or a Kamailio-style file (FILE.cfg, with
modparam("ptimer", ...) lines) together with --routes MODULE.

The control server answers JSON-RPC 2.0 at http://${DEFAULT_HTTP}/RPC (loopback only,
port ${DEFAULT_HTTP_PORT} unless --http says otherwise), serves Prometheus metrics at
http://${DEFAULT_HTTP}/metrics, and on a Unix socket with --socket PATH.
`;

export const RUN_HELP = `Usage: ptimer run [CONFIG] [options]

Loads CONFIG (default: ptimer.config.ts, then .js, then .mjs in the current folder),
validates it, starts every timer's workers and the control server, and runs until SIGINT
or SIGTERM. The first signal stops gracefully: each worker that is not paused runs its
end route, the threads exit, then ptimer exits 0. A second signal exits at once (exit code 128+signal).

Options:
  --http HOST:PORT     where to serve JSON-RPC (POST /RPC) and metrics (GET /metrics);
                       default ${DEFAULT_HTTP}. Port 0 picks a free port (logged).
  --no-http            no HTTP server (use --socket, --binrpc, --fifo or --dgram)
  --socket PATH        also serve JSON-RPC on a Unix socket, one request per line;
                       created with mode 0600, removed on exit; a stale one is replaced
  --binrpc unix:PATH|tcp:HOST:PORT
                       also speak BINRPC, the protocol of Kamailio's ctl module, for
                       kamcmd (kamcmd -s unix:PATH ptimer.list). unix: creates the socket
                       with mode 0600; tcp: binds loopback only (BINRPC has no
                       authentication); tcp:HOST alone is port 2049
  --fifo PATH          also read JSON-RPC from a FIFO, as Kamailio's jsonrpcs module does,
                       for kamctl rpc; each answer goes to the FIFO named by the request's
                       reply_name, in --fifo-reply-dir (default /tmp, where kamctl makes it)
  --fifo-reply-dir DIR where the FIFO's clients make their reply FIFOs (default /tmp)
  --dgram PATH         also serve JSON-RPC on a Unix datagram socket (jsonrpcs' datagram
                       transport), mode 0600; answers go to the sender's bound address
  --rpc-token TOKEN    require "Authorization: Bearer TOKEN" on every HTTP request;
                       needed to bind an address other than loopback. Also read from
                       the environment variable PTIMER_RPC_TOKEN (keeps it out of ps)
  --routes MODULE      the routes module (named exports), for a Kamailio-style CONFIG
  -D NAME[=VALUE]      define NAME for a Kamailio-style CONFIG's #!ifdef/#!ifndef (repeatable)
  --data FILE.json     ctx.data in every route: the file's JSON, read once at start
                       (at most 64 MiB; the same read-only value in every worker)
  --log-level LEVEL    fatal, error, warn, info (default), debug, trace or silent
  --log-pretty         readable log lines (default when stdout is a terminal; one JSON
                       object per line otherwise); coloured on a terminal unless NO_COLOR
                       is set
  --stop-timeout MS    how long the end routes may take when stopping before the
                       threads are terminated (default 10000)
  --cluster URL        the cluster's Redis (redis://HOST:PORT/DB): overrides the config's
                       cluster url, or makes a cluster of it
  --node ID            this node's id in the cluster (default HOSTNAME:PID)
  -h, --help           this help

Examples:
  ptimer run examples/demo.config.ts
  ptimer run --http 127.0.0.1:9000 --socket /run/ptimer/ptimer.sock
  ptimer run kamailio-ptimer.cfg --routes routes.ts
  ptimer run --binrpc unix:/run/ptimer/ptimer_ctl --fifo /run/ptimer/ptimer_rpc.fifo
  PTIMER_RPC_TOKEN=s3cret ptimer run --http 0.0.0.0:${DEFAULT_HTTP_PORT}
`;

export const RPC_HELP = `Usage: ptimer rpc METHOD [ARGS...] [options]

Sends one JSON-RPC request to a running \`ptimer run\` and prints the result as JSON
(or as a table or YAML: --output).
ARGS are the positional params; an integer is sent as a number. Exit 0 on success; on an
error answer or when no server answers, the message goes to stderr and the exit code is 1.

Methods:
  ptimer.list                   every timer and worker: route, paused, counters, lateness
  ptimer.pause TIMER [WORKER]   pause after the current route (all workers if no WORKER)
  ptimer.continue TIMER [WORKER]  go on where paused
  ptimer.start TIMER [WORKER]   run the start route again (fresh message, empty vars)
  ptimer.loop TIMER [WORKER]    jump into the loop route
  ptimer.end TIMER [WORKER]     run the end route, then pause
  system.listMethods            the methods
  ptimer.reload                 re-read the config file: add, change, remove timers
  system.methodHelp METHOD      what a method does
  ptimer.push QUEUE VALUE [KEY] queue a value from outside; ptimer.queues: every queue's counts
  mqueue.get_size QUEUE, mqueue.get_sizes, mqueue.fetch QUEUE         as Kamailio's mqueue
  htable.get|sets|seti|delete|dump|flush|listTables|stats ...        as Kamailio's htable
                                (docs/queues-tables-limits.md)
Errors carry the reference's codes: 400 bad arguments, 404 unknown timer, 500 failure.

Options:
  --url URL            the server (default http://${DEFAULT_HTTP}/RPC)
  -s, --socket PATH    talk to the Unix socket instead (unix:PATH as kamcmd writes it works too)
  --token TOKEN        bearer token for a server started with --rpc-token (also read
                       from PTIMER_RPC_TOKEN)
  -o, --output FORMAT  json (default), table or yaml, as kamcli has; a table of
                       ptimer.list has one row per worker
  --table              short for --output table
  --verbose            say on stderr which server was asked and answered (and how fast)
  --params JSON        the params as JSON (an array or object) instead of ARGS, e.g.
                       to send a timer name made of digits: --params '["42"]'
  --timeout SECONDS    how long to wait for the answer (default 30)
  -h, --help           this help

The server, when neither --url nor -s names it: PTIMER_URL or PTIMER_SOCKET, else a file
(as kamcli's kamcli.ini) PTIMER_CLI_CONFIG, ~/.config/ptimer/cli.ini or /etc/ptimer/cli.ini
with lines such as "socket = /run/ptimer/ptimer.sock", "url = URL", "timeout = 5", "token = T";
else the default, and then stderr says which server answered.

Examples:
  ptimer rpc ptimer.list --table
  ptimer rpc ptimer.pause releaser 1
  ptimer rpc ptimer.continue releaser 1
  ptimer rpc --socket /run/ptimer/ptimer.sock ptimer.start t1
  ptimer rpc -s unix:/run/ptimer/ptimer.sock ptimer.list -o yaml
`;

export const CHECK_HELP = `Usage: ptimer check [CONFIG] [options]

Validates CONFIG without starting anything and prints the resolved timers, with every
default filled in. Exit 0 when it is valid; otherwise the error is printed and the exit
code is 1. CONFIG defaults as for \`ptimer run\`.

Options:
  -D NAME[=VALUE]   define NAME for a Kamailio-style CONFIG's #!ifdef/#!ifndef (repeatable)
  --routes MODULE   the routes module, for a Kamailio-style CONFIG; without it the
                    route names are not checked against any module (a note says so)
  -o, --output FORMAT  table (default: the timers on stdout, warnings and notices on
                    stderr) or json ({ file, timers, warnings, notices } on stdout)
  --json            short for --output json
  -h, --help        this help

Examples:
  ptimer check ptimer.config.ts
  ptimer check kamailio-ptimer.cfg --routes routes.ts
`;

export const TOP_HELP = `Usage: ptimer top [options]

A live table of every worker of a running server, refreshed every second: state, thread,
route, loop runs per second, overruns, route errors, and loop lateness p50/p99. Press q
(or Ctrl-C) to quit; the terminal is restored. When stdout is not a terminal, frames are
printed one after another.

Options:
  --url URL            the server (default http://${DEFAULT_HTTP}/RPC)
  -s, --socket PATH    a Unix socket instead (unix:PATH works too)
  --token TOKEN        bearer token (also read from PTIMER_RPC_TOKEN)
  -d, --interval SECONDS  time between refreshes (default 1; 0.1 to 60)
  --once               print one frame (two samples, one interval apart) and exit
  --timeout SECONDS    how long one refresh may wait for its answer (default 3 intervals, at least 2)
  -h, --help           this help
`;

export const BUILD_HELP = `Usage: ptimer build CONFIG.ts [-o OUT.mjs]

Compiles a .ts config (or routes) module, with the local files it imports, into one
JavaScript module for production (packages such as ptimer stay imports), with a source map
beside it. \`ptimer run OUT.mjs\` then starts without compiling anything. (ptimer run with a
.ts compiles it once too, into .ptimer-cache/ next to it; build is for machines where that
folder should not be written.)

Options:
  -o, --out FILE       where to write (default: CONFIG with .mjs, next to it)
  -h, --help           this help

Example:
  ptimer build ptimer.config.ts -o dist/ptimer.config.mjs
`;

export const COMPLETION_HELP = `Usage: ptimer completion bash|zsh

Prints a completion script for the shell: commands, flags, and RPC method names.

  ptimer completion bash > /etc/bash_completion.d/ptimer     # or: source <(ptimer completion bash)
  ptimer completion zsh > "\${fpath[1]}/_ptimer"              # or: source <(ptimer completion zsh)
`;

/** Each command's --help, by command name: the commands there are (cli.ts runs them; completion.ts completes them). */
export const COMMAND_HELP: Readonly<Record<'run' | 'rpc' | 'check' | 'top' | 'build' | 'completion', string>> = {
  run: RUN_HELP,
  rpc: RPC_HELP,
  check: CHECK_HELP,
  top: TOP_HELP,
  build: BUILD_HELP,
  completion: COMPLETION_HELP,
};
