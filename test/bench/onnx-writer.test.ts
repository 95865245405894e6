// The benchmark's hand-written ONNX models: the protobuf encoding of a few known fields, and
// onnxruntime-node loading the models bench/onnx-export.ts writes (MLP, MNIST CNN, a strided 'same'
// CNN, SGEMM) and agreeing with tfc's interpreter. No timing here: benchmarks are not tests.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ProtoWriter, encodeModel } from "../../bench/onnx-writer.js";
import { onnxGraph } from "../../bench/onnx-export.js";
import { loadOnnxRuntime } from "../../bench/systems/onnxruntime.js";
import { ONNX_SOURCE_PIPELINE, prepareCompiled, seededUniform, writeSgemmModel, type CompiledWorkload } from "../../bench/workloads.js";
import { compile } from "../../compiler/driver.js";
import { initialParams, interpret } from "../../ir/interpreter.js";
import { hostTensor } from "../../ir/tensor.js";
import { BATCH } from "../../ir/types.js";
import { repoRoot, assertClose } from "../util.js";

const ort = await loadOnnxRuntime();
const needsOrt = "missing" in ort ? ort.missing : false;

test("protobuf fields are encoded as the wire format says", () => {
  const w = new ProtoWriter();
  w.varintField(1, 150); // the protobuf docs' example: 08 96 01
  w.varintField(2, -1); // negative int64: ten bytes of two's complement
  w.stringField(3, "hi");
  w.float32Field(4, 1);
  assert.deepEqual(
    [...w.finish()],
    [0x08, 0x96, 0x01, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x1a, 0x02, 0x68, 0x69, 0x25, 0x00, 0x00, 0x80, 0x3f],
  );
});

test("an initializer whose data does not fill its dims is refused", () => {
  const graph = {
    name: "g",
    nodes: [],
    initializers: [{ name: "w", elemType: "float" as const, dims: [2, 3], data: new Float32Array(5) }],
    inputs: [],
    outputs: [],
  };
  assert.throws(() => encodeModel(graph), /5 values for dims \[2, 3\]/);
});

test("the MNIST CNN exports in NCHW with one transpose each way, the conv bias folded into Conv", () => {
  const file = path.join(repoRoot(), "examples", "mnist-cnn.ts");
  const primitive = compile(file, { pipeline: ONNX_SOURCE_PIPELINE });
  const graph = onnxGraph(primitive.module, "predict", initialParams(primitive.module));
  assert.deepEqual(
    graph.nodes.map((n) => n.opType),
    ["Transpose", "Conv", "Relu", "MaxPool", "Transpose", "Reshape", "MatMul", "Add", "Softmax", "Identity"],
  );
  const conv = graph.nodes[1]!;
  assert.deepEqual(conv.inputs.slice(1), ["conv2d/kernel:oihw", "conv2d/bias"]);
  assert.deepEqual(graph.initializers.find((i) => i.name === "conv2d/kernel:oihw")?.dims, [32, 1, 3, 3]);
  assert.equal(graph.initializers.find((i) => i.name === "conv2d/kernel"), undefined, "the HWIO filter is not stored as well");
  assert.deepEqual(graph.inputs.map((i) => i.shape), [["batch", 28, 28, 1]]);
});

/** Run the exported model on onnxruntime and the compiled module on the interpreter; compare. */
async function assertOrtMatchesInterpreter(workload: CompiledWorkload, batch: number, what: string): Promise<void> {
  if ("missing" in ort) throw new Error(ort.missing);
  assert.ok(workload.onnx instanceof Uint8Array, `ONNX export of ${what} failed: ${"error" in workload.onnx ? workload.onnx.error : ""}`);
  const shapes = workload.inputShapes.map((s) => s.map((d) => (d === BATCH ? batch : d)));
  const inputs = shapes.map((s, i) => seededUniform(s.reduce((a, b) => a * b, 1), 40 + i, -1, 1));
  const fn = workload.compiled.module.functions[0]!;
  const [expected] = interpret(workload.compiled.module, fn, inputs.map((x, i) => hostTensor("f32", shapes[i]!, x)), workload.params);
  const session = await ort.session(workload.onnx);
  try {
    const actual = await session.run(inputs, shapes);
    assertClose(actual, expected!.data as Float32Array, 1e-4, 1e-6, what);
  } finally {
    await session.release();
  }
}

for (const name of ["mlp", "mnist-cnn"]) {
  test(`onnxruntime runs the ONNX export of examples/${name}.ts like the interpreter`, { skip: needsOrt }, async () => {
    const workload = prepareCompiled(path.join(repoRoot(), "examples", `${name}.ts`));
    for (const batch of [1, 3]) await assertOrtMatchesInterpreter(workload, batch, `${name} batch ${batch}`);
  });
}

test("'same' padding, strides, nonzero conv biases and a conv without activation translate to ONNX", { skip: needsOrt }, async () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-onnx-"));
  const file = path.join(folder, "strided.ts");
  fs.writeFileSync(
    file,
    `import * as tf from "tfc";
const model = tf.sequential();
model.add(tf.layers.conv2d({ inputShape: [9, 7, 2], filters: 4, kernelSize: [3, 2], strides: 2, padding: "same", biasInitializer: "randomUniform" }));
model.add(tf.layers.conv2d({ filters: 3, kernelSize: 2, activation: "relu", padding: "same", biasInitializer: "randomUniform" }));
model.add(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "same" }));
model.add(tf.layers.flatten());
model.add(tf.layers.dense({ units: 5, activation: "tanh", biasInitializer: "randomUniform" }));
export default model;
`,
  );
  try {
    await assertOrtMatchesInterpreter(prepareCompiled(file), 2, "strided same-padded CNN");
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});

test("the SGEMM tf.function (two inputs, no parameters) runs on onnxruntime", { skip: needsOrt }, async () => {
  const file = writeSgemmModel(24);
  try {
    await assertOrtMatchesInterpreter(prepareCompiled(file), 1, "sgemm n=24");
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});
