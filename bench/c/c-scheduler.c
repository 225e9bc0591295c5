/*
 * ptimer's scheduling design written in C: what the machine allows for many workers on a few
 * threads, the floor the scale scenario's lateness and drop figures are compared with.
 *
 * THREADS POSIX threads share WORKERS workers round-robin (worker i on thread i % THREADS), all of
 * one period. Each thread keeps its workers in a binary min-heap of deadlines (ties: lower index
 * first), sleeps with clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) to the earliest one minus
 * SPIN_NS, spins on the clock for the rest, and "runs" the worker: notes its lateness. A run later
 * than the worker's next grid point drops the points it passed (counted), as ptimer's sync timers
 * do. The grid origins are placed as ptimer places them (src/runtime/grid-origin.ts): with
 * SPREAD 1, a thread's j-th worker starts at slot (j / 16) of 1 ms steps (16 timers per step, the
 * slots wrapping round the period); with SPREAD 0, every worker has the same origin (one timer's
 * workers).
 *
 * Lateness goes into a histogram per worker with the buckets of bench/scale-routes.mjs (bucket b:
 * below 2^(b/4) us), so the p99s are read the same way as ptimer's.
 *
 * usage: c-scheduler THREADS WORKERS PERIOD_NS DURATION_NS SPREAD SPIN_NS
 * prints: "wall_ns", "cpu_us", "maxrss_kb", "runs_made", "ticks_dropped", "worst_dropped_ppm"
 *         (the worst worker's dropped ticks per million due), "worst_p99_us", "median_p99_us",
 *         "workers_over_250us", "median_p50_us".
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define BUCKETS 64
#define SLOT_CAPACITY 16
#define QUANTUM_NS 1000000

static int nthreads, nworkers, spread;
static int64_t period_ns, duration_ns, spin_ns, t0;
static int64_t *deadline, *made, *dropped;
static int32_t *hist;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* bound[b] = 2^(b/4) us, the upper bound of bucket b (without libm: by powers of 2^(1/4)). */
static double bound[BUCKETS];

static int bucket_of(double late_us) {
  int b = 0;
  while (b < BUCKETS - 1 && late_us > bound[b]) b++;
  return b;
}

/* A thread's heap of worker indexes, ordered by (deadline, index). */
typedef struct {
  int *w;
  int n;
} heap_t;

static int before(int a, int b) { return deadline[a] < deadline[b] || (deadline[a] == deadline[b] && a < b); }

static void sift_down(heap_t *h, int i) {
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->n && before(h->w[l], h->w[m])) m = l;
    if (r < h->n && before(h->w[r], h->w[m])) m = r;
    if (m == i) return;
    int t = h->w[i];
    h->w[i] = h->w[m];
    h->w[m] = t;
    i = m;
  }
}

static void *run(void *arg) {
  int t = (int)(intptr_t)arg;
  heap_t h = { calloc((size_t)nworkers, sizeof(int)), 0 };
  for (int i = t; i < nworkers; i += nthreads) h.w[h.n++] = i;
  for (int i = h.n / 2 - 1; i >= 0; i--) sift_down(&h, i);
  int64_t end = t0 + duration_ns;
  for (;;) {
    int w = h.w[0];
    int64_t due = deadline[w];
    if (due > end) break;
    int64_t wake = due - spin_ns;
    if (wake > now_ns()) {
      struct timespec ts = { wake / 1000000000, wake % 1000000000 };
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {}
    }
    int64_t now;
    while ((now = now_ns()) < due) {}
    hist[(int64_t)w * BUCKETS + bucket_of((double)(now - due) / 1000)]++;
    made[w]++;
    int64_t next = due + period_ns;
    if (now >= next) {
      int64_t passed = (now - due) / period_ns;
      dropped[w] += passed;
      next = due + (passed + 1) * period_ns;
    }
    deadline[w] = next;
    sift_down(&h, 0);
  }
  return NULL;
}

