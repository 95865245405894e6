// fit/evaluate semantics: the same scenario run by TF.js (model.fit/evaluate, cpu backend) and by tfc
// from the same initial weights — History (keys, epochs, values, params), callbacks (order, arguments,
// awaiting), earlyStopping, shuffling, validation, initialEpoch, repeated fits, predict after fit —
// and tfc's own promises (seeded shuffles, errors with codes). Mostly on the interpreter; the
// backend-sensitive cases (weights coming back, two builds sharing parameters) also on llvm and wasm.
// Tolerances: values after training 1e-4 relative + 1e-5 absolute (float32 sums ordered differently);
// with learning rate 0 (nothing changes but the order of the sums) 1e-5 relative + 1e-6 absolute;
// llvm and wasm against the interpreter 1e-5 relative + 1e-6 absolute. Weights are drawn from a
// seeded Rng (pair), so the earlyStopping epoch counts do not depend on which tests ran before.

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../../compiler/api/index.js";
import { Rng } from "../../ir/initializers.js";
import { assertClose } from "../util.js";

before(async () => {
  await tfjs.setBackend("cpu");
  await tfc.setBackend("interp");
});

type Api = typeof tfc | typeof tfjs;
type Logs = Record<string, number>;

const RTOL = 1e-4;
const ATOL = 1e-5;

// ---------------------------------------------------------------------------------------------
// Data, models and the two sides of a scenario
// ---------------------------------------------------------------------------------------------

/** n examples of 4 features; labels one-hot over 3 classes, class indices, or 2 regression targets. */
interface Dataset {
  n: number;
  xs: number[];
  ys: number[];
  yShape: number[];
}

function dataset(n: number, kind: "onehot" | "sparse" | "regression", seed = 7): Dataset {
  const rng = new Rng(seed);
  const xs = Array.from({ length: n * 4 }, () => rng.next() * 2 - 1);
  if (kind === "regression") return { n, xs, ys: Array.from({ length: n * 2 }, () => rng.next() * 2 - 1), yShape: [n, 2] };
  const classes = Array.from({ length: n }, () => Math.floor(rng.next() * 3));
  if (kind === "sparse") return { n, xs, ys: classes, yShape: [n] };
  return { n, xs, ys: classes.flatMap((c) => [0, 1, 2].map((k) => (k === c ? 1 : 0))), yShape: [n, 3] };
}

interface ModelSpec {
  optimizer: (tf: Api) => unknown;
  loss?: string;
  metrics?: string[];
  /** Output units and activation (default: 3, softmax). */
  units?: number;
  activation?: string;
  hidden?: boolean;
}

const CLASSIFIER: ModelSpec = { optimizer: (tf) => tf.train.sgd(0.5), loss: "categoricalCrossentropy", metrics: ["accuracy"] };

function build(tf: Api, spec: ModelSpec): any {
  const t = tf as any;
  const out = { units: spec.units ?? 3, activation: spec.activation ?? "softmax" };
  const layers =
    spec.hidden === false
      ? [t.layers.dense({ ...out, inputShape: [4] })]
      : [t.layers.dense({ units: 6, inputShape: [4], activation: "tanh" }), t.layers.dense(out)];
  const model = t.sequential({ layers });
  model.compile({ optimizer: spec.optimizer(tf), loss: spec.loss ?? "categoricalCrossentropy", metrics: spec.metrics ?? [] });
  return model;
}

/** The same model twice: tfc's (mine) and TF.js's (theirs), from the same weights drawn from `seed`. */
function pair(spec: ModelSpec = CLASSIFIER, seed = 1): { mine: any; theirs: any } {
  const mine = build(tfc, spec);
  const theirs = build(tfjs, spec);
  const rng = new Rng(seed);
  mine.setWeights(mine.getWeights().map((w: tfc.Tensor) => tfc.tensor(Array.from({ length: w.size }, () => rng.next() * 1.6 - 0.8), w.shape)));
  theirs.setWeights(mine.getWeights().map((w: tfc.Tensor) => tfjs.tensor(w.dataSync() as Float32Array, w.shape)));
  return { mine, theirs };
}

const xOf = (tf: Api, d: Dataset): any => (tf as any).tensor(d.xs, [d.n, 4]);
const yOf = (tf: Api, d: Dataset): any => (tf as any).tensor(d.ys, d.yShape);

function weightsOf(model: any): Float32Array[] {
  return model.getWeights().map((w: { dataSync(): Float32Array }) => Float32Array.from(w.dataSync()));
}

function assertSameWeights(mine: any, theirs: any, what: string, rtol = RTOL, atol = ATOL): void {
  const a = weightsOf(mine);
  const b = weightsOf(theirs);
  assert.equal(a.length, b.length, `${what}: weight count`);
  a.forEach((w, i) => assertClose(w, b[i]!, rtol, atol, `${what}: weight ${i}`));
}

interface HistoryLike {
  epoch: number[];
  history: Record<string, number[]>;
  params?: Record<string, unknown>;
}

function assertSameHistory(mine: HistoryLike, theirs: HistoryLike, what: string, rtol = RTOL, atol = ATOL): void {
  assert.deepEqual(mine.epoch, theirs.epoch, `${what}: History.epoch`);
  assert.deepEqual(Object.keys(mine.history).sort(), Object.keys(theirs.history).sort(), `${what}: History keys`);
  for (const key of Object.keys(theirs.history)) assertClose(mine.history[key]!, theirs.history[key]!, rtol, atol, `${what}: History ${key}`);
}

/** fit the same data with the same arguments on both sides (callbacks built per side). */
async function fitBoth(
  models: { mine: any; theirs: any },
  d: Dataset,
  args: Record<string, unknown>,
  callbacks?: (tf: Api, model: any) => unknown,
): Promise<[HistoryLike, HistoryLike]> {
  const common = { verbose: 0, ...args };
  const h1 = await models.mine.fit(xOf(tfc, d), yOf(tfc, d), { ...common, ...(callbacks ? { callbacks: callbacks(tfc, models.mine) } : {}) });
  const h2 = await models.theirs.fit(xOf(tfjs, d), yOf(tfjs, d), { ...common, ...(callbacks ? { callbacks: callbacks(tfjs, models.theirs) } : {}) });
  return [h1, h2];
}

