// Concrete tensor values: the data the reference interpreter computes with and eager mode returns.
// Row-major, f32 in Float32Array, i32 in Int32Array, bool in Uint8Array (0 or 1).

import type { DType, Shape, TensorType } from "./types.js";
import { formatShape, numElements, isStatic } from "./types.js";
import { TfcError } from "./errors.js";

export type TensorData = Float32Array | Int32Array | Uint8Array;

export interface HostTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export function allocData(dtype: DType, size: number): TensorData {
  switch (dtype) {
    case "f32":
      return new Float32Array(size);
    case "i32":
      return new Int32Array(size);
    case "bool":
      return new Uint8Array(size);
  }
}

export function hostTensor(dtype: DType, shape: Shape, data?: TensorData | ArrayLike<number>): HostTensor {
  if (!isStatic(shape)) throw new TfcError("TFC2010", `a concrete tensor cannot have a symbolic shape [${formatShape(shape)}]`);
  const size = numElements(shape);
  let buf: TensorData;
  if (data === undefined) buf = allocData(dtype, size);
  else if (isTyped(data, dtype)) buf = data;
  else {
    buf = allocData(dtype, size);
    if (data.length !== size) {
      throw new TfcError("TFC2011", `${data.length} values do not fill a tensor of shape [${formatShape(shape)}] (${size} elements)`);
    }
    for (let i = 0; i < size; i++) buf[i] = dtype === "bool" ? (data[i] ? 1 : 0) : data[i]!;
  }
  if (buf.length !== size) {
    throw new TfcError("TFC2011", `${buf.length} values do not fill a tensor of shape [${formatShape(shape)}] (${size} elements)`);
  }
  return { dtype, shape: [...shape], data: buf };
}

function isTyped(data: TensorData | ArrayLike<number>, dtype: DType): data is TensorData {
  return (
    (dtype === "f32" && data instanceof Float32Array) ||
    (dtype === "i32" && data instanceof Int32Array) ||
    (dtype === "bool" && data instanceof Uint8Array)
  );
}

export function typeOfHost(t: HostTensor): TensorType {
  return { dtype: t.dtype, shape: t.shape };
}

/** Nested JS arrays (or a scalar) from a tensor, as TF.js `arraySync()` returns them. */
export function toNested(t: HostTensor): unknown {
  const values = t.dtype === "bool" ? Array.from(t.data, (v) => v !== 0) : Array.from(t.data);
  if (t.shape.length === 0) return values[0];
  const build = (dim: number, offset: number): unknown[] => {
    const n = t.shape[dim]!;
    const inner = numElements(t.shape.slice(dim + 1));
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      out.push(dim === t.shape.length - 1 ? values[offset + i] : build(dim + 1, offset + i * inner));
    }
    return out;
  };
  return build(0, 0);
}

/** Infer the shape of nested arrays and flatten them; throws a readable error for ragged input. */
export function flattenNested(value: unknown, what = "value"): { shape: number[]; values: number[] } {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe) || ArrayBuffer.isView(probe)) {
    const arr = probe as ArrayLike<unknown>;
    shape.push(arr.length);
    probe = arr.length > 0 ? arr[0] : undefined;
    if (arr.length === 0) break;
  }
  const values: number[] = [];
  const walk = (v: unknown, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof v === "boolean") values.push(v ? 1 : 0);
      else if (typeof v === "number") values.push(v);
      else throw new TfcError("TFC1003", `${what}${path} is ${describe(v)}, expected a number`);
      return;
    }
    if (!(Array.isArray(v) || ArrayBuffer.isView(v))) {
      throw new TfcError("TFC1004", `${what}${path} is ${describe(v)}, expected an array of length ${shape[dim]}`);
    }
    const arr = v as ArrayLike<unknown>;
    if (arr.length !== shape[dim]) {
      throw new TfcError("TFC1004", `${what}${path} has length ${arr.length}, expected ${shape[dim]} (ragged nested arrays)`);
    }
    for (let i = 0; i < arr.length; i++) walk(arr[i], dim + 1, `${path}[${i}]`);
  };
  walk(value, 0, "");
  return { shape, values };
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + "…" : v)}`;
  return `${typeof v} ${String(v)}`;
}
