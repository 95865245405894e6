// Metrics against TF.js itself (v4.22, CPU backend): every tf.metrics function's shape (per
// example or scalar) and values, each traced with a symbolic batch, and getMetric's resolution of
// names ('accuracy' by loss and output shape, History keys) against what TF.js's model.compile
// does: its metricsNames and the values of model.evaluate.
// Tolerances: values 1e-5 relative + 1e-6 absolute; traced vs eager 1e-5 relative + 1e-6 absolute.

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../../compiler/api/index.js";
import * as L from "../../compiler/api/losses.js";
import * as M from "../../compiler/api/metrics.js";
import { BATCH } from "../../ir/types.js";
import { assertClose } from "../util.js";
import { data, distributions, matrix, oneHotRows, probabilities, rng, throwsTfc, traceAndRun, type Matrix } from "./loss-helpers.js";

before(async () => {
  await tfjs.setBackend("cpu");
});

type T = tfjs.Tensor;
const VALUE_TOL = [1e-5, 1e-6] as const;

interface MetricCase {
  readonly name: string;
  readonly ours: (t: tfc.Tensor, p: tfc.Tensor) => tfc.Tensor;
  readonly ref: (t: T, p: T) => T;
  readonly yTrue: Matrix | number[];
  readonly yPred: Matrix;
  readonly labelsDType?: "int32";
}

const r = rng(5);
const binaryLabels = () => matrix(r, (u) => (u < 0.5 ? 0 : 1));
/** Probabilities with values exactly at the 0.5 threshold (not above it: predicted 0). */
const thresholdProbs = () => {
  const m = probabilities(r);
  m[0]![1] = 0.5;
  m[2]![2] = 0.5000001;
  return m;
};
/** Rows with tied maxima: argMax takes the first, in both. */
const tiedRows = () => {
  const m = distributions(r);
  m[1] = [0.3, 0.1, 0.3, 0.2, 0.1];
  m[3] = [0.25, 0.25, 0.25, 0.25, 0];
  return m;
};
const sparse = oneHotRows(r);
const sparseRef = (t: T, p: T) => tfjs.metrics.categoricalCrossentropy(tfjs.oneHot(tfjs.cast(tfjs.reshape(t, [-1]), "int32"), p.shape[1]!), tfjs.clipByValue(p, 1e-7, 1 - 1e-7));
const regression = () => ({ yTrue: matrix(r, (u) => 4 * u - 2), yPred: matrix(r, (u) => 4 * u - 2) });
const thresholded = () => matrix(r, (u) => (u < 0.4 ? 0 : 1));

