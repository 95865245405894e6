/* weights_tool.c — reads tfc weights files with the C runtime and prints what it got as JSON, so
 * test/runtime/runtime.test.ts can compare it with what TypeScript wrote. The exit code is the
 * tfc_status of the load (a crash would show as a signal instead).
 *   weights_tool load FILE | mem FILE | find FILE NAME DTYPE [DIM...] | flips FILE | truncations FILE
 * flips/truncations load every single-bit flip / every prefix of FILE from memory and print one
 * JSON line per variant with the status and message, which the test compares with TypeScript's. */
#define _POSIX_C_SOURCE 200809L

#include "tfc_runtime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_json_string(const char* s) {
  putchar('"');
  for (const unsigned char* p = (const unsigned char*)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

static void print_f32(float v) {
  if (isnan(v)) printf("\"NaN\"");
  else if (isinf(v)) printf(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  else printf("%.9g", (double)v);
}

static void print_tensor(const tfc_tensor_info* t) {
  printf("{\"name\":");
  print_json_string(t->name);
  printf(",\"dtype\":\"%s\",\"shape\":[", tfc_dtype_name(t->dtype));
  uint64_t elements = 1;
  for (int k = 0; k < t->rank; k++) {
    printf(k == 0 ? "%lld" : ",%lld", (long long)t->dims[k]);
    elements *= (uint64_t)t->dims[k];
  }
  printf("],\"bytes\":%llu,\"aligned\":%s,\"values\":[", (unsigned long long)t->bytes,
         (uintptr_t)t->data % 64 == 0 ? "true" : "false");
  for (uint64_t i = 0; i < elements; i++) {
    if (i > 0) putchar(',');
    if (t->dtype == TFC_DTYPE_F32) print_f32(((const float*)t->data)[i]);
    else if (t->dtype == TFC_DTYPE_I32) printf("%d", (int)((const int32_t*)t->data)[i]);
    else printf("%u", (unsigned)((const uint8_t*)t->data)[i]);
  }
  printf("]}");
}

static void print_failure(int status, const char* message) {
  printf("{\"status\":\"%s\",\"message\":", tfc_status_name(status));
  print_json_string(message);
  printf("}\n");
}

/* The whole file in a malloc'd buffer (deliberately not 64-byte aligned: +1). */
static unsigned char* read_file(const char* path, size_t* size, unsigned char** block) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  *block = (unsigned char*)malloc((size_t)n + 1);
  unsigned char* data = *block + 1;
  *size = fread(data, 1, (size_t)n, f);
  fclose(f);
  return data;
}

/* Loads one damaged variant from memory and prints {"variant":V,"status":...,"message":...}. */
static int load_variant(const unsigned char* data, size_t size, size_t variant) {
  char err[1024] = "";
  tfc_weights* w = NULL;
  int status = tfc_weights_from_memory(data, size, &w, err, sizeof err);
  printf("{\"variant\":%zu,", variant);
  if (status == TFC_OK) {
    tfc_weights_free(w);
    printf("\"status\":\"TFC_OK\"}\n");
    return 0;
  }
  if (w != NULL || err[0] == '\0') return 1;
  printf("\"status\":\"%s\",\"message\":", tfc_status_name(status));
  print_json_string(err);
  printf("}\n");
  return 0;
}

static int damage_all(const char* command, const char* path) {
  size_t size = 0;
  unsigned char* block = NULL;
  unsigned char* data = read_file(path, &size, &block);
  if (data == NULL) return 64;
  int bad = 0;
  if (strcmp(command, "flips") == 0) {
    for (size_t i = 0; i < size * 8; i++) {
      data[i / 8] ^= (unsigned char)(1u << (i % 8));
      bad |= load_variant(data, size, i);
      data[i / 8] ^= (unsigned char)(1u << (i % 8));
    }
  } else {
    for (size_t n = 0; n < size; n++) {
      unsigned char* prefix = (unsigned char*)malloc(n == 0 ? 1 : n); /* exact size, so reads past n are caught */
      memcpy(prefix, data, n);
      bad |= load_variant(prefix, n, n);
      free(prefix);
    }
  }
  free(block);
  return bad ? 65 : 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: weights_tool load FILE | mem FILE | find FILE NAME DTYPE [DIM...] | flips FILE | truncations FILE\n");
    return 64;
  }
  const char* command = argv[1];
  if (strcmp(command, "flips") == 0 || strcmp(command, "truncations") == 0) return damage_all(command, argv[2]);
  char err[1024] = "";
  tfc_weights* w = NULL;
  int status;
  if (strcmp(command, "mem") == 0) {
    size_t size = 0;
    unsigned char* block = NULL;
    unsigned char* data = read_file(argv[2], &size, &block);
    if (data == NULL) {
      fprintf(stderr, "cannot read %s\n", argv[2]);
      return 64;
    }
    status = tfc_weights_from_memory(data, size, &w, err, sizeof err);
    free(block); /* the weights must not depend on the caller's bytes */
  } else {
    status = tfc_weights_load(argv[2], &w, err, sizeof err);
  }
  if (status != TFC_OK) {
    if (w != NULL) {
      fprintf(stderr, "a failed load returned weights\n");
      return 65;
    }
    print_failure(status, err);
    return status;
  }

  if (strcmp(command, "find") == 0) {
    if (argc < 5) return 64;
    int dtype = atoi(argv[4]);
    int rank = argc - 5;
    int64_t dims[TFC_WEIGHTS_MAX_RANK + 8];
    for (int k = 0; k < rank && k < TFC_WEIGHTS_MAX_RANK + 8; k++) dims[k] = atoll(argv[5 + k]);
    const void* data = tfc_weights_find(w, argv[3], dtype, rank, rank == 0 ? NULL : dims, err, sizeof err);
    if (data == NULL) {
      print_failure(TFC_ERR_WEIGHTS, err);
      tfc_weights_free(w);
      return TFC_ERR_WEIGHTS;
    }
    for (int64_t i = 0; i < tfc_weights_count(w); i++) {
      tfc_tensor_info t;
      tfc_weights_entry(w, i, &t);
      if (strcmp(t.name, argv[3]) == 0) {
        if (t.data != data) return 68;
        printf("{\"status\":\"TFC_OK\",\"tensor\":");
        print_tensor(&t);
        printf("}\n");
      }
    }
    tfc_weights_free(w);
    return TFC_OK;
  }

  printf("{\"status\":\"TFC_OK\",\"tensors\":[");
  int64_t count = tfc_weights_count(w);
  for (int64_t i = 0; i < count; i++) {
    tfc_tensor_info t;
    if (tfc_weights_entry(w, i, &t) != TFC_OK) return 66;
    if (i > 0) putchar(',');
    print_tensor(&t);
  }
  tfc_tensor_info past;
  if (tfc_weights_entry(w, count, &past) != TFC_ERR_INDEX) return 67;
  printf("]}\n");
  tfc_weights_free(w);
  return TFC_OK;
}
