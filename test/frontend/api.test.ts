// The tfc API against TF.js for meaning: the same calls, in TF.js's spelling, give the same dtype,
// shape and values when run eagerly (numbers become tensors, dtypes upcast, axes default, …).
// Tolerance: 1e-5 relative, 1e-6 absolute.

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../../compiler/api/index.js";
import { assertClose } from "../util.js";

before(async () => {
  await tfjs.setBackend("cpu");
});

type AnyTensor = { dtype: string; shape: number[]; dataSync(): ArrayLike<number> };

/** Each case is written once and run against both APIs. */
const CASES: Record<string, (tf: any) => AnyTensor> = {
  "add of scalars": (tf) => tf.add(tf.scalar(5), tf.scalar(3)),
  "int tensor plus JS number becomes float32 (numbers are float32 in TF.js)": (tf) => tf.add(tf.tensor([1, 2, 3], undefined, "int32"), 2),
  "int tensor plus float tensor upcasts": (tf) => tf.add(tf.tensor([1, 2, 3], undefined, "int32"), tf.tensor([0.5, 0.5, 0.5])),
  "int32 division floors": (tf) => tf.div(tf.tensor([7, -7, 9], undefined, "int32"), tf.tensor([2, 2, 4], undefined, "int32")),
  "broadcasting rows and columns": (tf) => tf.mul(tf.tensor2d([[1], [2], [3]]), tf.tensor2d([[1, 10, 100, 1000]])),
  "chained methods": (tf) => tf.tensor2d([[1, -2], [3, -4]]).abs().sqrt().mul(2).sub(1),
  "reshape with -1": (tf) => tf.reshape(tf.tensor([1, 2, 3, 4, 5, 6]), [-1, 2]),
  "transpose default perm": (tf) => tf.transpose(tf.tensor3d([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])),
  "expandDims and squeeze": (tf) => tf.squeeze(tf.expandDims(tf.tensor([1, 2, 3]), 1)),
  "slice with partial begin and size": (tf) => tf.slice(tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), [1], [2]),
  "concat along axis 1": (tf) => tf.concat([tf.tensor2d([[1], [2]]), tf.tensor2d([[3, 4], [5, 6]])], 1),
  "oneHot": (tf) => tf.oneHot(tf.tensor1d([0, 2, 1], "int32"), 4),
  "gather on axis 1": (tf) => tf.gather(tf.tensor2d([[1, 2, 3], [4, 5, 6]]), tf.tensor1d([2, 0], "int32"), 1),
  "argMax default axis": (tf) => tf.argMax(tf.tensor2d([[1, 9, 3], [7, 5, 6]])),
  "mean over axis": (tf) => tf.mean(tf.tensor2d([[1, 2, 3], [4, 5, 6]]), 1),
  "sum keepDims": (tf) => tf.sum(tf.tensor2d([[1, 2, 3], [4, 5, 6]]), 0, true),
  "max over all axes": (tf) => tf.max(tf.tensor2d([[1, 2, 3], [4, 5, -6]])),
  "where with broadcast": (tf) => tf.where(tf.tensor1d([1, 0, 1], "bool"), tf.tensor1d([1, 2, 3]), tf.tensor1d([-1, -2, -3])),
  "cast float to int truncates": (tf) => tf.cast(tf.tensor([1.7, -1.7, 2.5]), "int32"),
  "comparison gives bool": (tf) => tf.greater(tf.tensor([1, 5, 3]), 2),
  "logical ops": (tf) => tf.logicalAnd(tf.tensor1d([1, 1, 0], "bool"), tf.logicalNot(tf.tensor1d([0, 1, 0], "bool"))),
  "matMul with transposes": (tf) => tf.matMul(tf.tensor2d([[1, 2], [3, 4], [5, 6]]), tf.tensor2d([[1, 0, 2], [0, 1, 3]]), true, true),
  "dot of vector and matrix": (tf) => tf.dot(tf.tensor1d([1, 2]), tf.tensor2d([[1, 2, 3], [4, 5, 6]])),
  "softmax and logSoftmax": (tf) => tf.add(tf.softmax(tf.tensor2d([[1, 2, 3], [1, 1, 1]])), tf.logSoftmax(tf.tensor2d([[1, 2, 3], [0, 0, 9]]))),
  "leakyRelu default alpha": (tf) => tf.leakyRelu(tf.tensor([-2, -0.5, 0, 3])),
  "pad with constant": (tf) => tf.pad(tf.tensor2d([[1, 2], [3, 4]]), [[1, 0], [0, 2]], 7),
  "conv2d same padding, stride 2": (tf) =>
    tf.conv2d(tf.tensor4d(Array.from({ length: 50 }, (_, i) => (i % 7) - 3), [1, 5, 5, 2]), tf.tensor4d(Array.from({ length: 36 }, (_, i) => (i % 5) - 2), [3, 3, 2, 2]), 2, "same"),
  "maxPool and avgPool": (tf) => {
    const x = tf.tensor4d(Array.from({ length: 32 }, (_, i) => Math.sin(i)), [1, 4, 4, 2]);
    return tf.add(tf.maxPool(x, 2, 2, "valid"), tf.avgPool(x, 2, 2, "valid"));
  },
  "batchNorm": (tf) => tf.batchNorm(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor1d([1, 1]), tf.tensor1d([4, 0.25]), tf.tensor1d([0, 1]), tf.tensor1d([2, 2]), 0.001),
  "oneHot as float32": (tf) => tf.oneHot(tf.tensor1d([3, 0], "int32"), 4, 5, -1, "float32"),
  "zerosLike and onesLike": (tf) => tf.add(tf.zerosLike(tf.tensor([1, 2])), tf.onesLike(tf.tensor([1, 2]))),
  "fill": (tf) => tf.fill([2, 2], 3.5),
};

