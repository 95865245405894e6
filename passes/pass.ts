// What a pass is: a named function-to-function rewrite the pass manager (manager.ts) runs by name,
// plus the small IR-editing helpers passes share (replace uses, insert new ops, read constants).
// Passes mutate the function in place and report whether they changed it.

import type { Func, Module, Op, Value } from "../ir/ir.js";
import { FuncBuilder } from "../ir/builder.js";
import { getOp } from "../ir/ops/index.js";
import type { HostTensor } from "../ir/tensor.js";

export interface PassContext {
  readonly module: Module;
  /** A builder whose new values do not collide with the function's; its ops are not in the function until inserted. */
  rewriter(fn: Func): FuncBuilder;
}

export interface PassDef {
  /** The flag name: `--print-after=<name>`, `passes/<name>.ts`, `test/passes/<name>/`. */
  readonly name: string;
  readonly summary: string;
  /**
   * A local simplification that can expose work for the others (canonicalize, constant-fold, cse,
   * dce): the manager repeats a run of consecutive simplifying passes until none changes anything.
   */
  readonly simplifies?: boolean;
  /** Rewrite fn in place; return whether anything changed. */
  run(fn: Func, ctx: PassContext): boolean;
}

export function definePass(def: PassDef): PassDef {
  return def;
}

export function passContext(module: Module): PassContext {
  return { module, rewriter: (fn) => FuncBuilder.forRewrite(module, fn) };
}

/** Make every use of `from` (operands of ops and function results) use `to` instead; returns how many. */
export function replaceAllUses(fn: Func, from: Value, to: Value): number {
  let count = 0;
  for (const op of fn.body) {
    for (let i = 0; i < op.operands.length; i++) {
      if (op.operands[i] === from) {
        op.operands[i] = to;
        count++;
      }
    }
  }
  for (let i = 0; i < fn.results.length; i++) {
    if (fn.results[i] === from) {
      fn.results[i] = to;
      count++;
    }
  }
  return count;
}

/** Replace an op by a value computed before it: uses move to `replacement` and the op is removed. */
export function replaceOp(fn: Func, op: Op, replacement: Value): void {
  replaceAllUses(fn, op.result, replacement);
  const index = fn.body.indexOf(op);
  if (index >= 0) fn.body.splice(index, 1);
}

/**
 * Build new ops just before `at` (they inherit its source location) and return the value `build`
 * returns. The builder runs the type rules, so a rewrite can never produce a badly typed op.
 */
export function buildBefore(fn: Func, ctx: PassContext, at: Op, build: (b: FuncBuilder) => Value): Value {
  const b = ctx.rewriter(fn);
  b.loc = at.loc;
  const value = build(b);
  fn.body.splice(fn.body.indexOf(at), 0, ...b.body);
  return value;
}

/** The tensor a value holds when a `constant` op defines it. */
export function constantOf(v: Value): HostTensor | undefined {
  return v.def?.name === "constant" ? (v.def.attrs["value"] as HostTensor) : undefined;
}

/** Whether every element of a constant equals `x` (so `0` also matches `-0`). */
export function isSplatOf(t: HostTensor | undefined, x: number): boolean {
  if (!t || t.data.length === 0) return false;
  for (let i = 0; i < t.data.length; i++) if (t.data[i] !== x) return false;
  return true;
}

/** Pure ops may be merged (cse) or removed when unused (dce). */
export function isPure(op: Op): boolean {
  return getOp(op.name).traits.includes("pure");
}

/** How many times each value is used by an op or as a function result. */
export function useCounts(fn: Func): Map<Value, number> {
  const uses = new Map<Value, number>();
  const use = (v: Value) => uses.set(v, (uses.get(v) ?? 0) + 1);
  for (const op of fn.body) op.operands.forEach(use);
  fn.results.forEach(use);
  return uses;
}
