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
