/* tfc_runtime.c — the C runtime under every native model library (see tfc_runtime.h): the thread
 * pool behind tfc_parallel_for, error reporting, aligned memory, CPU features and the checked
 * reader of tfc weights files, whose writer is targets/common/weights.ts. C11 + pthreads. */
#define _POSIX_C_SOURCE 200809L

#include "tfc_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ============================================================================================== */
/* Status codes                                                                                   */
/* ============================================================================================== */

const char* tfc_status_name(int status) {
  switch (status) {
    case TFC_OK: return "TFC_OK";
    case TFC_ERR_ARGUMENT: return "TFC_ERR_ARGUMENT";
    case TFC_ERR_SHAPE: return "TFC_ERR_SHAPE";
    case TFC_ERR_WEIGHTS: return "TFC_ERR_WEIGHTS";
    case TFC_ERR_IO: return "TFC_ERR_IO";
    case TFC_ERR_MEMORY: return "TFC_ERR_MEMORY";
    case TFC_ERR_INDEX: return "TFC_ERR_INDEX";
    case TFC_ERR_INTERNAL: return "TFC_ERR_INTERNAL";
    case TFC_ERR_NUMERICS: return "TFC_ERR_NUMERICS";
    default: return "TFC_ERR_UNKNOWN";
  }
}

/* Writes a formatted message into err (if there is room for one). */
static void set_error(char* err, size_t errlen, const char* fmt, ...) {
  if (err == NULL || errlen == 0) return;
  va_list args;
  va_start(args, fmt);
  vsnprintf(err, errlen, fmt, args);
  va_end(args);
}

/* ============================================================================================== */
/* Memory and CPU                                                                                 */
/* ============================================================================================== */

void* tfc_aligned_alloc(size_t bytes) {
  void* ptr = NULL;
  if (posix_memalign(&ptr, 64, bytes == 0 ? 64 : bytes) != 0) return NULL;
  return ptr;
}

void tfc_aligned_free(void* ptr) { free(ptr); }

