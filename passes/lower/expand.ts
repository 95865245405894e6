// Expanding decompositions: ops defined by other ops (softmax, batch_norm, dropout) are replaced by
// their expansion, except where the caller keeps an op for a kernel template of its own (lowering
// keeps a last-axis softmax, which its template computes in one sweep per row).

import type { Func, Module, Op } from "../../ir/ir.js";
import { FuncBuilder } from "../../ir/builder.js";
import { getOp } from "../../ir/ops/index.js";
import { replaceOp } from "../pass.js";

/** Replace every decomposable op not kept by its expansion (repeatedly: expansions may decompose too). */
export function expandDecompositions(module: Module, fn: Func, keep: (op: Op) => boolean = () => false): boolean {
  let any = false;
  for (let changed = true; changed; ) {
    changed = false;
    for (const op of [...fn.body]) {
      const def = getOp(op.name);
      if (def.semantics !== "decompose" || keep(op)) continue;
      const b = FuncBuilder.forRewrite(module, fn);
      b.loc = op.loc;
      const value = def.decompose!(b, op.operands, op.attrs as never);
      fn.body.splice(fn.body.indexOf(op), 0, ...b.body);
      replaceOp(fn, op, value);
      changed = any = true;
    }
  }
  return any;
}
