/* pool_test.c — checks of the C runtime's thread pool, error reporting and memory helpers, built
 * and run by test/runtime/runtime.test.ts. `pool_test <check>` runs one check; it prints what it
 * verified and exits 0, or prints "FAIL ..." and exits 1. */
#define _POSIX_C_SOURCE 200809L

#include "tfc_runtime.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond, ...)                                              \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                   \
      fprintf(stderr, "\n");                                          \
      exit(1);                                                        \
    }                                                                 \
  } while (0)

/* ---- coverage: every index exactly once, in balanced chunks ------------------------------------ */

#define MAX_CALLS 4096

typedef struct {
  int64_t begin;
  atomic_int* hits;           /* hits[i - begin] */
  atomic_int calls;
  int64_t lo[MAX_CALLS], hi[MAX_CALLS];
  pthread_t thread[MAX_CALLS];
} coverage_ctx;

static void coverage_body(void* arg, int64_t lo, int64_t hi) {
  coverage_ctx* c = (coverage_ctx*)arg;
  int call = atomic_fetch_add(&c->calls, 1);
  if (call < MAX_CALLS) {
    c->lo[call] = lo;
    c->hi[call] = hi;
    c->thread[call] = pthread_self();
  }
  for (int64_t i = lo; i < hi; i++) atomic_fetch_add(&c->hits[i - c->begin], 1);
}

static void check_range(tfc_exec* ex, int64_t begin, int64_t end) {
  int threads = tfc_pool_size(ex->pool);
  int64_t n = end > begin ? end - begin : 0;
  coverage_ctx* c = (coverage_ctx*)calloc(1, sizeof(coverage_ctx));
  c->begin = begin;
  c->hits = (atomic_int*)calloc((size_t)(n > 0 ? n : 1), sizeof(atomic_int));
  tfc_parallel_for(ex, coverage_body, c, begin, end);
  for (int64_t i = 0; i < n; i++) {
    CHECK(c->hits[i] == 1, "pool %d, range [%lld, %lld): index %lld ran %d times", threads, (long long)begin, (long long)end,
          (long long)(begin + i), (int)c->hits[i]);
  }
  int64_t expected_calls = threads == 1 ? (n > 0 ? 1 : 0) : (int64_t)tfc_parallel_chunks((uint64_t)n, threads);
  if (threads > 1) {
    int64_t one_each = n < threads ? n : threads;
    CHECK(expected_calls == (n < 2 * TFC_CHUNKS_PER_THREAD * threads ? one_each : (int64_t)TFC_CHUNKS_PER_THREAD * threads),
          "tfc_parallel_chunks(%lld, %d) = %lld", (long long)n, threads, (long long)expected_calls);
  }
  CHECK(c->calls == expected_calls, "pool %d, range [%lld, %lld): %d calls of the body, expected %lld", threads,
        (long long)begin, (long long)end, (int)c->calls, (long long)expected_calls);
  int64_t smallest = INT64_MAX, largest = 0;
  for (int k = 0; k < c->calls; k++) {
    int64_t len = c->hi[k] - c->lo[k];
    CHECK(len > 0, "pool %d: empty chunk [%lld, %lld)", threads, (long long)c->lo[k], (long long)c->hi[k]);
    if (len < smallest) smallest = len;
    if (len > largest) largest = len;
  }
  CHECK(c->calls == 0 || largest - smallest <= 1, "pool %d: chunks of %lld and %lld elements are unbalanced", threads,
        (long long)smallest, (long long)largest);
  free(c->hits);
  free(c);
}

