// Every op of the registry, compiled to native code through kernel IR and LLVM, equals the
// reference interpreter on random inputs — the sample cases of test/ops/cases.ts (odd sizes and
// broadcasting included) at batch 1, 3 and 64. Cases are packed several to a compiled function
// so the whole registry needs a handful of builds.
// Tolerances (|a-e| <= atol + rtol·|e|): exact for integer, bool and data-movement results;
// 2e-6 relative for elementwise float math (libm vs JS rounding); 1e-4 relative for ops that sum
// many terms in a different order (matmul, convolutions, average pooling, reductions, softmax).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Module, type Value } from "../../ir/ir.js";
import { FuncBuilder } from "../../ir/builder.js";
import { interpret } from "../../ir/interpreter.js";
import { allOps, type OpName } from "../../ir/ops/index.js";
import { hostTensor, type HostTensor } from "../../ir/tensor.js";
import { Rng } from "../../ir/initializers.js";
import { concretize } from "../../ir/types.js";
import { buildNative } from "../../targets/llvm/index.js";
import { NativeModel } from "../../runtime/js/native.js";
import { OP_CASES, describeCase, type OpCase } from "../ops/cases.js";
import { assertClose } from "../util.js";

const ACCUMULATING: ReadonlySet<string> = new Set(["matmul", "conv2d", "depthwise_conv2d", "avg_pool", "sum", "mean", "prod", "softmax", "log_softmax", "batch_norm"]);
const LIBM: ReadonlySet<string> = new Set(["exp", "log", "tanh", "pow", "sigmoid", "elu", "selu", "softplus", "gelu", "sqrt", "rsqrt"]);
const PER_BUILD = 10;

interface Entry {
  readonly op: OpName;
  readonly c: OpCase;
}

const entries: Entry[] = [];
for (const def of allOps()) {
  for (const c of OP_CASES[def.name as OpName].valid) if (c.runAlone !== false) entries.push({ op: def.name as OpName, c });
}

test("every op in the registry has a case that runs natively", () => {
  const covered = new Set(entries.map((e) => e.op));
  const missing = allOps().map((d) => d.name).filter((n) => n !== "param" && !covered.has(n as OpName));
  assert.deepEqual(missing, []);
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-llvm-ops-"));

for (let g = 0; g * PER_BUILD < entries.length; g++) {
  const group = entries.slice(g * PER_BUILD, (g + 1) * PER_BUILD);
  test(`native ops, group ${g}: ${[...new Set(group.map((e) => e.op))].join(", ")}`, () => {
    const module = new Module();
    const b = new FuncBuilder(module, "ops");
    const results: Value[] = [];
    group.forEach((e, i) => {
      const args = e.c.operands.map((o, k) => b.arg(`c${i}_${k}`, { dtype: o.dtype, shape: o.shape }));
      results.push(b.op(e.op, args, e.c.attrs ?? {}));
    });
    const fn = b.finish(results, group.map((_, i) => `r${i}`));
    module.functions.push(fn);
    const artifacts = buildNative(module, fn, { outDir: path.join(tmp, `g${g}`), name: `ops${g}` });
    const model = NativeModel.load(artifacts.dir, `ops${g}`);
    try {
      for (const batch of [1, 3, 64]) {
        const rng = new Rng(100 * g + batch);
        const inputs: HostTensor[] = group.flatMap((e) =>
          e.c.operands.map((o) => {
            const t = hostTensor(o.dtype, concretize(o.shape, batch));
            for (let i = 0; i < t.data.length; i++) t.data[i] = o.sample(rng);
            return t;
          }),
        );
        const expected = interpret(module, fn, inputs);
        const actual = model.predict(inputs.map((t) => t.data), batch);
        group.forEach((e, i) => {
          const what = `${e.op} ${describeCase({ operands: e.c.operands.map((o) => ({ dtype: o.dtype, shape: o.shape })), ...(e.c.attrs ? { attrs: e.c.attrs } : {}) })} at batch ${batch}`;
          const exp = expected[i]!;
          const [rtol, atol] = exp.dtype !== "f32" ? [0, 0] : ACCUMULATING.has(e.op) ? [1e-4, 1e-5] : LIBM.has(e.op) ? [2e-6, 1e-7] : [1e-6, 0];
          assertClose(Array.from(actual[i]!), Array.from(exp.data), rtol, atol, what);
        });
      }
    } finally {
      model.dispose();
    }
  });
}