for (const [name, make] of Object.entries(CASES)) {
  test(`api: ${name}`, () => {
    const ours = make(tfc);
    const theirs = make(tfjs);
    assert.equal(ours.dtype, theirs.dtype, "dtype");
    assert.deepEqual(ours.shape, theirs.shape, "shape");
    assertClose(Array.from(ours.dataSync()), Array.from(theirs.dataSync()), 1e-5, 1e-6, name);
  });
}

test("eager mode: executingEagerly, variables, assign", () => {
  assert.equal(tfc.executingEagerly(), true);
  const v = tfc.variable(tfc.tensor([1, 2, 3]), true, "v");
  assert.deepEqual(v.arraySync(), [1, 2, 3]);
  v.assign(tfc.tensor([4, 5, 6]));
  assert.deepEqual(tfc.mul(v, 2).arraySync(), [8, 10, 12]);
  assert.throws(() => v.assign(tfc.tensor([1, 2])), /TFC2012|cannot assign f32\[2\] to variable 'v' of type f32\[3\]/);
});

test("a tf.function called directly runs eagerly; traced, it reads executingEagerly() as false", () => {
  let seen: boolean | undefined;
  const f = tfc.function((x: tfc.Tensor) => {
    seen = tfc.executingEagerly();
    return tfc.relu(x);
  });
  assert.deepEqual(f(tfc.tensor([-1, 2])).arraySync(), [0, 2]);
  assert.equal(seen, true);
});

test("sequential model predicts eagerly, checking the input shape", () => {
  const model = tfc.sequential({ layers: [tfc.layers.dense({ units: 2, inputShape: [3], kernelInitializer: "ones", biasInitializer: "ones" })] });
  assert.deepEqual(model.predict(tfc.tensor2d([[1, 2, 3]])).arraySync(), [[7, 7]]);
  assert.throws(() => model.predict(tfc.tensor2d([[1, 2]])), /must have shape \[\?,3\], got \[1,2\]/);
  assert.equal(model.countParams(), 8);
});

test("random tensors are seeded: same seed, same values; summary statistics are right", () => {
  const a = Array.from(tfc.randomNormal([2000], 3, 2, "float32", 42).dataSync());
  const b = Array.from(tfc.randomNormal([2000], 3, 2, "float32", 42).dataSync());
  assert.deepEqual(a, b);
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  const sd = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
  assert.ok(Math.abs(mean - 3) < 0.15 && Math.abs(sd - 2) < 0.15, `mean ${mean}, sd ${sd}`);
  const u = tfc.randomUniform([1000], -1, 1, "float32", 1).dataSync();
  assert.ok(u.every((x) => x >= -1 && x < 1));
});

test("the `weights` option of a layer config sets its initial weights, which the compiled IR carries", () => {
  const layer = tfc.layers.dense({ units: 2, inputShape: [2], weights: [tfc.tensor2d([[1, 2], [3, 4]]), tfc.tensor1d([10, 20])] });
  const model = tfc.sequential({ layers: [layer] });
  assert.deepEqual(model.predict(tfc.tensor2d([[1, 1]])).arraySync(), [[14, 26]]);
  assert.deepEqual(layer.getWeights().map((w) => w.arraySync()), [[[1, 2], [3, 4]], [10, 20]]);
  assert.throws(() => tfc.sequential({ layers: [tfc.layers.dense({ units: 2, inputShape: [2], weights: [tfc.tensor1d([1])] })] }), /TFC2013|has 2 weights, 1 were given/);
});
