/** The part of npm nanotimer (which ships no types) that the bench uses. */
declare module 'nanotimer' {
  export default class NanoTimer {
    constructor(log?: boolean);
    /** interval: an integer and a unit, e.g. '100u', '1m', '10m'. */
    setInterval(task: () => void, args: string | unknown[], interval: string, callback?: () => void): void;
    clearInterval(): void;
  }
}
