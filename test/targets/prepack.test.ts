// Prepacked weights (the `layout` part of the performance work): a GEMM whose B is a parameter the
// function never updates reads B's panels from a `packed` buffer that the program's prepare
// launches fill once — before the first call, and again after a parameter is overwritten. Checked
// here: which products are prepacked (weights of inference and eval functions, never the weights a
// training step updates); that per-call packing scratch leaves the arena; and, on the native and
// WebAssembly targets, that predictions equal the interpreter before and after the weights are
// overwritten (a stale packed copy would keep the old weights' answers).
// Tolerance: 1e-4 relative, 1e-5 absolute (GEMM sums in a different order than the interpreter).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { compile } from "../../compiler/driver.js";
import { loadModelFile } from "../../compiler/frontend/load.js";
import { buildTrainingProgram } from "../../compiler/train/step.js";
import { LayersModel } from "../../compiler/api/models.js";
import { interpret, initialParams, type ParamValues } from "../../ir/interpreter.js";
import { hostTensor } from "../../ir/tensor.js";
import { Rng } from "../../ir/initializers.js";
import type { KProgram } from "../../ir/kernel/kir.js";
import type { Func, Module } from "../../ir/ir.js";
import { lowerFunction } from "../../passes/lower/index.js";
import { buildNative } from "../../targets/llvm/index.js";
import { buildWasm } from "../../targets/wasm/index.js";
import { NativeModel } from "../../runtime/js/native.js";
import { assertClose, repoRoot } from "../util.js";
import { modelInputs } from "../models.js";
import { parseModule } from "../../ir/parser.js";
import { runPipeline } from "../../passes/manager.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-prepack-"));
const MODELS = ["examples/mlp.ts", "examples/mnist-cnn.ts"];
/**
 * Packed weights at 8 lanes: GEMM panels of mlp's two 512-wide dense kernels and of the CNN's conv
 * filter, and each model's 10-column classifier kernel transposed for the dot-product kernel.
 */
const PACKED_WEIGHTS: Record<string, number> = { "examples/mlp.ts": 3, "examples/mnist-cnn.ts": 2 };

const packed = (p: KProgram) => p.buffers.filter((b) => b.role === "packed");

/** Fresh random values for every parameter (seeded), the same shapes and dtypes. */
function otherParams(params: ParamValues, seed: number): ParamValues {
  const rng = new Rng(seed);
  const out: ParamValues = new Map();
  for (const [name, t] of params) {
    const h = hostTensor(t.dtype, t.shape);
    for (let i = 0; i < h.data.length; i++) h.data[i] = t.dtype === "f32" ? rng.next() * 0.2 - 0.1 : t.data[i]!;
    out.set(name, h);
  }
  return out;
}

test("inference weights are packed once by prepare launches; the per-call packing scratch leaves the arena", () => {
  for (const file of MODELS) {
    const { module } = compile(path.join(repoRoot(), file));
    const fn = module.functions[0]!;
    const program = lowerFunction(module, fn, { vectorWidth: 8 });
    const unpacked = lowerFunction(module, fn, { vectorWidth: 8, prepack: false });
    assert.equal(packed(program).length, PACKED_WEIGHTS[file], `${file}: packed weights`);
    assert.equal(program.prepare.length, packed(program).length, `${file}: one prepare launch per packed weight`);
    for (const l of program.prepare) assert.equal(l.buffers[0]!.role, "param", `${file}: ${l.kernel.name} packs a parameter`);
    assert.equal(packed(unpacked).length, 0);
    assert.equal(program.launches.length, unpacked.launches.length, `${file}: the same kernels run per call`);
    // No per-call launch packs any more: no GEMM takes a writable packing scratch.
    const scratch = (p: KProgram) => p.launches.flatMap((l) => l.buffers.filter((b) => b.role === "temp" && b.name.endsWith("_bpack")));
    assert.ok(scratch(unpacked).length > 0, `${file}: without prepacking some GEMM packs per call`);
    assert.equal(scratch(program).length, 0, `${file}: prepacked GEMMs need no packing scratch`);
    const at64 = (p: KProgram) => p.arenaBytes.constant + 64 * p.arenaBytes.perBatch;
    assert.ok(at64(program) < at64(unpacked), `${file}: arena ${at64(program)} < ${at64(unpacked)} bytes at batch 64`);
  }
});

test("a training step never prepacks the weights it updates; its eval step packs them", () => {
  const file = path.join(repoRoot(), "examples/mnist-mlp.ts");
  const model = loadModelFile(file).exports["default"];
  assert.ok(model instanceof LayersModel && model.trainingConfig);
  const program = buildTrainingProgram(model, model.trainingConfig!);
  const train = lowerFunction(program.module, program.train, { vectorWidth: 8 });
  const updated = new Set(program.train.resultNames.filter((n) => n.startsWith("@")).map((n) => n.slice(1)));
  assert.ok(updated.size > 0);
  for (const l of train.prepare) assert.ok(!updated.has(String(l.buffers[0]!.ref)), `train_step packs ${String(l.buffers[0]!.ref)}, which it updates`);
  assert.equal(packed(train).length, 0, "every GEMM weight of the MLP's step is trained");
  const evaluation = lowerFunction(program.module, program.eval, { vectorWidth: 8 });
  assert.ok(packed(evaluation).length >= 2, "eval_step packs its weights");
});

/** A compiled model under test: predict at a batch, overwrite a parameter. */
interface Compiled {
  predict(inputs: readonly (Float32Array | Int32Array | Uint8Array)[], batch: number): ArrayLike<number>;
  write(name: string, data: Float32Array | Int32Array | Uint8Array): void;
}

