// The ways tfc can run a compiled model, behind one interface the benchmark times and checks.
// "tfc-native": the model compiled through kernel IR and LLVM (portable build, AVX2+FMA chosen at
// run time) and called through koffi; "tfc-wasm": the WebAssembly build (SIMD128, one thread)
// through its generated model.js; "tfc-interp": the reference interpreter on the optimized tensor IR.

import { compile, type CompileResult } from "../../compiler/driver.js";
import { initialParams, interpret } from "../../ir/interpreter.js";
import { hostTensor } from "../../ir/tensor.js";
import { BATCH } from "../../ir/types.js";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildNative } from "../../targets/llvm/index.js";
import { NativeModel } from "../../runtime/js/native.js";
import { buildWasm } from "../../targets/wasm/index.js";
import { pathToFileURL } from "node:url";

export interface TfcRunner {
  name: string;
  /** Run the model's single input (shape from its signature, `batch` for the `?` dimension); returns the first output. */
  predict(input: Float32Array, batch: number): Float32Array;
  /** The same for a function of several inputs, in argument order (SGEMM's a and b). */
  run(inputs: readonly Float32Array[], batch: number): Float32Array;
  /** Release what the runner holds (native libraries, wasm worker threads). */
  dispose?(): void;
}

/** Builds one runner from a compiled model file; the compile is shared by all runners. */
type RunnerFactory = (compiled: CompileResult) => Promise<TfcRunner>;

const RUNNER_FACTORIES: readonly RunnerFactory[] = [nativeRunner, (c) => wasmRunner(c, false), (c) => wasmRunner(c, true), interpreterRunner];

/** Every tfc runner for a model file. Pass `compiled` to reuse a compile of the same file. */
export async function tfcRunners(file: string, compiled: CompileResult = compile(file)): Promise<TfcRunner[]> {
  return Promise.all(RUNNER_FACTORIES.map((factory) => factory(compiled)));
}

/** The reference interpreter running the predict function with the model's initial parameters. */
async function interpreterRunner(compiled: CompileResult): Promise<TfcRunner> {
  const module = compiled.module;
  const fn = module.functions[0]!;
  const params = initialParams(module);
  const run = (inputs: readonly Float32Array[], batch: number): Float32Array => {
    const tensors = fn.args.map((arg, i) => hostTensor("f32", arg.type.shape.map((d) => (d === BATCH ? batch : d)), inputs[i]!));
    const [output] = interpret(module, fn, tensors, params);
    return output!.data as Float32Array;
  };
  return { name: "tfc-interp", run, predict: (input, batch) => run([input], batch) };
}

/** The model compiled to native code (as `tfc compile --target llvm` does), with the same initial parameters. */
async function nativeRunner(compiled: CompileResult): Promise<TfcRunner> {
  const module = compiled.module;
  const fn = module.functions[0]!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-bench-native-"));
  buildNative(module, fn, { outDir: dir, params: initialParams(module) });
  const model = NativeModel.load(dir);
  const run = (inputs: readonly Float32Array[], batch: number): Float32Array => model.predict(inputs, batch)[0] as Float32Array;
  const dispose = () => {
    model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { name: "tfc-native", run, predict: (input, batch) => run([input], batch), dispose };
}

/** The model compiled to WebAssembly, loaded through the generated, dependency-free model.js. */
async function wasmRunner(compiled: CompileResult, threads: boolean): Promise<TfcRunner> {
  const module = compiled.module;
  const fn = module.functions[0]!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-bench-wasm-"));
  buildWasm(module, fn, { outDir: dir, params: initialParams(module), threads });
  const generated = (await import(pathToFileURL(path.join(dir, "model.js")).href)) as {
    load(): Promise<{ predictBatch(batch: number, ...inputs: Float32Array[]): Float32Array | Float32Array[]; dispose(): void }>;
  };
  const model = await generated.load();

  const run = (inputs: readonly Float32Array[], batch: number): Float32Array => {
    const out = model.predictBatch(batch, ...inputs);
    return Array.isArray(out) ? out[0]! : out;
  };
  // dispose() matters for the threads build: its worker threads keep the process alive.
  const dispose = () => {
    model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { name: threads ? `tfc-wasm-threads(${os.availableParallelism()})` : "tfc-wasm", run, predict: (input, batch) => run([input], batch), dispose };
}
