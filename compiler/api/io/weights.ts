// The weights half of a TF.js Layers checkpoint: weight specs ({name, shape, dtype, group?,
// quantization?}) and their values as one little-endian binary (tfjs-core io.encodeWeights /
// decodeWeights), and the check that a checkpoint's weights fit a model before any is set.

import { TfcError } from "../../../ir/errors.js";
import { hostTensor, type HostTensor } from "../../../ir/tensor.js";
import { numElements, type DType } from "../../../ir/types.js";
import { currentUserLoc } from "../../frontend/location.js";
import type { LayersModel } from "../models.js";
import { Tensor, type Variable } from "../tensor.js";
import type { DataType } from "../dtypes.js";
import { topologyLayers } from "./layers-format.js";

/** One entry of a weights manifest's `weights` list. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: DataType;
  /** TF.js puts optimizer weights in the group "optimizer". */
  group?: string;
  /** Converter-quantized weights: stored as uint8/uint16 (value·scale + min) or float16. */
  quantization?: { dtype: "uint8" | "uint16" | "float16"; min?: number; scale?: number };
}

/** A weight's value by name, as a checkpoint holds it. */
export interface NamedHostTensor {
  name: string;
  value: HostTensor;
  group?: string;
}

/** A tensor by name, as TF.js's optimizer.getWeights() returns them. */
export interface NamedTensor {
  name: string;
  tensor: Tensor;
}

const IR_OF: Record<DataType, DType> = { float32: "f32", int32: "i32", bool: "bool" };
const DATA_TYPE_OF: Record<DType, DataType> = { f32: "float32", i32: "int32", bool: "bool" };
const BYTES: Record<DataType, number> = { float32: 4, int32: 4, bool: 1 };
const QUANTIZED_BYTES = { uint8: 1, uint16: 2, float16: 2 } as const;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes a spec's value takes in the binary. */
export function specBytes(spec: WeightSpec): number {
  const per = spec.quantization ? QUANTIZED_BYTES[spec.quantization.dtype] : BYTES[spec.dtype];
  return numElements(spec.shape) * per;
}

/** A spec read from model.json, checked field by field; `where` names the file. */
export function parseSpec(raw: unknown, where: string): WeightSpec {
  const r = raw as Partial<WeightSpec> | null;
  const bad = (what: string): never => {
    throw new TfcError("TFC7022", `${where}: weights manifest entry ${JSON.stringify(raw)} ${what}`, { loc: currentUserLoc() });
  };
  if (typeof r !== "object" || r === null || typeof r.name !== "string") return bad("has no name");
  if (!Array.isArray(r.shape) || !r.shape.every((d) => Number.isInteger(d) && d >= 0)) return bad("has no shape of non-negative integers");
  if (typeof r.dtype !== "string") return bad("has no dtype");
  if (!(r.dtype in BYTES)) {
    throw new TfcError("TFC7029", `${where}: weight '${r.name}' has dtype '${r.dtype}'; tfc reads float32, int32 and bool weights`, { loc: currentUserLoc() });
  }
  const q = r.quantization;
  if (q !== undefined && q !== null) {
    if (typeof q !== "object" || !(q.dtype in QUANTIZED_BYTES)) {
      throw new TfcError("TFC7029", `${where}: weight '${r.name}' is quantized as ${JSON.stringify(q)}; tfc reads uint8, uint16 and float16 quantization`, { loc: currentUserLoc() });
    }
    if (q.dtype === "float16" ? r.dtype !== "float32" : typeof q.scale !== "number" || typeof q.min !== "number" || r.dtype === "bool") {
      throw new TfcError("TFC7029", `${where}: weight '${r.name}' has ${r.dtype} values quantized as ${JSON.stringify(q)}, which tfc cannot decode`, { loc: currentUserLoc() });
    }
  }
  return { name: r.name, shape: r.shape, dtype: r.dtype, ...(r.group != null ? { group: r.group } : {}), ...(q ? { quantization: q } : {}) };
}

/** The binary of `weights`, in order, and their specs. */
export function encodeWeights(weights: readonly NamedHostTensor[]): { specs: WeightSpec[]; data: Uint8Array } {
  const specs = weights.map((w) => ({
    name: w.name,
    shape: [...w.value.shape],
    dtype: DATA_TYPE_OF[w.value.dtype],
    ...(w.group !== undefined ? { group: w.group } : {}),
  }));
  const data = new Uint8Array(specs.reduce((n, s) => n + specBytes(s), 0));
  const view = new DataView(data.buffer);
  let offset = 0;
  for (const { value } of weights) {
    const src = value.data;
    if (LITTLE_ENDIAN || value.dtype === "bool") {
      data.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), offset);
    } else {
      for (let i = 0; i < src.length; i++) {
        if (value.dtype === "f32") view.setFloat32(offset + 4 * i, src[i]!, true);
        else view.setInt32(offset + 4 * i, src[i]!, true);
      }
    }
    offset += src.byteLength;
  }
  return { specs, data };
}

