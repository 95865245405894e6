// The native target end to end: `tfc compile --target llvm` writes the artifacts, the C example
// builds against model.h and prints the interpreter's predictions, `tfc predict --target llvm`
// agrees with `--target interp`, every example model runs natively at batch 1 and 64, and bad
// input at run time (lengths, batch, corrupt weights, out-of-range indices, missing tools) gives
// an error code and a message, never a crash.
// Tolerance: 1e-4 relative, 1e-6 absolute (convolutions and GEMMs sum in a different order).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { compile } from "../../compiler/driver.js";
import { interpret, initialParams } from "../../ir/interpreter.js";
import { hostTensor } from "../../ir/tensor.js";
import { Rng } from "../../ir/initializers.js";
import { BATCH, concretize } from "../../ir/types.js";
import { buildNative } from "../../targets/llvm/index.js";
import { NativeModel } from "../../runtime/js/native.js";
import { TfcError } from "../../ir/errors.js";
import { repoRoot, assertClose } from "../util.js";
import { TARGET_MODELS, modelInputs } from "../models.js";
import { emitProgram } from "../../targets/llvm/emit.js";
import { lowerFunction } from "../../passes/lower/index.js";
import { hasLLVMBindings, VERIFY_SCRIPT } from "../../targets/llvm/verify-ir.js";

const root = repoRoot();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-llvm-art-"));

function tfc(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [path.join(root, "bin/tfc.js"), ...args], { cwd: root, encoding: "utf8", env: { ...env, NO_COLOR: "1" } });
}

function randomInputs(types: { dtype: "f32" | "i32" | "bool"; shape: readonly number[] }[], batch: number, seed: number, ints = 0) {
  const rng = new Rng(seed);
  return types.map((t) => {
    const h = hostTensor(t.dtype, concretize(t.shape, batch));
    for (let i = 0; i < h.data.length; i++) h.data[i] = ints ? Math.floor(rng.next() * ints) : rng.next() * 2 - 1;
    return h;
  });
}

