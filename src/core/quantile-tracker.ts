/**
 * A running estimate of one quantile of a stream, in O(1) memory and time per sample:
 * step up by q * step when a sample is above the estimate, down by (1 - q) * step when not.
 * The estimate settles where a fraction q of samples lie below it. Used to follow the
 * p60 of a scheduler thread's wake-up lateness, which sets how long it spins before a deadline.
 */
export class QuantileTracker {
  private estimate: number;

  constructor(
    private readonly q: number,
    private readonly step: number,
    initial: number,
  ) {
    this.estimate = initial;
  }

  add(sample: number): void {
    if (sample > this.estimate) this.estimate += this.q * this.step;
    else this.estimate -= (1 - this.q) * this.step;
    if (this.estimate < 0) this.estimate = 0;
  }

  get value(): number {
    return this.estimate;
  }
}