static int check_coverage(void) {
  const int64_t lengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 100, 1000, 4097};
  const int64_t begins[] = {0, 1, -5, 1000003, INT64_MIN, INT64_MAX - 4097};
  int ranges = 0;
  for (int threads = 1; threads <= 8; threads++) {
    tfc_pool* pool = tfc_pool_create(threads);
    CHECK(pool != NULL && tfc_pool_size(pool) == threads, "tfc_pool_create(%d) gave size %d", threads, tfc_pool_size(pool));
    tfc_exec ex;
    tfc_exec_init(&ex, pool);
    for (size_t b = 0; b < sizeof begins / sizeof begins[0]; b++) {
      for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
        check_range(&ex, begins[b], begins[b] + lengths[l]);
        ranges++;
      }
    }
    check_range(&ex, 10, 3); /* end < begin: nothing runs */
    check_range(&ex, INT64_MAX, INT64_MIN);
    ranges += 2;
    CHECK(ex.status == TFC_OK, "status changed to %d", ex.status);
    tfc_pool_destroy(pool);
  }
  /* No pool, and a NULL exec: serial. */
  tfc_exec serial;
  tfc_exec_init(&serial, NULL);
  check_range(&serial, 0, 100);
  coverage_ctx* c = (coverage_ctx*)calloc(1, sizeof(coverage_ctx));
  c->hits = (atomic_int*)calloc(50, sizeof(atomic_int));
  tfc_parallel_for(NULL, coverage_body, c, 0, 50);
  CHECK(c->calls == 1 && c->lo[0] == 0 && c->hi[0] == 50, "a NULL exec should run the body once over the whole range");
  free(c->hits);
  free(c);
  printf("coverage: %d ranges on pools of 1..8 threads, every index exactly once\n", ranges);
  return 0;
}

/* ---- nested: a body calling parallel_for runs the inner loop serially ------------------------- */

typedef struct {
  tfc_exec* ex;
  atomic_int* grid; /* 64 x 100 */
  atomic_int inner_calls;
  atomic_int inner_loops;
} nested_ctx;

typedef struct {
  nested_ctx* outer;
  int64_t row;
} inner_ctx;

static void inner_body(void* arg, int64_t lo, int64_t hi) {
  inner_ctx* c = (inner_ctx*)arg;
  atomic_fetch_add(&c->outer->inner_calls, 1);
  for (int64_t j = lo; j < hi; j++) atomic_fetch_add(&c->outer->grid[c->row * 100 + j], 1);
}

static void outer_body(void* arg, int64_t lo, int64_t hi) {
  nested_ctx* c = (nested_ctx*)arg;
  for (int64_t row = lo; row < hi; row++) {
    inner_ctx inner = {c, row};
    atomic_fetch_add(&c->inner_loops, 1);
    tfc_parallel_for(c->ex, inner_body, &inner, 0, 100);
  }
}

static int check_nested(void) {
  for (int threads = 2; threads <= 8; threads += 2) {
    tfc_pool* pool = tfc_pool_create(threads);
    tfc_exec ex;
    tfc_exec_init(&ex, pool);
    nested_ctx c = {&ex, (atomic_int*)calloc(64 * 100, sizeof(atomic_int)), 0, 0};
    for (int rep = 0; rep < 20; rep++) tfc_parallel_for(&ex, outer_body, &c, 0, 64);
    for (int i = 0; i < 64 * 100; i++) CHECK(c.grid[i] == 20, "pool %d: cell %d ran %d times, expected 20", threads, i, (int)c.grid[i]);
    CHECK(c.inner_calls == c.inner_loops, "pool %d: %d inner bodies for %d inner loops (inner loops must run serially)", threads,
          (int)c.inner_calls, (int)c.inner_loops);
    /* The pool is usable again after nesting. */
    check_range(&ex, 0, 1000);
    free(c.grid);
    tfc_pool_destroy(pool);
  }
  printf("nested: inner parallel_for ran serially inside the outer one, no deadlock\n");
  return 0;
}

/* ---- fail: the first error code wins ---------------------------------------------------------- */

static void failing_body(void* arg, int64_t lo, int64_t hi) {
  tfc_exec* ex = (tfc_exec*)arg;
  for (int64_t i = lo; i < hi; i++) tfc_fail(ex, (int32_t)(1 + i % 7));
}

