// Tests of the generated model.js (targets/wasm/loader.ts) and model.d.ts (dts.ts) in Node: the
// hand-written fixture modules of test/wasm/fixtures are written with a loader into a temp folder,
// imported with a plain import() and run, including every error model.js reports.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { loaderSource, type WasmLayout } from "../../targets/wasm/loader.js";
import { encodeWeights, type NamedTensor } from "../../targets/common/weights.js";
import { damagedCases, expectedMessage, sampleTensors } from "../runtime/weights-cases.js";
import { affineExpected, affineModel, compileWat, dumpLayout, fixtureWat, gatherExpected, gatherModel, writeModel, type ModelFiles } from "./harness.js";
import { assertClose } from "../util.js";

type Typed = Float32Array | Int32Array | Uint8Array;
interface Model {
  name: string;
  maxBatch: number;
  signature: WasmLayout["signature"];
  predict(...inputs: unknown[]): Typed | Typed[];
  predictBatch(batch: number, ...inputs: unknown[]): Typed | Typed[];
  dispose(): void;
}
interface ModelModule {
  load(options?: { wasm?: unknown; weights?: unknown }): Promise<Model>;
  signature: WasmLayout["signature"];
  TfcModelError: new (code: string, message: string) => Error & { code: string };
}

let tempRoot: string;
let folders = 0;
before(() => {
  tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-wasm-loader-"));
});
after(() => fs.rmSync(tempRoot, { recursive: true, force: true }));

/** Writes the model into a fresh folder and imports its model.js. */
async function install(model: ModelFiles): Promise<{ dir: string; module: ModelModule }> {
  const dir = path.join(tempRoot, `model${folders++}`);
  writeModel(dir, model);
  const module = (await import(pathToFileURL(path.join(dir, "model.js")).href)) as ModelModule;
  return { dir, module };
}

/** Asserts that run() throws a TfcModelError of this module with code and a message matching. */
async function rejects(module: ModelModule, run: () => unknown, code: string, message: string | RegExp): Promise<Error & { code: string }> {
  let caught: unknown;
  try {
    await run();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof module.TfcModelError, `expected a TfcModelError, got ${String(caught)}`);
  const error = caught as Error & { code: string };
  assert.equal(error.name, "TfcModelError");
  assert.equal(error.code, code, error.message);
  if (typeof message === "string") assert.equal(error.message, message);
  else assert.match(error.message, message);
  return error;
}

const W = [0.5, -1, 10, 0.25];

