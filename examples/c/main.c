/* A C program using a model compiled by tfc (any model with one float input and one float output):
 *
 *   npx tfc compile examples/mnist-cnn.ts --target llvm -o out/
 *   cc -O2 examples/c/main.c -I out out/libmodel.a -lm -pthread -o predict
 *   ./predict out/model.weights 2 < pixels.txt      # 2 examples, whitespace-separated floats
 *
 * Prints one line of outputs per example and the predicted class (the arg max), or the error. */
#include <stdio.h>
#include <stdlib.h>
#include "model.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s WEIGHTS BATCH < inputs.txt\n", argv[0]);
    return 2;
  }
  long long batch = atoll(argv[2]);
  model_model* m = NULL;
  if (model_create(argv[1], 0, &m) != 0) {
    fprintf(stderr, "error: %s\n", model_last_error(m));
    model_destroy(m);
    return 1;
  }
  int64_t in_len = batch > 0 ? model_input0_elements(batch) : 0;
  int64_t out_len = batch > 0 ? model_output0_elements(batch) : 0;
  float* in = malloc(sizeof(float) * (size_t)(in_len > 0 ? in_len : 1));
  float* out = malloc(sizeof(float) * (size_t)(out_len > 0 ? out_len : 1));
  int64_t read = 0;
  while (read < in_len && scanf("%f", &in[read]) == 1) read++;
  /* Pass what was read: a short input is reported by the model, not guessed at here. */
  int status = model_predict(m, batch, in, read, out, out_len);
  if (status != 0) {
    fprintf(stderr, "error %d: %s\n", status, model_last_error(m));
  } else {
    int64_t per = out_len / batch;
    for (long long b = 0; b < batch; b++) {
      int best = 0;
      for (int64_t j = 0; j < per; j++) {
        printf("%s%.9g", j ? " " : "", out[b * per + j]);
        if (out[b * per + j] > out[b * per + best]) best = (int)j;
      }
      printf(" | class %d\n", best);
    }
  }
  free(in);
  free(out);
  model_destroy(m);
  return status == 0 ? 0 : 1;
}
