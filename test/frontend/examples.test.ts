// Each example model compiles, and its predictions on the interpreter equal TF.js's for the same
// weights. The oracle runs the very same model file with `tfc` bound to @tensorflow/tfjs, copies
// tfc's initial weights into it, and predicts on the same random batch.
// Tolerance: 1e-5 relative to each value, with an absolute floor of 1e-6 (f32 sums of up to 5408 terms).

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import * as fs from "node:fs";
import * as tfjs from "@tensorflow/tfjs";
import { compile } from "../../compiler/driver.js";
import { loadModelFile } from "../../compiler/frontend/load.js";
import { interpret, initialParams } from "../../ir/interpreter.js";
import { hostTensor } from "../../ir/tensor.js";
import { Rng } from "../../ir/initializers.js";
import { BATCH } from "../../ir/types.js";
import { repoRoot, assertClose } from "../util.js";

const EXAMPLES = ["linear-regression.ts", "logistic-regression.ts", "mlp.ts", "mnist-cnn.ts"];

before(async () => {
  await tfjs.setBackend("cpu");
});

for (const name of EXAMPLES) {
  for (const batch of [1, 5]) {
    test(`example ${name} at batch ${batch} matches TF.js`, () => {
      const file = path.join(repoRoot(), "examples", name);
      const result = compile(file, { verify: true });
      const fn = result.module.getFunction("predict")!;
      assert.equal(fn.args.length, 1);
      const arg = fn.args[0]!;
      assert.equal(arg.type.shape[0], BATCH, "the batch dimension stays symbolic");

      const shape = arg.type.shape.map((d) => (d === BATCH ? batch : d));
      const rng = new Rng(1234 + batch);
      const x = hostTensor("f32", shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1));
      const params = initialParams(result.module);
      const [ours] = interpret(result.module, fn, [x], params);

      // The oracle: the same file, with `import * as tf from "tfc"` bound to TF.js.
      const oracle = loadModelFile(file, { tfcModule: tfjs }).exports["default"] as tfjs.LayersModel;
      const weights = result.traced.model!.weights.map((w) => {
        const p = params.get(w.name);
        assert.ok(p, `no parameter for weight ${w.name}`);
        return tfjs.tensor(Array.from(p.data), [...p.shape]);
      });
      oracle.setWeights(weights);
      const expected = (oracle.predict(tfjs.tensor(Array.from(x.data), shape)) as tfjs.Tensor).dataSync();
      assert.deepEqual(ours!.shape, [batch, ...fn.results[0]!.type.shape.slice(1)]);
      assertClose(ours!.data as Float32Array, expected as Float32Array, 1e-5, 1e-6, name);
    });
  }
}

test("every example type-checks, traces and verifies after the inference pipeline", () => {
  const dir = path.join(repoRoot(), "examples");
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".ts"));
  assert.ok(files.length >= 7);
  for (const f of files) {
    const result = compile(path.join(dir, f), { verify: true });
    assert.ok(result.module.functions.length === 1, f);
    assert.deepEqual(result.warnings, [], f);
  }
});

test("examples/constants.ts computes 5 + 3 = 8 (the tutorial's first graph)", () => {
  const result = compile(path.join(repoRoot(), "examples/constants.ts"), { verify: true });
  const fn = result.module.functions[0]!;
  const [out] = interpret(result.module, fn, []);
  assert.deepEqual(Array.from(out!.data), [8]);
  assert.match(result.ir(), /constant \{value=dense<f32\[\] \[8\]>\}/, "constant-folded at compile time");
});