/** A TfcError with `code` whose message matches `message`. */
function tfcError(code: string, message?: RegExp) {
  return (e: unknown): boolean => {
    const err = e as { code?: string; message?: string };
    assert.equal(err.code, code, `error code (message: ${err.message})`);
    if (message) assert.match(err.message ?? "", message);
    return true;
  };
}

async function onBackend<T>(backend: string, fn: () => Promise<T>): Promise<T> {
  await tfc.setBackend(backend);
  try {
    return await fn();
  } finally {
    await tfc.setBackend("interp");
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

test("History without validation: keys, epoch and values match TF.js (shuffle off, smaller last batch)", async () => {
  const d = dataset(22, "onehot");
  const [h1, h2] = await fitBoth(pair(), d, { epochs: 3, batchSize: 8, shuffle: false });
  assert.deepEqual(Object.keys(h1.history).sort(), ["acc", "loss"]);
  assert.deepEqual(h1.epoch, [0, 1, 2]);
  assertSameHistory(h1, h2, "no validation");
});

test("History of a regression with metrics mse and mae matches TF.js", async () => {
  const d = dataset(22, "regression");
  const spec: ModelSpec = { optimizer: (tf) => tf.train.adam(0.05), loss: "meanSquaredError", metrics: ["mse", "mae"], units: 2, activation: "linear" };
  const [h1, h2] = await fitBoth(pair(spec), d, { epochs: 2, batchSize: 5, shuffle: false, validationSplit: 0.25 });
  assert.deepEqual(Object.keys(h1.history).sort(), ["loss", "mae", "mse", "val_loss", "val_mae", "val_mse"]);
  assertSameHistory(h1, h2, "regression");
});

test("validationSplit takes the last fraction before any shuffling, as TF.js (History values and params)", async () => {
  // floor(22 · 0.7) = 15 training examples, 7 for validation; batches 8 + 7.
  const d = dataset(22, "onehot");
  const m = pair();
  const [h1, h2] = await fitBoth(m, d, { epochs: 3, batchSize: 8, shuffle: false, validationSplit: 0.3 });
  assert.deepEqual(Object.keys(h1.history).sort(), ["acc", "loss", "val_acc", "val_loss"]);
  assertSameHistory(h1, h2, "validationSplit");
  assertSameWeights(m.mine, m.theirs, "validationSplit");
  const p1 = h1.params!;
  const p2 = h2.params!;
  for (const key of ["epochs", "initialEpoch", "samples", "batchSize", "doValidation"]) assert.deepEqual(p1[key], p2[key], `History.params.${key}`);
  assert.equal(p1["samples"], 15);
  assert.deepEqual(p1["metrics"], p2["metrics"], "History.params.metrics");
  assert.equal(p1["steps"], 2, "tfc's params.steps: batches per epoch");
});

test("validationSplit with shuffling still validates on the last fraction (learning rate 0: values match TF.js)", async () => {
  // With nothing learned, the shuffled training batches only reorder a sum, and the validation set
  // is fixed — so TF.js (Math.random shuffles) and tfc (seeded shuffles) must agree.
  const d = dataset(22, "onehot");
  const spec: ModelSpec = { ...CLASSIFIER, optimizer: (tf) => tf.train.sgd(0) };
  const [h1, h2] = await fitBoth(pair(spec), d, { epochs: 2, batchSize: 4, shuffle: true, validationSplit: 0.3 });
  assertSameHistory(h1, h2, "validationSplit with shuffle, lr 0", 1e-5, 1e-6);
});

test("validationData: History values match TF.js", async () => {
  const d = dataset(20, "onehot");
  const v = dataset(9, "onehot", 99);
  const m = pair();
  const h1 = await m.mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 3, batchSize: 6, shuffle: false, validationData: [xOf(tfc, v), yOf(tfc, v)], verbose: 0 });
  const h2 = await m.theirs.fit(xOf(tfjs, d), yOf(tfjs, d), { epochs: 3, batchSize: 6, shuffle: false, validationData: [xOf(tfjs, v), yOf(tfjs, v)], verbose: 0 });
  assertSameHistory(h1, h2, "validationData");
  assert.equal(h1.params!["samples"], 20);
  assert.equal(h1.params!["doValidation"], true);
  assertSameWeights(m.mine, m.theirs, "validationData");
});

test("validationData wins over validationSplit, as in TF.js (all examples train)", async () => {
  const d = dataset(20, "onehot");
  const v = dataset(9, "onehot", 99);
  const m = pair();
  const args = { epochs: 2, batchSize: 6, shuffle: false, validationSplit: 0.5, verbose: 0 };
  const h1 = await m.mine.fit(xOf(tfc, d), yOf(tfc, d), { ...args, validationData: [xOf(tfc, v), yOf(tfc, v)] });
  const h2 = await m.theirs.fit(xOf(tfjs, d), yOf(tfjs, d), { ...args, validationData: [xOf(tfjs, v), yOf(tfjs, v)] });
  assert.equal(h1.params!["samples"], h2.params!["samples"], "training examples");
  assertSameHistory(h1, h2, "validationData + validationSplit");
  assertSameWeights(m.mine, m.theirs, "validationData + validationSplit");
});

test("validationSplit 0 means no validation, as in TF.js", async () => {
  const d = dataset(16, "onehot");
  const [h1, h2] = await fitBoth(pair(), d, { epochs: 1, batchSize: 8, shuffle: false, validationSplit: 0 });
  assertSameHistory(h1, h2, "validationSplit 0");
});

// ---------------------------------------------------------------------------------------------
// Callbacks
// ---------------------------------------------------------------------------------------------

interface Event {
  hook: string;
  index?: number;
  logs: Logs;
}

