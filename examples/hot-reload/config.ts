/**
 * hot-reload (the reference's use case 7.5): a synced slice timer `t1` whose start route
 * (GET_DATA) fetches its task list over HTTP and sets `ntasks` from it; the loop (HANDLE_DATA)
 * handles one slice of the list per run, so all of it every 10 runs (1 s). When the list
 * changes, `ptimer rpc ptimer.start t1` runs the start route again: the worker reloads the list
 * without a restart of anything else.
 *
 * When the fetch fails (no answer, not 200, not a valid list), what an operator needs is the
 * service to go on and the failure to be plain. So:
 * - with a last good list (kept in the table `tasklist`), GET_DATA goes on with it: it logs the
 *   error, emits `tasks-failed`, records it in the table (`result` = failed, `error`) and returns
 *   normally, so `t1` keeps serving that list; the host's control server (main.ts) turns the
 *   recorded failure into the answer of `ptimer.start`: an error (500) naming the fetch error and
 *   the version still served. Under a plain `ptimer run`, the failure is in the log and the
 *   start answers done.
 * - with no good list yet (the very first start), there is nothing to serve: GET_DATA throws,
 *   the worker ends and the start fails with the fetch error; a later `ptimer.start t1` retries.
 *
 * The list lives in the table, not only in `vars` (dropped at every start) or module state (lost
 * if the thread is restarted after a crash): as JSON in pieces of at most 256 characters under a
 * generation number, `g<N>:<piece>`; a new list is written in full under N + 1 before `gen`
 * points at it, so a half-written list is never the current one. The table is also how the host
 * sees what is served (`version`, `ntasks`, and `handled:<version>`, the tasks handled of it).
 *
 * One worker: it alone writes the table's keys. `ctx.data.tasksUrl` is where the list is.
 */
import { request } from 'node:http';
import { defineConfig, type RouteContext, type Table } from 'ptimer';

export interface HotReloadData {
  /** e.g. http://127.0.0.1:PORT/tasks: answers { "version": ..., "tasks": ["...", ...] }. */
  tasksUrl: string;
  /** How long the fetch may take (ms, default 2000). */
  timeoutMs?: number;
}

export interface TaskList {
  version: string;
  tasks: string[];
}

interface Vars {
  list: TaskList;
}

/** Bounds on what is accepted from the server. */
export const MAX_BODY_BYTES = 256 * 1024;
export const MAX_TASKS = 10_000;
export const MAX_TASK_CHARS = 256;
const PIECE = 256; // code points per table value (at most 1 KiB of UTF-8)

export default defineConfig({
  table: ['tasklist=>size=6'],
  timer: ['name=t1;type=3;interval=100ms;nslices=10'],
  start: ['timer=t1;route=GET_DATA'],
  loop: ['timer=t1;route=HANDLE_DATA'],
});

/** GETs `url` and parses a task list; throws an Error saying what was wrong. */
export function fetchTaskList(url: string, timeoutMs: number): Promise<TaskList> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) res.destroy(new Error(`the answer is over ${MAX_BODY_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', (err) => reject(new Error(`GET ${url}: ${err.message}`)));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200)
          return reject(new Error(`GET ${url}: HTTP ${res.statusCode}${body ? ` (${body.slice(0, 200)})` : ''}`));
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch (err) {
          return reject(
            new Error(`GET ${url}: the answer is not valid JSON (${(err as Error).message.replace(/\s+/g, ' ')})`),
          );
        }
        try {
          resolve(parseTaskList(json));
        } catch (err) {
          reject(new Error(`GET ${url}: ${(err as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new Error(`GET ${url}: ${err.message}`)));
    req.end();
  });
}

