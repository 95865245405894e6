// tf.train's optimizers against TF.js 4.22's (cpu backend): the same variables, the same random
// gradients, compared after every step; minimize() against TF.js's minimize; a traced training
// step (its `@param` results, run on the interpreter with the updates fed back) against eager
// steps; checkpoints, model.compile's names and the errors for bad gradients.
// Tolerance: 1e-6 relative, 1e-7 absolute (float32, the same ops in the same order; Adam and
// Adamax take βᵗ from tf.pow of a step counter where TF.js multiplies β in each step).

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../../compiler/api/index.js";
import { train, getOptimizer, Optimizer } from "../../compiler/api/optimizers.js";
import { tfFunction, tensorSpec } from "../../compiler/api/function.js";
import { traceFunction } from "../../compiler/frontend/trace.js";
import { interpret, initialParams } from "../../ir/interpreter.js";
import { updatedParam } from "../../ir/ir.js";
import { hostTensor } from "../../ir/tensor.js";
import { TfcError } from "../../ir/errors.js";
import { assertClose } from "../util.js";

const RTOL = 1e-6;
const ATOL = 1e-7;

before(async () => {
  await tfjs.setBackend("cpu");
});

type Train = any;

/** Each optimizer and variant, written once and built from both APIs' tf.train. */
const CASES: [string, (t: Train) => any][] = [
  ["sgd", (t) => t.sgd(0.1)],
  ["momentum", (t) => t.momentum(0.1, 0.9)],
  ["momentum, Nesterov", (t) => t.momentum(0.05, 0.8, true)],
  ["adagrad", (t) => t.adagrad(0.1)],
  ["adagrad, initial accumulator 0.5", (t) => t.adagrad(0.2, 0.5)],
  ["rmsprop", (t) => t.rmsprop(0.01)],
  ["rmsprop with momentum", (t) => t.rmsprop(0.01, 0.8, 0.5)],
  ["rmsprop centered with momentum", (t) => t.rmsprop(0.02, 0.9, 0.3, 1e-6, true)],
  ["adam, defaults", (t) => t.adam()],
  ["adam, custom betas and epsilon", (t) => t.adam(0.05, 0.8, 0.95, 1e-4)],
  ["adamax, defaults", (t) => t.adamax()],
  ["adamax with decay", (t) => t.adamax(0.05, 0.85, 0.99, 1e-6, 0.1)],
  ["adadelta, defaults", (t) => t.adadelta()],
  ["adadelta, custom", (t) => t.adadelta(1, 0.9, 1e-6)],
];

const W0 = [[0.5, -1.2], [2.0, 0.3], [-0.7, 1.1]];
const B0 = [0.1, -0.4];

/** Seeded gradients with magnitudes in [0.2, 1] and random signs (no near-zero values for centered RMSProp's √). */
function gradientSource(seed: number): (n: number) => number[] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return (n) => Array.from({ length: n }, () => (next() < 0.5 ? -1 : 1) * (0.2 + 0.8 * next()));
}

let unique = 0;
/** TF.js registers variables globally by name, so every test names its own. */
const uniqueName = (base: string): string => `opt${unique++}/${base}`;

const values = (t: { dataSync(): ArrayLike<number> }): number[] => Array.from(t.dataSync());

