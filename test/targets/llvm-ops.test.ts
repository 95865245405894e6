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
import { interpret } from "../../ir/interpreter.js";
import { allOps, type OpName } from "../../ir/ops/index.js";
import { buildNative } from "../../targets/llvm/index.js";
import { NativeModel } from "../../runtime/js/native.js";
import { ACCUMULATING, chunkByTensors, describeEntry, groupInputs, groupModule, runnableCases } from "../ops/groups.js";
import { assertClose } from "../util.js";

const LIBM: ReadonlySet<string> = new Set(["exp", "log", "tanh", "pow", "sigmoid", "elu", "selu", "softplus", "gelu", "sqrt", "rsqrt"]);
const PER_BUILD = 10;

const entries = runnableCases();

test("every op in the registry has a case that runs natively", () => {
  const covered = new Set(entries.map((e) => e.op));
  const missing = allOps().map((d) => d.name).filter((n) => n !== "param" && !covered.has(n as OpName));
  assert.deepEqual(missing, []);
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tfc-llvm-ops-"));

// 2 + 2 per tensor C arguments: at most 31 tensors stay within koffi's 64.
chunkByTensors(entries, PER_BUILD, 31).forEach((group, g) => {
  test(`native ops, group ${g}: ${[...new Set(group.map((e) => e.op))].join(", ")}`, () => {
    const { module, fn } = groupModule(group);
    const artifacts = buildNative(module, fn, { outDir: path.join(tmp, `g${g}`), name: `ops${g}` });
    const model = NativeModel.load(artifacts.dir, `ops${g}`);
    try {
      for (const batch of [1, 3, 64]) {
        const inputs = groupInputs(group, batch, 100 * g + batch);
        const expected = interpret(module, fn, inputs);
        const actual = model.predict(inputs.map((t) => t.data), batch);
        group.forEach((e, i) => {
          const exp = expected[i]!;
          const [rtol, atol] = exp.dtype !== "f32" ? [0, 0] : ACCUMULATING.has(e.op) ? [1e-4, 1e-5] : LIBM.has(e.op) ? [2e-6, 1e-7] : [1e-6, 0];
          assertClose(Array.from(actual[i]!), Array.from(exp.data), rtol, atol, describeEntry(e, batch));
        });
      }
    } finally {
      model.dispose();
    }
  });
});
