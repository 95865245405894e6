// The text format is lossless: for random functions built with FuncBuilder (elementwise ops,
// constants with NaN/inf/-0, every initializer kind, named results, source locations) and for a
// function around every op case in the registry, parse(print(m)) is structurally m and prints the same.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FuncBuilder } from "../../ir/builder.js";
import { Module, type Func, type Initializer, type RandomInitKind, type Value } from "../../ir/ir.js";
import { printFunc, printModule, printFloat32, printNumber } from "../../ir/printer.js";
import { parseModule } from "../../ir/parser.js";
import { hostTensor, type HostTensor } from "../../ir/tensor.js";
import { BATCH, type DType, type Shape } from "../../ir/types.js";
import type { AttrValue } from "../../ir/attrs.js";
import type { OpName } from "../../ir/ops/index.js";
import { OP_CASES } from "../ops/cases.js";

const UNARY_F32: readonly OpName[] = ["neg", "abs", "square", "sqrt", "exp", "log", "tanh", "sigmoid", "relu", "relu6", "elu", "selu", "softplus", "softsign", "floor", "rsqrt"];
const BINARY_F32: readonly OpName[] = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "squared_difference"];
const COMPARE: readonly OpName[] = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"];
const LOGICAL: readonly OpName[] = ["logical_and", "logical_or"];
const RANDOM_INITS: readonly RandomInitKind[] = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "random_uniform", "random_normal", "truncated_normal"];
const DTYPES: readonly DType[] = ["f32", "i32", "bool"];

/** One step of a recipe; indices pick among what exists so far (modulo), so every recipe builds valid IR. */
interface Step {
  readonly kind: number;
  readonly pick: readonly [number, number, number];
  readonly number: number;
  readonly flag: boolean;
  readonly data: readonly number[];
  readonly loc: boolean;
}

interface Recipe {
  readonly shape: readonly number[];
  readonly batch: boolean;
  readonly args: readonly { rank: number; name: string }[];
  readonly params: readonly { init: number; seed: number; a: number; b: number; trainable: boolean; data: readonly number[] }[];
  readonly steps: readonly Step[];
  readonly results: readonly { pick: number; name: string | null }[];
}

const anyDouble = fc.oneof(fc.double(), fc.constantFrom(0.1, -0, 1e-300, 2 ** 53, 0.30000000000000004), fc.integer({ min: -5, max: 5 }));
const anyFloat32 = fc.oneof(fc.float(), fc.constantFrom(0.1, -0, 16777217, 1e-45, NaN, Infinity, -Infinity));

const recipe: fc.Arbitrary<Recipe> = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
  batch: fc.boolean(),
  args: fc.array(fc.record({ rank: fc.nat(3), name: fc.stringMatching(/^[a-z][a-z0-9_]{0,5}$/) }), { minLength: 1, maxLength: 3 }),
  params: fc.array(
    fc.record({ init: fc.nat(13), seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }), a: anyDouble, b: anyDouble, trainable: fc.boolean(), data: fc.array(anyFloat32, { minLength: 27, maxLength: 27 }) }),
    { maxLength: 3 },
  ),
  steps: fc.array(
    fc.record({
      kind: fc.nat(11),
      pick: fc.tuple(fc.nat(), fc.nat(), fc.nat()),
      number: anyDouble,
      flag: fc.boolean(),
      data: fc.array(anyFloat32, { minLength: 27, maxLength: 27 }),
      loc: fc.boolean(),
    }),
    { maxLength: 14 },
  ),
  // Any text names a result, except a leading "@", which marks a parameter update (ir.ts UPDATE_PREFIX).
  results: fc.array(fc.record({ pick: fc.nat(), name: fc.option(fc.string({ maxLength: 6 }).filter((n) => !n.startsWith("@"))) }), { minLength: 1, maxLength: 3 }),
});