for (const [name, make] of CASES) {
  test(`${name}: 5 steps of applyGradients equal TF.js's, and so do the config and state`, async () => {
    const wName = uniqueName("w");
    const bName = uniqueName("b");
    const tw = tfjs.variable(tfjs.tensor2d(W0), true, wName);
    const tb = tfjs.variable(tfjs.tensor1d(B0), true, bName);
    const w = tfc.variable(tfc.tensor2d(W0), true, wName);
    const b = tfc.variable(tfc.tensor1d(B0), true, bName);
    const ours: Optimizer = make(train);
    const theirs = make(tfjs.train);
    const next = gradientSource(7 + name.length);
    for (let step = 0; step < 5; step++) {
      const gw = next(6);
      const gb = next(2);
      theirs.applyGradients({ [wName]: tfjs.tensor2d(gw, [3, 2]), [bName]: tfjs.tensor1d(gb) });
      const cw = tfc.tensor2d(gw, [3, 2]);
      const cb = tfc.tensor1d(gb);
      // Each form of the argument: by variable first (so names are known), then TF.js's two forms.
      if (step === 0) ours.applyGradients(new Map([[w, cw], [b, cb]]));
      else if (step % 2 === 1) ours.applyGradients([{ name: wName, tensor: cw }, { name: bName, tensor: cb }]);
      else ours.applyGradients({ [wName]: cw, [bName]: cb });
      assertClose(values(w), values(tw), RTOL, ATOL, `${name}, step ${step + 1}, w`);
      assertClose(values(b), values(tb), RTOL, ATOL, `${name}, step ${step + 1}, b`);
    }
    assert.equal(ours.iterations, theirs.iterations);
    assert.equal(ours.getClassName(), theirs.getClassName());
    assert.deepEqual(ours.getConfig(), theirs.getConfig());
    if (ours.getClassName() === "Adamax") return; // TF.js's Adamax has no getWeights
    const mine = await ours.getWeights();
    const reference = await theirs.getWeights();
    assert.deepEqual(mine.map((x) => x.name), reference.map((x: any) => x.name));
    mine.forEach((x, i) => {
      assert.equal(x.tensor.dtype, reference[i].tensor.dtype, x.name);
      assertClose(values(x.tensor), values(reference[i].tensor), RTOL, ATOL, x.name);
    });
  });
}

const X = [[1, 2, -1], [0.5, -1, 2], [-2, 0, 1], [1, 1, 1]];
const Y = [[1, 0], [0, 1], [-1, 2], [0.5, 0.5]];
const quadratic = (tf: any, x: any, y: any, w: any, b: any) => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y)));

for (const [name, make] of CASES.filter(([n]) => ["sgd", "momentum, Nesterov", "rmsprop centered with momentum", "adam, custom betas and epsilon", "adamax with decay"].includes(n))) {
  test(`${name}: minimize on a quadratic equals TF.js's minimize, with and without varList`, () => {
    const wName = uniqueName("w");
    const bName = uniqueName("b");
    const tw = tfjs.variable(tfjs.tensor2d(W0), true, wName);
    const tb = tfjs.variable(tfjs.tensor1d(B0), true, bName);
    const w = tfc.variable(tfc.tensor2d(W0), true, wName);
    const b = tfc.variable(tfc.tensor1d(B0), true, bName);
    const ours: Optimizer = make(train);
    const theirs = make(tfjs.train);
    const [tx, ty, x, y] = [tfjs.tensor2d(X), tfjs.tensor2d(Y), tfc.tensor2d(X), tfc.tensor2d(Y)];
    for (let step = 0; step < 5; step++) {
      const expected = theirs.minimize(() => quadratic(tfjs, tx, ty, tw, tb), true);
      const actual = ours.minimize(() => quadratic(tfc, x, y, w, b), true);
      assertClose([actual!.arraySync() as number], [expected.arraySync()], RTOL, ATOL, `${name}, cost ${step + 1}`);
      assertClose(values(w), values(tw), RTOL, ATOL, `${name}, step ${step + 1}, w`);
      assertClose(values(b), values(tb), RTOL, ATOL, `${name}, step ${step + 1}, b`);
    }
    // varList: only b moves; returnCost false gives null. Fresh optimizers: TF.js keeps state by
    // position in the gradient list, so a shorter list would hand b the state of w.
    const oursB: Optimizer = make(train);
    const theirsB = make(tfjs.train);
    const wBefore = values(w);
    for (let step = 0; step < 2; step++) {
      assert.equal(oursB.minimize(() => quadratic(tfc, x, y, w, b), false, [b]), null);
      theirsB.minimize(() => quadratic(tfjs, tx, ty, tw, tb), false, [tb]);
      assert.deepEqual(values(w), wBefore);
      assertClose(values(b), values(tb), RTOL, ATOL, `${name}, varList step ${step + 1}, b`);
      assertClose(values(w), values(tw), RTOL, ATOL, `${name}, varList step ${step + 1}, w`);
    }
  });
}