/** A callback recording every hook with its epoch/batch and a copy of its logs at call time. */
function recorder(events: Event[], tag = ""): Record<string, (...a: any[]) => void> {
  const push = (hook: string, index: number | undefined, logs: Logs | undefined) =>
    events.push({ hook: tag + hook, ...(index === undefined ? {} : { index }), logs: { ...(logs ?? {}) } });
  return {
    onTrainBegin: (logs?: Logs) => push("trainBegin", undefined, logs),
    onEpochBegin: (epoch: number, logs?: Logs) => push("epochBegin", epoch, logs),
    onBatchBegin: (batch: number, logs?: Logs) => push("batchBegin", batch, logs),
    onBatchEnd: (batch: number, logs?: Logs) => push("batchEnd", batch, logs),
    onEpochEnd: (epoch: number, logs?: Logs) => push("epochEnd", epoch, logs),
    onTrainEnd: (logs?: Logs) => push("trainEnd", undefined, logs),
  };
}

const sequence = (events: Event[]) => events.map((e) => (e.index === undefined ? e.hook : `${e.hook} ${e.index}`));

test("callbacks: hooks run in TF.js's order with the epoch and batch indices (smaller last batch)", async () => {
  const d = dataset(22, "onehot");
  const mine: Event[] = [];
  const theirs: Event[] = [];
  await fitBoth(pair(), d, { epochs: 2, batchSize: 8, shuffle: false, validationSplit: 0.2 }, (tf) => recorder(tf === tfjs ? theirs : mine));
  // 17 training examples: batches of 8, 8, 1.
  const batches = [0, 1, 2].flatMap((b) => [`batchBegin ${b}`, `batchEnd ${b}`]);
  const expected = ["trainBegin", ...[0, 1].flatMap((e) => [`epochBegin ${e}`, ...batches, `epochEnd ${e}`]), "trainEnd"];
  assert.deepEqual(sequence(theirs), expected, "TF.js's sequence (the reference)");
  assert.deepEqual(sequence(mine), expected);
});

test("callbacks: onBatchEnd gets each batch's loss and metrics, onEpochEnd the epoch's logs, as TF.js", async () => {
  const d = dataset(22, "onehot");
  const mine: Event[] = [];
  const theirs: Event[] = [];
  await fitBoth(pair(), d, { epochs: 2, batchSize: 8, shuffle: false, validationSplit: 0.2 }, (tf) => recorder(tf === tfjs ? theirs : mine));
  assert.equal(mine.length, theirs.length);
  mine.forEach((e, i) => {
    const t = theirs[i]!;
    const what = `${t.hook} ${t.index ?? ""}`;
    if (e.hook === "batchEnd" || e.hook === "epochEnd") {
      for (const key of ["loss", "acc", ...(e.hook === "epochEnd" ? ["val_loss", "val_acc"] : [])]) {
        assert.ok(key in e.logs, `${what}: logs.${key} missing (got ${Object.keys(e.logs)})`);
        assertClose([e.logs[key]!], [t.logs[key]!], RTOL, ATOL, `${what}: logs.${key}`);
      }
    }
  });
});

test("callbacks: batch logs carry TF.js's keys (onBatchEnd: batch, size, loss, acc)", async () => {
  const d = dataset(10, "onehot");
  const mine: Event[] = [];
  const theirs: Event[] = [];
  await fitBoth(pair(), d, { epochs: 1, batchSize: 8, shuffle: false }, (tf) => recorder(tf === tfjs ? theirs : mine));
  const ends = (events: Event[]) => events.filter((e) => e.hook === "batchEnd").map((e) => Object.keys(e.logs).sort());
  assert.deepEqual(ends(mine), ends(theirs));
  const sizes = (events: Event[]) => events.filter((e) => e.hook === "batchEnd").map((e) => [e.logs["batch"], e.logs["size"]]);
  assert.deepEqual(sizes(mine), sizes(theirs));
  assert.deepEqual(sizes(theirs), [[0, 8], [1, 2]]);
});

test("callbacks: an array of callbacks is called in order, hook by hook", async () => {
  const d = dataset(12, "onehot");
  const mine: Event[] = [];
  const theirs: Event[] = [];
  await fitBoth(pair(), d, { epochs: 2, batchSize: 8, shuffle: false }, (tf) => {
    const into = tf === tfjs ? theirs : mine;
    return [recorder(into, "A."), recorder(into, "B.")];
  });
  assert.deepEqual(sequence(mine), sequence(theirs));
  assert.deepEqual(sequence(mine).slice(0, 4), ["A.trainBegin", "B.trainBegin", "A.epochBegin 0", "B.epochBegin 0"]);
});

test("callbacks: async hooks are awaited before training goes on and before fit resolves", async () => {
  const d = dataset(12, "onehot");
  const { mine } = pair();
  const order: string[] = [];
  const slow = (name: string) => async (index?: unknown) => {
    const at = typeof index === "number" ? `${name} ${index}` : name;
    order.push(`${at} start`);
    await sleep(5);
    order.push(`${at} done`);
  };
  await mine.fit(xOf(tfc, d), yOf(tfc, d), {
    epochs: 2,
    batchSize: 8,
    shuffle: false,
    callbacks: { onTrainBegin: slow("trainBegin"), onEpochBegin: slow("epochBegin"), onBatchEnd: slow("batchEnd"), onEpochEnd: slow("epochEnd"), onTrainEnd: slow("trainEnd") },
  });
  // Every hook finishes before the next one starts, and the last has finished when fit resolves.
  for (let i = 0; i < order.length; i += 2) {
    assert.match(order[i]!, / start$/);
    assert.equal(order[i + 1], order[i]!.replace(/start$/, "done"), `hook ${order[i]} was not awaited: ${order.join(", ")}`);
  }
  assert.equal(order.at(-1), "trainEnd done");
  assert.equal(order.length, 2 * (1 + 2 * (1 + 2 + 1) + 1));
});

test("callbacks: the model's weights inside onEpochEnd are that epoch's, as in TF.js", async () => {
  const d = dataset(16, "onehot");
  const m = pair();
  const seen = { mine: [] as Float32Array[][], theirs: [] as Float32Array[][] };
  await fitBoth(m, d, { epochs: 2, batchSize: 8, shuffle: false }, (tf, model) => ({
    onEpochEnd: () => void (tf === tfjs ? seen.theirs : seen.mine).push(weightsOf(model)),
  }));
  assert.equal(seen.mine.length, 2);
  seen.theirs.forEach((ws, epoch) => ws.forEach((w, i) => assertClose(seen.mine[epoch]![i]!, w, RTOL, ATOL, `epoch ${epoch}: weight ${i}`)));
});