int tfc_cpu_has_avx2_fma(void) {
  /* TFC_CPU=baseline runs the portable build's baseline variant on any CPU (for testing it). */
  const char* cpu = getenv("TFC_CPU");
  if (cpu && strcmp(cpu, "baseline") == 0) return 0;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

/* ============================================================================================== */
/* Thread pool                                                                                    */
/* ============================================================================================== */
/* One job at a time. The caller writes the job (body, ctx, range), then publishes it: `claim` =
 * generation (24 bits) | chunks (20) | next chunk (20), then `job_word` = generation << 16 | chunks
 * to wake workers. The range is cut into more chunks than threads (TFC_CHUNKS_PER_THREAD each),
 * and every participant, the caller included, claims chunks one at a time by a CAS on `claim`
 * until none is left, then decrements `remaining` per chunk run. So a worker the OS has not
 * scheduled yet (a busy machine) delays nothing: the others take its chunks. A chunk always covers
 * the same range, so results do not depend on which thread ran it. Workers and a waiting caller spin for
 * a short while (200 microseconds; not at all when the pool has more threads than the machine has
 * cores) before parking on a condition variable, so a model
 * calling parallel_for many times per prediction pays nanoseconds, not a futex wake, per call.
 * A waker checks the parked count after publishing and a parker re-checks the word after counting
 * itself (both sequentially consistent), so no wake-up is lost. A worker that has no chunk never
 * reads the job, which lets the caller publish the next job as soon as `remaining` reaches 0. */

#define TFC_SPIN_NANOSECONDS 200000 /* how long an idle thread spins before parking */

typedef void (*tfc_body_fn)(void* ctx, int64_t lo, int64_t hi);

typedef struct tfc_worker {
  tfc_pool* pool;
  int index; /* 1 .. size - 1 */
} tfc_worker;

struct tfc_pool {
  /* Written by the owning caller before publishing, read by workers after. */
  tfc_body_fn body;
  void* ctx;
  int64_t begin;
  uint64_t count;
  uint64_t generation;

  _Alignas(64) _Atomic uint64_t job_word; /* read by spinning workers: its own cache line */
  _Alignas(64) _Atomic uint64_t claim;    /* generation:24 | chunks:20 | next chunk:20 */
  _Alignas(64) atomic_int remaining;      /* chunks not finished yet */
  atomic_int caller_parked;
  _Alignas(64) atomic_int busy;           /* 1 while a caller owns the pool */
  atomic_int parked;                      /* workers waiting on `wake` */
  atomic_int shutdown;

  int size;    /* threads counting the caller */
  int spin;    /* 0: park at once (more threads than cores) */
  pthread_mutex_t lock;
  pthread_cond_t wake; /* workers park here */
  pthread_cond_t done; /* the caller parks here */
  pthread_t* threads;
  tfc_worker* workers;
};

/* Set on pool workers and on a caller while it runs its chunk: a nested parallel_for runs serially. */
static _Thread_local int tls_in_parallel;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#endif
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Spins until *word != seen or the spin time runs out; returns whether it changed. */
static int spin_until_changed(tfc_pool* pool, _Atomic uint64_t* word, uint64_t seen) {
  if (!pool->spin) return 0;
  uint64_t deadline = 0;
  for (unsigned i = 1;; i++) {
    if (atomic_load_explicit(word, memory_order_acquire) != seen) return 1;
    if (atomic_load_explicit(&pool->shutdown, memory_order_relaxed)) return 1;
    cpu_relax();
    if ((i & 255) == 0) {
      uint64_t t = now_ns();
      if (deadline == 0) deadline = t + TFC_SPIN_NANOSECONDS;
      else if (t >= deadline) return 0;
    }
  }
}

/* The bounds of chunk `index` of `chunks` nearly equal contiguous chunks of [begin, begin+count). */
static void chunk_bounds(int64_t begin, uint64_t count, uint64_t chunks, uint64_t index, int64_t* lo, int64_t* hi) {
  uint64_t base = count / chunks, extra = count % chunks;
  uint64_t start = index * base + (index < extra ? index : extra);
  uint64_t len = base + (index < extra ? 1 : 0);
  *lo = (int64_t)((uint64_t)begin + start);
  *hi = (int64_t)((uint64_t)begin + start + len);
}

#define CLAIM_GENERATION(c) ((c) >> 40)
#define CLAIM_CHUNKS(c) (((c) >> 20) & 0xfffff)
#define CLAIM_NEXT(c) ((c) & 0xfffff)

/* Runs chunks of job `generation` (24 bits) until none is left to claim. Job fields are read only
 * after a successful claim: the job cannot change before that chunk is done. */
static void run_chunks(tfc_pool* pool, uint64_t generation) {
  uint64_t c = atomic_load_explicit(&pool->claim, memory_order_acquire);
  for (;;) {
    if (CLAIM_GENERATION(c) != generation || CLAIM_NEXT(c) >= CLAIM_CHUNKS(c)) return;
    if (!atomic_compare_exchange_weak_explicit(&pool->claim, &c, c + 1, memory_order_acq_rel, memory_order_acquire)) continue;
    int64_t lo, hi;
    chunk_bounds(pool->begin, pool->count, CLAIM_CHUNKS(c), CLAIM_NEXT(c), &lo, &hi);
    pool->body(pool->ctx, lo, hi);
    if (atomic_fetch_sub(&pool->remaining, 1) == 1 && atomic_load(&pool->caller_parked)) {
      pthread_mutex_lock(&pool->lock);
      pthread_cond_signal(&pool->done);
      pthread_mutex_unlock(&pool->lock);
    }
    c = atomic_load_explicit(&pool->claim, memory_order_acquire);
  }
}

static void* worker_main(void* arg) {
  tfc_worker* self = (tfc_worker*)arg;
  tfc_pool* pool = self->pool;
  tls_in_parallel = 1;
  uint64_t seen = 0;
  for (;;) {
    if (!spin_until_changed(pool, &pool->job_word, seen)) {
      pthread_mutex_lock(&pool->lock);
      atomic_fetch_add(&pool->parked, 1);
      while (atomic_load(&pool->job_word) == seen && !atomic_load(&pool->shutdown)) {
        pthread_cond_wait(&pool->wake, &pool->lock);
      }
      atomic_fetch_sub(&pool->parked, 1);
      pthread_mutex_unlock(&pool->lock);
    }
    if (atomic_load(&pool->shutdown)) break;
    uint64_t word = atomic_load_explicit(&pool->job_word, memory_order_acquire);
    if (word == seen) continue;
    seen = word;
    run_chunks(pool, (word >> 16) & 0xffffff);
  }
  return NULL;
}

static int online_cores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (n > TFC_MAX_THREADS ? TFC_MAX_THREADS : (int)n);
}

static int default_threads(void) {
  const char* env = getenv("TFC_NUM_THREADS");
  if (env != NULL && *env != '\0') {
    char* end = NULL;
    errno = 0;
    long n = strtol(env, &end, 10);
    if (errno == 0 && end != env && *end == '\0' && n > 0) return n > TFC_MAX_THREADS ? TFC_MAX_THREADS : (int)n;
  }
  return online_cores();
}