/** Build the module a recipe describes. All shapes are suffixes of one shape (params: its static part), so any two broadcast. */
function build(r: Recipe): Module {
  const m = new Module();
  const paramShape = [...r.shape];
  const paramSize = paramShape.reduce((a, d) => a * d, 1);
  r.params.forEach((p, i) => {
    const kinds = ["zeros", "ones", "constant", "data", ...RANDOM_INITS];
    const kind = kinds[p.init % kinds.length]!;
    let init: Initializer;
    if (kind === "zeros" || kind === "ones") init = { kind };
    else if (kind === "constant") init = { kind, value: p.a };
    else if (kind === "data") init = { kind, tensor: hostTensor("f32", paramShape, p.data.slice(0, paramSize)) };
    else init = { kind: kind as RandomInitKind, seed: p.seed, ...(p.seed % 2 ? {} : { a: p.a }), ...(p.init % 2 ? { b: p.b } : {}) };
    m.addParam({ name: `layer_${i}/w`, type: { dtype: "f32", shape: paramShape }, init, trainable: p.trainable });
  });

  const full: number[] = r.batch ? [BATCH, ...r.shape] : [...r.shape];
  const suffix = (rank: number): Shape => full.slice(Math.max(0, full.length - rank));
  const staticSuffix = (rank: number): Shape => suffix(rank).filter((d) => d !== BATCH);
  const b = new FuncBuilder(m, "random");
  const pools: Record<DType, Value[]> = { f32: [], i32: [], bool: [] };
  const argNames = new Set<string>();
  r.args.forEach((a, i) => {
    const name = argNames.has(a.name) ? `${a.name}_${i}` : a.name;
    argNames.add(name);
    pools.f32.push(b.arg(name, { dtype: "f32", shape: suffix(a.rank) }));
  });
  const pick = (dtype: DType, n: number): Value | undefined => {
    const pool = pools[dtype];
    return pool.length ? pool[n % pool.length] : undefined;
  };

  for (const s of r.steps) {
    b.loc = s.loc ? { file: "model.ts", line: 1 + (s.pick[0] % 90), column: 1 + (s.pick[1] % 40) } : undefined;
    const [p0, p1, p2] = s.pick;
    const x = pick("f32", p0)!;
    const y = pick("f32", p1)!;
    switch (s.kind) {
      case 0:
        pools.f32.push(b.op(UNARY_F32[p2 % UNARY_F32.length]!, [x]));
        break;
      case 1:
      case 2:
        pools.f32.push(b.op(BINARY_F32[p2 % BINARY_F32.length]!, [x, y]));
        break;
      case 3:
        pools.f32.push(b.op("leaky_relu", [x], { alpha: s.number }));
        break;
      case 4:
        pools.f32.push(b.op("gelu", [x], { approximate: s.flag }));
        break;
      case 5: {
        const shape = staticSuffix(p2 % 4);
        const n = shape.reduce((a, d) => a * d, 1);
        pools.f32.push(b.constant(hostTensor("f32", shape, s.data.slice(0, n))));
        break;
      }
      case 6:
        pools.bool.push(b.op(COMPARE[p2 % COMPARE.length]!, [x, y]));
        break;
      case 7: {
        const c = pick("bool", p2);
        if (c) pools.f32.push(b.op("select", [c, x, y]));
        else pools.bool.push(b.op("logical_not", [b.op("greater", [x, y])]));
        break;
      }
      case 8: {
        const c = pick("bool", p0);
        const d = pick("bool", p1);
        if (c && d) pools.bool.push(b.op(LOGICAL[p2 % 2]!, [c, d]));
        break;
      }
      case 9: {
        const dtype = DTYPES[p2 % 3]!;
        pools[dtype].push(b.op("cast", [x], { dtype }));
        break;
      }
      case 10: {
        const i = pick("i32", p0);
        if (i) pools.i32.push(b.op(p2 % 2 ? "neg" : "abs", [i]));
        break;
      }
      case 11:
        if (m.params.size) pools.f32.push(b.param([...m.params.keys()][p2 % m.params.size]!));
        break;
    }
  }
  const all = [...pools.f32, ...pools.i32, ...pools.bool];
  const names = new Set<string>();
  const results = r.results.map((res) => all[res.pick % all.length]!);
  const resultNames = r.results.map((res, i) => {
    const name = res.name === null || names.has(res.name) ? `output_${i}` : res.name;
    names.add(name);
    return name;
  });
  m.functions.push(b.finish(results, resultNames));
  return m;
}

// ---- structural equality, independent of the printer -------------------------------------------

function assertSameModule(got: Module, want: Module): void {
  assert.deepEqual([...got.params.keys()], [...want.params.keys()]);
  for (const [name, p] of want.params) {
    const q = got.params.get(name)!;
    assert.deepEqual(q.type, p.type, `param ${name} type`);
    assert.equal(q.trainable, p.trainable, `param ${name} trainable`);
    assert.equal(q.init.kind, p.init.kind, `param ${name} initializer`);
    const { tensor: t1, ...rest1 } = q.init as { tensor?: HostTensor };
    const { tensor: t2, ...rest2 } = p.init as { tensor?: HostTensor };
    assert.ok(sameNumbers(Object.values(rest1).filter((v) => typeof v === "number"), Object.values(rest2).filter((v) => typeof v === "number")), `param ${name} initializer numbers`);
    assert.deepEqual(Object.keys(rest1).sort(), Object.keys(rest2).sort());
    if (t1 || t2) assert.ok(t1 && t2 && sameAttr(t1, t2), `param ${name} data`);
  }
  assert.equal(got.functions.length, want.functions.length);
  want.functions.forEach((fn, i) => assertSameFunc(got.functions[i]!, fn));
}

