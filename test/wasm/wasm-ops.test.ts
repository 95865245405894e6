// Every op of the registry and every example, compiled to WebAssembly (kernel IR → binaryen,
// SIMD128), equals the reference interpreter: the same sample cases as the native target, at
// batch 1, 3 and 64, run through the generated model.js imported by Node.
// Tolerances: exact for integer, bool and data-movement results; 1e-6 relative for elementwise
// float math (wasm has no fused multiply-add: a·b+c rounds twice); 1e-4 relative for ops that sum
// many terms in another order (matmul, convolutions, average pooling, reductions, softmax).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { spawnSync } from "node:child_process";
import { Module } from "../../ir/ir.js";
import { FuncBuilder } from "../../ir/builder.js";
import { interpret, initialParams } from "../../ir/interpreter.js";
import { hostTensor } from "../../ir/tensor.js";
import { Rng } from "../../ir/initializers.js";
import { BATCH } from "../../ir/types.js";
import { buildWasm } from "../../targets/wasm/index.js";
import { compile } from "../../compiler/driver.js";
import { ACCUMULATING, chunk, describeEntry, groupInputs, groupModule, runnableCases } from "../ops/groups.js";
import { assertClose, repoRoot } from "../util.js";
import { TARGET_MODELS, modelInputs } from "../models.js";

const PER_BUILD = 12;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-wasm-ops-"));

interface GeneratedModel {
  predictBatch(batch: number, ...inputs: unknown[]): unknown;
  dispose(): void;
}

async function loadGenerated(dir: string): Promise<GeneratedModel> {
  const mod = (await import(pathToFileURL(path.join(dir, "model.js")).href)) as { load(): Promise<GeneratedModel> };
  return mod.load();
}

const entries = runnableCases();

chunk(entries, PER_BUILD).forEach((group, g) => {
  test(`wasm ops, group ${g}: ${[...new Set(group.map((e) => e.op))].join(", ")}`, async () => {
    const { module, fn } = groupModule(group);
    const dir = path.join(tmp, `g${g}`);
    buildWasm(module, fn, { outDir: dir });
    const model = await loadGenerated(dir);
    try {
      const batched = fn.args.some((a) => a.type.shape.includes(BATCH));
      for (const batch of batched ? [1, 3, 64] : [1]) {
        const inputs = groupInputs(group, batch, 300 * g + batch);
        const expected = interpret(module, fn, inputs);
        const raw = model.predictBatch(batch, ...inputs.map((t) => t.data));
        const actual = (Array.isArray(raw) ? raw : [raw]) as ArrayLike<number>[];
        group.forEach((e, i) => {
          const exp = expected[i]!;
          const [rtol, atol] = exp.dtype !== "f32" ? [0, 0] : ACCUMULATING.has(e.op) ? [1e-4, 1e-5] : [1e-6, 1e-7];
          assertClose(Array.from(actual[i]!), Array.from(exp.data), rtol, atol, describeEntry(e, batch));
        });
      }
    } finally {
      model.dispose();
    }
  });
});


for (const file of TARGET_MODELS) {
  for (const embed of [false, true]) {
    test(`wasm ${file}${embed ? " with embedded weights" : ""} equals the interpreter`, async () => {
      const result = compile(path.join(repoRoot(), file));
      const fn = result.module.functions[0]!;
      const params = initialParams(result.module);
      const dir = path.join(tmp, `${path.basename(file, ".ts")}${embed ? "-embedded" : ""}`);
      const artifacts = buildWasm(result.module, fn, { outDir: dir, params, embedWeights: embed });
      if (embed) assert.equal(artifacts.weights, undefined);
      const model = await loadGenerated(dir);
      try {
        const batched = [...fn.args, ...fn.results].some((v) => v.type.shape.includes(BATCH));
        for (const batch of batched ? [1, 64] : [1]) {
          const inputs = modelInputs(file, fn, batch);
          const expected = interpret(result.module, fn, inputs, params);
          const raw = model.predictBatch(batch, ...inputs.map((t) => t.data));
          const actual = (Array.isArray(raw) ? raw : [raw]) as ArrayLike<number>[];
          expected.forEach((e, i) => assertClose(Array.from(actual[i]!), Array.from(e.data), 1e-4, 1e-6, `${file} output ${i} at batch ${batch}`));
        }
      } finally {
        model.dispose();
      }
    });
  }
}

