// dce — dead code elimination: remove pure ops whose results nothing uses.
// Requires: SSA order. Preserves: every op with a use or a side effect, and the function results.
// Does: one backward sweep, so chains of dead ops go at once.

import { definePass, isPure, useCounts } from "./pass.js";

export const dce = definePass({
  name: "dce",
  summary: "Remove pure ops whose results are unused",
  simplifies: true,
  run(fn) {
    const uses = useCounts(fn);
    const before = fn.body.length;
    for (let i = fn.body.length - 1; i >= 0; i--) {
      const op = fn.body[i]!;
      if ((uses.get(op.result) ?? 0) > 0 || !isPure(op)) continue;
      for (const o of op.operands) uses.set(o, uses.get(o)! - 1);
      fn.body.splice(i, 1);
    }
    return fn.body.length !== before;
  },
});