/** The names `@p` of the parameters a traced step of `opt` must update, for variables w and b. */
function expectedUpdates(opt: Optimizer, slots: string[]): string[] {
  const step = ["Adam", "Adamax"].includes(opt.getClassName()) ? [`@${opt.getClassName()}/iter`] : [];
  return ["@w", "@b", ...["w", "b"].flatMap((v) => slots.map((s) => `@${v}/${s}`)), ...step].sort();
}

const SLOTS: Record<string, string[]> = {
  SGD: [],
  Momentum: ["momentum"],
  Adagrad: ["accumulator"],
  RMSProp: ["rms", "momentum"],
  Adam: ["m", "v"],
  Adamax: ["m", "v"],
  Adadelta: ["accum_grad", "accum_var"],
};

for (const [name, make] of CASES) {
  test(`${name}: a traced step returns @param for every weight and state variable, and 3 interpreted steps match eager ones`, () => {
    const next = gradientSource(99 + name.length);
    const grads = Array.from({ length: 3 }, () => ({ gw: next(6), gb: next(2) }));
    // Eagerly.
    const ew = tfc.variable(tfc.tensor2d(W0), true, "w");
    const eb = tfc.variable(tfc.tensor1d(B0), true, "b");
    const eager: Optimizer = make(train);
    const expected = grads.map(({ gw, gb }) => {
      eager.applyGradients(new Map([[ew, tfc.tensor2d(gw, [3, 2])], [eb, tfc.tensor1d(gb)]]));
      return { w: values(ew), b: values(eb) };
    });
    // Traced once, run three times with the updates written back.
    const w = tfc.variable(tfc.tensor2d(W0), true, "w");
    const b = tfc.variable(tfc.tensor1d(B0), true, "b");
    const opt: Optimizer = make(train);
    const step = tfFunction((gw: tfc.Tensor, gb: tfc.Tensor) => {
      opt.applyGradients(new Map([[w, gw], [b, gb]]));
    }, { inputSignature: [tensorSpec([3, 2]), tensorSpec([2])] });
    const module = traceFunction(step.__tfcFunction, "train_step");
    const fn = module.functions[0]!;
    const slots = [...SLOTS[opt.getClassName()]!, ...(name.includes("centered") ? ["mg"] : [])];
    assert.deepEqual([...fn.resultNames].sort(), expectedUpdates(opt, slots));
    for (const n of fn.resultNames) assert.ok(module.params.has(updatedParam(n)!), `${n} updates a module parameter`);
    assert.ok(fn.resultNames.every((n) => !module.params.get(updatedParam(n)!)!.trainable || ["@w", "@b"].includes(n)), "state variables are not trainable");
    const params = initialParams(module);
    grads.forEach(({ gw, gb }, i) => {
      const out = interpret(module, fn, [hostTensor("f32", [3, 2], gw), hostTensor("f32", [2], gb)], params);
      fn.resultNames.forEach((n, k) => params.set(updatedParam(n)!, out[k]!));
      assertClose(Array.from(params.get("w")!.data), expected[i]!.w, RTOL, ATOL, `${name}, compiled step ${i + 1}, w`);
      assertClose(Array.from(params.get("b")!.data), expected[i]!.b, RTOL, ATOL, `${name}, compiled step ${i + 1}, b`);
    });
    // Tracing records a step; it takes none.
    assert.equal(opt.iterations, 0);
    assert.deepEqual(values(w), values(tfc.tensor2d(W0)));
  });
}