test("callbacks: model.stopTraining set in onEpochEnd ends fit after that epoch, as TF.js", async () => {
  const d = dataset(16, "onehot");
  const m = pair();
  const mine: Event[] = [];
  const theirs: Event[] = [];
  const [h1, h2] = await fitBoth(m, d, { epochs: 5, batchSize: 8, shuffle: false }, (tf, model) => [
    recorder(tf === tfjs ? theirs : mine),
    { onEpochEnd: (epoch: number) => void (epoch === 1 && (model.stopTraining = true)) },
  ]);
  assert.deepEqual(sequence(mine), sequence(theirs));
  assert.deepEqual(h1.epoch, [0, 1]);
  assertSameHistory(h1, h2, "stopTraining in onEpochEnd");
  assertSameWeights(m.mine, m.theirs, "stopTraining in onEpochEnd");
});

test("callbacks: model.stopTraining set in onBatchEnd ends the epoch after that batch, as TF.js", async () => {
  // TF.js breaks out of the batch loop, skips validation, calls onEpochEnd with the batches run so far.
  const d = dataset(24, "onehot");
  const m = pair();
  const mine: Event[] = [];
  const theirs: Event[] = [];
  const [h1, h2] = await fitBoth(m, d, { epochs: 3, batchSize: 6, shuffle: false }, (tf, model) => [
    recorder(tf === tfjs ? theirs : mine),
    { onBatchEnd: (batch: number) => void (batch === 1 && (model.stopTraining = true)) },
  ]);
  assert.deepEqual(sequence(theirs), ["trainBegin", "epochBegin 0", "batchBegin 0", "batchEnd 0", "batchBegin 1", "batchEnd 1", "epochEnd 0", "trainEnd"]);
  assert.deepEqual(sequence(mine), sequence(theirs));
  assertSameHistory(h1, h2, "stopTraining in onBatchEnd");
  assertSameWeights(m.mine, m.theirs, "stopTraining in onBatchEnd");
});

test("callbacks: a tf.Callback subclass gets the model and can stop training", async () => {
  const d = dataset(16, "onehot");
  const { mine } = pair();
  class StopAtTwo extends tfc.Callback {
    ends: number[] = [];
    async onEpochEnd(epoch: number): Promise<void> {
      this.ends.push(epoch);
      if (epoch === 2 && this.model) this.model.stopTraining = true;
    }
  }
  const cb = new StopAtTwo();
  const h = await mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 6, batchSize: 8, callbacks: [cb] });
  assert.equal(cb.model, mine);
  assert.deepEqual(cb.ends, [0, 1, 2]);
  assert.deepEqual(h.epoch, [0, 1, 2]);
});

test("callbacks: a hook that throws rejects fit with its error; the weights trained so far are kept, as TF.js", async () => {
  const d = dataset(16, "onehot");
  const m = pair();
  const boom = new Error("boom at epoch 1");
  const cbs = () => ({ onEpochEnd: (epoch: number) => { if (epoch === 1) throw boom; } });
  await assert.rejects(m.mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 4, batchSize: 8, shuffle: false, callbacks: cbs() }), (e) => e === boom);
  await assert.rejects(m.theirs.fit(xOf(tfjs, d), yOf(tfjs, d), { epochs: 4, batchSize: 8, shuffle: false, verbose: 0, callbacks: cbs() }), (e) => e === boom);
  assertSameWeights(m.mine, m.theirs, "after a throwing hook");
});

test("callbacks: an unknown hook name is an error (TFC7087) naming it and the known hooks", async () => {
  const d = dataset(8, "onehot");
  const { mine } = pair();
  await assert.rejects(
    mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 1, callbacks: { onEpochEnd: () => {}, onEpochFinish: () => {} } }),
    tfcError("TFC7087", /unknown callback hook 'onEpochFinish'.*onEpochEnd/),
  );
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 1, callbacks: [42] }), tfcError("TFC7087", /callbacks must be objects/));
});

// ---------------------------------------------------------------------------------------------
// tf.callbacks.earlyStopping: the epochs run are TF.js's
// ---------------------------------------------------------------------------------------------

interface StopCase {
  spec: ModelSpec;
  data: Dataset;
  fit: Record<string, unknown>;
  stop: Record<string, unknown>;
  /** Epochs TF.js runs (checked, so a case that stops meaning what it says fails loudly). */
  epochs: number;
}

const FLAT: ModelSpec = { ...CLASSIFIER, optimizer: (tf) => tf.train.sgd(0) };
const LEARNING: ModelSpec = { ...CLASSIFIER, optimizer: (tf) => tf.train.sgd(0.5) };
const DIVERGING: ModelSpec = { optimizer: (tf) => tf.train.sgd(5), loss: "meanSquaredError", units: 2, activation: "linear", hidden: false };

