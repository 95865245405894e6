// canonicalize — local algebraic simplifications from a pattern table, one math comment per rule.
// Requires: verified IR. Preserves: every value's type (a rule fires only when the replacement has
// exactly the replaced result's type, so broadcasting never changes). Does: removes identities.

import { definePass, buildBefore, constantOf, isSplatOf, replaceOp, type PassContext } from "./pass.js";
import type { Func, Op, Value } from "../ir/ir.js";
import type { OpName } from "../ir/ops/index.js";
import { sameType } from "../ir/types.js";

interface Rule {
  readonly op: OpName;
  /** The identity the rule applies, in one line. */
  readonly math: string;
  /** The value that replaces op's result, or undefined when the rule does not apply. */
  rewrite(op: Op, fn: Func, ctx: PassContext): Value | undefined;
}

export const CANONICALIZATION_RULES: readonly Rule[] = [
  // Identity elements. For f32, x + 0 turns -0 into +0; like XLA's simplifier, the sign of zero is not kept.
  { op: "add", math: "x + 0 → x, 0 + x → x", rewrite: (op) => identityOperand(op, 0, true) },
  { op: "sub", math: "x − 0 → x", rewrite: (op) => identityOperand(op, 0, false) },
  { op: "mul", math: "x · 1 → x, 1 · x → x", rewrite: (op) => identityOperand(op, 1, true) },
  { op: "div", math: "x / 1 → x", rewrite: (op) => identityOperand(op, 1, false) },
  { op: "neg", math: "−(−x) → x", rewrite: (op) => operandOf(op.operands[0]!, "neg") },
  { op: "cast", math: "cast(x: T) to T → x", rewrite: (op) => sameTypeAsResult(op) },
  { op: "broadcast_to", math: "broadcast_to(x: S) to S → x", rewrite: (op) => sameTypeAsResult(op) },
  { op: "reshape", math: "reshape(x: S) to S → x", rewrite: (op) => sameTypeAsResult(op) },
  {
    op: "reshape",
    math: "reshape(reshape(x, s1), s2) → reshape(x, s2)",
    rewrite: (op, fn, ctx) => {
      const x = operandOf(op.operands[0]!, "reshape");
      if (!x) return undefined;
      return buildBefore(fn, ctx, op, (b) => b.op("reshape", [x], { shape: op.attrs["shape"]! }));
    },
  },
  { op: "transpose", math: "transpose(x, [0, 1, …, n−1]) → x", rewrite: (op) => (isIdentityPerm(perm(op)) ? op.operands[0] : undefined) },
  {
    op: "transpose",
    math: "transpose(transpose(x, p), q) → transpose(x, i ↦ p[q[i]])",
    rewrite: (op, fn, ctx) => {
      const inner = op.operands[0]!.def;
      if (inner?.name !== "transpose") return undefined;
      const p = perm(inner);
      const composed = perm(op).map((q) => p[q]!);
      const x = inner.operands[0]!;
      if (isIdentityPerm(composed)) return x;
      return buildBefore(fn, ctx, op, (b) => b.op("transpose", [x], { perm: composed }));
    },
  },
  {
    op: "matmul",
    math: "matmul(transpose(a, …, n−1, n−2), b) → matmul(a, b) with transpose_a flipped; likewise b (the GEMM reads the transposed operand in place)",
    rewrite: (op, fn, ctx) => {
      const swapped = (v: Value): Value | undefined => (v.def?.name === "transpose" && isLastTwoSwap(perm(v.def)) ? v.def.operands[0] : undefined);
      const [a, b] = op.operands as [Value, Value];
      const [xa, xb] = [swapped(a), swapped(b)];
      if (!xa && !xb) return undefined;
      const ta = op.attrs["transpose_a"] === true;
      const tb = op.attrs["transpose_b"] === true;
      return buildBefore(fn, ctx, op, (bb) => bb.op("matmul", [xa ?? a, xb ?? b], { transpose_a: xa ? !ta : ta, transpose_b: xb ? !tb : tb }));
    },
  },
];

export const canonicalize = definePass({
  name: "canonicalize",
  summary: "Algebraic identities from a pattern table (x+0→x, transpose∘transpose, …)",
  simplifies: true,
  run(fn, ctx) {
    let changed = false;
    for (let i = 0; i < fn.body.length; i++) {
      const op = fn.body[i]!;
      for (const rule of CANONICALIZATION_RULES) {
        if (rule.op !== op.name) continue;
        const replacement = rule.rewrite(op, fn, ctx);
        if (replacement === undefined) continue;
        if (!sameType(replacement.type, op.result.type)) {
          throw new Error(`canonicalize rule '${rule.math}' changed a type; rules must keep types`);
        }
        replaceOp(fn, op, replacement);
        changed = true;
        i--; // index i now holds the op the rule built, or the op after the removed one: look at it next
        break;
      }
    }
    return changed;
  },
});

/** For `op(a, e)` (and `op(e, a)` when commutative) with e a constant splat of `unit`: a, when a has the result's type. */
function identityOperand(op: Op, unit: number, commutative: boolean): Value | undefined {
  const [a, b] = op.operands as [Value, Value];
  if (isSplatOf(constantOf(b), unit) && sameType(a.type, op.result.type)) return a;
  if (commutative && isSplatOf(constantOf(a), unit) && sameType(b.type, op.result.type)) return b;
  return undefined;
}

/** The operand of `v`'s defining op when that op is `name`. */
function operandOf(v: Value, name: string): Value | undefined {
  return v.def?.name === name ? v.def.operands[0] : undefined;
}

/** The op's operand when it already has the result's type (the op then moves no data). */
function sameTypeAsResult(op: Op): Value | undefined {
  const x = op.operands[0]!;
  return sameType(x.type, op.result.type) ? x : undefined;
}

function perm(op: Op): readonly number[] {
  return op.attrs["perm"] as readonly number[];
}

/** [0, 1, …, n−3, n−1, n−2]: a matrix transpose of each of the leading dimensions' matrices. */
function isLastTwoSwap(p: readonly number[]): boolean {
  const n = p.length;
  return n >= 2 && p[n - 1] === n - 2 && p[n - 2] === n - 1 && p.slice(0, -2).every((d, i) => d === i);
}

function isIdentityPerm(p: readonly number[]): boolean {
  return p.every((d, i) => d === i);
}