describe("model.js: loading and predicting", () => {
  test("predicts with the batch taken from the input, fresh outputs each call", async () => {
    const { module } = await install(affineModel(W));
    const model = await module.load();
    assert.equal(model.name, "affine");
    assert.equal(model.maxBatch, 100_000);
    assert.deepEqual(module.signature.inputs, [{ name: "x", dtype: "float32", shape: [null, 4] }]);
    const x = Float32Array.from({ length: 12 }, (_, i) => i * 1.5 - 4);
    const y = model.predict(x) as Float32Array;
    assert.ok(y instanceof Float32Array);
    assert.deepEqual(y, affineExpected(x, W));
    const again = model.predict(x.subarray(4, 8)) as Float32Array;
    assert.deepEqual(again, affineExpected(x.subarray(4, 8), W));
    assert.notEqual(again.buffer, y.buffer);
    assert.deepEqual(y, affineExpected(x, W), "an earlier result is not overwritten by a later run");
    assert.deepEqual(model.predictBatch(3, x), affineExpected(x, W));
  });

  test("grows memory for large batches and keeps working afterwards", async () => {
    const { module } = await install(affineModel(W));
    const model = await module.load();
    const x = Float32Array.from({ length: 4 * 50_000 }, (_, i) => Math.sin(i));
    assert.deepEqual(model.predict(x), affineExpected(x, W)); // 1.6 MB, memory starts at 64 KiB
    const small = new Float32Array([1, 2, 3, 4]);
    assert.deepEqual(model.predict(small), affineExpected(small, W));
  });

  test("reads the files from a path, a file URL or bytes", async () => {
    const files = affineModel(W);
    const { dir, module } = await install(files);
    const x = new Float32Array([1, -2, 3, -4]);
    const wasmPath = path.join(dir, "model.wasm");
    const weightsPath = path.join(dir, "model.weights");
    const sources = [
      { wasm: wasmPath, weights: weightsPath },
      { wasm: pathToFileURL(wasmPath), weights: pathToFileURL(weightsPath).href },
      { wasm: files.wasm, weights: files.weights!.slice().buffer },
      { wasm: Buffer.from(files.wasm), weights: new DataView(files.weights!.buffer) },
    ];
    for (const options of sources) {
      const model = await module.load(options);
      assert.deepEqual(model.predict(x), affineExpected(x, W));
    }
    const other = [1, 2, 3, 4];
    const model = await module.load({ weights: encodeWeights([{ name: "w", dtype: "f32", shape: [4], data: new Float32Array(other) }]) });
    assert.deepEqual(model.predict(x), affineExpected(x, other), "weights given as bytes replace the default file");
  });

  test("runs a model with several inputs and outputs of every dtype", async () => {
    const table = Float32Array.from({ length: 15 }, (_, i) => (i - 7) * 0.375);
    const { module } = await install(gatherModel(table, 0.5));
    const model = await module.load();
    const ids = new Int32Array([4, 0, 2, 2, 1]);
    const mask = new Uint8Array([1, 1, 0, 0, 1, 0, 0, 1, 1, 0]);
    const outputs = model.predict(ids, mask) as Typed[];
    assert.equal(outputs.length, 3);
    const [rows, count, any] = outputs;
    const expected = gatherExpected(table, 0.5, ids, mask);
    assert.ok(rows instanceof Float32Array && count instanceof Int32Array && any instanceof Uint8Array);
    assertClose(rows, expected[0], 0, 0, "rows");
    assert.deepEqual(count, expected[1]);
    assert.deepEqual(any, expected[2]);
  });

  test("a model with its weights built in needs no weights file", async () => {
    const bytes = new Uint8Array(new Float32Array(W).buffer);
    const data = `(data (i32.const 0) "${[...bytes].map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("")}")`;
    const wat = fixtureWat("affine").replace(`(memory (export "memory") 1)`, `(memory (export "memory") 1) ${data}`);
    const base = affineModel(W);
    const layout: WasmLayout = { ...base.layout, embeddedWeights: true, weights: [] };
    const { dir, module } = await install({ layout, wasm: compileWat(wat) });
    assert.ok(!fs.existsSync(path.join(dir, "model.weights")));
    const model = await module.load();
    const x = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(model.predict(x), affineExpected(x, W));
    await rejects(module, () => module.load({ weights: base.weights }), "TFC_ERR_ARGUMENT", "affine: its weights are built in; it takes no weights file");
  });

  test("copies every tensor of a weights file to its offset, all dtypes and odd shapes", async () => {
    const tensors = sampleTensors();
    let offset = 0;
    const weights = tensors.map((t) => {
      const entry = { name: t.name, dtype: t.dtype, shape: t.shape, offset };
      offset += Math.ceil(t.data.byteLength / 64) * 64 + 64;
      return entry;
    });
    assert.ok(offset <= 32768);
    const { module } = await install({ layout: dumpLayout(weights), wasm: compileWat(fixtureWat("dump")), weights: encodeWeights([...tensors].reverse()) });
    const model = await module.load();
    assert.equal(model.maxBatch, 1);
    const memory = model.predict() as Int32Array;
    assert.equal(memory.length, 8192);
    const bytes = new Uint8Array(memory.buffer);
    tensors.forEach((t, i) => {
      const at = weights[i]!.offset;
      assert.deepEqual(bytes.subarray(at, at + t.data.byteLength), new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), t.name);
      assert.ok(bytes.subarray(at + t.data.byteLength, at + t.data.byteLength + 8).every((b) => b === 0), `nothing written after ${t.name}`);
    });
    await rejects(module, () => model.predictBatch(2), "TFC_ERR_ARGUMENT", "dump: it has no batch dimension, so the batch must be 1, got 2");
    await rejects(module, () => model.predict(new Float32Array(1)), "TFC_ERR_ARGUMENT", "dump: it takes 0 input(s), got 1");
  });
});

