// The threads build of the WebAssembly target (buildWasm with threads: true): every registry op
// case and every example equals the interpreter at batch 1, 3 and 64 on 2 and 4 threads; the module
// shares an imported memory, outlines parallel loops and never rewrites weights; dispose() ends the workers.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { spawn, spawnSync } from "node:child_process";
import { interpret, initialParams } from "../../ir/interpreter.js";
import { BATCH } from "../../ir/types.js";
import type { Func, Module } from "../../ir/ir.js";
import { buildWasm } from "../../targets/wasm/index.js";
import { compile } from "../../compiler/driver.js";
import { ACCUMULATING, chunk, describeEntry, groupInputs, groupModule, runnableCases } from "../ops/groups.js";
import { assertClose, repoRoot } from "../util.js";
import { TARGET_MODELS, modelInputs } from "../models.js";

const PER_BUILD = 12;
const THREAD_COUNTS = [2, 4];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-wasm-threads-"));

interface ThreadedModel {
  readonly threads: number;
  predictBatch(batch: number, ...inputs: unknown[]): unknown;
  dispose(): void;
}

async function loadThreaded(dir: string, threads: number): Promise<ThreadedModel> {
  const mod = (await import(pathToFileURL(path.join(dir, "model.js")).href)) as { load(options: { threads: number }): Promise<ThreadedModel> };
  const model = await mod.load({ threads });
  assert.equal(model.threads, threads);
  return model;
}

// The few WebAssembly APIs used here (tsconfig's libs do not declare them).
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<{ exports: unknown }>;
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
  Module: { imports(m: object): { module: string; name: string; kind: string }[]; exports(m: object): { name: string; kind: string }[] };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const outputsOf = (raw: unknown): ArrayLike<number>[] => (Array.isArray(raw) ? raw : [raw]) as ArrayLike<number>[];

chunk(runnableCases(), PER_BUILD).forEach((group, g) => {
  test(`threaded wasm ops, group ${g}: ${[...new Set(group.map((e) => e.op))].join(", ")}`, async () => {
    const { module, fn } = groupModule(group);
    const dir = path.join(tmp, `g${g}`);
    buildWasm(module, fn, { outDir: dir, threads: true });
    const batched = fn.args.some((a) => a.type.shape.includes(BATCH));
    for (const threads of THREAD_COUNTS) {
      const model = await loadThreaded(dir, threads);
      try {
        for (const batch of batched ? [1, 3, 64] : [1]) {
          const inputs = groupInputs(group, batch, 300 * g + batch);
          const expected = interpret(module, fn, inputs);
          const actual = outputsOf(model.predictBatch(batch, ...inputs.map((t) => t.data)));
          group.forEach((e, i) => {
            const exp = expected[i]!;
            const [rtol, atol] = exp.dtype !== "f32" ? [0, 0] : ACCUMULATING.has(e.op) ? [1e-4, 1e-5] : [1e-6, 1e-7];
            assertClose(Array.from(actual[i]!), Array.from(exp.data), rtol, atol, `${describeEntry(e, batch)} on ${threads} threads`);
          });
        }
      } finally {
        model.dispose();
      }
    }
  });
});


async function checkExample(file: string, module: Module, fn: Func, dir: string, threads: number): Promise<void> {
  const params = initialParams(module);
  const model = await loadThreaded(dir, threads);
  try {
    const batched = [...fn.args, ...fn.results].some((v) => v.type.shape.includes(BATCH));
    for (const batch of batched ? [1, 3, 64] : [1]) {
      const inputs = modelInputs(file, fn, batch);
      const expected = interpret(module, fn, inputs, params);
      const actual = outputsOf(model.predictBatch(batch, ...inputs.map((t) => t.data)));
      expected.forEach((e, i) => assertClose(Array.from(actual[i]!), Array.from(e.data), 1e-4, 1e-6, `${file} output ${i} at batch ${batch} on ${threads} threads`));
    }
  } finally {
    model.dispose();
  }
}

for (const file of TARGET_MODELS) {
  // Embedded weights (passive segments, copied in once by the main thread) for the two largest models.
  const embed = file.endsWith("mlp.ts") || file.endsWith("mnist-cnn.ts");
  test(`threaded wasm ${file}${embed ? " with embedded weights" : ""} equals the interpreter on 2 and 4 threads`, async () => {
    const result = compile(path.join(repoRoot(), file));
    const fn = result.module.functions[0]!;
    const dir = path.join(tmp, `${path.basename(file, ".ts")}${embed ? "-embedded" : ""}`);
    const artifacts = buildWasm(result.module, fn, { outDir: dir, params: initialParams(result.module), threads: true, embedWeights: embed });
    assert.equal(artifacts.weights === undefined, embed);
    assert.ok(artifacts.worker && fs.existsSync(artifacts.worker));
    for (const threads of THREAD_COUNTS) await checkExample(file, result.module, fn, dir, threads);
  });
}

