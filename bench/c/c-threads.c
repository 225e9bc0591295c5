/*
 * The operating system's cost of many sleeping timer threads: N POSIX threads, each sleeping
 * with clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) to its deadlines t0 + k * period and
 * doing nothing else. What the scale scenario compares ptimer's many workers with.
 *
 * usage: c-threads THREADS PERIOD_NS DURATION_NS
 * prints: "threads N", "wall_ns N", "cpu_us N", "maxrss_kb N", "runs_made N", "runs_late N"
 *         (late: woke a whole period or more after its deadline), and "worst_p99_ns N" and
 *         "median_p99_ns N": each thread's p99 wake-up lateness, the worst and the median.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static int64_t period_ns, duration_ns, t0;
static int64_t made[100000], late[100000];
/* Each thread's lateness samples (at most MAX_SAMPLES, the first ones), for its p99. */
#define MAX_SAMPLES 20000
static int64_t *samples[100000];

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *run(void *arg) {
  int64_t i = (int64_t)(intptr_t)arg;
  for (int64_t k = 1;; k++) {
    int64_t due = t0 + k * period_ns;
    if (due - t0 > duration_ns) break;
    struct timespec ts = { due / 1000000000, due % 1000000000 };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {}
    int64_t lateness = now_ns() - due;
    if (made[i] < MAX_SAMPLES) samples[i][made[i]] = lateness;
    made[i]++;
    if (lateness >= period_ns) late[i]++;
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: c-threads THREADS PERIOD_NS DURATION_NS\n");
    return 2;
  }
  int n = atoi(argv[1]);
  if (n < 1 || n > 100000) return 2;
  period_ns = atoll(argv[2]);
  duration_ns = atoll(argv[3]);
  pthread_t *threads = calloc((size_t)n, sizeof *threads);
  for (int i = 0; i < n; i++) samples[i] = calloc(MAX_SAMPLES, sizeof(int64_t));
  t0 = now_ns();
  for (int i = 0; i < n; i++) pthread_create(&threads[i], NULL, run, (void *)(intptr_t)i);
  for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
  int64_t wall = now_ns() - t0, runs = 0, lates = 0;
  for (int i = 0; i < n; i++) {
    runs += made[i];
    lates += late[i];
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  int64_t *p99 = calloc((size_t)n, sizeof(int64_t));
  for (int i = 0; i < n; i++) {
    int64_t count = made[i] < MAX_SAMPLES ? made[i] : MAX_SAMPLES;
    if (count == 0) continue;
    qsort(samples[i], (size_t)count, sizeof(int64_t), cmp64);
    int64_t rank = (count * 99 + 99) / 100 - 1;
    p99[i] = samples[i][rank < 0 ? 0 : rank];
  }
  qsort(p99, (size_t)n, sizeof(int64_t), cmp64);
  int64_t cpu = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
  printf("threads %d\nwall_ns %" PRId64 "\ncpu_us %" PRId64 "\nmaxrss_kb %ld\nruns_made %" PRId64 "\nruns_late %" PRId64 "\n", n, wall, cpu,
         ru.ru_maxrss, runs, lates);
  printf("worst_p99_ns %" PRId64 "\nmedian_p99_ns %" PRId64 "\n", p99[n - 1], p99[n / 2]);
  return 0;
}