for (const [name, make] of CASES.filter(([n]) => ["momentum, Nesterov", "adam, defaults"].includes(n))) {
  test(`${name}: minimize inside a traced tf.function records the loss and the updates; 3 interpreted steps match eager minimize`, () => {
    const ew = tfc.variable(tfc.tensor2d(W0), true, "w");
    const eb = tfc.variable(tfc.tensor1d(B0), true, "b");
    const eager: Optimizer = make(train);
    const expected = [0, 1, 2].map(() => {
      const loss = eager.minimize(() => quadratic(tfc, tfc.tensor2d(X), tfc.tensor2d(Y), ew, eb), true)!;
      return { loss: loss.arraySync() as number, w: values(ew), b: values(eb) };
    });
    const w = tfc.variable(tfc.tensor2d(W0), true, "w");
    const b = tfc.variable(tfc.tensor1d(B0), true, "b");
    const opt: Optimizer = make(train);
    const step = tfFunction((x: tfc.Tensor, y: tfc.Tensor) => opt.minimize(() => quadratic(tfc, x, y, w, b), true), {
      inputSignature: [tensorSpec([null, 3], "float32", "x"), tensorSpec([null, 2], "float32", "y")],
    });
    const module = traceFunction(step.__tfcFunction, "train_step");
    const fn = module.functions[0]!;
    assert.deepEqual([...fn.resultNames].sort(), ["output_0", ...expectedUpdates(opt, SLOTS[opt.getClassName()]!)].sort());
    const params = initialParams(module);
    expected.forEach((e, i) => {
      const out = interpret(module, fn, [hostTensor("f32", [4, 3], X.flat()), hostTensor("f32", [4, 2], Y.flat())], params);
      fn.resultNames.forEach((n, k) => {
        const p = updatedParam(n);
        if (p) params.set(p, out[k]!);
      });
      assertClose([out[fn.resultNames.indexOf("output_0")]!.data[0]!], [e.loss], RTOL, ATOL, `${name}, compiled step ${i + 1}, loss`);
      assertClose(Array.from(params.get("w")!.data), e.w, RTOL, ATOL, `${name}, compiled step ${i + 1}, w`);
      assertClose(Array.from(params.get("b")!.data), e.b, RTOL, ATOL, `${name}, compiled step ${i + 1}, b`);
    });
  });
}

test("getWeights/setWeights: a restored Adam continues exactly as the original (state restored before and after its variables' first update)", async () => {
  const next = gradientSource(5);
  const grads = Array.from({ length: 5 }, () => next(6));
  const w = tfc.variable(tfc.tensor2d(W0), true, "w");
  const original = train.adam(0.05);
  for (const g of grads.slice(0, 2)) original.applyGradients(new Map([[w, tfc.tensor2d(g, [3, 2])]]));
  const saved = await original.getWeights();
  assert.deepEqual(saved.map((x) => x.name), ["iter", "w/m", "w/v"]);
  assert.equal(saved[0]!.tensor.dtype, "int32");
  assert.equal(saved[0]!.tensor.arraySync(), 2);

  const copyBefore = tfc.variable(tfc.tensor(values(w), [3, 2]), true, "w");
  const restoredBefore = train.adam(0.05);
  await restoredBefore.setWeights(saved); // no state variables yet: kept until w's first update
  const copyAfter = tfc.variable(tfc.tensor(values(w), [3, 2]), true, "w");
  const restoredAfter = train.adam(0.05);
  restoredAfter.applyGradients(new Map([[copyAfter, tfc.zerosLike(copyAfter)]]));
  copyAfter.assign(tfc.tensor(values(w), [3, 2]));
  await restoredAfter.setWeights(saved); // overwrites the state variables it has
  assert.equal(restoredBefore.iterations, 2);
  for (const g of grads.slice(2)) {
    original.applyGradients(new Map([[w, tfc.tensor2d(g, [3, 2])]]));
    restoredBefore.applyGradients(new Map([[copyBefore, tfc.tensor2d(g, [3, 2])]]));
    restoredAfter.applyGradients(new Map([[copyAfter, tfc.tensor2d(g, [3, 2])]]));
    assert.deepEqual(values(copyBefore), values(w));
    assert.deepEqual(values(copyAfter), values(w));
  }
  // Snapshots: the saved weights did not move with training.
  assert.equal(saved[0]!.tensor.arraySync(), 2);
});

