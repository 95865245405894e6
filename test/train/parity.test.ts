// Training parity: the same model, initial weights, batches and optimizer trained by tfc — on the
// reference interpreter, native code and WebAssembly — and by TF.js (model.fit, cpu backend) ends
// with the same weights and the same per-epoch loss. Every optimizer is checked with a softmax
// classifier, every loss family with Adam, and the full optimizer × loss matrix on the interpreter.
// Tolerance: 2e-4 relative, 2e-5 absolute on weights after 2 epochs of 3 steps (float32 sums are
// ordered differently: GEMM blocking, reductions).

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../../compiler/api/index.js";
import { Rng } from "../../ir/initializers.js";
import { assertClose } from "../util.js";

before(async () => {
  await tfjs.setBackend("cpu");
});

type Api = typeof tfc | typeof tfjs;

const OPTIMIZERS: Record<string, (tf: Api) => unknown> = {
  sgd: (tf) => tf.train.sgd(0.1),
  momentum: (tf) => tf.train.momentum(0.05, 0.9),
  nesterov: (tf) => tf.train.momentum(0.05, 0.9, true),
  adagrad: (tf) => tf.train.adagrad(0.1),
  rmsprop: (tf) => tf.train.rmsprop(0.01),
  "rmsprop centered with momentum": (tf) => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-7, true),
  adam: (tf) => tf.train.adam(0.01),
  adamax: (tf) => tf.train.adamax(0.01),
  adadelta: (tf) => tf.train.adadelta(1.0),
};

interface LossCase {
  loss: string;
  units: number;
  activation: string;
  metrics: string[];
  labels: (rng: Rng, n: number) => { values: number[]; shape: number[] };
}

const LOSSES: Record<string, LossCase> = {
  "mean squared error (regression)": {
    loss: "meanSquaredError",
    units: 2,
    activation: "linear",
    metrics: ["mse", "mae"],
    labels: (rng, n) => ({ values: Array.from({ length: n * 2 }, () => rng.next() * 2 - 1), shape: [n, 2] }),
  },
  "binary cross-entropy (sigmoid)": {
    loss: "binaryCrossentropy",
    units: 1,
    activation: "sigmoid",
    metrics: ["accuracy"],
    labels: (rng, n) => ({ values: Array.from({ length: n }, () => (rng.next() < 0.5 ? 0 : 1)), shape: [n, 1] }),
  },
  "categorical cross-entropy (softmax)": {
    loss: "categoricalCrossentropy",
    units: 3,
    activation: "softmax",
    metrics: ["accuracy"],
    labels: (rng, n) => {
      const values: number[] = [];
      for (let i = 0; i < n; i++) {
        const c = Math.floor(rng.next() * 3);
        values.push(...[0, 1, 2].map((k) => (k === c ? 1 : 0)));
      }
      return { values, shape: [n, 3] };
    },
  },
  "sparse categorical cross-entropy": {
    loss: "sparseCategoricalCrossentropy",
    units: 3,
    activation: "softmax",
    metrics: ["accuracy"],
    labels: (rng, n) => ({ values: Array.from({ length: n }, () => Math.floor(rng.next() * 3)), shape: [n] }),
  },
};

const N = 24;
const BATCH = 8;

function build(tf: Api, c: LossCase): any {
  const t = tf as any;
  return t.sequential({
    layers: [t.layers.dense({ units: 6, inputShape: [4], activation: "tanh" }), t.layers.dense({ units: c.units, activation: c.activation })],
  });
}

/** Train the same thing in TF.js and in tfc on `backend`; compare weights and losses. */
async function compare(optimizer: string, lossName: string, backend: string): Promise<void> {
  const c = LOSSES[lossName]!;
  const rng = new Rng(7);
  const xs = Array.from({ length: N * 4 }, () => rng.next() * 2 - 1);
  const ys = c.labels(rng, N);

  await tfc.setBackend(backend);
  const mine = build(tfc, c);
  const theirs = build(tfjs, c);
  theirs.setWeights(mine.getWeights().map((w: tfc.Tensor) => tfjs.tensor(w.dataSync() as Float32Array, w.shape)));
  mine.compile({ optimizer: OPTIMIZERS[optimizer]!(tfc) as never, loss: c.loss, metrics: c.metrics });
  theirs.compile({ optimizer: OPTIMIZERS[optimizer]!(tfjs) as never, loss: c.loss, metrics: c.metrics });
  const fitArgs = { epochs: 2, batchSize: BATCH, shuffle: false };
  const h1 = await mine.fit(tfc.tensor(xs, [N, 4]), tfc.tensor(ys.values, ys.shape), fitArgs);
  const h2 = await theirs.fit(tfjs.tensor(xs, [N, 4]), tfjs.tensor(ys.values, ys.shape), fitArgs);
  const what = `${optimizer} × ${lossName} on ${backend}`;
  assert.deepEqual(Object.keys(h1.history).sort(), Object.keys(h2.history).sort(), `${what}: history keys`);
  for (const key of Object.keys(h2.history)) assertClose(h1.history[key]!, h2.history[key] as number[], 2e-4, 2e-5, `${what}: history ${key}`);
  const w1 = mine.getWeights() as tfc.Tensor[];
  const w2 = theirs.getWeights() as tfjs.Tensor[];
  w2.forEach((w, i) => assertClose(w1[i]!.dataSync(), w.dataSync(), 2e-4, 2e-5, `${what}: weight ${i}`));
}