tfc_pool* tfc_pool_create(int threads) {
  if (threads <= 0) threads = default_threads();
  if (threads > TFC_MAX_THREADS) threads = TFC_MAX_THREADS;
  tfc_pool* pool = (tfc_pool*)tfc_aligned_alloc(sizeof(tfc_pool));
  if (pool == NULL) return NULL;
  memset(pool, 0, sizeof *pool);
  atomic_init(&pool->job_word, 0);
  atomic_init(&pool->claim, 0);
  atomic_init(&pool->remaining, 0);
  atomic_init(&pool->caller_parked, 0);
  atomic_init(&pool->busy, 0);
  atomic_init(&pool->parked, 0);
  atomic_init(&pool->shutdown, 0);
  pool->size = 1;
  pool->spin = threads <= online_cores();
  if (threads == 1) return pool;

  pool->threads = (pthread_t*)calloc((size_t)threads - 1, sizeof(pthread_t));
  pool->workers = (tfc_worker*)calloc((size_t)threads - 1, sizeof(tfc_worker));
  if (pool->threads == NULL || pool->workers == NULL || pthread_mutex_init(&pool->lock, NULL) != 0) {
    free(pool->threads);
    free(pool->workers);
    tfc_aligned_free(pool);
    return NULL;
  }
  pthread_cond_init(&pool->wake, NULL);
  pthread_cond_init(&pool->done, NULL);
  for (int i = 1; i < threads; i++) {
    tfc_worker* worker = &pool->workers[i - 1];
    worker->pool = pool;
    worker->index = i;
    if (pthread_create(&pool->threads[i - 1], NULL, worker_main, worker) != 0) break;
    pool->size = i + 1;
  }
  return pool;
}

void tfc_pool_destroy(tfc_pool* pool) {
  if (pool == NULL) return;
  if (pool->threads != NULL) {
    atomic_store(&pool->shutdown, 1);
    pthread_mutex_lock(&pool->lock);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 1; i < pool->size; i++) pthread_join(pool->threads[i - 1], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->done);
    pthread_mutex_destroy(&pool->lock);
    free(pool->threads);
    free(pool->workers);
  }
  tfc_aligned_free(pool);
}

int tfc_pool_size(const tfc_pool* pool) { return pool == NULL ? 1 : pool->size; }

void tfc_exec_init(tfc_exec* ex, tfc_pool* pool) {
  if (ex == NULL) return;
  ex->pool = pool;
  __atomic_store_n(&ex->status, TFC_OK, __ATOMIC_RELAXED);
}

void tfc_fail(tfc_exec* ex, int32_t code) {
  if (ex == NULL) return;
  int expected = TFC_OK;
  __atomic_compare_exchange_n(&ex->status, &expected, (int)code, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

uint64_t tfc_parallel_chunks(uint64_t count, int threads) {
  uint64_t size = threads < 1 ? 1 : (uint64_t)threads;
  if (count < size * 2 * TFC_CHUNKS_PER_THREAD) return count < size ? count : size;
  return size * TFC_CHUNKS_PER_THREAD;
}

void tfc_parallel_for(tfc_exec* ex, tfc_body_fn body, void* ctx, int64_t begin, int64_t end) {
  if (body == NULL || end <= begin) return;
  tfc_pool* pool = ex == NULL ? NULL : ex->pool;
  uint64_t count = (uint64_t)end - (uint64_t)begin;
  int expected = 0;
  if (pool == NULL || pool->size <= 1 || count == 1 || tls_in_parallel ||
      !atomic_compare_exchange_strong(&pool->busy, &expected, 1)) {
    body(ctx, begin, end);
    return;
  }

  uint64_t chunks = tfc_parallel_chunks(count, pool->size);
  pool->body = body;
  pool->ctx = ctx;
  pool->begin = begin;
  pool->count = count;
  pool->generation++;
  uint64_t generation = pool->generation & 0xffffff;
  atomic_store_explicit(&pool->remaining, (int)chunks, memory_order_relaxed);
  atomic_store(&pool->claim, (generation << 40) | (chunks << 20));
  atomic_store(&pool->job_word, (pool->generation << 16) | (chunks & 0xffff));
  if (atomic_load(&pool->parked) > 0) {
    pthread_mutex_lock(&pool->lock);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
  }

  tls_in_parallel = 1;
  run_chunks(pool, generation);
  tls_in_parallel = 0;

  if (pool->spin) {
    uint64_t deadline = 0;
    for (unsigned i = 1; atomic_load_explicit(&pool->remaining, memory_order_acquire) != 0; i++) {
      cpu_relax();
      if ((i & 255) == 0) {
        uint64_t t = now_ns();
        if (deadline == 0) deadline = t + TFC_SPIN_NANOSECONDS;
        else if (t >= deadline) break;
      }
    }
  }
  if (atomic_load(&pool->remaining) != 0) {
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->caller_parked, 1);
    while (atomic_load(&pool->remaining) != 0) pthread_cond_wait(&pool->done, &pool->lock);
    atomic_store(&pool->caller_parked, 0);
    pthread_mutex_unlock(&pool->lock);
  }
  atomic_store_explicit(&pool->busy, 0, memory_order_release);
}

/* ============================================================================================== */
/* CRC-32 (IEEE), slicing by 8                                                                    */
/* ============================================================================================== */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++) {
    for (int t = 1; t < 8; t++) crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
  }
}