const STOP_CASES: Record<string, StopCase> = {
  "val_loss (default monitor), flat loss, patience 0": { spec: FLAT, data: dataset(20, "onehot"), fit: { validationSplit: 0.25 }, stop: {}, epochs: 2 },
  "val_loss, flat loss, patience 2": { spec: FLAT, data: dataset(20, "onehot"), fit: { validationSplit: 0.25 }, stop: { patience: 2 }, epochs: 3 },
  "loss, diverging learning rate, patience 1": { spec: DIVERGING, data: dataset(20, "regression"), fit: {}, stop: { monitor: "loss", patience: 1 }, epochs: 2 },
  "loss, learning: never stops": { spec: LEARNING, data: dataset(20, "onehot"), fit: {}, stop: { monitor: "loss" }, epochs: 6 },
  "acc (auto: max), flat accuracy, patience 1": { spec: FLAT, data: dataset(20, "onehot"), fit: {}, stop: { monitor: "acc", patience: 1 }, epochs: 2 },
  "loss with mode max stops as soon as the loss falls": { spec: LEARNING, data: dataset(20, "onehot"), fit: {}, stop: { monitor: "loss", mode: "max" }, epochs: 2 },
  "loss with minDelta larger than any improvement": { spec: LEARNING, data: dataset(20, "onehot"), fit: {}, stop: { monitor: "loss", minDelta: 10, patience: 1 }, epochs: 2 },
  "loss with a tiny minDelta keeps going": { spec: LEARNING, data: dataset(20, "onehot"), fit: {}, stop: { monitor: "loss", minDelta: 1e-6, patience: 1 }, epochs: 6 },
  "loss with a baseline never reached": { spec: FLAT, data: dataset(20, "onehot"), fit: {}, stop: { monitor: "loss", baseline: 0.01 }, epochs: 1 },
  "loss with a baseline passed at once": { spec: FLAT, data: dataset(20, "onehot"), fit: {}, stop: { monitor: "loss", baseline: 100, patience: 2 }, epochs: 3 },
  "val_acc (auto: max), flat, patience 1": { spec: FLAT, data: dataset(20, "onehot"), fit: { validationSplit: 0.4 }, stop: { monitor: "val_acc", patience: 1 }, epochs: 2 },
  "acc (auto: max) stops once the accuracy stops rising": { spec: LEARNING, data: dataset(20, "onehot"), fit: {}, stop: { monitor: "acc" }, epochs: 4 },
  "acc with mode min stops as soon as the accuracy rises": { spec: LEARNING, data: dataset(20, "onehot"), fit: {}, stop: { monitor: "acc", mode: "min" }, epochs: 2 },
  "loss with minDelta between improvements": { spec: LEARNING, data: dataset(20, "onehot"), fit: {}, stop: { monitor: "loss", minDelta: 0.06 }, epochs: 4 },
};

for (const [name, c] of Object.entries(STOP_CASES)) {
  test(`earlyStopping: ${name} — the same epochs as TF.js`, async () => {
    const m = pair(c.spec);
    const [h1, h2] = await fitBoth(m, c.data, { epochs: 6, batchSize: 8, shuffle: false, ...c.fit }, (tf) => (tf as any).callbacks.earlyStopping(c.stop));
    assert.equal(h2.epoch.length, c.epochs, `TF.js ran ${h2.epoch.length} epochs: ${JSON.stringify(h2.history)}`);
    assert.deepEqual(h1.epoch, h2.epoch);
    assertSameHistory(h1, h2, name);
  });
}

test("earlyStopping: a monitor missing from the logs warns (TFC7088) and never stops, as TF.js", async () => {
  const m = pair(LEARNING);
  const d = dataset(16, "onehot");
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on("warning", onWarning);
  const warn = console.warn;
  console.warn = () => {};
  try {
    const [h1, h2] = await fitBoth(m, d, { epochs: 3, batchSize: 8, shuffle: false }, (tf) => (tf as any).callbacks.earlyStopping({ monitor: "val_loss" }));
    assert.deepEqual(h2.epoch, [0, 1, 2]);
    assert.deepEqual(h1.epoch, h2.epoch);
    await sleep(0); // process warnings are emitted on the next tick
  } finally {
    console.warn = warn;
    process.off("warning", onWarning);
  }
  assert.ok(warnings.some((w) => /TFC7088: earlyStopping monitors 'val_loss', which is not among the logs \(loss, acc\)/.test(w)), `warnings: ${warnings.join(" | ")}`);
});

test("earlyStopping: stoppedEpoch is the epoch training stopped at, as TF.js", async () => {
  const m = pair(FLAT);
  const d = dataset(16, "onehot");
  const mine = tfc.callbacks.earlyStopping({ monitor: "loss", patience: 2 });
  const theirs = tfjs.callbacks.earlyStopping({ monitor: "loss", patience: 2 });
  await m.mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 10, batchSize: 8, shuffle: false, callbacks: mine });
  await m.theirs.fit(xOf(tfjs, d), yOf(tfjs, d), { epochs: 10, batchSize: 8, shuffle: false, callbacks: theirs, verbose: 0 });
  assert.equal(mine.stoppedEpoch, (theirs as any).stoppedEpoch);
  assert.equal(mine.stoppedEpoch, 2);
});

test("earlyStopping: the same callback object restarts its count in the next fit", async () => {
  const m = pair(FLAT);
  const d = dataset(16, "onehot");
  const stop = tfc.callbacks.earlyStopping({ monitor: "loss", patience: 1 });
  const a = await m.mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 10, batchSize: 8, shuffle: false, callbacks: stop });
  const b = await m.mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 10, batchSize: 8, shuffle: false, callbacks: stop });
  assert.deepEqual(a.epoch, [0, 1]);
  assert.deepEqual(b.epoch, [0, 1]);
});

// ---------------------------------------------------------------------------------------------
// Shuffling
// ---------------------------------------------------------------------------------------------

test("shuffle: the same seed gives identical History and weights; other seeds and shuffle:false differ", async () => {
  const d = dataset(22, "onehot");
  const initial = pair().mine.getWeights();
  const run = async (args: Record<string, unknown>) => {
    const model = build(tfc, CLASSIFIER);
    model.setWeights(initial);
    const h = await model.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 3, batchSize: 4, ...args });
    return { loss: h.history.loss as number[], weights: weightsOf(model) };
  };
  const a = await run({ seed: 11 });
  const b = await run({ seed: 11 });
  const c = await run({ seed: 12 });
  const plain = await run({ shuffle: false });
  assert.deepEqual(a.loss, b.loss);
  a.weights.forEach((w, i) => assert.deepEqual(w, b.weights[i], `weight ${i}`));
  assert.notDeepEqual(a.loss, c.loss, "seeds 11 and 12 gave the same losses");
  assert.notDeepEqual(a.loss, plain.loss, "the shuffled run equals the unshuffled one");
  // No seed: seed 0.
  const unseeded = await run({});
  const zero = await run({ seed: 0 });
  assert.deepEqual(unseeded.loss, zero.loss);
});