const CASES: MetricCase[] = [
  { name: "binaryAccuracy", ours: M.binaryAccuracy, ref: tfjs.metrics.binaryAccuracy, yTrue: binaryLabels(), yPred: thresholdProbs() },
  { name: "categoricalAccuracy", ours: M.categoricalAccuracy, ref: tfjs.metrics.categoricalAccuracy, yTrue: oneHotRows(r).oneHot, yPred: tiedRows() },
  { name: "categoricalAccuracy, probabilistic labels", ours: M.categoricalAccuracy, ref: tfjs.metrics.categoricalAccuracy, yTrue: distributions(r), yPred: distributions(r) },
  { name: "sparseCategoricalAccuracy, float labels [batch, 1]", ours: M.sparseCategoricalAccuracy, ref: tfjs.metrics.sparseCategoricalAccuracy, yTrue: sparse.labels.map((k) => [k]), yPred: tiedRows() },
  { name: "sparseCategoricalAccuracy, int32 labels [batch]", ours: M.sparseCategoricalAccuracy, ref: tfjs.metrics.sparseCategoricalAccuracy, yTrue: sparse.labels, yPred: distributions(r), labelsDType: "int32" },
  { name: "sparseCategoricalAccuracy, non-integer float labels never match", ours: M.sparseCategoricalAccuracy, ref: tfjs.metrics.sparseCategoricalAccuracy, yTrue: [[0.5], [1], [2.5], [3]], yPred: distributions(r) },
  { name: "precision on 0/1 predictions", ours: M.precision, ref: tfjs.metrics.precision, yTrue: binaryLabels(), yPred: thresholded() },
  { name: "precision on probabilities (only exact 1s count)", ours: M.precision, ref: tfjs.metrics.precision, yTrue: binaryLabels(), yPred: probabilities(r) },
  { name: "precision with nothing predicted positive is 0", ours: M.precision, ref: tfjs.metrics.precision, yTrue: binaryLabels(), yPred: matrix(r, () => 0) },
  { name: "recall on 0/1 predictions", ours: M.recall, ref: tfjs.metrics.recall, yTrue: binaryLabels(), yPred: thresholded() },
  { name: "recall with no positive labels is 0", ours: M.recall, ref: tfjs.metrics.recall, yTrue: matrix(r, () => 0), yPred: thresholded() },
  { name: "meanSquaredError", ours: M.meanSquaredError, ref: tfjs.metrics.meanSquaredError, ...regression() },
  { name: "MSE", ours: M.MSE, ref: tfjs.metrics.MSE, ...regression() },
  { name: "mse", ours: M.mse, ref: tfjs.metrics.mse, ...regression() },
  { name: "meanAbsoluteError", ours: M.meanAbsoluteError, ref: tfjs.metrics.meanAbsoluteError, ...regression() },
  { name: "MAE (TF.js: meanAbsoluteError)", ours: M.MAE, ref: tfjs.metrics.meanAbsoluteError, ...regression() },
  { name: "mae (TF.js: meanAbsoluteError)", ours: M.mae, ref: tfjs.metrics.meanAbsoluteError, ...regression() },
  { name: "meanAbsolutePercentageError", ours: M.meanAbsolutePercentageError, ref: tfjs.metrics.meanAbsolutePercentageError, ...regression() },
  { name: "MAPE", ours: M.MAPE, ref: tfjs.metrics.MAPE, ...regression() },
  { name: "mape", ours: M.mape, ref: tfjs.metrics.mape, ...regression() },
  { name: "binaryCrossentropy", ours: M.binaryCrossentropy, ref: tfjs.metrics.binaryCrossentropy, yTrue: binaryLabels(), yPred: probabilities(r) },
  { name: "categoricalCrossentropy", ours: M.categoricalCrossentropy, ref: tfjs.metrics.categoricalCrossentropy, yTrue: oneHotRows(r).oneHot, yPred: probabilities(r) },
  { name: "sparseCategoricalCrossentropy", ours: M.sparseCategoricalCrossentropy, ref: sparseRef, yTrue: sparse.labels.map((k) => [k]), yPred: probabilities(r) },
  { name: "cosineProximity", ours: M.cosineProximity, ref: tfjs.metrics.cosineProximity, ...regression() },
  { name: "r2Score", ours: M.r2Score, ref: tfjs.metrics.r2Score, ...regression() },
];

const tensorOf = (tf: any, values: Matrix | number[], dtype?: "int32") => tf.tensor(values, undefined, dtype);

for (const c of CASES) {
  test(`metric ${c.name}: shape and values equal TF.js`, () => {
    const ours = c.ours(tensorOf(tfc, c.yTrue, c.labelsDType), tfc.tensor2d(c.yPred));
    const theirs = c.ref(tensorOf(tfjs, c.yTrue, c.labelsDType), tfjs.tensor2d(c.yPred));
    assert.deepEqual(ours.shape, theirs.shape);
    assert.equal(ours.dtype, theirs.dtype);
    assertClose(data(ours), data(theirs), ...VALUE_TOL, c.name);
  });

  test(`metric ${c.name}: traces with a symbolic batch and equals eager`, () => {
    const [traced] = traceAndRun((t, p) => c.ours(t, p), [{ values: c.yTrue, ...(c.labelsDType ? { dtype: c.labelsDType } : {}) }, { values: c.yPred }]);
    const eager = c.ours(tensorOf(tfc, c.yTrue, c.labelsDType), tfc.tensor2d(c.yPred));
    assert.deepEqual(traced!.shape, eager.shape);
    assertClose(Array.from(traced!.data), data(eager), 1e-5, 1e-6, `traced ${c.name}`);
  });
}

