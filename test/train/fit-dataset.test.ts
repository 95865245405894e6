// model.fitDataset on tf.data pipelines (fromTensorSlices / zip, shuffle, batch, map) against
// TF.js's fitDataset on the same batches from the same initial weights. Tolerance 2e-4 relative,
// 2e-5 absolute, as in parity.test.ts.

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../../compiler/api/index.js";
import { Rng } from "../../ir/initializers.js";
import { assertClose } from "../util.js";

before(async () => {
  await tfjs.setBackend("cpu");
});

const N = 20;
const rng = new Rng(11);
const xs = Array.from({ length: N }, () => Array.from({ length: 3 }, () => rng.next() * 2 - 1));
const ys = xs.map((x) => [x[0]! - 2 * x[1]! + 0.5 * x[2]! > 0 ? 1 : 0]);

function model(tf: any): any {
  const m = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3], activation: "tanh" }), tf.layers.dense({ units: 1, activation: "sigmoid" })] });
  return m;
}

for (const backend of ["interp", "llvm", "wasm"]) {
  test(`fitDataset over zip(array, array).batch(6) on ${backend} matches TF.js (incl. the smaller last batch)`, async () => {
    await tfc.setBackend(backend);
    const mine = model(tfc);
    const theirs = model(tfjs);
    theirs.setWeights(mine.getWeights().map((w: tfc.Tensor) => tfjs.tensor(w.dataSync() as Float32Array, w.shape)));
    mine.compile({ optimizer: tfc.train.adam(0.05), loss: "binaryCrossentropy", metrics: ["accuracy"] });
    theirs.compile({ optimizer: tfjs.train.adam(0.05), loss: "binaryCrossentropy", metrics: ["accuracy"] });
    const ds = (tf: any) => tf.data.zip({ xs: tf.data.array(xs), ys: tf.data.array(ys) }).batch(6);
    const batchEnds: number[] = [];
    const h1 = await mine.fitDataset(ds(tfc), { epochs: 3, callbacks: { onBatchEnd: (b: number) => void batchEnds.push(b) } });
    const h2 = await theirs.fitDataset(ds(tfjs), { epochs: 3 });
    assert.deepEqual(batchEnds, [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
    for (const key of Object.keys(h2.history)) assertClose(h1.history[key]!, h2.history[key] as number[], 2e-4, 2e-5, `history ${key}`);
    theirs.getWeights().forEach((w: tfjs.Tensor, i: number) => assertClose(mine.getWeights()[i].dataSync(), w.dataSync(), 2e-4, 2e-5, `weight ${i}`));
  });
}

test("fitDataset with a shuffled, mapped fromTensorSlices pipeline and a validation dataset trains and reports val_ keys", async () => {
  await tfc.setBackend("interp");
  const m = model(tfc);
  m.compile({ optimizer: "adam", loss: "binaryCrossentropy", metrics: ["accuracy"] });
  const train = tfc.data
    .fromTensorSlices({ xs: tfc.tensor2d(xs), ys: tfc.tensor2d(ys) })
    .shuffle(20, 3)
    .map((e: any) => ({ xs: e.xs.mul(1), ys: e.ys }))
    .batch(5);
  const val = tfc.data.fromTensorSlices({ xs: tfc.tensor2d(xs.slice(0, 8)), ys: tfc.tensor2d(ys.slice(0, 8)) }).batch(4);
  const h = await m.fitDataset(train, { epochs: 2, validationData: val });
  assert.deepEqual(Object.keys(h.history).sort(), ["acc", "loss", "val_acc", "val_loss"]);
  assert.equal(h.history["loss"]!.length, 2);
});

test("fitDataset needs {xs, ys} elements and says so", async () => {
  await tfc.setBackend("interp");
  const m = model(tfc);
  m.compile({ optimizer: "sgd", loss: "binaryCrossentropy" });
  await assert.rejects(() => m.fitDataset(tfc.data.array(xs).batch(4), { epochs: 1 }), (e: Error & { code?: string }) => e.code === "TFC7098" && /\{xs, ys\}/.test(e.message));
});
