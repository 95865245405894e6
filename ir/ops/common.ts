// Helpers shared by op definitions: type rules for common shapes of ops, and errors they raise.

import type { DType, TensorType } from "../types.js";
import { broadcastShapes, formatType, normalizeAxis, BATCH } from "../types.js";
import { TfcError } from "../errors.js";

/** All operands have one dtype; the result has the broadcast shape. */
export function broadcastType(op: string, inputs: readonly TensorType[], resultDType?: DType): TensorType {
  const dtype = sameDType(op, inputs);
  let shape: number[] = [...inputs[0]!.shape];
  for (let i = 1; i < inputs.length; i++) {
    shape = broadcastShapes(shape, inputs[i]!.shape, `${op} operands ${inputs.map(formatType).join(" and ")}`);
  }
  return { dtype: resultDType ?? dtype, shape };
}

export function sameDType(op: string, inputs: readonly TensorType[]): DType {
  const d = inputs[0]!.dtype;
  for (const t of inputs) {
    if (t.dtype !== d) {
      throw new TfcError("TFC2004", `${op} operands must have the same dtype, got ${inputs.map((x) => x.dtype).join(" and ")}`);
    }
  }
  return d;
}

export function requireDType(op: string, t: TensorType, allowed: readonly DType[], what = "operand"): void {
  if (!allowed.includes(t.dtype)) {
    throw new TfcError("TFC2005", `${op} ${what} must be ${allowed.join(" or ")}, got ${formatType(t)}`);
  }
}

export function requireRank(op: string, t: TensorType, rank: number | readonly number[], what = "input"): void {
  const ranks = typeof rank === "number" ? [rank] : rank;
  if (!ranks.includes(t.shape.length)) {
    throw new TfcError("TFC2001", `${op} expects rank-${ranks.join(" or rank-")} ${what}, got ${formatType(t)}`);
  }
}

/** Normalize and de-duplicate reduction axes; empty means all axes. */
export function reductionAxes(op: string, axis: readonly number[], rank: number): number[] {
  if (axis.length === 0) return Array.from({ length: rank }, (_, i) => i);
  const out = [...new Set(axis.map((a) => normalizeAxis(a, rank, `${op} axis`)))];
  return out.sort((a, b) => a - b);
}

/** Multiply dimensions where `?` stays `?`. */
export function mulDims(a: number, b: number): number {
  return a === BATCH || b === BATCH ? BATCH : a * b;
}
