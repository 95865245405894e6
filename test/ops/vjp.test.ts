// VJPs of every op in the registry against central finite differences on the reference
// interpreter. For each valid case in test/ops/cases.ts with an f32 operand and an f32 result, the
// loss is L = sum(op(inputs) · w) for a random weight w of the result's shape, so the result's
// gradient is w itself. The VJP is built as IR (FuncBuilder) with w as its `grad` argument and
// interpreted; each f32 operand's gradient must have exactly the operand's (symbolic) type and
// match (L(x + h·e_i) - L(x - h·e_i)) / (actual step), computed in float64 from f32 forward runs.
//
// Finite differences: h = 1e-3·max(1, |x_i|), the step actually taken is fl32(x+h) - fl32(x-h),
// and only the change of each output element is summed (unaffected outputs contribute exactly 0).
// Tolerance: |vjp - fd| <= atol + rtol·|fd| with rtol = 2e-2, atol = 2e-3. At most 40 elements per
// operand are checked (chosen at random, seeded).
//
// Inputs are moved away from non-differentiable points: kinks of relu/relu6/leaky_relu/elu/selu/abs
// (0, and 6 for relu6) and floor's integers by at least 0.1; sqrt/rsqrt/log get inputs in [0.5, 5]
// (the cases' samplers reach down to 0, where differences break down); max/min/maximum/minimum/
// max_pool get all-distinct values (an even grid over [-3, 3] in random order) so no ties occur.
// Ties are tested on their own below (TF.js semantics).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { allOps } from "../../ir/ops/index.js";
import { FuncBuilder, resolveAttrs } from "../../ir/builder.js";
import { evalOp, interpret } from "../../ir/interpreter.js";
import { Module, type Value } from "../../ir/ir.js";
import { verifyFunc } from "../../ir/verifier.js";
import { Rng } from "../../ir/initializers.js";
import { hostTensor, type HostTensor } from "../../ir/tensor.js";
import { BATCH, concretize, formatType, numElements, sameType, stridesOf, type TensorType } from "../../ir/types.js";
import type { OpDef } from "../../ir/op-def.js";
import type { Attrs } from "../../ir/builder.js";
import { sumToShape } from "../../ir/ops/grad-helpers.js";
import { OP_CASES, describeCase, parseShape, sampleInputs, type OpCase } from "./cases.js";
import { assertClose } from "../util.js";

const RTOL = 2e-2;
const ATOL = 2e-3;
const REL_STEP = 1e-3;
const MAX_CHECKED = 40;

const KINKS: Record<string, readonly number[]> = {
  relu: [0],
  relu6: [0, 6],
  leaky_relu: [0],
  elu: [0],
  selu: [0],
  abs: [0],
};
const POSITIVE = new Set(["sqrt", "rsqrt", "log"]);
const DISTINCT = new Set(["max", "min", "maximum", "minimum", "max_pool", "max_pool_grad"]);

