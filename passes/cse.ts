// cse — common subexpression elimination: merge pure ops with the same name, operands and attributes.
// Requires: verified SSA (an earlier op dominates every later one). Preserves: types and semantics.
// Does: later duplicates are replaced by the first; operands of commutative ops match in any order;
// attributes compare deeply (tensors by content, NaN equal to NaN, -0 different from 0).

import { definePass, isPure, replaceOp } from "./pass.js";
import type { Op, Value } from "../ir/ir.js";
import type { AttrValue } from "../ir/attrs.js";
import type { HostTensor } from "../ir/tensor.js";
import { getOp } from "../ir/ops/index.js";
import { sameType } from "../ir/types.js";

export const cse = definePass({
  name: "cse",
  summary: "Merge pure ops with the same name, operands and attributes",
  simplifies: true,
  run(fn) {
    let changed = false;
    const index = new Map<Value, number>();
    fn.args.forEach((a, i) => index.set(a, i));
    const seen = new Map<string, Op[]>();
    for (let i = 0; i < fn.body.length; i++) {
      const op = fn.body[i]!;
      if (!isPure(op)) {
        index.set(op.result, index.size);
        continue;
      }
      const key = opKey(op, index);
      const candidates = seen.get(key) ?? [];
      const same = candidates.find((prev) => attrsEqual(prev.attrs, op.attrs) && sameType(prev.result.type, op.result.type));
      if (same) {
        replaceOp(fn, op, same.result);
        changed = true;
        i--;
        continue;
      }
      candidates.push(op);
      seen.set(key, candidates);
      index.set(op.result, index.size);
    }
    return changed;
  },
});

/** Name, operands (sorted when commutative) and a cheap summary of attributes; attrsEqual settles ties. */
function opKey(op: Op, index: Map<Value, number>): string {
  const operands = op.operands.map((o) => index.get(o) ?? -1);
  if (getOp(op.name).traits.includes("commutative")) operands.sort((a, b) => a - b);
  const attrs = Object.keys(op.attrs)
    .sort()
    .map((k) => `${k}:${attrSummary(op.attrs[k]!)}`);
  return `${op.name}(${operands.join(",")}){${attrs.join(",")}}`;
}

function attrSummary(v: AttrValue): string {
  if (typeof v === "object" && !Array.isArray(v)) {
    const t = v as HostTensor;
    return `${t.dtype}[${t.shape.join(",")}]#${t.data.length ? t.data[0] : ""}`;
  }
  return typeof v === "number" ? (Object.is(v, -0) ? "-0" : String(v)) : JSON.stringify(v);
}

export function attrsEqual(a: Readonly<Record<string, AttrValue>>, b: Readonly<Record<string, AttrValue>>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => k in b && attrValueEqual(a[k]!, b[k]!));
}

function attrValueEqual(a: AttrValue, b: AttrValue): boolean {
  if (typeof a !== "object" || typeof b !== "object") return Object.is(a, b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
  }
  const s = a as HostTensor;
  const t = b as HostTensor;
  if (s.dtype !== t.dtype || s.shape.length !== t.shape.length || s.shape.some((d, i) => d !== t.shape[i])) return false;
  if (s.data.length !== t.data.length) return false;
  for (let i = 0; i < s.data.length; i++) if (!Object.is(s.data[i], t.data[i])) return false;
  return true;
}