static int check_fail(void) {
  tfc_exec ex;
  tfc_exec_init(&ex, NULL);
  CHECK(ex.status == TFC_OK, "fresh exec has status %d", ex.status);
  tfc_fail(&ex, TFC_ERR_INDEX);
  tfc_fail(&ex, TFC_ERR_SHAPE);
  tfc_fail(&ex, TFC_OK);
  CHECK(ex.status == TFC_ERR_INDEX, "status %d, expected the first code %d", ex.status, TFC_ERR_INDEX);
  tfc_exec_init(&ex, NULL);
  CHECK(ex.status == TFC_OK, "tfc_exec_init did not reset the status");
  tfc_fail(NULL, TFC_ERR_INDEX); /* ignored */

  tfc_pool* pool = tfc_pool_create(4);
  for (int rep = 0; rep < 200; rep++) {
    tfc_exec_init(&ex, pool);
    tfc_parallel_for(&ex, failing_body, &ex, 0, 4000);
    int first = ex.status;
    CHECK(first >= 1 && first <= 7, "status %d after concurrent failures, expected a code in 1..7", first);
    tfc_parallel_for(&ex, failing_body, &ex, 0, 4000);
    CHECK(ex.status == first, "status changed from %d to %d after the first failure", first, ex.status);
  }
  tfc_pool_destroy(pool);
  for (int s = 0; s <= 7; s++) CHECK(strncmp(tfc_status_name(s), "TFC_", 4) == 0, "tfc_status_name(%d) = %s", s, tfc_status_name(s));
  CHECK(strcmp(tfc_status_name(TFC_ERR_WEIGHTS), "TFC_ERR_WEIGHTS") == 0, "tfc_status_name(3) = %s", tfc_status_name(3));
  CHECK(strcmp(tfc_status_name(99), "TFC_ERR_UNKNOWN") == 0, "tfc_status_name(99) = %s", tfc_status_name(99));
  printf("fail: first code kept, also under 4 threads failing at once\n");
  return 0;
}

/* ---- stress: many tiny back-to-back jobs, and two callers sharing a pool ----------------------- */

typedef struct {
  atomic_llong sum;
} sum_ctx;

static void sum_body(void* arg, int64_t lo, int64_t hi) {
  sum_ctx* c = (sum_ctx*)arg;
  long long s = 0;
  for (int64_t i = lo; i < hi; i++) s += i;
  atomic_fetch_add(&c->sum, s);
}

typedef struct {
  tfc_exec* ex;
  int reps;
  int ok;
} caller_args;

static void* caller_thread(void* arg) {
  caller_args* a = (caller_args*)arg;
  a->ok = 1;
  for (int rep = 0; rep < a->reps; rep++) {
    sum_ctx c = {0};
    int64_t n = 1 + rep % 37;
    tfc_parallel_for(a->ex, sum_body, &c, 0, n);
    if (c.sum != n * (n - 1) / 2) a->ok = 0;
  }
  return NULL;
}

static int check_stress(void) {
  const int sizes[] = {2, 3, 4, 8};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    tfc_pool* pool = tfc_pool_create(sizes[s]);
    tfc_exec ex;
    tfc_exec_init(&ex, pool);
    for (int rep = 0; rep < 10000; rep++) {
      sum_ctx c = {0};
      int64_t n = 1 + rep % 13;
      tfc_parallel_for(&ex, sum_body, &c, 0, n);
      CHECK(c.sum == n * (n - 1) / 2, "pool %d, job %d: sum %lld, expected %lld", sizes[s], rep, (long long)c.sum,
            (long long)(n * (n - 1) / 2));
    }
    /* Two threads calling parallel_for on one pool at once: one of them runs serially. */
    caller_args a = {&ex, 2000, 0}, b = {&ex, 2000, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, caller_thread, &a);
    pthread_create(&tb, NULL, caller_thread, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(a.ok && b.ok, "pool %d: wrong sums with two callers sharing the pool", sizes[s]);
    tfc_pool_destroy(pool);
  }
  /* Create and destroy right away, with and without work. */
  for (int rep = 0; rep < 50; rep++) {
    tfc_pool* pool = tfc_pool_create(1 + rep % 6);
    if (rep % 2 == 0) {
      tfc_exec ex;
      tfc_exec_init(&ex, pool);
      check_range(&ex, 0, 10);
    }
    tfc_pool_destroy(pool);
  }
  tfc_pool_destroy(NULL);
  printf("stress: 10000 tiny jobs on pools of 2, 3, 4 and 8 threads; two callers sharing a pool\n");
  return 0;
}