test("getOptimizer resolves model.compile's names with tfjs-layers' defaults, passes optimizers through", () => {
  // tfjs-layers 4.22 getOptimizer (src/optimizers.ts), its epsilon() being the backend's.
  const eps = 1e-7;
  const reference: Record<string, () => any> = {
    sgd: () => tfjs.train.sgd(0.01),
    adam: () => tfjs.train.adam(0.001, 0.9, 0.999, eps),
    adagrad: () => tfjs.train.adagrad(0.01),
    adadelta: () => tfjs.train.adadelta(1, 0.95, eps),
    adamax: () => tfjs.train.adamax(0.002, 0.9, 0.999, eps, 0),
    rmsprop: () => tfjs.train.rmsprop(0.001, 0.9, 0, eps),
  };
  const capitalized: Record<string, string> = { sgd: "SGD", adam: "Adam", adagrad: "Adagrad", adadelta: "Adadelta", adamax: "Adamax", rmsprop: "RMSProp" };
  for (const [lower, make] of Object.entries(reference)) {
    for (const name of [lower, capitalized[lower]!]) {
      const ours = getOptimizer(name);
      const theirs = make();
      assert.equal(ours.getClassName(), theirs.getClassName(), name);
      assert.deepEqual(ours.getConfig(), theirs.getConfig(), name);
    }
  }
  assert.notEqual(getOptimizer("adam"), getOptimizer("adam"), "each call makes a new optimizer");
  const given = train.momentum(0.1, 0.9);
  assert.equal(getOptimizer(given), given);
});

