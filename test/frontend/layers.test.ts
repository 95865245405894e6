// Layers against TF.js: each fixture model file is compiled by tfc and also run by TF.js itself
// (the same file, with `tfc` bound to @tensorflow/tfjs); weights are copied layer by layer, by
// name, and predictions must agree. Tolerance: 1e-5 relative, 1e-6 absolute (gelu: TF.js's
// layers gelu uses the same erf approximation as tfc's scalar body).

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import * as tfjs from "@tensorflow/tfjs";
import { compile } from "../../compiler/driver.js";
import { loadModelFile } from "../../compiler/frontend/load.js";
import { interpret, initialParams } from "../../ir/interpreter.js";
import { hostTensor, type HostTensor } from "../../ir/tensor.js";
import { Rng } from "../../ir/initializers.js";
import { BATCH } from "../../ir/types.js";
import { repoRoot, assertClose } from "../util.js";

before(async () => {
  await tfjs.setBackend("cpu");
});

function randomInput(shape: number[], rng: Rng, integers?: number): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return hostTensor("f32", shape, Array.from({ length: n }, () => (integers ? Math.floor(rng.next() * integers) : rng.next() * 4 - 2)));
}

function checkAgainstTfjs(fixture: string, batch: number, integers?: number): void {
  const file = path.join(repoRoot(), "test/frontend/fixtures/layers", fixture);
  const result = compile(file, { verify: true });
  const fn = result.module.getFunction("predict")!;
  const rng = new Rng(7 + batch);
  const inputs = fn.args.map((a) => randomInput(a.type.shape.map((d) => (d === BATCH ? batch : d)), rng, integers));
  const params = initialParams(result.module);
  const ours = interpret(result.module, fn, inputs, params);

  const oracle = loadModelFile(file, { tfcModule: tfjs }).exports["default"] as tfjs.LayersModel;
  for (const layer of result.traced.model!.layers) {
    const weights = layer.weights.map((w) => {
      const p = params.get(w.name)!;
      return tfjs.tensor(Array.from(p.data), [...p.shape]);
    });
    if (weights.length) oracle.getLayer(layer.name).setWeights(weights);
  }
  const outs = oracle.predict(inputs.map((x) => tfjs.tensor(Array.from(x.data), [...x.shape])));
  const expected = Array.isArray(outs) ? outs : [outs];
  assert.equal(ours.length, expected.length);
  ours.forEach((o, i) => {
    assert.deepEqual(o.shape, expected[i]!.shape);
    assertClose(o.data as Float32Array, expected[i]!.dataSync() as Float32Array, 1e-5, 1e-6, `${fixture} output ${i}`);
  });
}

for (const batch of [1, 3]) {
  test(`functional model (conv, batch norm, avg pool, concat, add, reshape, activations) at batch ${batch}`, () => checkAgainstTfjs("functional.ts", batch));
  test(`MobileNet-style block (depthwise conv, relu6, global pooling, dropout) at batch ${batch}`, () => checkAgainstTfjs("mobile-block.ts", batch));
  test(`embedding + gelu at batch ${batch}`, () => checkAgainstTfjs("embedding.ts", batch, 20));
}

test("a two-input, two-output model predicts through the CLI's row format", () => {
  const result = compile(path.join(repoRoot(), "test/frontend/fixtures/layers/functional.ts"));
  const fn = result.module.functions[0]!;
  assert.deepEqual(fn.args.map((a) => a.name), ["image", "extra"]);
  assert.deepEqual(fn.resultNames, ["probs", "act"]);
});