describe("model.js: errors", () => {
  test("inputs of the wrong type, count or length", async () => {
    const { module } = await install(gatherModel(new Float32Array(15), 1));
    const model = await module.load();
    const ids = new Int32Array([1, 2]);
    const mask = new Uint8Array([0, 1, 1, 0]);
    await rejects(module, () => model.predict(new Float32Array([1, 2]), mask), "TFC_ERR_ARGUMENT", "gather: input 'ids' must be an Int32Array, got Float32Array");
    await rejects(module, () => model.predict(ids, [0, 1, 1, 0]), "TFC_ERR_ARGUMENT", "gather: input 'mask' must be a Uint8Array, got Array");
    await rejects(module, () => model.predict(ids, null), "TFC_ERR_ARGUMENT", "gather: input 'mask' must be a Uint8Array, got null");
    await rejects(module, () => model.predict(ids), "TFC_ERR_ARGUMENT", "gather: it takes 2 input(s), got 1");
    await rejects(module, () => model.predict(ids, new Uint8Array(3)), "TFC_ERR_SHAPE", "gather: input 'mask' has 3 elements, which is not a whole batch of bool[?,2] (2 elements per example)");
    await rejects(module, () => model.predict(ids, new Uint8Array(6)), "TFC_ERR_SHAPE", "gather: input 'mask' holds a batch of 3 but input 'ids' holds a batch of 2");
    await rejects(module, () => model.predictBatch(3, ids, new Uint8Array(6)), "TFC_ERR_SHAPE", "gather: input 'ids' has 2 elements; i32[?] at batch 3 needs 3");
    await rejects(module, () => model.predict(ids, new Uint8Array([0, 1, 2, 0])), "TFC_ERR_ARGUMENT", "gather: bool input 'mask' holds 2 at element 2 (expected 0 or 1)");
    assert.equal((model.predict(ids, mask) as Typed[]).length, 3, "the model still works after refusing inputs");
  });

  test("batch 0, a fractional batch and batches over the limit", async () => {
    const { module } = await install(affineModel(W, 100));
    const model = await module.load();
    await rejects(module, () => model.predict(new Float32Array(0)), "TFC_ERR_ARGUMENT", "affine: the batch must be a whole number of at least 1, got 0");
    await rejects(module, () => model.predictBatch(1.5, new Float32Array(6)), "TFC_ERR_ARGUMENT", "affine: the batch must be a whole number of at least 1, got 1.5");
    await rejects(module, () => model.predict(new Float32Array(4 * 101)), "TFC_ERR_MEMORY", "affine: a batch of 101 needs 4 KiB of memory; the limit is a batch of 100");
    assert.equal((model.predict(new Float32Array(400)) as Float32Array).length, 400);
  });

  test("a batch the WebAssembly memory cannot grow to", async () => {
    const base = affineModel(W);
    const wat = fixtureWat("affine").replace(`(memory (export "memory") 1)`, `(memory (export "memory") 1 2)`); // at most 128 KiB
    const { module } = await install({ ...base, wasm: compileWat(wat) });
    const model = await module.load();
    const fits = Float32Array.from({ length: 4 * 3000 }, (_, i) => i % 7); // 96 KiB: grows to 2 pages
    assert.deepEqual(model.predict(fits), affineExpected(fits, W));
    await rejects(module, () => model.predict(new Float32Array(4 * 5000)), "TFC_ERR_MEMORY", "affine: a batch of 5000 needs 157 KiB of memory; the limit is 128 KiB here (the WebAssembly memory could not grow)");
    assert.deepEqual(model.predict(fits), affineExpected(fits, W), "the model still works after the failed grow");
  });

  test("status 6 from the model is TFC_ERR_INDEX, and the next run starts clean", async () => {
    const table = Float32Array.from({ length: 15 }, (_, i) => i);
    const { module } = await install(gatherModel(table, 2));
    const model = await module.load();
    const mask = new Uint8Array(4);
    for (const bad of [5, -1, 2 ** 31 - 1]) {
      await rejects(module, () => model.predict(new Int32Array([0, bad]), mask), "TFC_ERR_INDEX", "gather: an index was out of range (gather or one_hot input)");
    }
    const [rows] = model.predict(new Int32Array([3, 4]), mask) as Typed[];
    assertClose(rows!, gatherExpected(table, 2, [3, 4], [0, 0, 0, 0])[0], 0, 0, "rows after an index error");
  });

  test("a trap in the WebAssembly code becomes TFC_ERR_INTERNAL", async () => {
    const { module } = await install(affineModel(W));
    const model = await module.load();
    const error = await rejects(module, () => model.predict(new Float32Array(4 * 13)), "TFC_ERR_INTERNAL", /^affine: the WebAssembly code trapped: unreachable.* \(a bug in tfc; please report it\)$/);
    assert.equal((error as { cause?: Error }).cause?.constructor.name, "RuntimeError", "the trap is kept as the cause");
    const x = new Float32Array(4 * 12).fill(1);
    assert.deepEqual(model.predict(x), affineExpected(x, W));
  });

  test("a disposed model refuses to run", async () => {
    const { module } = await install(affineModel(W));
    const model = await module.load();
    model.dispose();
    await rejects(module, () => model.predict(new Float32Array(4)), "TFC_ERR_ARGUMENT", "affine: the model has been disposed");
  });

  test("missing files, a file that is not WebAssembly, a module without the exports", async () => {
    const { dir, module } = await install(affineModel(W));
    const missing = path.join(dir, "nowhere.wasm");
    await rejects(module, () => module.load({ wasm: missing }), "TFC_ERR_IO", new RegExp(`^affine: cannot read the WebAssembly module ${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*ENOENT`));
    fs.rmSync(path.join(dir, "model.weights"));
    await rejects(module, () => module.load(), "TFC_ERR_IO", /^affine: cannot read the weights file file:\/\/.*\/model\.weights: /);
    const weights = affineModel(W).weights!;
    await rejects(module, () => module.load({ wasm: new Uint8Array([0, 0x61, 0x73, 0x6d, 9]), weights }), "TFC_ERR_ARGUMENT", /^affine: cannot instantiate the WebAssembly module: /);
    const bare = compileWat(`(module (memory (export "memory") 1) (func (export "run") (param i32)))`);
    await rejects(module, () => module.load({ wasm: bare, weights }), "TFC_ERR_ARGUMENT", "affine: the WebAssembly module is not this model's: it lacks the exports memory, run, prepare, status and reset");
  });

  test("weights that do not match the model", async () => {
    const { dir, module } = await install(affineModel(W));
    const file = (tensors: NamedTensor[]): Uint8Array => encodeWeights(tensors);
    const cases: [NamedTensor[], string][] = [
      [[{ name: "v", dtype: "f32", shape: [4], data: new Float32Array(4) }], "weights file '<weights>' has no tensor 'w'"],
      [[{ name: "w", dtype: "i32", shape: [4], data: new Int32Array(4) }], "weights file '<weights>' has 'w' as i32[4], the model needs f32[4]"],
      [[{ name: "w", dtype: "f32", shape: [2, 2], data: new Float32Array(4) }], "weights file '<weights>' has 'w' as f32[2,2], the model needs f32[4]"],
      [[{ name: "w", dtype: "f32", shape: [5], data: new Float32Array(5) }], "weights file '<weights>' has 'w' as f32[5], the model needs f32[4]"],
    ];
    for (const [tensors, message] of cases) {
      await rejects(module, () => module.load({ weights: file(tensors) }), "TFC_ERR_WEIGHTS", `affine: ${message}`);
    }
    const wrongPath = path.join(dir, "other.weights");
    fs.writeFileSync(wrongPath, file(cases[1]![0]));
    await rejects(module, () => module.load({ weights: wrongPath }), "TFC_ERR_WEIGHTS", `affine: weights file '${wrongPath}' has 'w' as i32[4], the model needs f32[4]`);
    const extra = file([{ name: "unused", dtype: "bool", shape: [1], data: new Uint8Array([1]) }, ...affineModel(W).weightTensors]);
    const model = await module.load({ weights: extra });
    assert.deepEqual(model.predict(new Float32Array(4)), affineExpected(new Float32Array(4), W), "tensors the model does not use are ignored");
  });

  test("damaged weights files: the same messages as the TypeScript and C readers", async () => {
    const { dir, module } = await install(affineModel(W));
    const cases = damagedCases();
    assert.ok(cases.length >= 30);
    for (const c of cases) {
      await rejects(module, () => module.load({ weights: c.bytes }), "TFC_ERR_WEIGHTS", messageFor(c.message, "<weights>"));
    }
    const truncated = cases.find((c) => c.what === "a file cut in its data")!;
    const onDisk = path.join(dir, "model.weights");
    fs.writeFileSync(onDisk, truncated.bytes);
    const defaultName = pathToFileURL(onDisk).href;
    await rejects(module, () => module.load(), "TFC_ERR_WEIGHTS", messageFor(truncated.message, defaultName));
    const good = encodeWeights(sampleTensors());
    await rejects(module, () => module.load({ weights: good }), "TFC_ERR_WEIGHTS", "affine: weights file '<weights>' has no tensor 'w'");
  });
});

