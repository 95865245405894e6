/* tfc_runtime.h — the C runtime that native (LLVM) model libraries link against: status codes,
 * a low-latency thread pool with tfc_parallel_for, error reporting from kernels, aligned memory,
 * CPU feature checks and the reader of tfc weights files (format: targets/common/weights.ts).
 * C11 + pthreads only; build with: cc -std=c11 -O2 -fPIC -pthread -c tfc_runtime.c */
#ifndef TFC_RUNTIME_H
#define TFC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes -------------------------------------------------------------------------- */

typedef enum {
  TFC_OK = 0,
  TFC_ERR_ARGUMENT = 1, /* a bad argument (NULL pointer, negative size, bad dtype code) */
  TFC_ERR_SHAPE = 2,    /* an input's shape does not match the model's signature */
  TFC_ERR_WEIGHTS = 3,  /* a weights file is not a tfc weights file, is damaged or does not fit the model */
  TFC_ERR_IO = 4,       /* a file could not be opened or read */
  TFC_ERR_MEMORY = 5,   /* an allocation failed */
  TFC_ERR_INDEX = 6,    /* an index out of range at run time (gather, one_hot, ...) */
  TFC_ERR_INTERNAL = 7, /* a bug in tfc */
  TFC_ERR_NUMERICS = 8  /* a NaN or infinity came out of a step checked for numerics */
} tfc_status;

/* "TFC_OK", "TFC_ERR_SHAPE", ...; "TFC_ERR_UNKNOWN" for any other value. Never NULL. */
const char* tfc_status_name(int status);

/* ---- Thread pool ----------------------------------------------------------------------------- */

typedef struct tfc_pool tfc_pool;

/* Upper bound on a pool's size; larger requests are clamped. */
#define TFC_MAX_THREADS 1024

/* A pool of `threads` threads counting the caller (threads - 1 workers are started). threads <= 0:
 * the environment variable TFC_NUM_THREADS if it holds a positive integer, else every online core.
 * Returns NULL only if memory runs out; if the system refuses to start some workers, the pool is
 * smaller (see tfc_pool_size). */
tfc_pool* tfc_pool_create(int threads);
/* Stops and joins the workers. NULL is ignored. Must not run while a parallel_for is in flight. */
void tfc_pool_destroy(tfc_pool* pool);
/* Threads counting the caller; 1 for NULL. */
int tfc_pool_size(const tfc_pool* pool);

/* ---- Execution context ----------------------------------------------------------------------- */

/* What every generated entry point passes to its kernels: the pool to run parallel loops on and the
 * first error a kernel reported (TFC_OK if none). Read `status` after the kernels return. */
typedef struct tfc_exec {
  tfc_pool* pool; /* NULL: everything runs on the calling thread */
  int status;     /* written with atomic operations (tfc_fail) */
} tfc_exec;

void tfc_exec_init(tfc_exec* ex, tfc_pool* pool);

/* A long parallel loop is cut into this many contiguous chunks per thread of its pool, which the
 * threads claim one at a time: a thread the OS runs late does not hold the others up, and the
 * others take its chunks. */
#define TFC_CHUNKS_PER_THREAD 4

/* How many chunks tfc_parallel_for cuts a range of `count` into on a pool of `threads`: one per
 * thread (at most count) for short ranges (under 2 * TFC_CHUNKS_PER_THREAD per thread), where the
 * claims would cost more than balance gains; threads * TFC_CHUNKS_PER_THREAD otherwise. */
uint64_t tfc_parallel_chunks(uint64_t count, int threads);

/* Runs body(ctx, lo, hi) over [begin, end) split into tfc_parallel_chunks(end - begin, threads)
 * balanced contiguous chunks, each run once by whichever thread (the caller included) claims it;
 * the call returns when every chunk is done. Chunk bounds depend only on the range and the pool's
 * size, so results do not depend on scheduling. An empty range calls nothing. A call made from inside
 * a body (nested), a call while another thread is using the same pool, a pool of size 1 and a NULL
 * pool or ex run body(ctx, begin, end) once on the calling thread. */
void tfc_parallel_for(tfc_exec* ex, void (*body)(void* ctx, int64_t lo, int64_t hi), void* ctx,
                      int64_t begin, int64_t end);

/* Records a run-time error: sets ex->status to code if it is still TFC_OK (the first error wins;
 * safe from any thread). The kernel that calls it is expected to return early. */
void tfc_fail(tfc_exec* ex, int32_t code);

/* ---- Memory and CPU -------------------------------------------------------------------------- */

/* 64-byte aligned memory; NULL if it cannot be had. 0 bytes gives a valid, distinct pointer. */
void* tfc_aligned_alloc(size_t bytes);
void tfc_aligned_free(void* ptr);

/* 1 on x86-64 CPUs with AVX2 and FMA (what kernels compiled for x86-64-v3 need), else 0;
 * 0 when the environment variable TFC_CPU is "baseline" (runs the portable fallback anywhere). */
int tfc_cpu_has_avx2_fma(void);

/* ---- Weights files --------------------------------------------------------------------------- */

/* Element types of weights; bool is stored as one byte (0 or 1) per element. */
enum { TFC_DTYPE_F32 = 0, TFC_DTYPE_I32 = 1, TFC_DTYPE_BOOL = 2 };
/* The largest rank a weights file may hold. */
#define TFC_WEIGHTS_MAX_RANK 16

typedef struct tfc_weights tfc_weights;

/* One tensor of a loaded file; the pointers live as long as the tfc_weights. */
typedef struct tfc_tensor_info {
  const char* name;     /* NUL-terminated UTF-8 */
  int dtype;            /* TFC_DTYPE_* */
  int rank;
  const int64_t* dims;  /* rank entries */
  const void* data;     /* 64-byte aligned, in host byte order */
  uint64_t bytes;       /* product(dims) * element size */
} tfc_tensor_info;

/* Reads and checks a whole weights file (magic, version, every offset and length, dtype codes,
 * ranks, byte lengths against shapes, names, the CRC32). On success *out owns the data and the
 * result is TFC_OK; else *out is NULL, the result is TFC_ERR_IO (cannot open or read),
 * TFC_ERR_WEIGHTS (not a weights file, or damaged) or TFC_ERR_MEMORY, and err holds a message
 * naming the file (err may be NULL; messages longer than errlen are cut). */
int tfc_weights_load(const char* path, tfc_weights** out, char* err, size_t errlen);
/* The same for bytes already in memory (they are copied; the caller keeps ownership of data). */
int tfc_weights_from_memory(const void* data, size_t size, tfc_weights** out, char* err, size_t errlen);

/* The data of tensor `name` if it has exactly this dtype and shape (dims may be NULL when rank is
 * 0); else NULL and a message such as "weights file 'w.bin' has 'dense/kernel' as f32[784,10], the
 * model needs f32[784,512]". */
const void* tfc_weights_find(const tfc_weights* w, const char* name, int dtype, int rank,
                             const int64_t* dims, char* err, size_t errlen);

/* Tensors in file order: the count, and the index-th one (TFC_ERR_INDEX if out of range). */
int64_t tfc_weights_count(const tfc_weights* w);
int tfc_weights_entry(const tfc_weights* w, int64_t index, tfc_tensor_info* out);

/* "f32", "i32", "bool"; "?" for any other code. */
const char* tfc_dtype_name(int dtype);

void tfc_weights_free(tfc_weights* w);

/* CRC-32 (IEEE 802.3, polynomial 0xEDB88320) of bytes, continuing from crc (start with 0). */
uint32_t tfc_crc32(uint32_t crc, const void* data, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* TFC_RUNTIME_H */