test("binaryAccuracy takes a threshold (0.5 by default, as TF.js)", () => {
  const yTrue = [[1, 0, 0, 1], [0, 0, 1, 0]];
  const yPred = [[0.9, 0.65, 0.6, 0.75], [0.1, 0.8, 0.72, 0.3]];
  assert.deepEqual(data(M.binaryAccuracy(tfc.tensor2d(yTrue), tfc.tensor2d(yPred), 0.7)), [1, 0.75]);
  assert.deepEqual(data(M.binaryAccuracy(tfc.tensor2d(yTrue), tfc.tensor2d(yPred))), [0.5, 0.75]);
  assert.deepEqual(data(M.binaryAccuracy(tfc.tensor2d(yTrue), tfc.tensor2d(yPred))), data(tfjs.metrics.binaryAccuracy(tfjs.tensor2d(yTrue), tfjs.tensor2d(yPred))));
});

// ---- getMetric against TF.js's model.compile -------------------------------------------------------

interface Scenario {
  readonly loss: string;
  /** The same loss as tfc may be given it: a Keras name, or a function. */
  readonly ourLoss: string | L.LossOrMetricFn;
  readonly units: number;
  readonly activation: "sigmoid" | "softmax" | "linear";
  readonly labels: Matrix;
  /** The accuracy function TF.js's rule picks. */
  readonly expected: L.LossOrMetricFn;
}

const rs = rng(17);
const N = 6;
const x = matrix(rs, (u) => 2 * u - 1, N, 3);
const SCENARIOS: Scenario[] = [
  { loss: "binaryCrossentropy", ourLoss: "binary_crossentropy", units: 3, activation: "sigmoid", labels: matrix(rs, (u) => (u < 0.5 ? 0 : 1), N, 3), expected: M.binaryAccuracy },
  { loss: "meanSquaredError", ourLoss: "mse", units: 1, activation: "linear", labels: matrix(rs, (u) => (u < 0.5 ? 0 : 1), N, 1), expected: M.binaryAccuracy },
  { loss: "meanAbsoluteError", ourLoss: "mae", units: 1, activation: "sigmoid", labels: matrix(rs, (u) => (u < 0.5 ? 0 : 1), N, 1), expected: M.binaryAccuracy },
  { loss: "sparseCategoricalCrossentropy", ourLoss: L.getLoss("sparse_categorical_crossentropy"), units: 4, activation: "softmax", labels: oneHotRows(rs, N, 4).labels.map((k) => [k]), expected: M.sparseCategoricalAccuracy },
  { loss: "categoricalCrossentropy", ourLoss: L.categoricalCrossentropy, units: 4, activation: "softmax", labels: oneHotRows(rs, N, 4).oneHot, expected: M.categoricalAccuracy },
  { loss: "meanSquaredError", ourLoss: "MeanSquaredError", units: 4, activation: "linear", labels: oneHotRows(rs, N, 4).oneHot, expected: M.categoricalAccuracy },
];

/** TF.js compiles `metrics` for `loss` on a one-layer model: its History keys, its predictions, and evaluate's values. */
function tfjsCompiled(loss: string, units: number, activation: Scenario["activation"], labels: Matrix, metrics: (string | ((a: T, b: T) => T))[]) {
  const model = tfjs.sequential({ layers: [tfjs.layers.dense({ units, activation, inputShape: [3], kernelInitializer: tfjs.initializers.randomNormal({ seed: 3 }) })] });
  model.compile({ optimizer: "sgd", loss, metrics: metrics as string[] });
  const yPred = model.predict(tfjs.tensor2d(x)) as T;
  const values = (model.evaluate(tfjs.tensor2d(x), tfjs.tensor2d(labels), { batchSize: N }) as tfjs.Scalar[]).map((s) => s.dataSync()[0]!);
  return { names: model.metricsNames, yPred: yPred.arraySync() as Matrix, values };
}

for (const s of SCENARIOS) {
  test(`getMetric('accuracy'/'acc'/'ce') with loss ${s.loss} and ${s.units} output unit(s) follows TF.js`, () => {
    const metrics = ["accuracy", "acc", "crossentropy", "ce"];
    const theirs = tfjsCompiled(s.loss, s.units, s.activation, s.labels, metrics);
    const outputShape = [BATCH, s.units];
    const resolved = metrics.map((m) => M.getMetric(m, s.ourLoss, outputShape));
    assert.deepEqual(["loss", ...resolved.map((m) => m.name)], theirs.names);
    assert.equal(resolved[0]!.fn, s.expected);
    assert.equal(resolved[1]!.fn, s.expected);
    resolved.forEach((m, i) => {
      const value = tfc.mean(m.fn(tfc.tensor2d(s.labels), tfc.tensor2d(theirs.yPred))).dataSync()[0]!;
      assertClose([value], [theirs.values[i + 1]!], ...VALUE_TOL, `${metrics[i]} (${m.name})`);
    });
  });
}