// 16.4 KB before issue 6; the GEMM's fused epilogues, its tiles for remainder rows (4, 2, 1), its
// matrix-vector path and the row softmax template brought it to 25.7 KB (the weights: 2.6 MB).
test("the MLP's wasm module stays under 28 KB of code (weights apart)", () => {
  const result = compile(path.join(repoRoot(), "examples/mlp.ts"));
  const a = buildWasm(result.module, result.module.functions[0]!, { outDir: path.join(tmp, "size") });
  assert.ok(a.codeBytes < 28 * 1024, `code is ${a.codeBytes} bytes`);
  const manifest = JSON.parse(fs.readFileSync(a.manifest, "utf8"));
  assert.equal(manifest.size.codeBytes, a.codeBytes);
  assert.equal(manifest.size.dataBytes, 784 * 512 * 4 + 512 * 4 + 512 * 512 * 4 + 512 * 4 + 512 * 10 * 4 + 10 * 4);
});

test("i32 division edge cases (x/0, INT_MIN/-1, negative floors) agree on wasm, native and the interpreter", async () => {
  const module = new Module();
  const b = new FuncBuilder(module, "div");
  const x = b.arg("x", { dtype: "i32", shape: [8] });
  const y = b.arg("y", { dtype: "i32", shape: [8] });
  const fn = b.finish([b.op("div", [x, y])]);
  module.functions.push(fn);
  const xs = hostTensor("i32", [8], [-2147483648, 7, -7, 5, 0, -9, 2147483647, 3]);
  const ys = hostTensor("i32", [8], [-1, 0, 2, -2, 3, 4, -1, 3]);
  const [expected] = interpret(module, fn, [xs, ys]);
  assert.deepEqual(Array.from(expected!.data), [-2147483648, 0, -4, -3, 0, -3, -2147483647, 1]);
  buildWasm(module, fn, { outDir: path.join(tmp, "div-wasm") });
  const wasmModel = await loadGenerated(path.join(tmp, "div-wasm"));
  assert.deepEqual(Array.from(wasmModel.predictBatch(1, xs.data, ys.data) as Int32Array), Array.from(expected!.data));
  wasmModel.dispose();
  const { buildNative } = await import("../../targets/llvm/index.js");
  const { NativeModel } = await import("../../runtime/js/native.js");
  buildNative(module, fn, { outDir: path.join(tmp, "div-native") });
  const native = NativeModel.load(path.join(tmp, "div-native"));
  assert.deepEqual(Array.from(native.predict([xs.data, ys.data], 1)[0]!), Array.from(expected!.data));
  native.dispose();
});

test("tfc compile --target wasm writes the artifacts; a plain Node script imports out/model.js and predicts", () => {
  const root = repoRoot();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-wasm-script-"));
  const r = spawnSync(process.execPath, [path.join(root, "bin/tfc.js"), "compile", "examples/mnist-cnn.ts", "--target", "wasm", "-o", path.join(work, "out")], { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  for (const f of ["model.wasm", "model.js", "model.d.ts", "model.weights", "model.json"]) assert.ok(fs.existsSync(path.join(work, "out", f)), f);
  assert.match(r.stdout, /model\.wasm {2}[\d.]+ KiB \(code [\d.]+ KiB\)/);
  fs.mkdirSync(path.join(work, "examples/wasm"), { recursive: true });
  fs.copyFileSync(path.join(root, "examples/wasm/predict.mjs"), path.join(work, "examples/wasm/predict.mjs"));
  const run = spawnSync(process.execPath, [path.join(work, "examples/wasm/predict.mjs")], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const printed = JSON.parse(run.stdout) as { class: number; probabilities: number[] };
  const result = compile(path.join(root, "examples/mnist-cnn.ts"));
  const x = hostTensor("f32", [1, 28, 28, 1]);
  for (let row = 4; row < 24; row++) x.data[row * 28 + 14] = 1;
  const [expected] = interpret(result.module, result.module.functions[0]!, [x], initialParams(result.module));
  assertClose(printed.probabilities, Array.from(expected!.data), 1e-5, 1e-6, "predict.mjs");
  const dts = fs.readFileSync(path.join(work, "out/model.d.ts"), "utf8");
  assert.match(dts, /Float32Array/);
});

test("tfc predict --target wasm agrees with --target interp", () => {
  const root = repoRoot();
  const input = path.join(tmp, "predict-input.json");
  const rng = new Rng(5);
  fs.writeFileSync(input, JSON.stringify({ instances: Array.from({ length: 2 }, () => Array.from({ length: 784 }, () => rng.next())) }));
  const run = (target: string) => spawnSync(process.execPath, [path.join(root, "bin/tfc.js"), "predict", "examples/mlp.ts", "--input", input, "--target", target], { cwd: root, encoding: "utf8" });
  const wasm = run("wasm");
  const interp = run("interp");
  assert.equal(wasm.status, 0, wasm.stderr);
  assert.equal(interp.status, 0, interp.stderr);
  assertClose((JSON.parse(wasm.stdout).predictions as number[][]).flat(), (JSON.parse(interp.stdout).predictions as number[][]).flat(), 1e-5, 1e-6, "mlp");
});
