/**
 * Which connection goes when a control server is full: the idlest, not the newcomer.
 *
 * Why (issue 19): with a plain cap (Node's `server.maxConnections`), 70 local connections that
 * send nothing, re-opened whenever the server closed them, refused more than half of the
 * operator's calls; 100 slowloris connections or 500 idle ones refused all of them. A
 * connection that has sent nothing useful costs little to drop and its client loses nothing it
 * was owed, so the server drops it, rather than the operator's new connection.
 *
 * The policy, per server (`admit` is asked at each new connection):
 *
 *   open < soft cap (maxConnections) ........ admitted
 *   at the soft cap ......................... the idlest connection past its grace is shed,
 *                                              and the newcomer admitted
 *   none past its grace, open < hard cap .... admitted anyway (a burst of newcomers each get
 *                                              their grace to send a request)
 *   at the hard cap ......................... the idlest connection is shed, grace or not
 *   every connection working ................ the newcomer is refused (closed at once)
 *
 * "Working": a complete request of the connection is being answered (its answer is not yet
 * written). Working connections are never shed: what the operator asked for gets its answer.
 * "Idlest": the longest since its last answer went out, or since it opened if none has;
 * bytes of a request that is not complete (a slowloris, a dripping BINRPC packet) do not
 * count as activity, so such connections are shed first-come first-shed.
 *
 * The grace exists because a server accepts connections in batches (libuv accepts all that
 * are pending in one go, before reading any of them): without it, a well-behaved client's
 * connection accepted early in a batch of abusers could be shed before its request, already
 * sent, was ever read. The hard cap (a multiple of the soft one) bounds what a burst costs.
 *
 * Pure: no sockets, no clock of its own (the servers pass Date.now); tested with a virtual one.
 */

/**
 * The listen backlog of the control servers (Node's default is 511; the kernel caps it at
 * net.core.somaxconn). A reconnect flood fills the accept queue with connections its client
 * has already closed while the server's event loop is busy; once the queue is full the kernel
 * drops new SYNs, and the operator's connection waits out a 1 s SYN retransmit. A deep queue
 * costs nothing while it is empty.
 */
export const LISTEN_BACKLOG = 4096;

/** How many times the soft cap a burst may open before the newest are shed regardless of grace. */
export const HARD_CAP_FACTOR = 8;
/** How long a new connection is spared (ms) while it has had no chance to send a request. */
export const SHED_GRACE_MS = 1000;

export interface ShedderOptions {
  /** The soft cap: past it, idle connections are shed for new ones. */
  maxConnections: number;
  /** The hard cap (default HARD_CAP_FACTOR x maxConnections). */
  maxOpen?: number;
  graceMs?: number;
  now?: () => number;
}

interface Entry {
  openedAt: number;
  /** Last answer written, or openedAt. */
  since: number;
  /** Complete requests being answered. */
  working: number;
}

export type Admission<C> = { admitted: true; shed?: C } | { admitted: false };

export class ConnectionShedder<C> {
  readonly maxConnections: number;
  readonly maxOpen: number;
  readonly graceMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<C, Entry>();

  constructor(options: ShedderOptions) {
    this.maxConnections = options.maxConnections;
    this.maxOpen = Math.max(options.maxOpen ?? options.maxConnections * HARD_CAP_FACTOR, options.maxConnections);
    this.graceMs = options.graceMs ?? SHED_GRACE_MS;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * A new connection: admitted (with the connection to shed to make room, if any; the caller
   * closes it, and it is already forgotten here) or refused (the caller closes the newcomer).
   */
  admit(conn: C): Admission<C> {
    const now = this.now();
    let shed: C | undefined;
    if (this.entries.size >= this.maxConnections) {
      shed = this.idlest(now, true);
      if (shed === undefined && this.entries.size >= this.maxOpen) {
        shed = this.idlest(now, false);
        if (shed === undefined) return { admitted: false };
      }
      if (shed !== undefined) this.entries.delete(shed);
    }
    this.entries.set(conn, { openedAt: now, since: now, working: 0 });
    return shed === undefined ? { admitted: true } : { admitted: true, shed };
  }

  /** A complete request of `conn` is being answered: not to be shed until `answered`. */
  working(conn: C): void {
    const e = this.entries.get(conn);
    if (e) e.working++;
  }

  /** An answer of `conn` went out (or its request ended without one). */
  answered(conn: C): void {
    const e = this.entries.get(conn);
    if (!e) return;
    e.working = Math.max(0, e.working - 1);
    e.since = this.now();
  }

  /** `conn` closed. */
  remove(conn: C): void {
    this.entries.delete(conn);
  }

  /** Whether `conn` is being answered. */
  isWorking(conn: C): boolean {
    return (this.entries.get(conn)?.working ?? 0) > 0;
  }

  private idlest(now: number, pastGrace: boolean): C | undefined {
    let best: C | undefined;
    let bestSince = Infinity;
    for (const [conn, e] of this.entries) {
      if (e.working > 0) continue;
      if (pastGrace && now - e.openedAt < this.graceMs) continue;
      if (e.since < bestSince) {
        best = conn;
        bestSince = e.since;
      }
    }
    return best;
  }
}
