// infer-types — re-run every op's type rule in order and store the result types it gives.
// Requires: SSA order, known ops. Preserves: ops, operands, attributes (missing defaults are filled).
// Does: propagates new argument types (e.g. a concrete batch) and fails, at the op, if the IR no longer types.

import { definePass } from "./pass.js";
import { inferOpType, resolveAttrs } from "../ir/builder.js";
import { getOp } from "../ir/ops/index.js";
import { TfcError } from "../ir/errors.js";
import { sameType } from "../ir/types.js";
import { printOp } from "../ir/printer.js";

export const inferTypes = definePass({
  name: "infer-types",
  summary: "Re-run the type rules in order and update result types; a located error if the IR no longer types",
  run(fn) {
    let changed = false;
    for (const op of fn.body) {
      try {
        const def = getOp(op.name);
        const attrs = resolveAttrs(def, op.attrs);
        if (Object.keys(attrs).length !== Object.keys(op.attrs).length) {
          op.attrs = attrs;
          changed = true;
        }
        const type = inferOpType(
          def,
          op.operands.map((o) => o.type),
          attrs,
        );
        if (!sameType(type, op.result.type)) {
          op.result.type = type;
          changed = true;
        }
      } catch (e) {
        if (e instanceof TfcError) {
          e.at(op.loc);
          e.notes.push(`in @${fn.name}: ${printOp(fn, op)}`);
        }
        throw e;
      }
    }
    return changed;
  },
});
