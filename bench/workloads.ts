// The benchmark's workloads, prepared once for every system: the example models compiled by tfc
// with their initial weights (for TF.js in layer order, for ONNX as a translated graph), and the
// SGEMM tf.function written as a model file. Inputs are seeded, so every run uses the same numbers.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { compile, type CompileResult } from "../compiler/driver.js";
import { initialParams, type ParamValues } from "../ir/interpreter.js";
import { Rng } from "../ir/initializers.js";
import type { HostTensor } from "../ir/tensor.js";
import { BATCH } from "../ir/types.js";
import { exportOnnx } from "./onnx-export.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../.."); // dist/bench → repo

/**
 * The ONNX graph is translated from IR made of primitive ops only (dropout stripped), so that
 * whatever fusions the inference pipeline learns, the exporter's op table still covers it.
 */
export const ONNX_SOURCE_PIPELINE = ["infer-types", "strip-training", "dce"];

export interface CompiledWorkload {
  readonly file: string;
  /** The inference-pipeline compile tfc's runners use. */
  readonly compiled: CompileResult;
  /** tfc's initial parameter values: the weights every system runs with. */
  readonly params: ParamValues;
  /** Shapes of the function's inputs, `?` as -1. */
  readonly inputShapes: readonly (readonly number[])[];
  /** The same function as an ONNX model with `params`, or why it could not be translated. */
  readonly onnx: Uint8Array | { readonly error: string };
}

export interface ModelWorkload extends CompiledWorkload {
  readonly name: string;
  /** Layer weights in the model's order (what TF.js's setWeights takes). */
  readonly layerWeights: readonly HostTensor[];
  /** The input's shape after the batch dimension. */
  readonly sampleShape: readonly number[];
}

export function prepareCompiled(file: string): CompiledWorkload {
  const compiled = compile(file);
  const params = initialParams(compiled.module);
  const fn = compiled.module.functions[0]!;
  let onnx: CompiledWorkload["onnx"];
  try {
    const primitive = compile(file, { pipeline: ONNX_SOURCE_PIPELINE });
    onnx = exportOnnx(primitive.module, primitive.module.functions[0]!.name, params);
  } catch (e) {
    onnx = { error: (e as Error).message };
  }
  return { file, compiled, params, inputShapes: fn.args.map((a) => a.type.shape), onnx };
}

/** An example model (examples/<name>.ts) with a single batched input. */
export function prepareModel(name: string): ModelWorkload {
  const base = prepareCompiled(path.join(REPO_ROOT, "examples", `${name}.ts`));
  const model = base.compiled.traced.model;
  if (!model) throw new Error(`examples/${name}.ts does not export a layers model`);
  const layerWeights = model.weights.map((w) => {
    const value = base.params.get(w.name);
    if (!value) throw new Error(`examples/${name}.ts: no parameter for layer weight ${w.name}`);
    return value;
  });
  const [inputShape] = base.inputShapes;
  if (base.inputShapes.length !== 1 || inputShape![0] !== BATCH) throw new Error(`examples/${name}.ts: expected one input with a leading batch dimension`);
  return { ...base, name, layerWeights, sampleShape: inputShape!.slice(1) };
}

/** Write the SGEMM model for n×n matrices into a fresh temporary folder; returns its path. */
export function writeSgemmModel(n: number): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-bench-sgemm-"));
  const file = path.join(folder, `sgemm-${n}.ts`);
  fs.writeFileSync(
    file,
    `// C = A·B for ${n}×${n} float32 matrices (written by tfc's benchmark).
import * as tf from "tfc";

export default tf.function((a, b) => tf.matMul(a, b), { inputSignature: [tf.tensorSpec([${n}, ${n}]), tf.tensorSpec([${n}, ${n}])] });
`,
  );
  return file;
}

/** `size` seeded uniform values in [low, high). */
export function seededUniform(size: number, seed: number, low: number, high: number): Float32Array {
  const rng = new Rng(seed);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = low + (high - low) * rng.next();
  return data;
}
