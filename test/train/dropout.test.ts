// Dropout in training: fit draws a fresh mask per layer and step (random_uniform with the step's
// seed), scaled by 1/(1 − rate) as TF.js does; evaluate and predict see no dropout. Checked
// statistically against TF.js (whose generator differs, so only the distribution can agree) and
// exactly across tfc's backends (counter-based numbers: the same masks everywhere).

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../../compiler/api/index.js";
import { assertClose } from "../util.js";

before(async () => {
  await tfjs.setBackend("cpu");
});

/** ones(100) → dropout(rate) → dense(1) with all-ones kernel and no bias, never updated (lr 0). */
function counter(tf: any, rate: number): any {
  const m = tf.sequential({
    layers: [tf.layers.dropout({ rate, inputShape: [100] }), tf.layers.dense({ units: 1, useBias: false, kernelInitializer: "ones" })],
  });
  m.compile({ optimizer: tf.train.sgd(0), loss: "meanSquaredError" });
  return m;
}

test("fit sees dropout (mse of the kept-count around its mean matches TF.js's), evaluate and predict do not", async () => {
  // The prediction is 2·Binomial(100, ½): mean 100, variance 100, so the epoch's mse ≈ 100.
  const x = tfc.ones([256, 100]);
  const y = tfc.fill([256, 1], 100);
  await tfc.setBackend("interp");
  const mine = counter(tfc, 0.5);
  const h = await mine.fit(x, y, { epochs: 2, batchSize: 64 });
  const theirs = counter(tfjs, 0.5);
  const h2 = await theirs.fit(tfjs.ones([256, 100]), tfjs.fill([256, 1], 100), { epochs: 2, batchSize: 64 });
  for (const [who, losses] of [["tfc", h.history["loss"]!], ["TF.js", h2.history["loss"] as number[]]] as const) {
    for (const l of losses) assert.ok(l > 75 && l < 125, `${who} epoch mse ${l} (expected about 100)`);
  }
  assert.notEqual(h.history["loss"]![0], h.history["loss"]![1], "each epoch draws new masks");
  assert.equal(((await mine.evaluate(x, y)) as tfc.Tensor).dataSync()[0], 0);
  assert.deepEqual(Array.from((mine.predict(tfc.ones([2, 100])) as tfc.Tensor).dataSync()), [100, 100]);
});

test("rate 0.2 keeps about 80% of the units, scaled by 1/0.8", async () => {
  await tfc.setBackend("interp");
  const m = counter(tfc, 0.2);
  // Variance of 1.25·Binomial(100, 0.8) = 1.5625·16 = 25.
  const h = await m.fit(tfc.ones([512, 100]), tfc.fill([512, 1], 100), { epochs: 1, batchSize: 128 });
  assert.ok(h.history["loss"]![0]! > 20 && h.history["loss"]![0]! < 30, `mse ${h.history["loss"]}`);
});

test("a model with dropout trains to the same History on interp, native and wasm", async () => {
  const histories: Record<string, number[]> = {};
  for (const backend of ["interp", "llvm", "wasm"]) {
    await tfc.setBackend(backend);
    const m = tfc.sequential({
      layers: [
        tfc.layers.dense({ units: 16, activation: "relu", inputShape: [8], kernelInitializer: tfc.initializers.glorotUniform({ seed: 1 }) }),
        tfc.layers.dropout({ rate: 0.3, seed: 42 }), // the salt; by default it comes from the layer name, which differs per model here
        tfc.layers.dense({ units: 1, kernelInitializer: tfc.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    m.compile({ optimizer: tfc.train.adam(0.01), loss: "meanSquaredError" });
    const x = tfc.tensor2d(Array.from({ length: 64 * 8 }, (_, i) => Math.sin(i)), [64, 8]);
    const y = tfc.tensor2d(Array.from({ length: 64 }, (_, i) => Math.cos(i)), [64, 1]);
    histories[backend] = (await m.fit(x, y, { epochs: 3, batchSize: 16, seed: 5 })).history["loss"]!;
  }
  assertClose(histories["llvm"]!, histories["interp"]!, 1e-5, 1e-6, "native vs interp");
  assertClose(histories["wasm"]!, histories["interp"]!, 1e-5, 1e-6, "wasm vs interp");
});