/** Checks the shape and bounds of a task list. */
export function parseTaskList(value: unknown): TaskList {
  const v = value as { version?: unknown; tasks?: unknown };
  if (v === null || typeof v !== 'object') throw new Error('the answer is not a JSON object { version, tasks }');
  if (typeof v.version !== 'string' && typeof v.version !== 'number')
    throw new Error('"version" must be a string or a number');
  if (!Array.isArray(v.tasks)) throw new Error('"tasks" must be an array of strings');
  if (v.tasks.length > MAX_TASKS) throw new Error(`"tasks" has ${v.tasks.length} entries; at most ${MAX_TASKS}`);
  v.tasks.forEach((t, i) => {
    if (typeof t !== 'string' || t === '' || t.length > MAX_TASK_CHARS)
      throw new Error(`tasks[${i}] must be a string of 1 to ${MAX_TASK_CHARS} characters`);
  });
  return { version: String(v.version), tasks: v.tasks as string[] };
}

/** Writes `list` in full under the next generation, then makes it the current one. */
function saveList(table: Table, list: TaskList): void {
  const old = table.get('gen') as number | undefined;
  const gen = (old ?? 0) + 1;
  const points = Array.from(JSON.stringify(list));
  const pieces = Math.ceil(points.length / PIECE);
  for (let i = 0; i < pieces; i++) table.set(`g${gen}:${i}`, points.slice(i * PIECE, (i + 1) * PIECE).join(''));
  table.set(`g${gen}:pieces`, pieces);
  table.set('gen', gen);
  if (old !== undefined) {
    const before = (table.get(`g${old}:pieces`) as number | undefined) ?? 0;
    for (let i = 0; i < before; i++) table.delete(`g${old}:${i}`);
    table.delete(`g${old}:pieces`);
  }
}

/** The current list of the table, or null when there is none. */
export function loadList(table: Table): TaskList | null {
  const gen = table.get('gen') as number | undefined;
  if (gen === undefined) return null;
  const pieces = table.get(`g${gen}:pieces`) as number;
  let text = '';
  for (let i = 0; i < pieces; i++) text += table.get(`g${gen}:${i}`) as string;
  return JSON.parse(text) as TaskList;
}

export async function GET_DATA(ctx: RouteContext<Vars, HotReloadData>) {
  const table = ctx.table('tasklist');
  table.set('attempts', ((table.get('attempts') as number | undefined) ?? 0) + 1);
  let list: TaskList;
  try {
    list = await fetchTaskList(ctx.data.tasksUrl, ctx.data.timeoutMs ?? 2_000);
    saveList(table, list);
    table.set('result', 'ok');
    table.delete('error');
  } catch (err) {
    const error = (err as Error).message;
    const last = loadList(table);
    table.set('result', 'failed');
    table.set('error', error.slice(0, 1000));
    // eslint-disable-next-line preserve-caught-error -- the message carries the cause's; a cause would repeat it in pino's serialized message
    if (!last) throw new Error(`t1 has no task list: ${error}`); // nothing to serve: the worker ends
    ctx.log.error(
      { error, version: last.version },
      `task list not reloaded: ${error}; still serving version ${last.version}`,
    );
    ctx.emit('tasks-failed', { error, version: last.version, ntasks: last.tasks.length });
    list = last;
  }
  ctx.vars.list = list;
  ctx.ptimer.ntasks = list.tasks.length;
  const before = table.get('version');
  if (before !== undefined && before !== list.version) table.delete(`handled:${before}`); // one counter at a time
  table.set('version', list.version);
  table.set('ntasks', list.tasks.length);
  ctx.emit('tasks', { version: list.version, ntasks: list.tasks.length });
}

export function HANDLE_DATA(ctx: RouteContext<Vars, HotReloadData>) {
  const { slice, nslices, ntasks, tasks } = ctx.ptimer;
  if (tasks === 0) return;
  const first = Math.floor((slice * ntasks) / nslices);
  const mine = ctx.vars.list.tasks.slice(first, first + tasks);
  // A real task would be done here (a health check, a report, a retry of a failed delivery...).
  const table = ctx.table('tasklist');
  const key = `handled:${ctx.vars.list.version}`;
  table.set(key, ((table.get(key) as number | undefined) ?? 0) + mine.length);
}