/* ---- latency: microseconds per tiny parallel_for (printed, not checked) ------------------------ */

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int check_latency(void) {
  for (int threads = 2; threads <= 4; threads += 2) {
    tfc_pool* pool = tfc_pool_create(threads);
    tfc_exec ex;
    tfc_exec_init(&ex, pool);
    sum_ctx c = {0};
    for (int rep = 0; rep < 1000; rep++) tfc_parallel_for(&ex, sum_body, &c, 0, 64);
    const int reps = 100000;
    double t0 = seconds();
    for (int rep = 0; rep < reps; rep++) tfc_parallel_for(&ex, sum_body, &c, 0, 64);
    double per_call = (seconds() - t0) / reps * 1e6;
    printf("latency: %.2f us per parallel_for of 64 elements on %d threads (%ld online cores)\n", per_call, threads,
           sysconf(_SC_NPROCESSORS_ONLN));
    tfc_pool_destroy(pool);
  }
  return 0;
}

/* ---- alloc, threads from the environment, CPU features ---------------------------------------- */

static int check_alloc(void) {
  const size_t sizes[] = {0, 1, 3, 63, 64, 65, 1000, 4096, 1 << 20};
  void* zero_a = tfc_aligned_alloc(0);
  void* zero_b = tfc_aligned_alloc(0);
  CHECK(zero_a != NULL && zero_b != NULL && zero_a != zero_b, "0-byte allocations must be distinct and non-NULL");
  tfc_aligned_free(zero_a);
  tfc_aligned_free(zero_b);
  for (int rep = 0; rep < 100; rep++) {
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
      unsigned char* p = (unsigned char*)tfc_aligned_alloc(sizes[i]);
      CHECK(p != NULL, "tfc_aligned_alloc(%zu) failed", sizes[i]);
      CHECK((uintptr_t)p % 64 == 0, "tfc_aligned_alloc(%zu) = %p is not 64-byte aligned", sizes[i], (void*)p);
      memset(p, 0xab, sizes[i]);
      tfc_aligned_free(p);
    }
  }
  CHECK(tfc_aligned_alloc(SIZE_MAX - 8) == NULL, "an impossible allocation must give NULL");
  tfc_aligned_free(NULL);
  int has = tfc_cpu_has_avx2_fma();
  CHECK(has == 0 || has == 1, "tfc_cpu_has_avx2_fma() = %d", has);
  printf("alloc: 64-byte aligned for %zu sizes; avx2+fma: %d\n", sizeof sizes / sizeof sizes[0], has);
  return 0;
}

/* Prints the size of tfc_pool_create(0), which the caller compares with TFC_NUM_THREADS. */
static int check_default_threads(void) {
  tfc_pool* pool = tfc_pool_create(0);
  CHECK(pool != NULL, "tfc_pool_create(0) failed");
  printf("threads=%d cores=%ld\n", tfc_pool_size(pool), sysconf(_SC_NPROCESSORS_ONLN));
  tfc_exec ex;
  tfc_exec_init(&ex, pool);
  check_range(&ex, 0, 777);
  tfc_pool_destroy(pool);
  return 0;
}

int main(int argc, char** argv) {
  const char* check = argc > 1 ? argv[1] : "";
  if (strcmp(check, "coverage") == 0) return check_coverage();
  if (strcmp(check, "nested") == 0) return check_nested();
  if (strcmp(check, "fail") == 0) return check_fail();
  if (strcmp(check, "stress") == 0) return check_stress();
  if (strcmp(check, "latency") == 0) return check_latency();
  if (strcmp(check, "alloc") == 0) return check_alloc();
  if (strcmp(check, "default-threads") == 0) return check_default_threads();
  fprintf(stderr, "usage: pool_test coverage|nested|fail|stress|latency|alloc|default-threads\n");
  return 2;
}
