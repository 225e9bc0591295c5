/**
 * The "busy" scenario: the main thread's event loop does 5 ms of synchronous work every
 * 20 ms, as an application that parses, renders or compresses on its main thread would.
 */
const WORK_MS = 5;
const EVERY_MS = 20;

/** Starts the load; the returned function stops it. */
export function startBusyLoad(): () => void {
  const handle = setInterval(() => {
    const until = performance.now() + WORK_MS;
    let sink = 0;
    while (performance.now() < until) sink += Math.sqrt(sink + 1);
    if (sink < 0) console.log(sink); // keeps the loop from being optimised away
  }, EVERY_MS);
  return () => clearInterval(handle);
}
