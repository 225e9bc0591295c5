/**
 * The control that hot-reload's host serves over JSON-RPC: the PTimer's own, except that a
 * `start` of t1 whose start route could not fetch the task list answers an error (500) instead
 * of "done", although the worker goes on serving its last good list (see config.ts). The start
 * route records each attempt in the table `tasklist` (`attempts`, `result`, `error`); after the
 * start has run, this reads them. (A start runs its route before it resolves, and one worker's
 * commands run in order, so the record read is the one this start made, unless another start of
 * t1 ran in between; operators do not race themselves.)
 */
import { ControlError, type PTimer, type TimerControl } from 'ptimer';

export function reportingControl(pt: PTimer, timer = 't1'): TimerControl {
  const table = pt.table('tasklist');
  const attempts = () => (table.get('attempts') as number | undefined) ?? 0;
  return {
    list: () => pt.list(),
    pause: (t, w) => pt.pause(t, w),
    continue: (t, w) => pt.continue(t, w),
    loop: (t, w) => pt.loop(t, w),
    end: (t, w, o) => pt.end(t, w, o),
    reload: () => pt.reload(),
    async start(t, w, o) {
      if (t !== timer) return pt.start(t, w, o);
      const before = attempts();
      const result = await pt.start(t, w, o);
      if (attempts() > before && table.get('result') === 'failed') {
        throw new ControlError(
          `start ${t}: the task list was not reloaded: ${table.get('error')}; ${t} keeps serving version ${table.get('version')} (${table.get('ntasks')} tasks)`,
          500,
        );
      }
      return result;
    },
  };
}