/** Move sampled f32 inputs away from points where the op is not differentiable (see the header). */
function adjustInputs(op: string, inputs: HostTensor[], rng: Rng): HostTensor[] {
  const floats = inputs.filter((t) => t.dtype === "f32");
  if (DISTINCT.has(op)) {
    const total = floats.reduce((n, t) => n + t.data.length, 0);
    const order = Array.from({ length: total }, (_, i) => i);
    for (let i = total - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let k = 0;
    for (const t of floats) for (let i = 0; i < t.data.length; i++) t.data[i] = -3 + (6 * (order[k++]! + 0.5)) / total;
  }
  for (const t of floats) {
    for (let i = 0; i < t.data.length; i++) {
      let v = t.data[i]!;
      if (POSITIVE.has(op)) v = 0.5 + rng.next() * 4.5;
      for (const kink of KINKS[op] ?? []) if (Math.abs(v - kink) < 0.1) v = kink + (v >= kink ? 0.1 : -0.1);
      if (op === "floor") {
        const near = Math.round(v);
        if (Math.abs(v - near) < 0.1) v = near + (v >= near ? 0.1 : -0.1);
      }
      t.data[i] = v;
    }
  }
  return inputs;
}

function symbolicTypes(c: OpCase): TensorType[] {
  return c.operands.map((o) => ({ dtype: o.dtype, shape: o.shape }));
}

interface BuiltVjp {
  module: Module;
  builder: FuncBuilder;
  grads: (Value | null)[];
}

/** Build `vjp(inputs, g)` for one case; checks arity and types of what the VJP returns. */
function buildVjp(def: OpDef, c: OpCase, what: string): BuiltVjp | undefined {
  const module = new Module();
  const b = new FuncBuilder(module, "vjp");
  const types = symbolicTypes(c);
  const args = types.map((t, i) => b.arg(`x${i}`, t));
  const out = b.op(def.name as never, args, c.attrs ?? {});
  const differentiable = out.type.dtype === "f32" && types.some((t) => t.dtype === "f32");
  if (!def.vjp) {
    assert.ok(!differentiable, `${what}: ${def.name} has an f32 result and an f32 operand but no vjp`);
    return undefined;
  }
  const g = b.arg("g", out.type);
  const grads = def.vjp(b, { inputs: args, output: out, grad: g, attrs: resolveAttrs(def, c.attrs ?? {}) as never });
  assert.equal(grads.length, args.length, `${what}: vjp returned ${grads.length} gradients for ${args.length} operands`);
  grads.forEach((gr, i) => {
    if (types[i]!.dtype !== "f32" || out.type.dtype !== "f32") {
      assert.equal(gr, null, `${what}: operand ${i} (${formatType(types[i]!)}) is not differentiable, the vjp must give null`);
      return;
    }
    if (gr === null) {
      // Every f32 operand of an f32 result gets a gradient (floor's is zeros, not null).
      assert.fail(`${what}: vjp gave null for f32 operand ${i} (${formatType(types[i]!)})`);
    }
    assert.ok(sameType(gr.type, types[i]!), `${what}: gradient of operand ${i} has type ${formatType(gr.type)}, expected ${formatType(types[i]!)}`);
  });
  return { module, builder: b, grads };
}

function finiteDifference(name: string, inputs: HostTensor[], attrs: Attrs, w: HostTensor, k: number, i: number): number {
  const x = inputs[k]!.data[i]!;
  const h = REL_STEP * Math.max(1, Math.abs(x));
  const at = (v: number) => {
    const data = Float32Array.from(inputs[k]!.data);
    data[i] = v;
    const moved = inputs.map((t, j) => (j === k ? hostTensor("f32", t.shape, data) : t));
    return { y: evalOp(name, moved, attrs), step: data[i]! };
  };
  const plus = at(x + h);
  const minus = at(x - h);
  let diff = 0;
  for (let o = 0; o < w.data.length; o++) {
    const d = plus.y.data[o]! - minus.y.data[o]!;
    if (d !== 0) diff += d * w.data[o]!;
  }
  return diff / (plus.step - minus.step);
}

function pickIndices(n: number, rng: Rng): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= MAX_CHECKED) return all;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, MAX_CHECKED).sort((a, b) => a - b);
}

describe("op VJPs vs finite differences", () => {
  for (const def of allOps()) {
    const cases = (OP_CASES as Record<string, { valid: readonly OpCase[] }>)[def.name]!.valid;
    it(`${def.name}`, () => {
      let checked = 0;
      let differentiableCases = 0;
      cases.forEach((c, ci) => {
        if (c.runAlone === false || c.operands.length === 0) return;
        const what = `${def.name} case ${ci} (${describeCase({ operands: symbolicTypes(c), ...(c.attrs ? { attrs: c.attrs } : {}) })})`;
        const built = buildVjp(def, c, what);
        if (!built || built.grads.every((g) => g === null)) return;
        differentiableCases++;
        const rng = new Rng(1234 + ci);
        const inputs = adjustInputs(def.name, sampleInputs(c, rng), rng);
        const attrs = c.attrs ?? {};
        const y = evalOp(def.name, inputs, attrs);
        const w = hostTensor("f32", y.shape);
        for (let i = 0; i < w.data.length; i++) w.data[i] = (rng.next() < 0.5 ? -1 : 1) * (0.5 + rng.next());
        const results = built.grads.filter((g): g is Value => g !== null);
        const fn = built.builder.finish(results);
        verifyFunc(fn, built.module);
        const values = interpret(built.module, fn, [...inputs, w], new Map());
        let r = 0;
        built.grads.forEach((g, k) => {
          if (g === null) return;
          const analytic = values[r++]!;
          assert.deepEqual(analytic.shape, inputs[k]!.shape, `${what}: operand ${k} gradient shape`);
          const idx = pickIndices(inputs[k]!.data.length, rng);
          const fd = idx.map((i) => finiteDifference(def.name, inputs, attrs, w, k, i));
          assertClose(
            idx.map((i) => analytic.data[i]!),
            fd,
            RTOL,
            ATOL,
            `${what}: gradient of operand ${k} at elements [${idx.slice(0, 8).join(",")}${idx.length > 8 ? ",…" : ""}]`,
          );
          checked += idx.length;
        });
      });
      if (differentiableCases > 0) assert.ok(checked > 0, `${def.name}: no gradient element was checked`);
      if (process.env["TFC_VJP_VERBOSE"]) console.log(`${def.name}: ${checked} elements checked`);
    });
  }
});

