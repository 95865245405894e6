/**
 * strip-training — remove ops that act only while training: in inference, `dropout` is its input.
 * Requires verified SSA; preserves types (each removed op's result has its operand's type).
 * Runs in the inference pipelines only: a training pipeline keeps dropout for its mask.
 */

import { definePass, replaceOp } from "./pass.js";

/** Ops that are the identity outside training, by name. */
const IDENTITY_IN_INFERENCE: ReadonlySet<string> = new Set(["dropout"]);

export const stripTraining = definePass({
  name: "strip-training",
  summary: "remove ops that only act during training (dropout → its input)",
  run(fn) {
    let changed = false;
    for (const op of [...fn.body]) {
      if (!IDENTITY_IN_INFERENCE.has(op.name)) continue;
      replaceOp(fn, op, op.operands[0]!); // dropout(x) = x at inference
      changed = true;
    }
    return changed;
  },
});