/** Assert `fn` throws a TfcError with this code whose message (and notes) match. */
function assertTfcError(fn: () => unknown, code: string, message: RegExp, note?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TfcError, `expected a TfcError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    if (note) assert.ok(e.notes.some((n) => note.test(n)), `no note matches ${note}: ${JSON.stringify(e.notes)}`);
    return true;
  });
}

test("errors: unknown optimizer names suggest the closest one", () => {
  assertTfcError(() => getOptimizer("adamm"), "TFC7064", /unknown optimizer 'adamm'/, /did you mean 'adam'\?/);
  assertTfcError(() => getOptimizer("momentum"), "TFC7064", /unknown optimizer 'momentum'/, /tf\.train\.momentum\(0\.01, 0\.9\)/);
  assertTfcError(() => getOptimizer(42 as never), "TFC7064", /unknown optimizer a number \(42\)/);
});

test("errors: a gradient for an unknown variable name, or of the wrong shape, dtype or kind", () => {
  const w = tfc.variable(tfc.tensor2d(W0), true, "weights");
  const opt = train.sgd(0.1);
  assertTfcError(() => opt.applyGradients({ nowhere: tfc.zeros([3, 2]) }), "TFC7060", /gradient for 'nowhere', but no variable of that name is known to this optimizer/, /pass a Map from each tf\.Variable/);
  // A live variable is found by name even before this optimizer has seen it (TF.js's registered variables).
  opt.applyGradients({ weights: tfc.zeros([3, 2]) });
  assertTfcError(() => opt.applyGradients([{ name: "weight", tensor: tfc.zeros([3, 2]) }]), "TFC7060", /'weight'/, /did you mean 'weights'\?/);
  assertTfcError(() => opt.applyGradients({ weights: tfc.zeros([2, 3]) }), "TFC7061", /the gradient for variable 'weights' is float32\[2,3\], but the variable is float32\[3,2\]/);
  assertTfcError(() => opt.applyGradients(new Map([[w, tfc.zeros([3, 2], "int32")]])), "TFC7061", /is int32\[3,2\], but the variable is float32\[3,2\]/);
  assertTfcError(() => opt.applyGradients({ weights: [[1, 2], [3, 4], [5, 6]] as never }), "TFC7062", /gradient for variable 'weights' is an array, not a tensor/);
  assertTfcError(() => opt.applyGradients(null as never), "TFC7062", /expected gradients by variable name or a Map/);
  const counter = tfc.variable(tfc.tensor1d([1, 2], "int32"), true, "counter");
  assertTfcError(() => opt.applyGradients(new Map([[counter, tfc.tensor1d([1, 1], "int32")]])), "TFC7068", /'counter' is int32\[2\]; optimizers update float32 variables/);
  // Nothing was applied by the failed calls; a null gradient is skipped as in TF.js.
  opt.applyGradients({ weights: null as never });
  assert.equal(opt.iterations, 2);
  assert.deepEqual(values(w), values(tfc.tensor2d(W0)));
});

test("errors: bad hyperparameters, minimize of a non-scalar or of no variable, setWeights names", async () => {
  assertTfcError(() => train.sgd(undefined as never), "TFC7063", /tf\.train\.sgd: learningRate must be a finite number, got undefined/);
  assertTfcError(() => train.rmsprop(0.1, Number.NaN), "TFC7063", /tf\.train\.rmsprop: decay must be a finite number/);
  assertTfcError(() => train.adam(0.1, "0.9" as never), "TFC7063", /tf\.train\.adam: beta1 must be a finite number, got a string \(0\.9\)/);
  const w = tfc.variable(tfc.tensor1d([1, 2]), true, "w");
  const frozen = tfc.variable(tfc.tensor1d([1, 2]), false, "frozen");
  const opt = train.sgd(0.1);
  assertTfcError(() => opt.minimize(() => tfc.square(w)), "TFC7066", /f\(\) must return a scalar loss, got a float32\[2\] tensor/);
  assertTfcError(() => opt.minimize(() => tfc.sum(tfc.square(frozen))), "TFC7067", /f\(\) reads no trainable variable/);
  assertTfcError(() => opt.minimize(() => tfc.sum(w), false, [frozen]), "TFC7067", /none of the 1 variable\(s\) in varList is trainable/);
  assert.deepEqual(w.arraySync(), [1, 2]);
  await assert.rejects(opt.setWeights([]), (e: unknown) => e instanceof TfcError && e.code === "TFC7065" && /iteration count \('iter'\) first/.test(e.message));
  const sgd = train.sgd(0.1);
  await assert.rejects(sgd.setWeights([{ name: "iter", tensor: tfc.scalar(1, "int32") }, { name: "w/m", tensor: tfc.zeros([2]) }]), (e: unknown) =>
    e instanceof TfcError && e.code === "TFC7065" && /'w\/m' is not a SGD optimizer weight: it keeps no state besides 'iter'/.test(e.message));
  assert.equal(sgd.iterations, 0, "a rejected setWeights changes nothing");
  const adam = train.adam();
  await adam.setWeights([{ name: "iter", tensor: tfc.scalar(1, "int32") }, { name: "w/m", tensor: tfc.zeros([3]) }]);
  assertTfcError(() => adam.applyGradients(new Map([[w, tfc.ones([2])]])), "TFC7065", /setWeights gave 'w\/m' the shape \[3\], but variable 'w' is float32\[2\]/);
});

test("computeGradients remembers the variables, so its gradients apply by name", () => {
  const wName = uniqueName("w");
  const w = tfc.variable(tfc.tensor2d(W0), true, wName);
  const tw = tfjs.variable(tfjs.tensor2d(W0), true, wName);
  const ours = train.adagrad(0.3);
  const theirs = tfjs.train.adagrad(0.3);
  const { value, grads } = ours.computeGradients(() => tfc.sum(tfc.square(w)));
  assert.deepEqual(Object.keys(grads), [wName]);
  ours.applyGradients(grads);
  const reference = theirs.computeGradients(() => tfjs.sum(tfjs.square(tw)), [tw]);
  theirs.applyGradients(reference.grads as any);
  assertClose([value.arraySync() as number], [reference.value.arraySync()], RTOL, ATOL, "value");
  assertClose(values(w), values(tw), RTOL, ATOL, "w");
});
