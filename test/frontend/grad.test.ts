// tf.grad, tf.grads, tf.valueAndGrad(s) and tf.variableGrads (the GradientTape counterparts)
// against TF.js's own gradients for the same functions, and gradients of a whole model's loss
// against central finite differences. Tolerance vs TF.js: 1e-4 relative, 1e-5 absolute (f32, the
// same math in another order); vs finite differences: 2e-2 relative, 1e-3 absolute (h = 1e-2).

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../../compiler/api/index.js";
import { assertClose } from "../util.js";

before(async () => {
  await tfjs.setBackend("cpu");
});

type Api = any;

/** Functions written once, differentiated by both APIs. */
const FUNCTIONS: Record<string, (tf: Api) => (x: any) => any> = {
  "sum of squares": (tf) => (x) => tf.sum(tf.square(x)),
  "sigmoid and tanh": (tf) => (x) => tf.mean(tf.mul(tf.sigmoid(x), tf.tanh(x))),
  "relu, exp, log": (tf) => (x) => tf.sum(tf.log(tf.add(tf.exp(tf.relu(x)), 1))),
  "softmax cross-entropy": (tf) => (x) => tf.neg(tf.sum(tf.mul(tf.tensor2d([[0, 1, 0], [1, 0, 0]]), tf.logSoftmax(x)))),
  "matMul with a constant": (tf) => (x) => tf.sum(tf.matMul(x, tf.tensor2d([[1, -2], [0.5, 3], [2, 1]]))),
  "broadcast add and max reduction": (tf) => (x) => tf.sum(tf.max(tf.add(x, tf.tensor1d([0.1, -0.2, 0.3])), 1)),
  "reshape, transpose, slice": (tf) => (x) => tf.sum(tf.mul(tf.slice(tf.transpose(tf.reshape(x, [3, 2])), [0, 1], [2, 2]), tf.tensor2d([[1, 2], [3, 4]]))),
};

for (const [name, make] of Object.entries(FUNCTIONS)) {
  test(`tf.grad: ${name} equals TF.js`, () => {
    const x = [[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]];
    const ours = tfc.grad(make(tfc))(tfc.tensor2d(x)) as tfc.Tensor;
    const theirs = tfjs.grad(make(tfjs))(tfjs.tensor2d(x)) as tfjs.Tensor;
    assert.deepEqual(ours.shape, theirs.shape);
    assertClose(Array.from(ours.dataSync()), Array.from(theirs.dataSync()), 1e-4, 1e-5, name);
  });
}

test("tf.valueAndGrads and dy follow TF.js", () => {
  const f = (tf: Api) => (a: any, b: any) => tf.mul(tf.add(a, b), b);
  const a = [1, 2, 3];
  const b = [4, -5, 6];
  const ours = tfc.valueAndGrads(f(tfc))([tfc.tensor1d(a), tfc.tensor1d(b)], tfc.tensor1d([1, 0.5, 2]));
  const theirs = tfjs.valueAndGrads(f(tfjs))([tfjs.tensor1d(a), tfjs.tensor1d(b)], tfjs.tensor1d([1, 0.5, 2]));
  assertClose(Array.from(ours.value.dataSync()), Array.from(theirs.value.dataSync()), 0, 0, "value");
  ours.grads.forEach((g, i) => assertClose(Array.from(g.dataSync()), Array.from(theirs.grads[i]!.dataSync()), 1e-6, 0, `grad ${i}`));
});

test("tf.variableGrads gives each trainable variable's gradient by name", () => {
  const w = tfc.variable(tfc.tensor2d([[1, 2], [3, 4]]), true, "w");
  const frozen = tfc.variable(tfc.tensor1d([1, 1]), false, "frozen");
  const x = tfc.tensor2d([[1, -1]]);
  const { value, grads } = tfc.variableGrads(() => tfc.sum(tfc.square(tfc.add(tfc.matMul(x, w), frozen))));
  // y = x·w + 1 = [[-1, -1]]; loss = 2; dloss/dw = xᵀ·2y = [[-2, -2], [2, 2]]
  assert.deepEqual(value.arraySync(), 2);
  assert.deepEqual(Object.keys(grads), ["w"]);
  assert.deepEqual(grads["w"]!.arraySync(), [[-2, -2], [2, 2]]);
});

