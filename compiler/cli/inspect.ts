// `tfc inspect`: a Keras-style summary for models; for tf.functions, the signature, parameters
// and op counts of the optimized IR.

import type { CompileResult } from "../driver.js";
import { summaryLines } from "../api/models.js";
import { formatType, numElements } from "../../ir/types.js";

export function inspectText(result: CompileResult): string {
  const lines: string[] = [];
  if (result.traced.model) lines.push(...summaryLines(result.traced.model));
  for (const fn of result.module.functions) {
    const args = fn.args.map((a) => `${a.name}: ${formatType(a.type)}`).join(", ");
    const outs = fn.results.map((r, i) => `${fn.resultNames[i]}: ${formatType(r.type)}`).join(", ");
    lines.push(`Function ${fn.name}(${args}) -> (${outs})`);
    const counts = new Map<string, number>();
    for (const op of fn.body) counts.set(op.name, (counts.get(op.name) ?? 0) + 1);
    lines.push(`  ${fn.body.length} ops: ${[...counts].map(([k, v]) => `${k}×${v}`).join(", ")}`);
  }
  const params = [...result.module.params.values()];
  const total = params.reduce((n, p) => n + numElements(p.type.shape), 0);
  lines.push(`Parameters: ${params.length} tensors, ${total} values (${total * 4} bytes as f32)`);
  return lines.join("\n");
}
