// Every op case of the registry (test/ops/cases.ts), lowered to kernel IR by passes/lower, must
// verify, print and parse back to the same text, and run on the kernel interpreter to the values
// of the tensor reference interpreter, at batch 1 and 3 and vector widths 4 and 8. Tolerances:
// exact for integer, bool and data-movement results and for elementwise float math (both sides
// round every step to f32 with the same JS Math); 1e-5 relative for ops that sum in another order.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Module, type Func } from "../../ir/ir.js";
import { FuncBuilder } from "../../ir/builder.js";
import { interpret } from "../../ir/interpreter.js";
import { allOps, type OpName } from "../../ir/ops/index.js";
import { hostTensor, type HostTensor } from "../../ir/tensor.js";
import { Rng } from "../../ir/initializers.js";
import { concretize } from "../../ir/types.js";
import { lowerFunction } from "../../passes/lower/index.js";
import { verifyKProgram } from "../../ir/kernel/verify.js";
import { printKProgram } from "../../ir/kernel/print.js";
import { parseKProgram } from "../../ir/kernel/parse.js";
import { interpretKProgram } from "../../ir/kernel/interpret.js";
import { OP_CASES, describeCase, type OpCase } from "../ops/cases.js";
import { assertClose } from "../util.js";

const ACCUMULATING: ReadonlySet<string> = new Set(["matmul", "conv2d", "depthwise_conv2d", "avg_pool", "sum", "mean", "prod", "softmax", "log_softmax", "batch_norm"]);

function caseFunction(op: OpName, c: OpCase): { module: Module; fn: Func } {
  const module = new Module();
  const b = new FuncBuilder(module, "f");
  const args = c.operands.map((o, k) => b.arg(`x${k}`, { dtype: o.dtype, shape: o.shape }));
  const fn = b.finish([b.op(op, args, c.attrs ?? {})], ["y"]);
  module.functions.push(fn);
  return { module, fn };
}

for (const def of allOps()) {
  const op = def.name as OpName;
  const cases = OP_CASES[op].valid.filter((c) => c.runAlone !== false);
  if (cases.length === 0) continue;
  test(`${op}: lowered kernels verify, round-trip and match the reference interpreter`, () => {
    cases.forEach((c, ci) => {
      for (const width of [4, 8]) {
        const { module, fn } = caseFunction(op, c);
        const what = `${op} ${describeCase({ operands: c.operands.map((o) => ({ dtype: o.dtype, shape: o.shape })), ...(c.attrs ? { attrs: c.attrs } : {}) })} (case ${ci}, width ${width})`;
        for (const batch of [1, 3]) {
          const rng = new Rng(31 * ci + batch);
          const inputs: HostTensor[] = c.operands.map((o) => {
            const t = hostTensor(o.dtype, concretize(o.shape, batch));
            for (let i = 0; i < t.data.length; i++) t.data[i] = o.sample(rng);
            return t;
          });
          const [expected] = interpret(module, fn, inputs);
          const program = lowerFunction(module, fn, { vectorWidth: width });
          verifyKProgram(program);
          const text = printKProgram(program);
          assert.equal(printKProgram(parseKProgram(text, `${op}.kir`)), text, `${what}: print/parse round trip`);
          const [actual] = interpretKProgram(program, inputs.map((t) => t.data as Float32Array | Int32Array | Uint8Array), new Map(), batch);
          const [rtol, atol] = expected!.dtype === "f32" && ACCUMULATING.has(op) ? [1e-5, 1e-6] : [0, 0];
          assertClose(Array.from(actual!), Array.from(expected!.data), rtol, atol, `${what} at batch ${batch}`);
        }
      }
    });
  });
}