uint32_t tfc_crc32(uint32_t crc, const void* data, size_t size) {
  pthread_once(&crc_once, crc_init);
  const unsigned char* p = (const unsigned char*)data;
  uint32_t c = ~crc;
  while (size >= 8) {
    uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
    c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
        crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
        crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size-- > 0) c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

/* ============================================================================================== */
/* Weights files                                                                                  */
/* ============================================================================================== */
/* Layout (little-endian; targets/common/weights.ts is the writer and documents it too):
 *   header   "TFCW" | version u32 = 1 | count u32 | header_bytes u32 (header + entries)
 *   entries  name_len u32 | name | dtype u8 | rank u8 | reserved u16 = 0 | dims i64[rank] |
 *            data_offset u64 (from the data section, a multiple of 64) | data_bytes u64
 *   zero padding to a multiple of 64, then the data section
 *   trailer  crc32 u32 of every byte before it | "TFCE"
 * The whole file is read into one 64-byte aligned buffer; tensors point into it. */

#define HEADER_BYTES 16u
#define TRAILER_BYTES 8u
#define MIN_ENTRY_BYTES 24u
#define MIN_FILE_BYTES (HEADER_BYTES + TRAILER_BYTES)
#define TFC_MAX_DIM INT64_C(9007199254740991) /* 2^53 - 1, so that JavaScript readers agree */

struct tfc_weights {
  char* file;               /* the name used in messages */
  unsigned char* buffer;    /* the whole file, 64-byte aligned */
  int64_t count;
  tfc_tensor_info* tensors; /* file order */
  const tfc_tensor_info** by_name; /* sorted by name, for lookups */
  char* names;              /* NUL-terminated names, back to back */
  int64_t* dims;            /* every tensor's dims, back to back */
};

static uint32_t read_u32(const unsigned char* p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t read_u64(const unsigned char* p) { return (uint64_t)read_u32(p) | (uint64_t)read_u32(p + 4) << 32; }
static uint64_t align64(uint64_t n) { return (n + 63) & ~(uint64_t)63; }

static size_t dtype_size(int dtype) { return dtype == TFC_DTYPE_BOOL ? 1 : 4; }

const char* tfc_dtype_name(int dtype) {
  switch (dtype) {
    case TFC_DTYPE_F32: return "f32";
    case TFC_DTYPE_I32: return "i32";
    case TFC_DTYPE_BOOL: return "bool";
    default: return "?";
  }
}

/* "f32[784,10]" (or "f32 with rank 40" for a rank no tensor can have) into buf. */
static void format_type(char* buf, size_t len, int dtype, int rank, const int64_t* dims) {
  if (rank < 0 || rank > TFC_WEIGHTS_MAX_RANK || (rank > 0 && dims == NULL)) {
    snprintf(buf, len, "%s with rank %d", tfc_dtype_name(dtype), rank);
    return;
  }
  size_t used = (size_t)snprintf(buf, len, "%s[", tfc_dtype_name(dtype));
  for (int i = 0; i < rank && used < len; i++) {
    used += (size_t)snprintf(buf + used, len - used, i == 0 ? "%lld" : ",%lld", (long long)dims[i]);
  }
  if (used < len) snprintf(buf + used, len - used, "]");
}

/* Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
static int valid_utf8(const unsigned char* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    size_t extra;
    uint32_t cp;
    if (c < 0x80) { i++; continue; }
    else if (c >= 0xC2 && c <= 0xDF) { extra = 1; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { extra = 2; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { extra = 3; cp = c & 0x07; }
    else return 0;
    if (n - i <= extra) return 0;
    for (size_t k = 1; k <= extra; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    i += extra + 1;
  }
  return 1;
}

static void free_tables(tfc_weights* w) {
  free(w->tensors);
  free((void*)w->by_name);
  free(w->names);
  free(w->dims);
  w->tensors = NULL;
  w->by_name = NULL;
  w->names = NULL;
  w->dims = NULL;
}

/* Parses and checks the entries of buf[0, header_bytes) into w's tables. data_size is the size of
 * the data section, or UINT64_MAX when it is unknown (then offsets are not checked). On success
 * *data_end is the end of the last tensor's data within the data section. */
static int parse_entries(tfc_weights* w, const unsigned char* buf, uint32_t header_bytes, uint32_t count,
                         uint64_t data_size, uint64_t* data_end, char* err, size_t errlen) {
  const char* file = w->file;
  if ((uint64_t)count > (header_bytes - HEADER_BYTES) / MIN_ENTRY_BYTES) {
    set_error(err, errlen, "weights file '%s' is damaged: the header lists %u tensors, more than its %u bytes can hold",
              file, count, header_bytes);
    return TFC_ERR_WEIGHTS;
  }
  w->tensors = (tfc_tensor_info*)calloc(count == 0 ? 1 : count, sizeof(tfc_tensor_info));
  w->names = (char*)malloc(header_bytes);
  w->dims = (int64_t*)malloc(header_bytes);
  if (w->tensors == NULL || w->names == NULL || w->dims == NULL) {
    set_error(err, errlen, "out of memory reading weights file '%s'", file);
    return TFC_ERR_MEMORY;
  }
  size_t pos = HEADER_BYTES, names_used = 0, dims_used = 0;
  uint64_t end_max = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (header_bytes - pos < 4) goto past_end;
    uint32_t name_len = read_u32(buf + pos);
    pos += 4;
    if (name_len == 0) {
      set_error(err, errlen, "weights file '%s' is damaged: entry %u has an empty name", file, i);
      return TFC_ERR_WEIGHTS;
    }
    if (header_bytes - pos < (uint64_t)name_len + 4) goto past_end;
    const unsigned char* name_bytes = buf + pos;
    if (memchr(name_bytes, 0, name_len) != NULL || !valid_utf8(name_bytes, name_len)) {
      set_error(err, errlen, "weights file '%s' is damaged: the name of entry %u is not valid UTF-8 or holds a NUL byte", file, i);
      return TFC_ERR_WEIGHTS;
    }
    char* name = w->names + names_used;
    memcpy(name, name_bytes, name_len);
    name[name_len] = '\0';
    names_used += (size_t)name_len + 1;
    pos += name_len;

    int dtype = buf[pos], rank = buf[pos + 1];
    uint32_t reserved = (uint32_t)buf[pos + 2] | (uint32_t)buf[pos + 3] << 8;
    pos += 4;
    if (dtype > TFC_DTYPE_BOOL) {
      set_error(err, errlen, "weights file '%s' is damaged: tensor '%s' has unknown dtype code %d (0 f32, 1 i32, 2 bool)", file, name, dtype);
      return TFC_ERR_WEIGHTS;
    }
    if (rank > TFC_WEIGHTS_MAX_RANK) {
      set_error(err, errlen, "weights file '%s' is damaged: tensor '%s' has rank %d; the most is %d", file, name, rank, TFC_WEIGHTS_MAX_RANK);
      return TFC_ERR_WEIGHTS;
    }
    if (reserved != 0) {
      set_error(err, errlen, "weights file '%s' is damaged: tensor '%s' has nonzero reserved bits %u", file, name, reserved);
      return TFC_ERR_WEIGHTS;
    }
    if (header_bytes - pos < (uint64_t)rank * 8 + 16) goto past_end;
    int64_t* dims = w->dims + dims_used;
    dims_used += (size_t)rank;
    uint64_t elements = 1;
    int too_large = 0;
    for (int k = 0; k < rank; k++) {
      dims[k] = (int64_t)read_u64(buf + pos);
      pos += 8;
      if (dims[k] < 0) {
        set_error(err, errlen, "weights file '%s' is damaged: tensor '%s' has negative dimension %lld at axis %d", file, name, (long long)dims[k], k);
        return TFC_ERR_WEIGHTS;
      }
      if (dims[k] > TFC_MAX_DIM || (dims[k] != 0 && elements > ((uint64_t)1 << 62) / (uint64_t)dims[k])) too_large = 1;
      else elements *= (uint64_t)dims[k];
    }
    uint64_t offset = read_u64(buf + pos), bytes = read_u64(buf + pos + 8);
    pos += 16;
    char type[512];
    format_type(type, sizeof type, dtype, rank, dims);
    if (too_large) {
      set_error(err, errlen, "weights file '%s' is damaged: tensor '%s' is too large (%s)", file, name, type);
      return TFC_ERR_WEIGHTS;
    }
    uint64_t expected = elements * dtype_size(dtype);
    if (bytes != expected) {
      set_error(err, errlen, "weights file '%s' is damaged: tensor '%s' is %s = %llu bytes, but the file stores %llu",
                file, name, type, (unsigned long long)expected, (unsigned long long)bytes);
      return TFC_ERR_WEIGHTS;
    }
    if (offset % 64 != 0) {
      set_error(err, errlen, "weights file '%s' is damaged: tensor '%s' starts at offset %llu, not a multiple of 64",
                file, name, (unsigned long long)offset);
      return TFC_ERR_WEIGHTS;
    }
    if (data_size != UINT64_MAX && (offset > data_size || bytes > data_size - offset)) {
      set_error(err, errlen, "weights file '%s' is damaged: tensor '%s' (%llu bytes at offset %llu) lies outside the %llu-byte data section",
                file, name, (unsigned long long)bytes, (unsigned long long)offset, (unsigned long long)data_size);
      return TFC_ERR_WEIGHTS;
    }
    if (offset > UINT64_MAX - bytes) goto past_end; /* only when data_size is unknown */
    if (offset + bytes > end_max) end_max = offset + bytes;
    tfc_tensor_info* t = &w->tensors[i];
    t->name = name;
    t->dtype = dtype;
    t->rank = rank;
    t->dims = dims;
    t->bytes = bytes;
    t->data = (const void*)(uintptr_t)offset; /* rebased onto the buffer by the caller */
  }
  if (pos != header_bytes) {
    set_error(err, errlen, "weights file '%s' is damaged: the header says it is %u bytes but its entries end at byte %llu",
              file, header_bytes, (unsigned long long)pos);
    return TFC_ERR_WEIGHTS;
  }
  w->count = count;
  *data_end = end_max;
  return TFC_OK;

past_end:
  set_error(err, errlen, "weights file '%s' is damaged: the entries run past the end of the %u-byte header", file, header_bytes);
  return TFC_ERR_WEIGHTS;
}

static int compare_by_name(const void* a, const void* b) {
  return strcmp((*(const tfc_tensor_info* const*)a)->name, (*(const tfc_tensor_info* const*)b)->name);
}

/* Finds `name` in the sorted index; NULL if absent. */
static const tfc_tensor_info* lookup(const tfc_weights* w, const char* name) {
  int64_t lo = 0, hi = w->count;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    int c = strcmp(w->by_name[mid]->name, name);
    if (c == 0) return w->by_name[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

/* Checks a whole file in w->buffer (size bytes) and builds w's tables. */
static int parse_weights(tfc_weights* w, size_t size, char* err, size_t errlen) {
  const unsigned char* buf = w->buffer;
  const char* file = w->file;
  if (size >= 4 && memcmp(buf, "TFCW", 4) != 0) {
    set_error(err, errlen, "weights file '%s' is not a tfc weights file: it starts with %02x %02x %02x %02x instead of \"TFCW\"",
              file, buf[0], buf[1], buf[2], buf[3]);
    return TFC_ERR_WEIGHTS;
  }
  if (size < MIN_FILE_BYTES) {
    set_error(err, errlen, "weights file '%s' is truncated: expected at least %u bytes, got %zu", file, MIN_FILE_BYTES, size);
    return TFC_ERR_WEIGHTS;
  }
  uint32_t version = read_u32(buf + 4), count = read_u32(buf + 8), header_bytes = read_u32(buf + 12);
  if (version != 1) {
    set_error(err, errlen, "weights file '%s' has format version %u; this runtime reads version 1", file, version);
    return TFC_ERR_WEIGHTS;
  }
  if (header_bytes < HEADER_BYTES) {
    set_error(err, errlen, "weights file '%s' is damaged: its header size %u is smaller than the %u-byte header", file, header_bytes, HEADER_BYTES);
    return TFC_ERR_WEIGHTS;
  }
  uint64_t data_start = align64(header_bytes);
  uint64_t data_end = 0;

  if (size < data_start + TRAILER_BYTES || memcmp(buf + size - 4, "TFCE", 4) != 0) {
    /* Most likely cut short: say how long the header says the file should be. */
    if (size < data_start + TRAILER_BYTES) {
      set_error(err, errlen, "weights file '%s' is truncated: expected at least %llu bytes, got %zu", file,
                (unsigned long long)(data_start + TRAILER_BYTES), size);
      return TFC_ERR_WEIGHTS;
    }
    int parsed = parse_entries(w, buf, header_bytes, count, UINT64_MAX, &data_end, NULL, 0);
    free_tables(w);
    uint64_t expected = data_start + data_end + TRAILER_BYTES;
    if (parsed == TFC_OK && expected > size) {
      set_error(err, errlen, "weights file '%s' is truncated: expected %llu bytes, got %zu", file, (unsigned long long)expected, size);
    } else {
      set_error(err, errlen, "weights file '%s' is damaged: it does not end with the \"TFCE\" trailer", file);
    }
    return TFC_ERR_WEIGHTS;
  }
  uint32_t stored = read_u32(buf + size - TRAILER_BYTES), computed = tfc_crc32(0, buf, size - TRAILER_BYTES);
  if (stored != computed) {
    set_error(err, errlen, "weights file '%s': checksum mismatch: the file is corrupt (stored 0x%08x, computed 0x%08x)", file, stored, computed);
    return TFC_ERR_WEIGHTS;
  }
  uint64_t data_size = size - TRAILER_BYTES - data_start;
  int status = parse_entries(w, buf, header_bytes, count, data_size, &data_end, err, errlen);
  if (status != TFC_OK) return status;

  unsigned char* data = w->buffer + data_start;
  for (int64_t i = 0; i < w->count; i++) {
    tfc_tensor_info* t = &w->tensors[i];
    unsigned char* p = data + (uintptr_t)t->data;
    t->data = p;
    if (t->dtype == TFC_DTYPE_BOOL) {
      for (uint64_t k = 0; k < t->bytes; k++) {
        if (p[k] > 1) {
          set_error(err, errlen, "weights file '%s' is damaged: bool tensor '%s' holds byte %u at element %llu (expected 0 or 1)",
                    file, t->name, p[k], (unsigned long long)k);
          return TFC_ERR_WEIGHTS;
        }
      }
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    else {
      for (uint64_t k = 0; k + 4 <= t->bytes; k += 4) {
        unsigned char a = p[k], b = p[k + 1];
        p[k] = p[k + 3];
        p[k + 1] = p[k + 2];
        p[k + 2] = b;
        p[k + 3] = a;
      }
    }
#endif
  }

  w->by_name = (const tfc_tensor_info**)malloc((size_t)(w->count == 0 ? 1 : w->count) * sizeof(tfc_tensor_info*));
  if (w->by_name == NULL) {
    set_error(err, errlen, "out of memory reading weights file '%s'", file);
    return TFC_ERR_MEMORY;
  }
  for (int64_t i = 0; i < w->count; i++) w->by_name[i] = &w->tensors[i];
  qsort(w->by_name, (size_t)w->count, sizeof(tfc_tensor_info*), compare_by_name);
  for (int64_t i = 1; i < w->count; i++) {
    const char* name = w->by_name[i]->name;
    if (strcmp(w->by_name[i - 1]->name, name) == 0) {
      set_error(err, errlen, "weights file '%s' is damaged: tensor name '%s' appears twice", file, name);
      return TFC_ERR_WEIGHTS;
    }
  }
  return TFC_OK;
}

static tfc_weights* new_weights(const char* file) {
  tfc_weights* w = (tfc_weights*)calloc(1, sizeof(tfc_weights));
  if (w == NULL) return NULL;
  size_t len = strlen(file);
  w->file = (char*)malloc(len + 1);
  if (w->file == NULL) {
    free(w);
    return NULL;
  }
  memcpy(w->file, file, len + 1);
  return w;
}

/* Parses w (whose buffer holds size bytes) and hands it out, or frees it. */
static int finish_load(tfc_weights* w, size_t size, tfc_weights** out, char* err, size_t errlen) {
  int status = parse_weights(w, size, err, errlen);
  if (status != TFC_OK) {
    tfc_weights_free(w);
    return status;
  }
  *out = w;
  return TFC_OK;
}

int tfc_weights_from_memory(const void* data, size_t size, tfc_weights** out, char* err, size_t errlen) {
  if (out == NULL || (data == NULL && size != 0)) {
    set_error(err, errlen, "tfc_weights_from_memory: data and out must not be NULL");
    return TFC_ERR_ARGUMENT;
  }
  *out = NULL;
  tfc_weights* w = new_weights("<memory>");
  if (w == NULL || (w->buffer = (unsigned char*)tfc_aligned_alloc(size)) == NULL) {
    tfc_weights_free(w);
    set_error(err, errlen, "out of memory reading a %zu-byte weights file", size);
    return TFC_ERR_MEMORY;
  }
  if (size > 0) memcpy(w->buffer, data, size);
  return finish_load(w, size, out, err, errlen);
}

int tfc_weights_load(const char* path, tfc_weights** out, char* err, size_t errlen) {
  if (out == NULL || path == NULL) {
    set_error(err, errlen, "tfc_weights_load: path and out must not be NULL");
    return TFC_ERR_ARGUMENT;
  }
  *out = NULL;
  char reason[256];
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    strerror_r(errno, reason, sizeof reason);
    set_error(err, errlen, "cannot open weights file '%s': %s", path, reason);
    return TFC_ERR_IO;
  }
  struct stat st;
  int stat_failed = fstat(fd, &st) != 0;
  if (stat_failed || !S_ISREG(st.st_mode)) {
    if (stat_failed) strerror_r(errno, reason, sizeof reason);
    else if (S_ISDIR(st.st_mode)) snprintf(reason, sizeof reason, "it is a directory");
    else snprintf(reason, sizeof reason, "it is not a regular file");
    close(fd);
    set_error(err, errlen, "cannot read weights file '%s': %s", path, reason);
    return TFC_ERR_IO;
  }
  if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX - 64) {
    close(fd);
    set_error(err, errlen, "weights file '%s' is too large for this machine (%lld bytes)", path, (long long)st.st_size);
    return TFC_ERR_MEMORY;
  }
  size_t size = (size_t)st.st_size;
  tfc_weights* w = new_weights(path);
  if (w == NULL || (w->buffer = (unsigned char*)tfc_aligned_alloc(size)) == NULL) {
    close(fd);
    tfc_weights_free(w);
    set_error(err, errlen, "out of memory reading weights file '%s' (%zu bytes)", path, size);
    return TFC_ERR_MEMORY;
  }
  size_t got = 0;
  while (got < size) {
    ssize_t n = read(fd, w->buffer + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) strerror_r(errno, reason, sizeof reason);
      else snprintf(reason, sizeof reason, "the file shrank to %zu bytes while it was read", got);
      close(fd);
      tfc_weights_free(w);
      set_error(err, errlen, "cannot read weights file '%s': %s", path, reason);
      return TFC_ERR_IO;
    }
    got += (size_t)n;
  }
  close(fd);
  return finish_load(w, size, out, err, errlen);
}

const void* tfc_weights_find(const tfc_weights* w, const char* name, int dtype, int rank, const int64_t* dims,
                             char* err, size_t errlen) {
  if (w == NULL || name == NULL || (rank > 0 && dims == NULL)) {
    set_error(err, errlen, "tfc_weights_find: weights, name and dims must not be NULL");
    return NULL;
  }
  const tfc_tensor_info* t = lookup(w, name);
  if (t == NULL) {
    set_error(err, errlen, "weights file '%s' has no tensor '%s'", w->file, name);
    return NULL;
  }
  int same = t->dtype == dtype && t->rank == rank;
  for (int k = 0; same && k < rank; k++) same = t->dims[k] == dims[k];
  if (!same) {
    char have[512], need[512];
    format_type(have, sizeof have, t->dtype, t->rank, t->dims);
    format_type(need, sizeof need, dtype, rank, dims);
    set_error(err, errlen, "weights file '%s' has '%s' as %s, the model needs %s", w->file, name, have, need);
    return NULL;
  }
  return t->data;
}

int64_t tfc_weights_count(const tfc_weights* w) { return w == NULL ? 0 : w->count; }

int tfc_weights_entry(const tfc_weights* w, int64_t index, tfc_tensor_info* out) {
  if (w == NULL || out == NULL) return TFC_ERR_ARGUMENT;
  if (index < 0 || index >= w->count) return TFC_ERR_INDEX;
  *out = w->tensors[index];
  return TFC_OK;
}

void tfc_weights_free(tfc_weights* w) {
  if (w == NULL) return;
  free_tables(w);
  tfc_aligned_free(w->buffer);
  free(w->file);
  free(w);
}