test("the threads module imports a shared memory with a maximum and parallel_for, exports run_chunk; the plain build does not", async () => {
  const result = compile(path.join(repoRoot(), "examples/mlp.ts"));
  const fn = result.module.functions[0]!;
  const threaded = buildWasm(result.module, fn, { outDir: path.join(tmp, "shape-threads"), threads: true, embedWeights: true });
  const plain = buildWasm(result.module, fn, { outDir: path.join(tmp, "shape-plain") });
  const threadedModule = await WebAssembly.compile(fs.readFileSync(threaded.wasm));
  const plainModule = await WebAssembly.compile(fs.readFileSync(plain.wasm));
  const imports = WebAssembly.Module.imports(threadedModule).map((i) => `${i.module}.${i.name}:${i.kind}`);
  assert.ok(imports.includes("env.memory:memory") && imports.includes("env.parallel_for:function"), imports.join(" "));
  const exports = WebAssembly.Module.exports(threadedModule).map((e) => e.name);
  for (const name of ["run", "prepare", "run_chunk", "init_weights", "status", "reset"]) assert.ok(exports.includes(name), name);
  // A shared memory that is too small or unshared is refused: the import is shared with a declared maximum.
  const layout = JSON.parse(fs.readFileSync(threaded.manifest, "utf8")) as { target: { threads: boolean }; files: { worker?: string } };
  assert.equal(layout.target.threads, true);
  assert.equal(layout.files.worker, "model.worker.js");
  const env = { exp: Math.exp, log: Math.log, tanh: Math.tanh, pow: Math.pow, parallel_for: () => {} };
  await assert.rejects(WebAssembly.instantiate(threadedModule, { env: { ...env, memory: new WebAssembly.Memory({ initial: 100, maximum: 32768 }) } }));
  assert.ok(!WebAssembly.Module.imports(plainModule).some((i) => i.kind === "memory" || i.name === "parallel_for"));
  assert.ok(!WebAssembly.Module.exports(plainModule).some((e) => e.name === "run_chunk"));
  assert.doesNotMatch(fs.readFileSync(plain.loader, "utf8"), /parallel_for|SharedArrayBuffer|worker/);
  assert.ok(!fs.existsSync(path.join(tmp, "shape-plain", "model.worker.js")));
});

test("chunks may run in any order and any split: outlined loops driven by a test parallel_for equal the interpreter", async () => {
  const file = "examples/mnist-cnn.ts";
  const result = compile(path.join(repoRoot(), file));
  const fn = result.module.functions[0]!;
  const params = initialParams(result.module);
  const a = buildWasm(result.module, fn, { outDir: path.join(tmp, "chunks"), params, threads: true, embedWeights: true });
  const layout = JSON.parse(fs.readFileSync(a.loader, "utf8").match(/^const layout = (.*);$/m)![1]!) as {
    staticBytes: number;
    dynamicBytes: { constant: number; perBatch: number };
    inputs: { offset: { constant: number; perBatch: number } }[];
    outputs: { offset: { constant: number; perBatch: number } }[];
    threads: { initialPages: number; maximumPages: number };
  };
  const memory = new WebAssembly.Memory({ initial: layout.threads.initialPages, maximum: layout.threads.maximumPages, shared: true });
  const launches: number[] = [];
  let exports: { run(n: number): void; prepare(): void; run_chunk(f: number, c: number, lo: number, hi: number): void; init_weights(): void; status(): number };
  // Seven uneven chunks, last first: any thread may run any chunk at any time.
  const parallel_for = (f: number, context: number, begin: number, end: number) => {
    launches.push(f);
    const cuts = [0, 1, 2, 3, 5, 7, 11, 13].map((k) => begin + Math.floor(((end - begin) * k) / 13));
    for (let k = cuts.length - 2; k >= 0; k--) if (cuts[k]! < cuts[k + 1]!) exports.run_chunk(f, context, cuts[k]!, cuts[k + 1]!);
  };
  const env = { memory, exp: Math.exp, log: Math.log, tanh: Math.tanh, pow: Math.pow, parallel_for };
  const module = await WebAssembly.compile(fs.readFileSync(a.wasm));
  exports = (await WebAssembly.instantiate(module, { env })).exports as typeof exports;
  exports.init_weights();
  // A second instance on the same memory (a worker) leaves the weights alone.
  const staticArea = () => new Uint8Array(memory.buffer, 1024, layout.staticBytes - 1024).slice();
  const before = staticArea();
  new Uint8Array(memory.buffer, 1024, 64).fill(7);
  await WebAssembly.instantiate(module, { env });
  assert.ok(new Uint8Array(memory.buffer, 1024, 64).every((b) => b === 7), "instantiating again rewrote the weights");
  new Uint8Array(memory.buffer, 1024, 64).set(before.subarray(0, 64));
  for (const batch of [1, 3, 64]) {
    const inputs = modelInputs(file, fn, batch);
    const [expected] = interpret(result.module, fn, inputs, params);
    const need = layout.staticBytes + layout.dynamicBytes.constant + layout.dynamicBytes.perBatch * batch;
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
    const at = (o: { constant: number; perBatch: number }) => layout.staticBytes + o.constant + o.perBatch * batch;
    new Float32Array(memory.buffer, at(layout.inputs[0]!.offset), inputs[0]!.data.length).set(inputs[0]!.data as Float32Array);
    launches.length = 0;
    exports.prepare(); // the packed weights (model.js runs it once; again here, its loops chunked the same way)
    exports.run(batch);
    assert.equal(exports.status(), 0);
    assert.ok(launches.length >= 3, `only ${launches.length} parallel launches`);
    const actual = new Float32Array(memory.buffer, at(layout.outputs[0]!.offset), expected!.data.length);
    assertClose(Array.from(actual), Array.from(expected!.data), 1e-4, 1e-6, `${file} at batch ${batch}, chunks in reverse`);
  }
});