test("getMetric: names and functions are their own History keys, as in TF.js", () => {
  const labels = matrix(rs, (u) => (u < 0.5 ? 0 : 1), N, 3);
  const names = ["mse", "MSE", "mae", "MAE", "mape", "MAPE", "precision", "cosine", "binaryAccuracy", "categoricalAccuracy", "categoricalCrossentropy"];
  const fns: [L.LossOrMetricFn, (a: T, b: T) => T][] = [
    [M.meanSquaredError, tfjs.metrics.meanSquaredError],
    [M.mse, tfjs.metrics.mse],
    [M.binaryAccuracy, tfjs.metrics.binaryAccuracy],
    [M.recall, tfjs.metrics.recall],
    [M.r2Score, tfjs.metrics.r2Score],
  ];
  const theirs = tfjsCompiled("binaryCrossentropy", 3, "sigmoid", labels, [...names, ...fns.map(([, f]) => f)]);
  const resolved = [...names.map((n) => M.getMetric(n, "binaryCrossentropy")), ...fns.map(([f]) => M.getMetric(f))];
  assert.deepEqual(["loss", ...resolved.map((m) => m.name)], theirs.names);
  resolved.forEach((m, i) => {
    const value = tfc.mean(m.fn(tfc.tensor2d(labels), tfc.tensor2d(theirs.yPred))).dataSync()[0]!;
    assertClose([value], [theirs.values[i + 1]!], ...VALUE_TOL, m.name);
  });
});

test("getMetric: Keras spellings and loss names are accepted too, keyed as given", () => {
  const cases: [string, L.LossOrMetricFn][] = [
    ["binary_accuracy", M.binaryAccuracy],
    ["sparse_categorical_accuracy", M.sparseCategoricalAccuracy],
    ["mean_squared_error", M.meanSquaredError],
    ["recall", M.recall],
    ["r2Score", M.r2Score],
    ["sparseCategoricalCrossentropy", M.sparseCategoricalCrossentropy],
    ["kl_divergence", L.kullbackLeiblerDivergence],
    ["hinge", L.hinge],
  ];
  for (const [name, fn] of cases) assert.deepEqual(M.getMetric(name), { name, fn });
  assert.equal(M.getMetric(L.kullbackLeiblerDivergence).name, "kullbackLeiblerDivergence");
  assert.equal(M.getMetric((a: tfc.Tensor, b: tfc.Tensor) => tfc.sub(a, b)).name, "metric");
});

// ---- errors -------------------------------------------------------------------------------------------

test("unknown metric names: TFC7044 with a 'did you mean' note", () => {
  throwsTfc(() => M.getMetric("accuarcy", "categoricalCrossentropy"), "TFC7044", /unknown metric 'accuarcy'/, /did you mean 'accuracy'\?/);
  throwsTfc(() => M.getMetric("precison"), "TFC7044", /precison/, /did you mean 'precision'\?/);
  throwsTfc(() => M.getMetric("zzz"), "TFC7044", /'zzz'/, /known metric names: binaryAccuracy, /);
});

test("metrics reject labels that do not match the predictions, naming both shapes", () => {
  const p = tfc.zeros([4, 3]);
  for (const c of CASES) {
    if (c.name.startsWith("sparse")) continue;
    throwsTfc(() => c.ours(tfc.zeros([4, 2]), p), "TFC7040", /\[4,2\].*\[4,3\]/);
  }
  throwsTfc(() => M.sparseCategoricalAccuracy(tfc.zeros([4, 2]), p), "TFC7041", /sparse labels of shape \[4,2\] do not match predictions of shape \[4,3\]/);
  throwsTfc(() => M.sparseCategoricalCrossentropy(tfc.zeros([3]), p), "TFC7041", /\[3\].*\[4,3\]/);
});

test("sparse labels out of range in a metric: eagerly TFC7042", () => {
  throwsTfc(() => M.sparseCategoricalAccuracy(tfc.tensor2d([[0], [3], [1], [2]]), tfc.tensor2d(distributions(r).map((row) => row.slice(0, 3)))), "TFC7042", /label 3 .* out of range \[0, 3\)/);
});