static double quantile_us(int w, double q) {
  int64_t total = 0, seen = 0;
  for (int b = 0; b < BUCKETS; b++) total += hist[(int64_t)w * BUCKETS + b];
  for (int b = 0; b < BUCKETS; b++) {
    seen += hist[(int64_t)w * BUCKETS + b];
    if (seen >= q * total) return bound[b];
  }
  return bound[BUCKETS - 1];
}

static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: c-scheduler THREADS WORKERS PERIOD_NS DURATION_NS SPREAD SPIN_NS\n");
    return 2;
  }
  nthreads = atoi(argv[1]);
  nworkers = atoi(argv[2]);
  period_ns = atoll(argv[3]);
  duration_ns = atoll(argv[4]);
  spread = atoi(argv[5]);
  spin_ns = atoll(argv[6]);
  if (nthreads < 1 || nthreads > 1024 || nworkers < nthreads || nworkers > 100000 || period_ns < 1000 || duration_ns < period_ns || spin_ns < 0) {
    fprintf(stderr, "c-scheduler: arguments out of range\n");
    return 2;
  }
  bound[0] = 1;
  for (int b = 1; b < BUCKETS; b++) bound[b] = bound[b - 1] * 1.189207115002721;
  deadline = calloc((size_t)nworkers, sizeof(int64_t));
  made = calloc((size_t)nworkers, sizeof(int64_t));
  dropped = calloc((size_t)nworkers, sizeof(int64_t));
  hist = calloc((size_t)nworkers * BUCKETS, sizeof(int32_t));
  int64_t slots = period_ns / QUANTUM_NS > 0 ? period_ns / QUANTUM_NS : 1;
  /* The first grid point a little ahead, as ptimer's first worker fixes it when its loop begins. */
  t0 = (now_ns() / QUANTUM_NS + 10) * QUANTUM_NS;
  for (int i = 0; i < nworkers; i++) {
    int64_t j = i / nthreads; /* the worker's place on its thread */
    deadline[i] = t0 + (spread ? ((j / SLOT_CAPACITY) % slots) * QUANTUM_NS : 0);
  }
  pthread_t *threads = calloc((size_t)nthreads, sizeof *threads);
  int64_t began = now_ns();
  for (int i = 0; i < nthreads; i++) pthread_create(&threads[i], NULL, run, (void *)(intptr_t)i);
  for (int i = 0; i < nthreads; i++) pthread_join(threads[i], NULL);
  int64_t wall = now_ns() - began;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  int64_t runs = 0, drops = 0, worst_ppm = 0;
  double *p99 = calloc((size_t)nworkers, sizeof(double)), *p50 = calloc((size_t)nworkers, sizeof(double));
  int over = 0;
  for (int i = 0; i < nworkers; i++) {
    runs += made[i];
    drops += dropped[i];
    int64_t due = made[i] + dropped[i];
    int64_t ppm = due > 0 ? dropped[i] * 1000000 / due : 0;
    if (ppm > worst_ppm) worst_ppm = ppm;
    p99[i] = quantile_us(i, 0.99);
    p50[i] = quantile_us(i, 0.5);
    if (p99[i] > 250) over++;
  }
  qsort(p99, (size_t)nworkers, sizeof(double), cmpd);
  qsort(p50, (size_t)nworkers, sizeof(double), cmpd);
  int64_t cpu = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
  printf("wall_ns %" PRId64 "\ncpu_us %" PRId64 "\nmaxrss_kb %ld\nruns_made %" PRId64 "\nticks_dropped %" PRId64 "\n", wall, cpu, ru.ru_maxrss, runs, drops);
  printf("worst_dropped_ppm %" PRId64 "\nworst_p99_us %.1f\nmedian_p99_us %.1f\nworkers_over_250us %d\nmedian_p50_us %.2f\n", worst_ppm, p99[nworkers - 1],
         p99[nworkers / 2], over, p50[nworkers / 2]);
  return 0;
}
