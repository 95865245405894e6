// fit semantics (History, validation, callbacks, earlyStopping; shuffles, evaluate and the rest are
// in fit-evaluate.test.ts): the same scenario run by TF.js (model.fit/evaluate, cpu backend) and by tfc
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
import { assertClose, isTfcError } from "../util.js";
import { RTOL, ATOL, type Dataset, dataset, type ModelSpec, CLASSIFIER, pair, xOf, yOf, weightsOf, assertSameWeights, assertSameHistory, fitBoth, sleep, recorder, sequence, type Event } from "./fit-helpers.js";

before(async () => {
  await tfjs.setBackend("cpu");
});

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
    isTfcError("TFC7087", /unknown callback hook 'onEpochFinish'.*onEpochEnd/),
  );
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 1, callbacks: [42] }), isTfcError("TFC7087", /callbacks must be objects/));
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
