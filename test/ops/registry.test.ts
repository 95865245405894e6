// Registry-wide op checks: every op is well formed (name, summary with an IR example, exactly one
// kind of semantics), has cases in test/ops/cases.ts, and its type rule agrees with what the
// reference interpreter produces, for symbolic and concrete batches. Invalid cases pin errors.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { allOps, OPS } from "../../ir/ops/index.js";
import { inferOpType, resolveAttrs } from "../../ir/builder.js";
import { evalOp } from "../../ir/interpreter.js";
import { Rng } from "../../ir/initializers.js";
import { TfcError } from "../../ir/errors.js";
import { hostTensor } from "../../ir/tensor.js";
import { BATCH, concretize, formatType, numElements, type TensorType } from "../../ir/types.js";
import type { OpDef } from "../../ir/op-def.js";
import { DEFAULT_BATCH, OP_CASES, describeCase, sampleInputs, type OpCase } from "./cases.js";

const dataClass = { f32: Float32Array, i32: Int32Array, bool: Uint8Array } as const;

function casesOf(name: string) {
  return (OP_CASES as Record<string, (typeof OP_CASES)[keyof typeof OP_CASES] | undefined>)[name];
}

function symbolicTypes(c: OpCase): TensorType[] {
  return c.operands.map((o) => ({ dtype: o.dtype, shape: o.shape }));
}

describe("op registry", () => {
  it("keys every op by its own name", () => {
    for (const [key, def] of Object.entries(OPS)) assert.equal(def.name, key, `registry key '${key}' holds op '${def.name}'`);
  });

  it("gives every op a one-line summary with an IR example of itself", () => {
    for (const def of allOps()) {
      assert.ok(!def.summary.includes("\n"), `${def.name}: summary must be one line`);
      const quoted = [...def.summary.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      const example = new RegExp(`^%\\d+ = ${def.name}\\b.* : (f32|i32|bool)\\[[^\\]]*\\]$`);
      assert.ok(
        quoted.some((q) => example.test(q)),
        `${def.name}: summary needs a backticked IR example '%N = ${def.name} … : type', got: ${def.summary}`,
      );
    }
  });

  it("defines exactly one of scalar, decompose, interpret for every op", () => {
    for (const def of allOps()) {
      const kinds = (["scalar", "decompose", "interpret"] as const).filter((k) => typeof def[k] === "function");
      assert.deepEqual(kinds, [def.semantics], `${def.name}: semantics '${def.semantics}' but defines ${kinds.join(", ")}`);
      assert.equal(def.semantics === "scalar", def.traits.includes("elementwise"), `${def.name}: scalar body exactly when elementwise`);
    }
  });

  it("has type-rule cases for every op (test/ops/cases.ts)", () => {
    const missing = allOps().filter((def) => (casesOf(def.name)?.valid.length ?? 0) === 0).map((def) => def.name);
    assert.deepEqual(missing, [], `ops without cases in test/ops/cases.ts: ${missing.join(", ")}`);
    const stale = Object.keys(OP_CASES).filter((name) => !(name in OPS));
    assert.deepEqual(stale, [], `cases for ops not in the registry: ${stale.join(", ")}`);
  });
});

describe("type rule vs interpreter", () => {
  for (const def of allOps() as OpDef[]) {
    const opCases = casesOf(def.name);
    if (!opCases) continue; // reported by "has type-rule cases for every op"
    describe(def.name, () => {
      opCases.valid.forEach((c, i) => {
        const label = describeCase({ operands: symbolicTypes(c), ...(c.attrs ? { attrs: c.attrs } : {}) });
        it(`#${i} ${label}`, () => {
          const attrs = resolveAttrs(def, c.attrs ?? {});
          const batch = c.batch ?? DEFAULT_BATCH;
          const symbolic = inferOpType(def, symbolicTypes(c), attrs);
          assert.ok(!symbolic.shape.slice(1).includes(BATCH), `${def.name}: result ${formatType(symbolic)} has '?' away from the front`);
          const concreteOperands = c.operands.map((o) => ({ dtype: o.dtype, shape: concretize(o.shape, batch) }));
          const concrete = inferOpType(def, concreteOperands, attrs);
          assert.deepEqual(
            { dtype: concrete.dtype, shape: [...concrete.shape] },
            { dtype: symbolic.dtype, shape: concretize(symbolic.shape, batch) },
            `${def.name}: the type rule on concrete shapes disagrees with the symbolic one at batch ${batch}`,
          );
          if (c.runAlone === false) return;
          const inputs = sampleInputs(c, new Rng(1000 + i));
          const out = evalOp(def.name, inputs, c.attrs ?? {});
          assert.equal(out.dtype, concrete.dtype, `${def.name}: interpreter dtype`);
          assert.deepEqual([...out.shape], [...concrete.shape], `${def.name}: interpreter shape`);
          assert.ok(out.data instanceof dataClass[out.dtype], `${def.name}: ${out.dtype} data must be a ${dataClass[out.dtype].name}`);
          assert.equal(out.data.length, numElements(out.shape), `${def.name}: data length`);
        });
      });
      (opCases.invalid ?? []).forEach((c, i) => {
        it(`rejects #${i} ${describeCase(c)} with ${c.code}`, () => {
          assert.throws(
            () => inferOpType(def, c.operands, resolveAttrs(def, c.attrs ?? {})),
            (e: unknown) => {
              assert.ok(e instanceof TfcError, `expected a TfcError, got ${String(e)}`);
              assert.equal(e.code, c.code, `${def.name}: error code (message: ${e.message})`);
              assert.match(e.message, c.message);
              return true;
            },
          );
        });
      });
    });
  }
});

describe("run-time errors of reference kernels", () => {
  it("gather rejects an index outside the gathered axis (TFC2013)", () => {
    const params = hostTensor("f32", [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const indices = hostTensor("i32", [2], [1, 4]);
    assert.throws(
      () => evalOp("gather", [params, indices], {}),
      (e: unknown) => e instanceof TfcError && e.code === "TFC2013" && /gather index 4 is out of range \[0, 4\) for axis 0 of f32\[4,2\]/.test(e.message),
    );
  });
});