/**
 * Predictions equal the interpreter's with the initial weights, after every weight is overwritten,
 * and after one weight alone is overwritten again (the next call must repack it too).
 */
function checkOverwrites(file: string, module: Module, fn: Func, params: ParamValues, m: Compiled, seed: number): void {
  const name = path.basename(file, ".ts");
  const check = (values: ParamValues, batch: number, what: string) => {
    const inputs = modelInputs(file, fn, batch);
    const [expected] = interpret(module, fn, inputs, values);
    assertClose(Array.from(m.predict(inputs.map((t) => t.data), batch)), Array.from(expected!.data), 1e-4, 1e-5, `${name} ${what} at batch ${batch}`);
  };
  for (const batch of [1, 64]) check(params, batch, "initial weights");
  const next = otherParams(params, seed);
  for (const [p, t] of next) m.write(p, t.data);
  for (const batch of [64, 1]) check(next, batch, "overwritten weights");
  const [first] = [...next.keys()].filter((p) => p.endsWith("kernel"));
  const one = new Map(next);
  one.set(first!, otherParams(new Map([[first!, next.get(first!)!]]), seed + 1).get(first!)!);
  m.write(first!, one.get(first!)!.data);
  check(one, 64, `after overwriting ${first} alone`);
}

/** A model file's predict function, compiled, with its initial parameters. */
function compiled(file: string): { module: Module; fn: Func; params: ParamValues } {
  const { module } = compile(path.join(repoRoot(), file));
  return { module, fn: module.functions[0]!, params: initialParams(module) };
}

for (const file of MODELS) {
  const name = path.basename(file, ".ts");

  test(`${name}, native: predictions equal the interpreter, also after write_param overwrites weights`, () => {
    const { module, fn, params } = compiled(file);
    const dir = path.join(tmp, `native-${name}`);
    assert.ok(packed(buildNative(module, fn, { outDir: dir, params }).program).length > 0);
    const m = NativeModel.load(dir, "model", { threads: 2 });
    try {
      checkOverwrites(file, module, fn, params, { predict: (inputs, batch) => m.predict(inputs, batch)[0]!, write: (p, data) => m.writeParam(p, data) }, 7);
    } finally {
      m.dispose();
    }
  });

  test(`${name}, wasm: predictions equal the interpreter, also after writeParameter overwrites weights`, async () => {
    const { module, fn, params } = compiled(file);
    const art = buildWasm(module, fn, { outDir: path.join(tmp, `wasm-${name}`), params });
    assert.ok(packed(art.program).length > 0);
    const mod = (await import(pathToFileURL(art.loader).href)) as {
      load(): Promise<{ predictBatch(batch: number, ...inputs: unknown[]): Float32Array; writeParameter(name: string, data: unknown): void; dispose(): void }>;
    };
    const m = await mod.load();
    try {
      checkOverwrites(file, module, fn, params, { predict: (inputs, batch) => m.predictBatch(batch, ...inputs), write: (p, data) => m.writeParameter(p, data) }, 9);
    } finally {
      m.dispose();
    }
  });
}

// The portable build links an AVX2 variant (8 lanes) and a baseline one (4 lanes) behind one C
// wrapper, so both must lower to the same buffers, sizes and arena offsets: packing decisions and
// packed sizes depend on the shape only. Shapes where 8- and 4-lane panels differ: N = 13 (narrow:
// dot products over a packed Bᵀ), 24 (one 16-wide panel, two 12-wide), 37 (partial panels), with
// weights as parameters (packed once) and as arguments (packed per call). TFC_CPU=baseline makes
// the wrapper pick the baseline variant on this CPU.
test("the portable build's AVX2 and baseline variants share one layout and both equal the interpreter", () => {
  const ir = `param @w13 : f32[40,13] = glorot_uniform {seed=1}
param @w37 : f32[40,37] = glorot_uniform {seed=2}
func @f(%x: f32[?,40], %v: f32[40,24], %u: f32[37,40]) -> (f32[?,13], f32[?,37], f32[?,24], f32[?,37]) {
  %w13 = param {dtype=f32, name="w13", shape=[40, 13]} : f32[40,13]
  %w37 = param {dtype=f32, name="w37", shape=[40, 37]} : f32[40,37]
  %0 = matmul %x, %w13 {transpose_a=false, transpose_b=false} : f32[?,13]
  %1 = matmul %x, %w37 {transpose_a=false, transpose_b=false} : f32[?,37]
  %2 = matmul %x, %v {transpose_a=false, transpose_b=false} : f32[?,24]
  %3 = matmul %x, %u {transpose_a=false, transpose_b=true} : f32[?,37]
  return %0, %1, %2, %3
}`;
  const module = parseModule(ir, "variants.tfir");
  runPipeline(module, "inference");
  const fn = module.functions[0]!;
  const params = initialParams(module);
  const dir = path.join(tmp, "variants");
  const art = buildNative(module, fn, { outDir: dir, params });
  assert.ok(packed(art.program).length >= 2, "w13 (transposed) and w37 (panels) are packed");
  for (const cpu of ["", "baseline"]) {
    process.env["TFC_CPU"] = cpu;
    const m = NativeModel.load(dir, "model", { threads: 2 });
    try {
      for (const batch of [1, 5, 64]) {
        const inputs = modelInputs("variants", fn, batch, batch + 3);
        const expected = interpret(module, fn, inputs, params);
        const actual = m.predict(inputs.map((t) => t.data), batch);
        expected.forEach((e, i) => assertClose(Array.from(actual[i]!), Array.from(e.data), 1e-4, 1e-5, `${cpu || "AVX2"} variant, output ${i}, batch ${batch}`));
      }
    } finally {
      m.dispose();
      delete process.env["TFC_CPU"];
    }
  }
});