describe("op VJPs: rules", () => {
  it("every op with an f32 result and an f32 operand has a vjp", () => {
    const missing: string[] = [];
    for (const def of allOps()) {
      const cases = (OP_CASES as Record<string, { valid: readonly OpCase[] }>)[def.name]!.valid;
      const differentiable = cases.some((c) => {
        if (c.operands.length === 0 || !c.operands.some((o) => o.dtype === "f32")) return false;
        const module = new Module();
        const b = new FuncBuilder(module, "probe");
        return b.op(def.name as never, symbolicTypes(c).map((t, i) => b.arg(`x${i}`, t)), c.attrs ?? {}).type.dtype === "f32";
      });
      if (differentiable && !def.vjp) missing.push(def.name);
    }
    assert.deepEqual(missing, [], `ops without a vjp: ${missing.join(", ")}`);
  });
});

// ---- sumToShape --------------------------------------------------------------------------------

/** Reference: sum g (concrete) into the target shape (concrete), broadcasting rules reversed. */
function naiveSumTo(g: HostTensor, target: number[]): Float64Array {
  const out = new Float64Array(numElements(target));
  const rank = g.shape.length;
  const padded = [...new Array<number>(rank - target.length).fill(1), ...target];
  const tStrides = stridesOf(padded).map((s, d) => (padded[d] === 1 ? 0 : s));
  const gStrides = stridesOf(g.shape);
  for (let flat = 0; flat < g.data.length; flat++) {
    let rem = flat;
    let o = 0;
    for (let d = 0; d < rank; d++) {
      const v = Math.floor(rem / gStrides[d]!);
      rem -= v * gStrides[d]!;
      o += v * tStrides[d]!;
    }
    out[o] += g.data[flat]!;
  }
  return out;
}

describe("sumToShape", () => {
  const cases: [string, string][] = [
    ["?,5", "5"],
    ["?,5", "1,5"],
    ["?,5", ""],
    ["?,5", "?,5"],
    ["?,4,5", "?,1,5"],
    ["?,4,5", "4,1"],
    ["?,4,5", "1,1,1"],
    ["3,4", "3,1"],
    ["3,4", "1,4"],
    ["2,3,4", "4"],
    ["2,3,4", ""],
    ["2,3,4", "1,1,4"],
    ["2,3,4", "2,1,4"],
    ["2,3,4", "2,3,4"],
  ];
  for (const [from, to] of cases) {
    it(`[${from}] → [${to}]`, () => {
      const module = new Module();
      const b = new FuncBuilder(module, "sum_to");
      const gType: TensorType = { dtype: "f32", shape: parseShape(from) };
      const target: TensorType = { dtype: "f32", shape: parseShape(to) };
      const g = b.arg("g", gType);
      const r = sumToShape(b, g, target);
      assert.ok(sameType(r.type, target), `result ${formatType(r.type)}, expected ${formatType(target)}`);
      const fn = b.finish([r]);
      verifyFunc(fn, module);
      const batch = 3;
      const rng = new Rng(7);
      const gv = hostTensor("f32", concretize(gType.shape, batch));
      for (let i = 0; i < gv.data.length; i++) gv.data[i] = Math.round((rng.next() * 2 - 1) * 8) / 4;
      const [res] = interpret(module, fn, [gv], new Map());
      assert.deepEqual(res!.shape, concretize(target.shape, batch));
      assertClose(res!.data, naiveSumTo(gv, concretize(target.shape, batch)), 0, 1e-5, "sumToShape");
      assert.ok(!target.shape.includes(BATCH) || res!.shape[0] === batch);
    });
  }
});