test("shuffle: with learning rate 0 each epoch's mean loss is model.evaluate on the training data, for any seed", async () => {
  // A shuffle that dropped or repeated an example would change the mean.
  const d = dataset(23, "onehot");
  const model = build(tfc, { ...CLASSIFIER, optimizer: (tf) => tf.train.sgd(0) });
  const [loss, acc] = (await model.evaluate(xOf(tfc, d), yOf(tfc, d), { batchSize: 5 })) as tfc.Tensor[];
  for (const seed of [0, 1, 2, 3]) {
    const h = await model.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 3, batchSize: 5, seed });
    assertClose(h.history.loss!, [0, 1, 2].map(() => loss!.dataSync()[0]!), 1e-5, 1e-6, `seed ${seed}: loss`);
    assertClose(h.history.acc!, [0, 1, 2].map(() => acc!.dataSync()[0]!), 1e-5, 1e-6, `seed ${seed}: acc`);
  }
});

test("shuffle: with learning rate 0, shuffled epochs match TF.js's shuffled epochs", async () => {
  const d = dataset(23, "sparse");
  const spec: ModelSpec = { optimizer: (tf) => tf.train.sgd(0), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] };
  const [h1, h2] = await fitBoth(pair(spec), d, { epochs: 2, batchSize: 5, shuffle: true });
  assertSameHistory(h1, h2, "shuffled, lr 0", 1e-5, 1e-6);
});

test("shuffle: a resumed fit (initialEpoch) shuffles as the uninterrupted one, given the same seed", async () => {
  const d = dataset(22, "onehot");
  const spec: ModelSpec = { ...CLASSIFIER, optimizer: (tf) => tf.train.adam(0.05) };
  const whole = build(tfc, spec);
  const resumed = build(tfc, spec);
  resumed.setWeights(whole.getWeights());
  const h = await whole.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 3, batchSize: 4, seed: 5 });
  const first = await resumed.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 1, batchSize: 4, seed: 5 });
  const rest = await resumed.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 3, initialEpoch: 1, batchSize: 4, seed: 5 });
  assert.deepEqual(rest.epoch, [1, 2]);
  assertClose([...first.history.loss!, ...rest.history.loss!], h.history.loss!, 1e-6, 1e-7, "losses");
  assertSameWeights(resumed, whole, "resumed vs whole", 1e-6, 1e-7);
});

// ---------------------------------------------------------------------------------------------
// evaluate
// ---------------------------------------------------------------------------------------------

test("evaluate: [loss, ...metrics] scalars match TF.js, batchSize not dividing n", async () => {
  const d = dataset(23, "onehot");
  const spec: ModelSpec = { ...CLASSIFIER, metrics: ["accuracy", "categoricalCrossentropy"] };
  const m = pair(spec);
  for (const batchSize of [5, 32, 1]) {
    const mine = (await m.mine.evaluate(xOf(tfc, d), yOf(tfc, d), { batchSize })) as tfc.Tensor[];
    const theirs = m.theirs.evaluate(xOf(tfjs, d), yOf(tfjs, d), { batchSize }) as tfjs.Tensor[];
    assert.equal(mine.length, theirs.length);
    mine.forEach((t, i) => {
      assert.deepEqual(t.shape, [], `value ${i} is a scalar`);
      assertClose(t.dataSync(), theirs[i]!.dataSync(), 1e-5, 1e-6, `batchSize ${batchSize}: value ${i}`);
    });
  }
});

test("evaluate: without metrics a single scalar loss, as TF.js; after fit it sees the trained weights", async () => {
  const d = dataset(19, "regression");
  const spec: ModelSpec = { optimizer: (tf) => tf.train.adam(0.05), loss: "meanSquaredError", units: 2, activation: "linear" };
  const m = pair(spec);
  const before = (await m.mine.evaluate(xOf(tfc, d), yOf(tfc, d), { batchSize: 4 })) as tfc.Tensor;
  assert.ok(before instanceof tfc.Tensor);
  assert.deepEqual(before.shape, []);
  assertClose(before.dataSync(), (m.theirs.evaluate(xOf(tfjs, d), yOf(tfjs, d), { batchSize: 4 }) as tfjs.Tensor).dataSync(), 1e-5, 1e-6, "before fit");
  await fitBoth(m, d, { epochs: 2, batchSize: 4, shuffle: false });
  const after = (await m.mine.evaluate(xOf(tfc, d), yOf(tfc, d), { batchSize: 4 })) as tfc.Tensor;
  assertClose(after.dataSync(), (m.theirs.evaluate(xOf(tfjs, d), yOf(tfjs, d), { batchSize: 4 }) as tfjs.Tensor).dataSync(), RTOL, ATOL, "after fit");
  assert.ok(after.dataSync()[0]! < before.dataSync()[0]!, "training lowered the loss");
});

