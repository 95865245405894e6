// The model files every target is checked on (the examples and the layer fixtures), and the
// random inputs they are fed: one list, so a new example is tested on every target at once.

import type { Func } from "../ir/ir.js";
import { hostTensor, type HostTensor } from "../ir/tensor.js";
import { Rng } from "../ir/initializers.js";
import { concretize } from "../ir/types.js";

export const TARGET_MODELS = [
  "examples/linear-regression.ts",
  "examples/logistic-regression.ts",
  "examples/neural-network.ts",
  "examples/mlp.ts",
  "examples/mnist-cnn.ts",
  "examples/tensors-and-variables.ts",
  "examples/constants.ts",
  "test/frontend/fixtures/layers/functional.ts",
  "test/frontend/fixtures/layers/mobile-block.ts",
  "test/frontend/fixtures/layers/embedding.ts",
];

/** Seeded inputs for a model's function at a batch size (token ids for the embedding model). */
export function modelInputs(file: string, fn: Func, batch: number, seed = batch): HostTensor[] {
  const rng = new Rng(seed);
  const ids = file.includes("embedding");
  return fn.args.map((a) => {
    const t = hostTensor(a.type.dtype, concretize(a.type.shape, batch));
    for (let i = 0; i < t.data.length; i++) t.data[i] = ids ? Math.floor(rng.next() * 20) : rng.next() * 2 - 1;
    return t;
  });
}
