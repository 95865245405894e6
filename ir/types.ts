// Tensor types of the IR: dtypes, shapes with an optional symbolic batch dimension, broadcasting.
// Everything that reasons about shapes (type rules, verifier, frontend) goes through this file.

import { TfcError } from "./errors.js";

export type DType = "f32" | "i32" | "bool";
export const DTYPES: readonly DType[] = ["f32", "i32", "bool"];

/** The symbolic batch dimension, printed `?`. Only the leading dimension may be symbolic. */
export const BATCH = -1;

export type Shape = readonly number[];

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

export function tensorType(dtype: DType, shape: Shape): TensorType {
  return { dtype, shape: [...shape] };
}

export function isDType(s: string): s is DType {
  return (DTYPES as readonly string[]).includes(s);
}

/** `f32[?,784]`, `i32[]`. */
export function formatType(t: TensorType): string {
  return `${t.dtype}[${formatShape(t.shape)}]`;
}

export function formatShape(shape: Shape): string {
  return shape.map((d) => (d === BATCH ? "?" : String(d))).join(",");
}

export function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && sameShape(a.shape, b.shape);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function isStatic(shape: Shape): boolean {
  return shape.every((d) => d !== BATCH);
}

/** Number of elements; a symbolic batch dimension counts as `batch`. */
/** Whether a shape holds exactly one element at every batch size (no batch dimension, all sizes 1). */
export function isSingleElement(shape: Shape): boolean {
  return shape.every((d) => d === 1);
}

export function numElements(shape: Shape, batch = 1): number {
  let n = 1;
  for (const d of shape) n *= d === BATCH ? batch : d;
  return n;
}

/** Replace the symbolic batch dimension with a concrete size. */
export function concretize(shape: Shape, batch: number): number[] {
  return shape.map((d) => (d === BATCH ? batch : d));
}

/** Row-major strides of a concrete shape. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/**
 * NumPy / TF.js broadcasting: align trailing dimensions; a dimension of 1 stretches.
 * `?` with 1 gives `?`; `?` with n gives n (the batch must then be n at run time).
 */
export function broadcastShapes(a: Shape, b: Shape, what = "operands"): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else if (da === BATCH) out[i] = db;
    else if (db === BATCH) out[i] = da;
    else {
      throw new TfcError(
        "TFC2002",
        `${what} cannot be broadcast together: [${formatShape(a)}] and [${formatShape(b)}] differ at dimension ${i} (${da} vs ${db})`,
      );
    }
  }
  return out;
}

/** Normalize a possibly negative axis for a tensor of the given rank. */
export function normalizeAxis(axis: number, rank: number, what = "axis"): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) {
    throw new TfcError("TFC2003", `${what} ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}
