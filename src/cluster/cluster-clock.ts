/**
 * The cluster's clock, as one node sees it: the store's (Redis's) wall clock mapped onto this
 * node's monotonic clock, measured at every renewal round, and the epoch grid built on it.
 *
 * Measuring. A round trip sent at local monotonic s, answered at r, carries the server's time S
 * read somewhere in between. Taking the midpoint, shift = S - (s + r) / 2 maps monotonic to server
 * time with an error of at most (r - s) / 2 (the Cristian/NTP bound). Of the last few samples
 * the one with the smallest error is trusted. The same sample against the local wall clock gives
 * the offset operators care about (is chrony keeping this host near Redis's clock?): exported,
 * and cluster limits refuse to book past `max_offset`.
 *
 * Correcting. The grid must not jump under a running timer, so the shift in use slews toward the
 * measured one by at most SLEW_PPM of the time since the last correction; only a step larger
 * than STEP_NS (a restarted Redis host, a first measurement) is taken at once.
 *
 * The grid. A cluster timer's deadlines are server times epoch + k * interval, so `tick` k names
 * one grid point cluster-wide and a slot that moves to another node keeps its phase:
 *
 *     server  epoch          +1i            +2i            +3i
 *             |--------------|--------------|--------------|----->
 *     node A  |   runs k=0   |   runs k=1   |  (killed)
 *     node B                                               | runs k=3 (takeover: same grid)
 *
 * Units: nanoseconds (numbers) everywhere here; the store speaks microseconds.
 */

/** The local clocks a node reads (ports: a virtual clock in the tests). */
export interface NodeClock {
  /** Monotonic nanoseconds (performance.now() * 1e6 in the runtime). */
  monoNs(): number;
  /** Wall-clock nanoseconds since the Unix epoch (Date.now-based). */
  wallNs(): number;
}

export const systemClock: NodeClock = {
  monoNs: () => performance.now() * 1e6,
  wallNs: () => (performance.timeOrigin + performance.now()) * 1e6,
};

export interface OffsetSample {
  /** server - monotonic, at the round trip's midpoint. */
  shiftNs: number;
  /** server - local wall clock (what `max_offset` bounds). */
  offsetNs: number;
  /** Half the round trip: neither figure is wrong by more. */
  errorNs: number;
  atMonoNs: number;
}

/** A sample from one round trip: sent at monotonic `sentNs`, answered at `receivedNs`, with the server's time in it. */
export function sampleOf(sentNs: number, receivedNs: number, serverNs: number, wallAtMidNs: number): OffsetSample {
  const mid = (sentNs + receivedNs) / 2;
  return {
    shiftNs: serverNs - mid,
    offsetNs: serverNs - wallAtMidNs,
    errorNs: (receivedNs - sentNs) / 2,
    atMonoNs: receivedNs,
  };
}

/** The grid may move by at most this fraction (parts per million) of elapsed time when slewing. */
export const SLEW_PPM = 500;
/** A measured shift further than this from the one in use is taken at once. */
export const STEP_NS = 50e6;
/** Samples kept; the one with the smallest error wins. */
const SAMPLES_KEPT = 8;

export class ClusterClock {
  private samples: OffsetSample[] = [];
  private shift: number | null = null;
  private correctedAt = 0;

  /** Adds a round trip's sample and corrects the shift in use (slewed, or stepped when far). */
  add(sample: OffsetSample): void {
    this.samples.push(sample);
    if (this.samples.length > SAMPLES_KEPT) this.samples.shift();
    const target = this.best()!.shiftNs;
    if (this.shift === null || Math.abs(target - this.shift) > STEP_NS) {
      this.shift = target;
    } else {
      const room = ((sample.atMonoNs - this.correctedAt) * SLEW_PPM) / 1e6;
      this.shift += Math.max(-room, Math.min(room, target - this.shift));
    }
    this.correctedAt = sample.atMonoNs;
  }

  /** The sample with the smallest error of the last few (null before the first). */
  best(): OffsetSample | null {
    let best: OffsetSample | null = null;
    for (const s of this.samples) if (best === null || s.errorNs < best.errorNs) best = s;
    return best;
  }

  /** Whether a round trip has been measured yet (nothing cluster-timed runs before). */
  get known(): boolean {
    return this.shift !== null;
  }

  /** The offset of the local wall clock to the server's (best sample), and its error bound. */
  offset(): { offsetNs: number; errorNs: number } | null {
    const best = this.best();
    return best && { offsetNs: best.offsetNs, errorNs: best.errorNs };
  }

  toServerNs(monoNs: number): number {
    return monoNs + this.requireShift();
  }

  toMonoNs(serverNs: number): number {
    return serverNs - this.requireShift();
  }

  private requireShift(): number {
    if (this.shift === null) throw new Error('the cluster clock has no measurement yet');
    return this.shift;
  }
}

/** Grid arithmetic on server time: deadlines epoch + k * interval. */
export class EpochGrid {
  constructor(
    readonly epochNs: number,
    readonly intervalNs: number,
  ) {}

  /** The first tick whose deadline is at or after `serverNs`. */
  tickAtOrAfter(serverNs: number): number {
    return Math.max(0, Math.ceil((serverNs - this.epochNs) / this.intervalNs));
  }

  deadlineNs(tick: number): number {
    return this.epochNs + tick * this.intervalNs;
  }
}