// ---- semantics at non-differentiable points (TF.js's choices) ---------------------------------

/** Interpret one op's VJP at concrete inputs with result gradient g. */
function vjpAt(name: string, inputs: HostTensor[], g: HostTensor, attrs: Attrs = {}): (HostTensor | null)[] {
  const def = allOps().find((d) => d.name === name)!;
  const module = new Module();
  const b = new FuncBuilder(module, "vjp");
  const args = inputs.map((t, i) => b.arg(`x${i}`, { dtype: t.dtype, shape: t.shape }));
  const out = b.op(name as never, args, attrs);
  const ga = b.arg("g", out.type);
  const grads = def.vjp!(b, { inputs: args, output: out, grad: ga, attrs: resolveAttrs(def, attrs) as never });
  const results = grads.filter((x): x is Value => x !== null);
  const values = interpret(module, b.finish(results), [...inputs, g], new Map());
  let r = 0;
  return grads.map((x) => (x === null ? null : values[r++]!));
}

const f32 = (shape: number[], data: number[]) => hostTensor("f32", shape, data);

describe("VJP semantics at ties and zeros", () => {
  it("prod handles zeros exactly (none, one, two per group)", () => {
    const x = f32([3, 3], [2, 3, 4, 2, 0, 5, 0, 7, 0]);
    const [dx] = vjpAt("prod", [x], f32([3], [1, 1, 1]), { axis: [1] });
    assert.deepEqual(Array.from(dx!.data), [12, 8, 6, 0, 10, 0, 0, 0, 0]);
  });

  it("maximum sends a tie's gradient to lhs, minimum too; relu'(0) = 0 and abs'(0) = -1 (TF.js's step(x, -1))", () => {
    const a = f32([3], [1, 2, 3]);
    const b = f32([3], [1, 5, 0]);
    const g = f32([3], [1, 1, 1]);
    const [da, db] = vjpAt("maximum", [a, b], g);
    assert.deepEqual([Array.from(da!.data), Array.from(db!.data)], [[1, 0, 1], [0, 1, 0]]);
    const [ma, mb] = vjpAt("minimum", [a, b], g);
    assert.deepEqual([Array.from(ma!.data), Array.from(mb!.data)], [[1, 1, 0], [0, 0, 1]]);
    assert.deepEqual(Array.from(vjpAt("relu", [f32([3], [-1, 0, 2])], g)[0]!.data), [0, 0, 1]);
    assert.deepEqual(Array.from(vjpAt("abs", [f32([3], [-1, 0, 2])], g)[0]!.data), [-1, -1, 1]);
  });

  it("max_pool gives a tied window's gradient to its first maximum; max reductions to every tie (TF.js)", () => {
    const x = f32([1, 2, 2, 1], [5, 5, 5, 1]);
    const [dx] = vjpAt("max_pool", [x], f32([1, 1, 1, 1], [2]), { ksize: [2, 2], strides: [2, 2] });
    assert.deepEqual(Array.from(dx!.data), [2, 0, 0, 0]);
    const [dm] = vjpAt("max", [f32([4], [5, 5, 1, 5])], f32([], [1]));
    assert.deepEqual(Array.from(dm!.data), [1, 1, 0, 1]);
  });

  it("floor's gradient is zero; casts to integers have none", () => {
    const [df] = vjpAt("floor", [f32([2], [1.5, -0.5])], f32([2], [3, 4]));
    assert.deepEqual(Array.from(df!.data), [0, 0]);
    const [dc] = vjpAt("cast", [f32([2], [1.5, -0.5])], hostTensor("i32", [2], [1, 1]), { dtype: "i32" });
    assert.equal(dc, null);
  });
});
