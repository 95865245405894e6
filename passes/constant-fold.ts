// constant-fold — evaluate pure ops whose operands are all constants, on the reference interpreter.
// Requires: verified IR. Preserves: the result value and its type (the op becomes a `constant` in
// place). Does: folds results up to MAX_FOLDED_ELEMENTS elements; params are never folded.

import { definePass, constantOf, isPure } from "./pass.js";
import { evalOp } from "../ir/interpreter.js";
import { TfcError } from "../ir/errors.js";
import { formatType, numElements, sameType } from "../ir/types.js";
import { typeOfHost } from "../ir/tensor.js";

/** Larger results stay computed at run time: folding them would bloat the artifact's constants. */
export const MAX_FOLDED_ELEMENTS = 1 << 20;

export const constantFold = definePass({
  name: "constant-fold",
  summary: "Evaluate pure ops on constant operands with the reference interpreter",
  simplifies: true,
  run(fn) {
    let changed = false;
    for (const op of fn.body) {
      if (op.operands.length === 0 || op.name === "param" || !isPure(op)) continue;
      const inputs = op.operands.map(constantOf);
      if (inputs.some((t) => t === undefined)) continue;
      if (numElements(op.result.type.shape) > MAX_FOLDED_ELEMENTS) continue;
      let value;
      try {
        value = evalOp(op.name, inputs.map((t) => t!), op.attrs);
      } catch (e) {
        if (e instanceof TfcError) e.at(op.loc);
        throw e;
      }
      if (!sameType(typeOfHost(value), op.result.type)) {
        throw new TfcError("TFC4009", `folding ${op.name} gave ${formatType(typeOfHost(value))}, but its result is ${formatType(op.result.type)}`, op.loc ? { loc: op.loc } : {});
      }
      op.name = "constant";
      op.operands = [];
      op.attrs = { value };
      changed = true;
    }
    return changed;
  },
});