function messageFor(message: string | RegExp, file: string): string | RegExp {
  const expected = expectedMessage(message, file);
  return typeof expected === "string" ? `affine: ${expected}` : new RegExp(`^affine: ${expected.source.replace(/^\^/, "")}`);
}

describe("model.js: the generated text", () => {
  test("is a self-contained ES module of modest size", () => {
    const source = loaderSource(affineModel(W).layout, { wasmFile: "model.wasm", weightsFile: "model.weights" });
    assert.doesNotMatch(source, /^\s*import\s/m, "no static imports");
    assert.deepEqual([...source.matchAll(/import\(([^)]*)\)/g)].map((m) => m[1]!.replace(/\/\*.*?\*\//g, "").trim()), ['"node:fs/promises"']);
    assert.doesNotMatch(source, /require\(/);
    // 18 KiB since model.js gained parameter access and the numerics check for training.
    assert.ok(source.length < 20_000, `model.js is ${source.length} bytes`);
    console.log(`# model.js for a 1-input model: ${source.length} bytes`);
  });

  test("loaderSource rejects inconsistent layouts", () => {
    const { layout } = affineModel(W);
    assert.throws(() => loaderSource({ ...layout, inputs: [] }, { wasmFile: "m.wasm", weightsFile: "m.weights" }), /0 input buffers for 1 inputs/);
    assert.throws(() => loaderSource({ ...layout, staticBytes: 60 }, { wasmFile: "m.wasm", weightsFile: "m.weights" }), /staticBytes 60 is not a multiple of 64/);
    assert.throws(() => loaderSource({ ...layout, hasBatch: false }, { wasmFile: "m.wasm", weightsFile: "m.weights" }), /hasBatch is false/);
    assert.throws(() => loaderSource({ ...layout, outputs: [{ offset: { constant: 2, perBatch: 16 }, elements: { constant: 0, perBatch: 4 } }] }, { wasmFile: "m.wasm", weightsFile: "m.weights" }), /'y' is not 4-byte aligned/);
    assert.throws(() => loaderSource({ ...layout, weights: [{ name: "w", dtype: "f32", shape: [4], offset: 56 }] }, { wasmFile: "m.wasm", weightsFile: "m.weights" }), /weight 'w' \(16 bytes at 56\) lies outside the static area of 64 bytes/);
  });
});

describe("model.d.ts", () => {
  /** Type-checks consumer.ts against model.d.ts in dir; returns the diagnostics as text. */
  function typeCheck(dir: string, consumer: string): string[] {
    fs.writeFileSync(path.join(dir, "consumer.ts"), consumer);
    const options: ts.CompilerOptions = { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, lib: ["lib.es2022.d.ts", "lib.dom.d.ts"], types: [] };
    const program = ts.createProgram([path.join(dir, "consumer.ts")], options);
    return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? path.basename(d.file.fileName) : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  }

  test("types predict with the inputs' typed arrays and the outputs as a tuple", async () => {
    const { dir } = await install(gatherModel(new Float32Array(15), 1));
    const dts = fs.readFileSync(path.join(dir, "model.d.ts"), "utf8");
    assert.match(dts, /predict\(ids: Int32Array, mask: Uint8Array\): \[Float32Array, Int32Array, Uint8Array\];/);
    assert.match(dts, /@param mask bool\[\?,2\], a Uint8Array of 2 × batch elements/);
    const diagnostics = typeCheck(
      dir,
      `import { load, signature, TfcModelError, type Model } from "./model.js";
const model: Model = await load({ weights: new Uint8Array(8) });
const [rows, count, any]: [Float32Array, Int32Array, Uint8Array] = model.predict(new Int32Array(2), new Uint8Array(4));
const name: "ids" = signature.inputs[0].name;
const batchDim: null = signature.inputs[1].shape[0];
const two: 2 = signature.inputs[1].shape[1];
// @ts-expect-error: ids must be an Int32Array
model.predict(new Float32Array(2), new Uint8Array(4));
// @ts-expect-error: the signature is readonly
signature.inputs[0].name = "x";
try { model.predictBatch(2, new Int32Array(2), new Uint8Array(4)); } catch (e) { if (e instanceof TfcModelError) { const code: string = e.code; void code; } }
void rows, count, any, name, batchDim, two;
export {};
`,
    );
    assert.deepEqual(diagnostics, []);
  });

  test("a single output is one typed array; names that are not identifiers become parameters", async () => {
    const base = affineModel(W);
    const layout: WasmLayout = {
      ...base.layout,
      signature: { inputs: [{ name: "dense/input */", dtype: "float32", shape: [null, 4] }], outputs: base.layout.signature.outputs },
    };
    const { dir } = await install({ ...base, layout });
    const dts = fs.readFileSync(path.join(dir, "model.d.ts"), "utf8");
    assert.match(dts, /predict\(dense_input___: Float32Array\): Float32Array;/);
    assert.match(dts, /@param dense_input___ 'dense\/input \*\\\/' f32\[\?,4\], a Float32Array of 4 × batch elements/);
    const diagnostics = typeCheck(
      dir,
      `import { load } from "./model.js";
const model = await load();
const y: Float32Array = model.predict(new Float32Array(4));
// @ts-expect-error: one input
model.predict(new Float32Array(4), new Float32Array(4));
void y;
export {};
`,
    );
    assert.deepEqual(diagnostics, []);
  });
});
