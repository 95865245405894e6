// fit/evaluate semantics, continued from fit.test.ts: seeded shuffles, evaluate, initialEpoch,
// repeated fits, errors and the compiled backends — each against TF.js where TF.js defines it.
// Tolerances as in fit.test.ts (1e-4 rel + 1e-5 abs after training; 1e-5 + 1e-6 with lr 0 and
// between backends).

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../../compiler/api/index.js";
import { assertClose, isTfcError } from "../util.js";
import { RTOL, ATOL, dataset, type ModelSpec, CLASSIFIER, build, pair, xOf, yOf, weightsOf, assertSameWeights, type HistoryLike, assertSameHistory, fitBoth, onBackend, recorder, sequence, type Event } from "./fit-helpers.js";

before(async () => {
  await tfjs.setBackend("cpu");
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
  await assert.rejects(model.fit(xOf(tfc, d), yOf(tfc, d)), isTfcError("TFC7097", /model\.compile.*before model\.fit\(\)/));
  await assert.rejects(model.evaluate(xOf(tfc, d), yOf(tfc, d)), isTfcError("TFC7097", /before model\.evaluate\(\)/));
});

test("errors: labels of the wrong shape (TFC7098) name both shapes and hint at the sparse loss", async () => {
  const d = dataset(6, "sparse");
  const { mine } = pair();
  await assert.rejects(
    mine.fit(xOf(tfc, d), tfc.tensor(d.ys, [6])),
    isTfcError("TFC7098", /labels of shape \[6\] do not match the model's output \[\?,3\]; for class indices use loss 'sparseCategoricalCrossentropy'/),
  );
  await assert.rejects(mine.fit(xOf(tfc, d), tfc.zeros([6, 4])), isTfcError("TFC7098", /labels of shape \[6,4\] do not match the model's output \[\?,3\]$/));
  await assert.rejects(mine.fit(xOf(tfc, d), tfc.zeros([5, 3])), isTfcError("TFC7098", /labels hold 5 examples but the inputs hold 6/));
  const sparse = build(tfc, { optimizer: (tf) => tf.train.sgd(0.1), loss: "sparseCategoricalCrossentropy" });
  await assert.rejects(sparse.fit(xOf(tfc, d), tfc.zeros([6, 3])), isTfcError("TFC7098", /one class index per example \(\[6\] or \[6,1\]\), got labels of shape \[6,3\]/));
});

test("errors: a sparse label out of range or not whole (TFC7098) names the example and the range", async () => {
  const d = dataset(6, "sparse");
  const sparse = build(tfc, { optimizer: (tf) => tf.train.sgd(0.1), loss: "sparseCategoricalCrossentropy" });
  await assert.rejects(sparse.fit(xOf(tfc, d), tfc.tensor([0, 1, 2, 3, 1, 0])), isTfcError("TFC7098", /label 3 is 3, not a class index in \[0, 3\)/));
  await assert.rejects(sparse.fit(xOf(tfc, d), tfc.tensor([0, 1, -1, 2, 1, 0])), isTfcError("TFC7098", /label 2 is -1/));
  await assert.rejects(sparse.fit(xOf(tfc, d), tfc.tensor([0, 1.5, 1, 2, 1, 0])), isTfcError("TFC7098", /label 1 is 1\.5/));
  await assert.rejects(
    sparse.fit(xOf(tfc, d), yOf(tfc, d), { validationData: [xOf(tfc, d), tfc.tensor([0, 1, 2, 7, 1, 0])] }),
    isTfcError("TFC7098", /validationData.*label 3 is 7/),
  );
  // [n, 1] class indices are accepted.
  await sparse.fit(xOf(tfc, d), tfc.tensor(d.ys, [6, 1]), { epochs: 1 });
});

test("errors: inputs of the wrong shape (TFC1011) name the expected and given shapes", async () => {
  const d = dataset(6, "onehot");
  const { mine } = pair();
  await assert.rejects(mine.fit(tfc.zeros([6, 5]), yOf(tfc, d)), isTfcError("TFC1011", /fit: input 0 must have shape \[\?,4\] with 6 examples, got \[6,5\]/));
  await assert.rejects(mine.evaluate(tfc.zeros([6, 4, 1]), yOf(tfc, d)), isTfcError("TFC1011", /evaluate: input 0 must have shape \[\?,4\]/));
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { validationData: [tfc.zeros([3, 2]), tfc.zeros([3, 3])] }), isTfcError("TFC1011", /validationData/));
});

test("errors: validationSplit out of range (TFC7093)", async () => {
  const d = dataset(6, "onehot");
  const { mine } = pair();
  for (const split of [1, 1.5, -0.1]) {
    await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { validationSplit: split }), isTfcError("TFC7093", new RegExp(`validationSplit must be between 0 and 1, got ${split}`)));
  }
  // A split that leaves no training example.
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { validationSplit: 0.9 }), isTfcError("TFC7094", /no training examples left/));
});

test("errors: epochs and batchSize must be positive whole numbers (TFC7093)", async () => {
  const d = dataset(6, "onehot");
  const { mine } = pair();
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 0 }), isTfcError("TFC7093", /epochs must be a positive whole number, got 0/));
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 1.5 }), isTfcError("TFC7093", /epochs .* got 1\.5/));
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { batchSize: 0 }), isTfcError("TFC7093", /batchSize must be a positive whole number, got 0/));
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { batchSize: -4 }), isTfcError("TFC7093", /batchSize .* got -4/));
});

test("errors: an unknown fit option (TFC3002) is named, with the known ones in a note", async () => {
  const d = dataset(6, "onehot");
  const { mine } = pair();
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { epoch: 2 }), (e: any) => {
    isTfcError("TFC3002", /unknown fit option 'epoch'/)(e);
    assert.match(e.notes.join("\n"), /epochs/);
    return true;
  });
});

test("errors: TF.js fit options tfc does not support are named (TFC3010); yieldEvery is accepted", async () => {
  const d = dataset(6, "onehot");
  const { mine } = pair();
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { classWeight: { 0: 2 } }), isTfcError("TFC3010", /'classWeight'/));
  await assert.rejects(mine.fit(xOf(tfc, d), yOf(tfc, d), { stepsPerEpoch: 2 }), isTfcError("TFC3010", /'stepsPerEpoch'/));
  const h = await mine.fit(xOf(tfc, d), yOf(tfc, d), { epochs: 1, yieldEvery: "never" });
  assert.deepEqual(h.epoch, [0]);
});

test("errors: earlyStopping with restoreBestWeights or a bad mode (TFC7087)", () => {
  assert.throws(() => tfc.callbacks.earlyStopping({ restoreBestWeights: true }), isTfcError("TFC7087", /restoreBestWeights/));
  assert.throws(() => tfc.callbacks.earlyStopping({ mode: "maximum" as never }), isTfcError("TFC7087", /mode must be 'auto', 'min' or 'max', got 'maximum'/));
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
