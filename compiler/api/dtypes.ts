// TF.js dtype names at the API surface, IR dtypes inside; conversion and TF.js's upcasting rule.

import type { DType } from "../../ir/types.js";
import { TfcError, closest } from "../../ir/errors.js";

export type DataType = "float32" | "int32" | "bool";

const TO_IR: Record<DataType, DType> = { float32: "f32", int32: "i32", bool: "bool" };
const FROM_IR: Record<DType, DataType> = { f32: "float32", i32: "int32", bool: "bool" };

export function toIRDType(d: string): DType {
  if (d in TO_IR) return TO_IR[d as DataType];
  const aliases: Record<string, DataType> = { float: "float32", f32: "float32", i32: "int32", int: "int32", boolean: "bool" };
  if (d in aliases) return TO_IR[aliases[d]!];
  const hint = closest(d, Object.keys(TO_IR));
  throw new TfcError("TFC3004", `unknown dtype '${d}'${d === "float64" || d === "int64" ? " (tfc computes in 32 bits, as TF.js does)" : ""}`, {
    notes: hint ? [`did you mean '${hint}'?`] : [`dtypes are: ${Object.keys(TO_IR).join(", ")}`],
  });
}

export function fromIRDType(d: DType): DataType {
  return FROM_IR[d];
}

/** TF.js upcasting: bool < int32 < float32. */
export function upcast(a: DType, b: DType): DType {
  const rank: Record<DType, number> = { bool: 0, i32: 1, f32: 2 };
  return rank[a] >= rank[b] ? a : b;
}