test("evaluate: sparse labels match TF.js", async () => {
  const d = dataset(13, "sparse");
  const m = pair({ optimizer: (tf) => tf.train.sgd(0.1), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  const mine = (await m.mine.evaluate(xOf(tfc, d), yOf(tfc, d), { batchSize: 4 })) as tfc.Tensor[];
  const theirs = m.theirs.evaluate(xOf(tfjs, d), yOf(tfjs, d), { batchSize: 4 }) as tfjs.Tensor[];
  mine.forEach((t, i) => assertClose(t.dataSync(), theirs[i]!.dataSync(), 1e-5, 1e-6, `value ${i}`));
});

// ---------------------------------------------------------------------------------------------
// initialEpoch
// ---------------------------------------------------------------------------------------------

test("initialEpoch: runs epochs - initialEpoch epochs, numbered as TF.js (History and callbacks)", async () => {
  const d = dataset(16, "onehot");
  const m = pair();
  const mine: Event[] = [];
  const theirs: Event[] = [];
  const [h1, h2] = await fitBoth(m, d, { epochs: 5, initialEpoch: 2, batchSize: 8, shuffle: false }, (tf) => recorder(tf === tfjs ? theirs : mine));
  assert.deepEqual(h2.epoch, [2, 3, 4]);
  assertSameHistory(h1, h2, "initialEpoch");
  assert.deepEqual(sequence(mine), sequence(theirs));
  assert.equal(h1.params!["initialEpoch"], 2);
  assertSameWeights(m.mine, m.theirs, "initialEpoch");
});

test("initialEpoch at or past epochs trains nothing, as TF.js", async () => {
  const d = dataset(16, "onehot");
  const m = pair();
  const [h1, h2] = await fitBoth(m, d, { epochs: 2, initialEpoch: 2, batchSize: 8, shuffle: false });
  assert.deepEqual(h1.epoch, []);
  assertSameHistory(h1, h2, "nothing to run");
  assertSameWeights(m.mine, m.theirs, "nothing to run", 0, 0);
});

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

test("errors: fit and evaluate before compile (TFC7097)", async () => {
  const d = dataset(4, "onehot");
  const model = tfc.sequential({ layers: [tfc.layers.dense({ units: 3, inputShape: [4] })] });
  await assert.rejects(model.fit(xOf(tfc, d), yOf(tfc, d)), tfcError("TFC7097", /model\.compile.*before model\.fit\(\)/));
  await assert.rejects(model.evaluate(xOf(tfc, d), yOf(tfc, d)), tfcError("TFC7097", /before model\.evaluate\(\)/));
});

test("errors: labels of the wrong shape (TFC7098) name both shapes and hint at the sparse loss", async () => {
  const d = dataset(6, "sparse");
  const { mine } = pair();
  await assert.rejects(
    mine.fit(xOf(tfc, d), tfc.tensor(d.ys, [6])),
    tfcError("TFC7098", /labels of shape \[6\] do not match the model's output \[\?,3\]; for class indices use loss 'sparseCategoricalCrossentropy'/),
  );
  await assert.rejects(mine.fit(xOf(tfc, d), tfc.zeros([6, 4])), tfcError("TFC7098", /labels of shape \[6,4\] do not match the model's output \[\?,3\]$/));
  await assert.rejects(mine.fit(xOf(tfc, d), tfc.zeros([5, 3])), tfcError("TFC7098", /labels hold 5 examples but the inputs hold 6/));
  const sparse = build(tfc, { optimizer: (tf) => tf.train.sgd(0.1), loss: "sparseCategoricalCrossentropy" });
  await assert.rejects(sparse.fit(xOf(tfc, d), tfc.zeros([6, 3])), tfcError("TFC7098", /one class index per example \(\[6\] or \[6,1\]\), got labels of shape \[6,3\]/));
});

test("errors: a sparse label out of range or not whole (TFC7098) names the example and the range", async () => {
  const d = dataset(6, "sparse");
  const sparse = build(tfc, { optimizer: (tf) => tf.train.sgd(0.1), loss: "sparseCategoricalCrossentropy" });
  await assert.rejects(sparse.fit(xOf(tfc, d), tfc.tensor([0, 1, 2, 3, 1, 0])), tfcError("TFC7098", /label 3 is 3, not a class index in \[0, 3\)/));
  await assert.rejects(sparse.fit(xOf(tfc, d), tfc.tensor([0, 1, -1, 2, 1, 0])), tfcError("TFC7098", /label 2 is -1/));
  await assert.rejects(sparse.fit(xOf(tfc, d), tfc.tensor([0, 1.5, 1, 2, 1, 0])), tfcError("TFC7098", /label 1 is 1\.5/));
  await assert.rejects(
    sparse.fit(xOf(tfc, d), yOf(tfc, d), { validationData: [xOf(tfc, d), tfc.tensor([0, 1, 2, 7, 1, 0])] }),
    tfcError("TFC7098", /validationData.*label 3 is 7/),
  );
  // [n, 1] class indices are accepted.
  await sparse.fit(xOf(tfc, d), tfc.tensor(d.ys, [6, 1]), { epochs: 1 });
});

test("errors: inputs of the wrong shape (TFC1011) name the expected and given shapes", async () => {
  const d = dataset(6, "onehot");
  const { mine } = pair();
  await assert.rejects(mine.fit(tfc.zeros([6, 5]), yOf(tfc, d)), tfcError("TFC1011", /fit: input 0 must have shape \[\?,4\] with 6 examples, got \[6,5\]/));
  await assert.rejects(mine.evaluate(tfc.zeros([6, 4, 1]), yOf(tfc, d)), tfcError("TFC1011", /evaluate: input 0 must have shape \[\?,4\]/));
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { validationData: [tfc.zeros([3, 2]), tfc.zeros([3, 3])] }), tfcError("TFC1011", /validationData/));
});

test("errors: validationSplit out of range (TFC7093)", async () => {
  const d = dataset(6, "onehot");
  const { mine } = pair();
  for (const split of [1, 1.5, -0.1]) {
    await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { validationSplit: split }), tfcError("TFC7093", new RegExp(`validationSplit must be between 0 and 1, got ${split}`)));
  }
  // A split that leaves no training example.
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { validationSplit: 0.9 }), tfcError("TFC7094", /no training examples left/));
});

test("errors: epochs and batchSize must be positive whole numbers (TFC7093)", async () => {
  const d = dataset(6, "onehot");
  const { mine } = pair();
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 0 }), tfcError("TFC7093", /epochs must be a positive whole number, got 0/));
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 1.5 }), tfcError("TFC7093", /epochs .* got 1\.5/));
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { batchSize: 0 }), tfcError("TFC7093", /batchSize must be a positive whole number, got 0/));
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { batchSize: -4 }), tfcError("TFC7093", /batchSize .* got -4/));
});

test("errors: an unknown fit option (TFC3002) is named, with the known ones in a note", async () => {
  const d = dataset(6, "onehot");
  const { mine } = pair();
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { epoch: 2 }), (e: any) => {
    tfcError("TFC3002", /unknown fit option 'epoch'/)(e);
    assert.match(e.notes.join("\n"), /epochs/);
    return true;
  });
});