test("an out-of-range index in a worker's chunk is reported as TFC_ERR_INDEX; the model then goes on working", async () => {
  const file = "test/frontend/fixtures/layers/embedding.ts";
  const result = compile(path.join(repoRoot(), file));
  const fn = result.module.functions[0]!;
  const dir = path.join(tmp, "index-error");
  buildWasm(result.module, fn, { outDir: dir, params: initialParams(result.module), threads: true });
  const model = await loadThreaded(dir, 2);
  try {
    const inputs = modelInputs(file, fn, 64);
    const bad = Float32Array.from(inputs[0]!.data);
    bad[bad.length - 1] = 1e6; // the last example: the worker's half
    assert.throws(() => model.predictBatch(64, bad), (e: Error & { code?: string }) => e.code === "TFC_ERR_INDEX");
    const [expected] = interpret(result.module, fn, inputs, initialParams(result.module));
    assertClose(Array.from(outputsOf(model.predictBatch(64, inputs[0]!.data))[0]!), Array.from(expected!.data), 1e-4, 1e-6, "after the error");
  } finally {
    model.dispose();
  }
});

test("load() checks options.threads; without SharedArrayBuffer it fails with TFC_ERR_ARGUMENT", async () => {
  const result = compile(path.join(repoRoot(), "examples/linear-regression.ts"));
  const dir = path.join(tmp, "options");
  buildWasm(result.module, result.module.functions[0]!, { outDir: dir, threads: true });
  const mod = (await import(pathToFileURL(path.join(dir, "model.js")).href)) as { load(options: { threads: unknown }): Promise<ThreadedModel> };
  for (const threads of [0, 1.5, -2, "2"]) {
    await assert.rejects(mod.load({ threads }), (e: Error & { code?: string }) => e.code === "TFC_ERR_ARGUMENT" && /options\.threads/.test(e.message));
  }
  const script = `import("${pathToFileURL(path.join(dir, "model.js")).href}").then((m) => m.load()).then(() => console.log("loaded"), (e) => console.log(e.code, e.message));`;
  const r = spawnSync(process.execPath, ["--no-harmony-sharedarraybuffer", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
  assert.match(r.stdout, /TFC_ERR_ARGUMENT .*SharedArrayBuffer/, r.stderr);
});

test("dispose() ends the workers: a script that disposes exits; one that does not keeps running", async () => {
  const result = compile(path.join(repoRoot(), "examples/mlp.ts"));
  const dir = path.join(tmp, "dispose");
  buildWasm(result.module, result.module.functions[0]!, { outDir: dir, threads: true });
  const scriptFor = (dispose: boolean) =>
    `const { load } = await import("${pathToFileURL(path.join(dir, "model.js")).href}");
     const model = await load({ threads: 3 });
     const y = model.predictBatch(64, new Float32Array(64 * 784).fill(0.5));
     console.log(model.threads, y.length);
     ${dispose ? "model.dispose();" : ""}`;
  const run = (dispose: boolean, waitMs: number) =>
    new Promise<{ exited: boolean; code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", scriptFor(dispose)], { stdio: ["ignore", "pipe", "inherit"] });
      let stdout = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve({ exited: false, code: null, stdout });
      }, waitMs);
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolve({ exited: true, code, stdout });
      });
    });
  const disposed = await run(true, 30_000);
  assert.ok(disposed.exited, "the process did not exit after dispose()");
  assert.equal(disposed.code, 0);
  assert.equal(disposed.stdout.trim(), "3 640");
  // The control: the workers alone keep the process alive, so it is dispose() that ends them.
  const kept = await run(false, 8_000);
  assert.equal(kept.stdout.trim(), "3 640");
  assert.equal(kept.exited, false, "the process exited without dispose(): the workers were not running");
});

test("tfc compile --target wasm --threads writes model.worker.js and a threads manifest", () => {
  const root = repoRoot();
  const out = path.join(tmp, "cli");
  const r = spawnSync(process.execPath, [path.join(root, "bin/tfc.js"), "compile", "examples/mlp.ts", "--target", "wasm", "--threads", "-o", out], { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /model\.worker\.js/);
  const manifest = JSON.parse(fs.readFileSync(path.join(out, "model.json"), "utf8")) as { target: { threads: boolean } };
  assert.equal(manifest.target.threads, true);
  assert.match(fs.readFileSync(path.join(out, "model.js"), "utf8"), /Cross-Origin-Embedder-Policy: require-corp/);
  assert.match(fs.readFileSync(path.join(out, "model.d.ts"), "utf8"), /threads\?: number/);
});