function assertSameFunc(got: Func, want: Func): void {
  assert.equal(got.name, want.name);
  assert.deepEqual(got.args.map((a) => [a.name, a.type]), want.args.map((a) => [a.name, a.type]));
  const index = (fn: Func) => {
    const ix = new Map<Value, number>();
    [...fn.args, ...fn.body.map((op) => op.result)].forEach((v, i) => ix.set(v, i));
    return ix;
  };
  const gi = index(got);
  const wi = index(want);
  assert.equal(got.body.length, want.body.length);
  want.body.forEach((w, i) => {
    const g = got.body[i]!;
    const where = `op ${i} (${w.name})`;
    assert.equal(g.name, w.name, where);
    assert.deepEqual(g.operands.map((o) => gi.get(o)), w.operands.map((o) => wi.get(o)), `${where} operands`);
    assert.deepEqual(Object.keys(g.attrs).sort(), Object.keys(w.attrs).sort(), `${where} attribute names`);
    for (const k of Object.keys(w.attrs)) assert.ok(sameAttr(g.attrs[k]!, w.attrs[k]!), `${where} attribute ${k}`);
    assert.deepEqual(g.result.type, w.result.type, `${where} type`);
    assert.deepEqual(g.loc, w.loc, `${where} loc`);
    assert.equal(g.result.def, g, `${where} def link`);
  });
  assert.deepEqual(got.results.map((r) => gi.get(r)), want.results.map((r) => wi.get(r)));
  assert.deepEqual(got.resultNames, want.resultNames);
}

function sameNumbers(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function sameAttr(a: AttrValue, b: AttrValue): boolean {
  if (typeof a !== "object" || typeof b !== "object") return Object.is(a, b);
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && sameNumbers(a, b);
  const s = a as HostTensor;
  const t = b as HostTensor;
  return s.dtype === t.dtype && sameNumbers(s.shape, t.shape) && s.data.constructor === t.data.constructor && sameNumbers(s.data, t.data);
}

// ---- tests ---------------------------------------------------------------------------------------

describe("printer and parser", () => {
  it("round-trip random elementwise functions exactly (structure and text, with and without locations)", () => {
    fc.assert(
      fc.property(recipe, (r) => {
        const m = build(r);
        const text = printModule(m);
        const parsed = parseModule(text, "random.tfir");
        assert.equal(printModule(parsed), text);
        const withLocs = printModule(m, { locs: true });
        const parsedWithLocs = parseModule(withLocs, "random.tfir");
        assert.equal(printModule(parsedWithLocs, { locs: true }), withLocs);
        assertSameModule(parsedWithLocs, m);
      }),
      { numRuns: 300 },
    );
  });

  it("print one function with the params it reads, as text that parses on its own", () => {
    const m = parseModule(`param @a : f32[2] = ones
param @b : f32[2] = zeros {trainable=false}
func @uses_b(%x: f32[2]) -> (f32[2]) {
  %0 = param {dtype=f32, name="b", shape=[2]} : f32[2]
  %1 = add %x, %0 : f32[2]
  return %1
}
func @uses_none() -> () {
  return
}
`);
    const text = printFunc(m.functions[0]!, m);
    assert.ok(text.startsWith("param @b : f32[2] = zeros {trainable=false}\nfunc @uses_b("), text);
    assert.ok(!text.includes("@a"), text);
    assert.equal(printModule(parseModule(text)), text);
    assert.equal(printFunc(m.functions[1]!), "func @uses_none() -> () {\n  return\n}\n");
  });

  it("print every double and every f32 so that it reads back to the same bits", () => {
    fc.assert(
      fc.property(fc.double(), (x) => Object.is(parseNumberLike(printNumber(x)), x)),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.float(), (x) => {
        const printed = printFloat32(x);
        const shortest = !Number.isFinite(x) || x === 0 || printed.length <= String(x).length;
        return Object.is(Math.fround(parseNumberLike(printed)), x) && shortest;
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips a function around every op case of the registry", () => {
    let count = 0;
    for (const [name, cases] of Object.entries(OP_CASES)) {
      cases.valid.forEach((c, i) => {
        const m = new Module();
        const b = new FuncBuilder(m, "case");
        if (name === "param") {
          const attrs = c.attrs as { name: string; dtype: DType; shape: number[] };
          m.addParam({ name: attrs.name, type: { dtype: attrs.dtype, shape: attrs.shape }, init: { kind: "zeros" }, trainable: true });
        }
        const args = c.operands.map((o, k) => b.arg(`x${k}`, { dtype: o.dtype, shape: o.shape }));
        const out = b.op(name as OpName, args, c.attrs ?? {});
        m.functions.push(b.finish([out]));
        const text = printModule(m);
        let reparsed: Module;
        try {
          reparsed = parseModule(text, `${name}[${i}]`);
        } catch (e) {
          assert.fail(`${name} case ${i} does not parse back:\n${text}\n${String(e)}`);
        }
        assert.equal(printModule(reparsed), text, `${name} case ${i}`);
        assertSameModule(reparsed, m);
        count++;
      });
    }
    assert.ok(count >= Object.keys(OP_CASES).length, `only ${count} cases`);
  });
});

/** The spellings printNumber uses for values JSON has no words for. */
function parseNumberLike(s: string): number {
  return s === "nan" ? NaN : s === "inf" ? Infinity : s === "-inf" ? -Infinity : Number(s);
}