test("errors: TF.js fit options tfc does not support are named (TFC3010); yieldEvery is accepted", async () => {
  const d = dataset(6, "onehot");
  const { mine } = pair();
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { classWeight: { 0: 2 } }), tfcError("TFC3010", /'classWeight'/));
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { stepsPerEpoch: 2 }), tfcError("TFC3010", /'stepsPerEpoch'/));
  const h = await mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 1, yieldEvery: "never" });
  assert.deepEqual(h.epoch, [0]);
});

test("errors: earlyStopping with restoreBestWeights or a bad mode (TFC7087)", () => {
  assert.throws(() => tfc.callbacks.earlyStopping({ restoreBestWeights: true }), tfcError("TFC7087", /restoreBestWeights/));
  assert.throws(() => tfc.callbacks.earlyStopping({ mode: "maximum" as never }), tfcError("TFC7087", /mode must be 'auto', 'min' or 'max', got 'maximum'/));
});

test("errors: a failed fit leaves the model usable", async () => {
  const d = dataset(16, "onehot");
  const m = pair();
  await assert.rejects(m.mine.fit(xOf(tfc, d), tfc.zeros([16, 2])));
  await assert.rejects(m.mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 0 }));
  const [h1, h2] = await fitBoth(m, d, { epochs: 2, batchSize: 8, shuffle: false });
  assertSameHistory(h1, h2, "after failures");
  assertSameWeights(m.mine, m.theirs, "after failures");
});

// ---------------------------------------------------------------------------------------------
// Repeated fits, predict after fit, and the compiled backends
// ---------------------------------------------------------------------------------------------

const ADAM: ModelSpec = { ...CLASSIFIER, optimizer: (tf) => tf.train.adam(0.05) };

/** Train 1 + 1 epochs (on `first`, then `second`) in tfc and TF.js, and 2 at once in tfc. */
async function twoFits(first: string, second: string): Promise<void> {
  const d = dataset(22, "onehot");
  const m = pair(ADAM);
  const once = build(tfc, ADAM);
  once.setWeights(m.mine.getWeights());
  const args = { batchSize: 8, shuffle: false, verbose: 0 };
  const a1 = await onBackend<HistoryLike>(first, () => m.mine.fit(xOf(tfc, d), yOf(tfc, d), { ...args, epochs: 1 }));
  const a2 = await onBackend<HistoryLike>(second, () => m.mine.fit(xOf(tfc, d), yOf(tfc, d), { ...args, epochs: 1 }));
  const t1 = await m.theirs.fit(xOf(tfjs, d), yOf(tfjs, d), { ...args, epochs: 1 });
  const t2 = await m.theirs.fit(xOf(tfjs, d), yOf(tfjs, d), { ...args, epochs: 1 });
  const whole = await onBackend<HistoryLike>(first, () => once.fit(xOf(tfc, d), yOf(tfc, d), { ...args, epochs: 2 }));
  const what = `1 epoch on ${first} + 1 on ${second}`;
  assertClose([...a1.history.loss!, ...a2.history.loss!], [...t1.history.loss, ...t2.history.loss] as number[], RTOL, ATOL, `${what} vs TF.js: loss`);
  assertClose([...a1.history.loss!, ...a2.history.loss!], whole.history.loss!, 1e-5, 1e-6, `${what} vs 2 epochs at once: loss`);
  assertSameWeights(m.mine, m.theirs, `${what} vs TF.js`);
  assertSameWeights(m.mine, once, `${what} vs 2 epochs at once`, 1e-5, 1e-6);
}

test("a second fit continues from the trained weights and Adam's state (interp), as TF.js", () => twoFits("interp", "interp"));
test("a second fit continues from the trained weights and Adam's state (llvm), as TF.js", () => twoFits("llvm", "llvm"));
test("a second fit on another backend continues from the first one's state (interp, then wasm)", () => twoFits("interp", "wasm"));

test("setWeights between fits is what the next fit starts from (llvm)", async () => {
  const d = dataset(16, "onehot");
  const model = build(tfc, CLASSIFIER);
  const initial = model.getWeights();
  await onBackend("llvm", async () => {
    const a = await model.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 2, batchSize: 8, shuffle: false });
    model.setWeights(initial);
    const b = await model.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 2, batchSize: 8, shuffle: false });
    assert.deepEqual(b.history.loss, a.history.loss);
  });
});

for (const backend of ["interp", "llvm", "wasm"]) {
  test(`fit then predict and evaluate use the trained weights, as TF.js (${backend})`, async () => {
    const d = dataset(22, "onehot");
    const m = pair(ADAM);
    const x = xOf(tfc, d);
    const before = Float32Array.from(m.mine.predict(x).dataSync());
    await onBackend(backend, () => fitBoth(m, d, { epochs: 2, batchSize: 8, shuffle: false, validationSplit: 0.25 }));
    const after = Float32Array.from(m.mine.predict(x).dataSync());
    assert.notDeepEqual(after, before, "predict after fit gives what it gave before");
    assertClose(after, m.theirs.predict(xOf(tfjs, d)).dataSync(), RTOL, ATOL, "predict after fit");
    const mine = (await onBackend(backend, () => m.mine.evaluate(x, yOf(tfc, d), { batchSize: 7 }))) as tfc.Tensor[];
    const theirs = m.theirs.evaluate(xOf(tfjs, d), yOf(tfjs, d), { batchSize: 7 }) as tfjs.Tensor[];
    mine.forEach((t, i) => assertClose(t.dataSync(), theirs[i]!.dataSync(), RTOL, ATOL, `evaluate after fit: value ${i}`));
  });
}

test("llvm and wasm give the interpreter's History (shuffled, with validation and a smaller last batch)", async () => {
  const d = dataset(22, "onehot");
  const base = build(tfc, ADAM);
  const initial = base.getWeights();
  const run = (backend: string) =>
    onBackend(backend, async () => {
      const model = build(tfc, ADAM);
      model.setWeights(initial);
      return model.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 3, batchSize: 8, seed: 3, validationSplit: 0.2 });
    });
  const reference = await run("interp");
  for (const backend of ["llvm", "wasm"]) assertSameHistory(await run(backend), reference, backend, 1e-5, 1e-6);
});