/** IEEE half → float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Values for `specs` from `data`, which holds exactly their bytes in order (io/files.ts checks the size). */
export function decodeWeights(specs: readonly WeightSpec[], data: Uint8Array): NamedHostTensor[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  return specs.map((spec) => {
    const n = numElements(spec.shape);
    const dtype = IR_OF[spec.dtype];
    const value = hostTensor(dtype, spec.shape);
    const out = value.data;
    const q = spec.quantization;
    if (!q) {
      if (dtype === "bool") for (let i = 0; i < n; i++) out[i] = data[offset + i]! ? 1 : 0;
      else if (dtype === "f32") for (let i = 0; i < n; i++) out[i] = view.getFloat32(offset + 4 * i, true);
      else for (let i = 0; i < n; i++) out[i] = view.getInt32(offset + 4 * i, true);
    } else if (q.dtype === "float16") {
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(offset + 2 * i, true));
    } else {
      // tfjs-core decodeWeights: value·scale + min, rounded for int32.
      const stored = (i: number) => (q.dtype === "uint8" ? data[offset + i]! : view.getUint16(offset + 2 * i, true));
      for (let i = 0; i < n; i++) {
        const v = stored(i) * q.scale! + q.min!;
        out[i] = dtype === "i32" ? Math.round(v) : v;
      }
    }
    offset += specBytes(spec);
    return { name: spec.name, value, ...(spec.group !== undefined ? { group: spec.group } : {}) };
  });
}

/**
 * A model's weights in the order TF.js saves them (its `model.weights`): every layer's trainable
 * weights, then every layer's non-trainable ones (batch-norm moving statistics).
 */
export function modelWeights(model: LayersModel): Variable[] {
  const layers = topologyLayers(model);
  return [...layers.flatMap((l) => l.trainableWeights), ...layers.flatMap((l) => l.nonTrainableWeights)];
}

/** `[784,128]`, or `int32 [784,128]` where dtypes are what differs. */
const describe = (dtype: DType, shape: readonly number[], withDType: boolean): string => `${withDType ? `${DATA_TYPE_OF[dtype]} ` : ""}[${shape.join(",")}]`;

/**
 * Check that `weights` (a checkpoint's model weights) fit `model` — the same names, shapes and
 * dtypes — then set them. Nothing is set unless everything fits. Keras 3 checkpoints name weights
 * `layer/0`, `layer/1`; those are matched by position in their layer, as TF.js does.
 */
export function assignWeights(model: LayersModel, weights: readonly NamedHostTensor[], source: string): void {
  const byName = new Map(weights.map((w) => [w.name, w]));
  // TF.js's test for Keras 3 names: the first name ends in a number.
  const kerasV3 = weights.length > 0 && /\/\d+$/.test(weights[0]!.name) && !model.weights.some((v) => byName.has(v.name));
  const wanted: { key: string; variable: Variable }[] = topologyLayers(model).flatMap((l) =>
    l.weights.map((variable, i) => ({ key: kerasV3 ? `${l.name}/${i}` : variable.name, variable })),
  );
  const problems: string[] = [];
  const used = new Set<string>();
  for (const { key, variable } of wanted) {
    const w = byName.get(key);
    if (!w) {
      problems.push(`the model's ${variable.name} ${describe(variable.irType.dtype, variable.shape, false)} is not in the checkpoint`);
      continue;
    }
    used.add(key);
    const dtypeDiffers = w.value.dtype !== variable.irType.dtype;
    const shapeDiffers = w.value.shape.length !== variable.shape.length || w.value.shape.some((d, i) => d !== variable.shape[i]);
    if (dtypeDiffers || shapeDiffers) {
      problems.push(
        `checkpoint has ${key} ${describe(w.value.dtype, w.value.shape, dtypeDiffers)} but the model's ${variable.name} is ${describe(variable.irType.dtype, variable.shape, dtypeDiffers)}`,
      );
    }
  }
  for (const w of weights) {
    if (!used.has(w.name)) problems.push(`checkpoint has ${w.name} ${describe(w.value.dtype, w.value.shape, false)}, which the model does not have`);
  }
  if (new Set(weights.map((w) => w.name)).size !== weights.length) {
    const dup = weights.find((w, i) => weights.findIndex((x) => x.name === w.name) !== i)!;
    problems.unshift(`checkpoint has two weights named ${dup.name}`);
  }
  if (problems.length > 0) {
    const countDiffers = weights.length !== wanted.length;
    const shown = problems.slice(0, 5).map((p) => `  ${p}`);
    if (problems.length > 5) shown.push(`  … and ${problems.length - 5} more`);
    throw new TfcError(
      countDiffers ? "TFC7027" : "TFC7028",
      `${source} does not fit model '${model.name}'${countDiffers ? `: the checkpoint has ${weights.length} weights, the model ${wanted.length}` : ""}:\n${shown.join("\n")}`,
      { loc: currentUserLoc() },
    );
  }
  for (const { key, variable } of wanted) variable.write(Tensor.fromHost(byName.get(key)!.value));
}
