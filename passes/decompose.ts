// decompose — expand ops defined by a decomposition (log_softmax, batch_norm, dropout, a softmax
// along an inner axis) into the primitives they are made of, so that fuse and lowering see ops with
// a scalar body or a kernel template. Ops whose own template handles them stay (a last-axis softmax).
// Requires: verified SSA. Preserves: semantics and source locations.

import { definePass } from "./pass.js";
import { expandForLowering } from "./lower/index.js";

export const decompose = definePass({
  name: "decompose",
  summary: "Expand ops defined by a decomposition into primitives (unless a kernel template takes them)",
  run: (fn, ctx) => expandForLowering(ctx.module, fn),
});
