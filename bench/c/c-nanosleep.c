/*
 * The operating system's limit for a normal thread, in the bench's terms: sleep with
 * clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) to the absolute deadlines
 * t0 + k * period (k = 1, 2, ...), never skipping one, and note how late each wake-up was.
 * No real-time priority, no mlockall, default timer slack: what any process gets.
 *
 * usage: c-nanosleep PERIOD_NS DURATION_NS
 * prints: "runs_due N", "runs_made N", "wall_ns N", "cpu_us N" (user + system), then
 *         "lateness_ns" and one line per run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s PERIOD_NS DURATION_NS\n", argv[0]);
    return 2;
  }
  const int64_t period = strtoll(argv[1], NULL, 10);
  const int64_t duration = strtoll(argv[2], NULL, 10);
  if (period <= 0 || duration <= 0) {
    fprintf(stderr, "c-nanosleep: PERIOD_NS and DURATION_NS must be positive integers\n");
    return 2;
  }
  const int64_t due = duration / period;
  int64_t *lateness = malloc((size_t)(due + 1) * sizeof *lateness);
  if (!lateness) {
    fprintf(stderr, "c-nanosleep: out of memory for %" PRId64 " runs\n", due);
    return 1;
  }
  memset(lateness, 0, (size_t)(due + 1) * sizeof *lateness); /* fault the pages in before measuring */

  const int64_t cpu_start = cpu_us();
  const int64_t t0 = now_ns();
  const int64_t stop = t0 + duration;
  int64_t made = 0;
  for (int64_t k = 1; k <= due; k++) {
    const int64_t deadline = t0 + k * period;
    const struct timespec ts = {.tv_sec = deadline / 1000000000, .tv_nsec = deadline % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
    const int64_t woke = now_ns();
    lateness[made++] = woke - deadline;
    if (woke > stop) break; /* fallen behind: the window is over, runs not made are missed */
  }
  const int64_t wall = now_ns() - t0;
  const int64_t cpu = cpu_us() - cpu_start;

  printf("runs_due %" PRId64 "\nruns_made %" PRId64 "\nwall_ns %" PRId64 "\ncpu_us %" PRId64 "\nlateness_ns\n", due, made,
         wall, cpu);
  for (int64_t i = 0; i < made; i++) printf("%" PRId64 "\n", lateness[i]);
  free(lateness);
  return 0;
}