test("tfc compile examples/mnist-cnn.ts --target llvm writes model.h, libmodel.so/.a, weights and model.json", () => {
  const out = path.join(tmp, "cnn");
  const r = tfc(["compile", "examples/mnist-cnn.ts", "--target", "llvm", "-o", out]);
  assert.equal(r.status, 0, r.stderr);
  for (const f of ["model.h", "libmodel.so", "libmodel.a", "model.weights", "model.json", "tfc_runtime.h"]) assert.ok(fs.existsSync(path.join(out, f)), f);
  const manifest = JSON.parse(fs.readFileSync(path.join(out, "model.json"), "utf8"));
  assert.deepEqual(manifest.signature.inputs, [{ name: "conv2d_input", dtype: "float32", shape: [null, 28, 28, 1] }]);
  assert.deepEqual(manifest.signature.outputs, [{ name: "dense", dtype: "float32", shape: [null, 10] }]);
  assert.equal(manifest.target.kind, "llvm");
  assert.deepEqual(manifest.target.variants, ["avx2", "base"]);
  assert.ok(manifest.memory.arenaBytes.perBatch > 0);
  const header = fs.readFileSync(path.join(out, "model.h"), "utf8");
  assert.match(header, /int model_predict\(model_model\* m, int64_t batch, const float\* conv2d_input, int64_t conv2d_input_len, float\* dense_out, int64_t dense_out_len\);/);

  // The C example, linked statically, prints the interpreter's predictions.
  const exe = path.join(tmp, "predict");
  const cc = spawnSync("cc", ["-O2", "-Wall", "-Wextra", "-Werror", path.join(root, "examples/c/main.c"), "-I", out, path.join(out, "libmodel.a"), "-lm", "-pthread", "-o", exe], { encoding: "utf8" });
  assert.equal(cc.status, 0, cc.stderr);
  const [x] = randomInputs([{ dtype: "f32", shape: [BATCH, 28, 28, 1] }], 3, 5);
  const run = spawnSync(exe, [path.join(out, "model.weights"), "3"], { input: Array.from(x!.data).join(" "), encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const rows = run.stdout.trim().split("\n").map((l) => l.split(" | ")[0]!.split(" ").map(Number));
  const result = compile(path.join(root, "examples/mnist-cnn.ts"));
  const [expected] = interpret(result.module, result.module.functions[0]!, [x!], initialParams(result.module));
  assertClose(rows.flat(), Array.from(expected!.data), 1e-4, 1e-6, "C example");
  // A short input is reported by the model with a code, not read past.
  const short = spawnSync(exe, [path.join(out, "model.weights"), "1"], { input: "1 2 3", encoding: "utf8" });
  assert.equal(short.status, 1);
  assert.match(short.stderr, /error 2: input 'conv2d_input' has 3 elements; f32\[\?,28,28,1\] at batch 1 needs 784/);
});

test("tfc predict --target llvm agrees with --target interp", () => {
  const rng = new Rng(3);
  const input = path.join(tmp, "digits.json");
  fs.writeFileSync(input, JSON.stringify({ instances: Array.from({ length: 2 }, () => Array.from({ length: 784 }, () => rng.next())) }));
  for (const model of ["examples/mlp.ts", "examples/tensors-and-variables.ts"]) {
    const file = model.includes("mlp") ? input : path.join(tmp, "pairs.json");
    if (!model.includes("mlp")) fs.writeFileSync(file, JSON.stringify({ instances: [[1, 2], [-3, 0.5], [0, 0]] }));
    const native = tfc(["predict", model, "--input", file, "--target", "llvm"]);
    const interp = tfc(["predict", model, "--input", file, "--target", "interp"]);
    assert.equal(native.status, 0, native.stderr);
    assert.equal(interp.status, 0, interp.stderr);
    const a = (JSON.parse(native.stdout).predictions as number[][]).flat();
    const b = (JSON.parse(interp.stdout).predictions as number[][]).flat();
    assertClose(a, b, 1e-5, 1e-6, model);
  }
});


for (const file of TARGET_MODELS) {
  test(`natively compiled ${file} equals the interpreter at batch 1 and 64`, () => {
    const result = compile(path.join(root, file));
    const fn = result.module.functions[0]!;
    const params = initialParams(result.module);
    const name = path.basename(file, ".ts").replace(/\W/g, "_");
    const artifacts = buildNative(result.module, fn, { outDir: path.join(tmp, name), name, params });
    const model = NativeModel.load(artifacts.dir, name);
    try {
      const batched = [...fn.args, ...fn.results].some((v) => v.type.shape.includes(BATCH));
      for (const batch of batched ? [1, 64] : [1]) {
        const inputs = modelInputs(file, fn, batch);
        const expected = interpret(result.module, fn, inputs, params);
        const actual = model.predict(inputs.map((t) => t.data), batch);
        expected.forEach((e, i) => assertClose(Array.from(actual[i]!), Array.from(e.data), 1e-4, 1e-6, `${file} output ${i} at batch ${batch}`));
      }
    } finally {
      model.dispose();
    }
  });
}

test("run-time errors: wrong lengths, bad batch, corrupt and truncated weights, indices out of range", () => {
  const result = compile(path.join(root, "examples/mlp.ts"));
  const dir = path.join(tmp, "errors");
  buildNative(result.module, result.module.functions[0]!, { outDir: dir });
  const model = NativeModel.load(dir);
  const fails = (fn: () => unknown, code: string, message: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof TfcError && e.code === code && message.test(e.message), `expected ${code} ${message}`);
  fails(() => model.predict([new Float32Array(783)], 1), "TFC1011", /input 'dense_input' has 783 elements; f32\[\?,784\] at batch 1 needs 784/);
  fails(() => model.predict([new Float32Array(784 * 2)], 3), "TFC1011", /has 1568 elements; f32\[\?,784\] at batch 3 needs 2352/);
  fails(() => model.predict([new Float32Array(0)], 0), "TFC1013", /batch must be between 1 and \d+, got 0/);
  fails(() => model.predict([new Int32Array(784)], 1), "TFC1011", /must be a Float32Array, got Int32Array/);
  model.dispose();

  const weights = fs.readFileSync(path.join(dir, "model.weights"));
  const corrupt = Buffer.from(weights);
  corrupt[corrupt.length >> 1] ^= 0x40;
  fs.writeFileSync(path.join(dir, "corrupt.weights"), corrupt);
  fails(() => NativeModel.load(dir, "model", { weights: path.join(dir, "corrupt.weights") }), "TFC6002", /checksum mismatch/);
  fs.writeFileSync(path.join(dir, "short.weights"), weights.subarray(0, 1000));
  fails(() => NativeModel.load(dir, "model", { weights: path.join(dir, "short.weights") }), "TFC6002", /truncated/);
  fails(() => NativeModel.load(dir, "model", { weights: path.join(dir, "missing.weights") }), "TFC6002", /missing\.weights/);

  // gather with an index out of range stops with an error code instead of reading out of bounds.
  const gatherFile = path.join(tmp, "gather.ts");
  fs.writeFileSync(gatherFile, [
    'import * as tf from "tfc";',
    "const table = tf.variable(tf.tensor2d([[1, 2], [3, 4], [5, 6]]));",
    "export default tf.function((ids: tf.Tensor) => tf.gather(table, ids), { inputSignature: [tf.tensorSpec([null], \"int32\")] });",
  ].join("\n"));
  const g = compile(gatherFile);
  buildNative(g.module, g.module.functions[0]!, { outDir: path.join(tmp, "gather") });
  const gm = NativeModel.load(path.join(tmp, "gather"));
  assert.deepEqual(Array.from(gm.predict([new Int32Array([2, 0])], 2)[0]!), [5, 6, 1, 2]);
  fails(() => gm.predict([new Int32Array([1, 7])], 2), "TFC6034", /index was out of range/);
  gm.dispose();
});

test("without LLVM's tools, --target llvm says what to install", () => {
  const r = tfc(["compile", "examples/linear-regression.ts", "--target", "llvm", "-o", path.join(tmp, "notools")], { ...process.env, PATH: "/nonexistent" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error TFC6001: --target llvm needs LLVM's opt and llc \(Debian: apt-get install llvm-14\)/);
});

test("--triple aarch64-linux-gnu cross-compiles; the C example runs under qemu and matches x86-64", () => {
  const out = path.join(tmp, "arm");
  const r = tfc(["compile", "examples/mnist-cnn.ts", "--target", "llvm", "--triple", "aarch64-linux-gnu", "-o", out]);
  assert.equal(r.status, 0, r.stderr);
  const elf = fs.readFileSync(path.join(out, "libmodel.so"));
  assert.equal(elf.readUInt16LE(18), 183, "ELF machine is EM_AARCH64");
  const exe = path.join(tmp, "predict-arm");
  const cc = spawnSync("aarch64-linux-gnu-gcc", ["-O2", path.join(root, "examples/c/main.c"), "-I", out, path.join(out, "libmodel.a"), "-lm", "-pthread", "-o", exe], { encoding: "utf8" });
  assert.equal(cc.status, 0, cc.stderr || String(cc.error));
  const [x] = randomInputs([{ dtype: "f32", shape: [BATCH, 28, 28, 1] }], 2, 11);
  const run = spawnSync("qemu-aarch64-static", ["-L", "/usr/aarch64-linux-gnu", exe, path.join(out, "model.weights"), "2"], { input: Array.from(x!.data).join(" "), encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr || String(run.error));
  const rows = run.stdout.trim().split("\n").map((l) => l.split(" | ")[0]!.split(" ").map(Number));
  const result = compile(path.join(root, "examples/mnist-cnn.ts"));
  const [expected] = interpret(result.module, result.module.functions[0]!, [x!], initialParams(result.module));
  assertClose(rows.flat(), Array.from(expected!.data), 1e-4, 1e-6, "aarch64 build");
});

test("generated LLVM IR is verified by llvm-bindings (in a child process) and by opt", () => {
  const good = path.join(tmp, "good.ll");
  const result = compile(path.join(root, "examples/logistic-regression.ts"));
  fs.writeFileSync(good, emitProgram(lowerFunction(result.module, result.module.functions[0]!, { vectorWidth: 8 }), { prefix: "m" }));
  const broken = path.join(tmp, "broken.ll");
  fs.writeFileSync(broken, fs.readFileSync(good, "utf8").replace(/ret void/, "ret i32 %nothing"));
  assert.ok(hasLLVMBindings(), "llvm-bindings is installed (an optional dependency built by npm ci)");
  assert.equal(spawnSync(process.execPath, [VERIFY_SCRIPT, good]).status, 0);
  assert.notEqual(spawnSync(process.execPath, [VERIFY_SCRIPT, broken]).status, 0);
  assert.equal(spawnSync("opt", ["-verify", "-disable-output", good]).status, 0);
});

test("an op the native target cannot compile is a located error", () => {
  const file = path.join(tmp, "int-batched-matmul.ts");
  fs.writeFileSync(file, [
    'import * as tf from "tfc";',
    "export default tf.function(",
    "  (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b),",
    '  { inputSignature: [tf.tensorSpec([2, 3, 4], "int32"), tf.tensorSpec([2, 4, 5], "int32")] },',
    ");",
  ].join("\n"));
  const r = tfc(["compile", file, "--target", "llvm", "-o", path.join(tmp, "int-mm")]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /int-batched-matmul\.ts:3:38 - error TFC6010: i32 matmul is compiled for rank-2 operands only/);
});