test("the gradient of a Dense+conv model's loss matches finite differences", () => {
  const model = tfc.sequential();
  model.add(tfc.layers.conv2d({ inputShape: [5, 5, 2], filters: 3, kernelSize: 3, padding: "same", activation: "tanh" }));
  model.add(tfc.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfc.layers.flatten());
  model.add(tfc.layers.dense({ units: 2, activation: "softmax" }));
  const x = tfc.tensor4d(Array.from({ length: 2 * 5 * 5 * 2 }, (_, i) => Math.sin(i)), [2, 5, 5, 2]);
  const labels = tfc.tensor2d([[1, 0], [0, 1]]);
  const loss = () => tfc.neg(tfc.mean(tfc.sum(tfc.mul(labels, tfc.log(model.predict(x) as tfc.Tensor)), 1)));
  const { grads } = tfc.variableGrads(loss);
  for (const w of model.weights) {
    const g = grads[w.name]!.dataSync();
    const base = w.dataSync().slice();
    const numeric = new Float32Array(base.length);
    for (let i = 0; i < base.length; i += Math.max(1, Math.floor(base.length / 12))) {
      const h = 1e-2;
      const at = (delta: number) => {
        const v = base.slice();
        v[i] += delta;
        w.assign(tfc.tensor(v, w.shape));
        return (loss().arraySync() as number);
      };
      numeric[i] = (at(h) - at(-h)) / (2 * h);
      w.assign(tfc.tensor(base, w.shape));
      assertClose([g[i]!], [numeric[i]!], 2e-2, 1e-3, `${w.name}[${i}]`);
    }
  }
});

test("no gradient flows through integer values (argMax): zeros, as TF.js; an int result is an error", () => {
  assert.deepEqual(tfc.grad((x) => tfc.cast(tfc.argMax(x, 0), "float32"))(tfc.tensor1d([1, 2])).arraySync(), [0, 0]);
  assert.throws(() => tfc.grad((x) => tfc.cast(x, "int32"))(tfc.tensor1d([1, 2])), /cannot differentiate a i32\[2\] result/);
});

test("tf.variableGrads inside a tf.function compiles: a custom training step's loss and gradients, natively", async () => {
  const fs = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const { compile } = await import("../../compiler/driver.js");
  const { interpret, initialParams } = await import("../../ir/interpreter.js");
  const { hostTensor } = await import("../../ir/tensor.js");
  const { buildNative } = await import("../../targets/llvm/index.js");
  const { NativeModel } = await import("../../runtime/js/native.js");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-train-step-"));
  const file = path.join(dir, "step.ts");
  fs.writeFileSync(file, [
    'import * as tf from "tfc";',
    "const w = tf.variable(tf.tensor2d([[0.5, -1], [2, 0.25], [1, 1]]), true, 'w');",
    "const b = tf.variable(tf.tensor1d([0.1, -0.1]), true, 'b');",
    "export default tf.function((x: tf.Tensor, y: tf.Tensor) => {",
    "  const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y))));",
    "  return { loss: value, grad_w: grads['w']!, grad_b: grads['b']! };",
    "}, { inputSignature: [tf.tensorSpec([null, 3], 'float32', 'x'), tf.tensorSpec([null, 2], 'float32', 'y')] });",
  ].join("\n"));
  const result = compile(file, { verify: true });
  const fn = result.module.functions[0]!;
  assert.deepEqual(fn.resultNames, ["loss", "grad_w", "grad_b"]);
  const x = hostTensor("f32", [4, 3], [1, 2, 3, -1, 0.5, 2, 0, 1, -2, 3, 1, 1]);
  const y = hostTensor("f32", [4, 2], [1, 0, 0, 1, 1, 1, -1, 2]);
  const params = initialParams(result.module);
  const expected = interpret(result.module, fn, [x, y], params);
  // The same step, eagerly.
  const w = tfc.variable(tfc.tensor2d([[0.5, -1], [2, 0.25], [1, 1]]));
  const bias = tfc.variable(tfc.tensor1d([0.1, -0.1]));
  const eager = tfc.variableGrads(() => tfc.mean(tfc.square(tfc.sub(tfc.add(tfc.matMul(tfc.tensor2d([[1, 2, 3], [-1, 0.5, 2], [0, 1, -2], [3, 1, 1]]), w), bias), tfc.tensor2d([[1, 0], [0, 1], [1, 1], [-1, 2]])))), [w, bias]);
  assertClose(Array.from(expected[0]!.data), Array.from(eager.value.dataSync()), 1e-6, 1e-6, "loss");
  assertClose(Array.from(expected[1]!.data), Array.from(eager.grads[w.name]!.dataSync()), 1e-6, 1e-6, "grad w");
  assertClose(Array.from(expected[2]!.data), Array.from(eager.grads[bias.name]!.dataSync()), 1e-6, 1e-6, "grad b");
  const artifacts = buildNative(result.module, fn, { outDir: path.join(dir, "native"), params });
  const model = NativeModel.load(artifacts.dir);
  const actual = model.predict([x.data, y.data], 4);
  model.dispose();
  expected.forEach((e, i) => assertClose(Array.from(actual[i]!), Array.from(e.data), 1e-5, 1e-6, fn.resultNames[i]!));
});