for (const backend of ["interp", "llvm", "wasm"]) {
  for (const optimizer of Object.keys(OPTIMIZERS)) {
    test(`${optimizer} with categorical cross-entropy on ${backend} matches TF.js`, () => compare(optimizer, "categorical cross-entropy (softmax)", backend));
  }
  for (const loss of Object.keys(LOSSES)) {
    if (loss.startsWith("categorical")) continue;
    test(`adam with ${loss} on ${backend} matches TF.js`, () => compare("adam", loss, backend));
  }
}

for (const optimizer of Object.keys(OPTIMIZERS)) {
  for (const loss of Object.keys(LOSSES)) {
    if (optimizer === "adam" || loss.startsWith("categorical")) continue;
    test(`${optimizer} with ${loss} on interp matches TF.js`, () => compare(optimizer, loss, "interp"));
  }
}

/** Layers that act differently in training: batch normalization (batch statistics, moving averages). */
async function compareBatchNorm(backend: string, conv: boolean): Promise<void> {
  const rng = new Rng(3);
  const n = 24;
  const shape = conv ? [n, 6, 6, 2] : [n, 5];
  const xs = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 4 - 1);
  const ys = Array.from({ length: n }, () => Math.floor(rng.next() * 3));
  const build = (tf: any) =>
    tf.sequential({
      layers: conv
        ? [
            // No bias before batch norm (it would cancel; Adam would turn its ~0 gradient into noise).
            tf.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [6, 6, 2], useBias: false }),
            tf.layers.batchNormalization({ momentum: 0.9 }),
            tf.layers.activation({ activation: "relu" }),
            tf.layers.flatten(),
            tf.layers.dense({ units: 3, activation: "softmax" }),
          ]
        : [
            tf.layers.dense({ units: 8, inputShape: [5], useBias: false }),
            tf.layers.batchNormalization({ momentum: 0.8, epsilon: 0.01 }),
            tf.layers.activation({ activation: "relu" }),
            tf.layers.dense({ units: 3, activation: "softmax" }),
          ],
    });
  await tfc.setBackend(backend);
  const mine = build(tfc);
  const theirs = build(tfjs);
  theirs.setWeights(mine.getWeights().map((w: tfc.Tensor) => tfjs.tensor(w.dataSync() as Float32Array, w.shape)));
  mine.compile({ optimizer: tfc.train.adam(0.01), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  theirs.compile({ optimizer: tfjs.train.adam(0.01), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  const args = { epochs: 2, batchSize: 8, shuffle: false };
  const h1 = await mine.fit(tfc.tensor(xs, shape), tfc.tensor1d(ys), args);
  const h2 = await theirs.fit(tfjs.tensor(xs, shape), tfjs.tensor1d(ys), args);
  const what = `batch norm (${conv ? "conv" : "dense"}) on ${backend}`;
  for (const key of Object.keys(h2.history)) assertClose(h1.history[key]!, h2.history[key] as number[], 2e-4, 2e-5, `${what}: history ${key}`);
  // Weights in layer order, the moving mean and variance included.
  (theirs.getWeights() as tfjs.Tensor[]).forEach((w, i) => assertClose(mine.getWeights()[i].dataSync(), w.dataSync(), 2e-4, 2e-5, `${what}: weight ${i}`));
  // Inference uses the moving statistics, as TF.js does.
  const probe = conv ? [2, 6, 6, 2] : [2, 5];
  const px = Array.from({ length: probe.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i));
  assertClose((mine.predict(tfc.tensor(px, probe)) as tfc.Tensor).dataSync(), (theirs.predict(tfjs.tensor(px, probe)) as tfjs.Tensor).dataSync(), 2e-4, 2e-5, `${what}: predict`);
}

for (const backend of ["interp", "llvm", "wasm"]) {
  test(`batch normalization trains as in TF.js (batch statistics, moving averages) on ${backend}`, () => compareBatchNorm(backend, false));
}
test("a conv → batch norm → relu model trains as in TF.js on llvm", () => compareBatchNorm("llvm", true));
