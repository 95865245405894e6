// Random kernels built with KBuilder — elementwise bodies over every scalar primitive at vector
// width 1, 4 or 8, inside a row loop and a column loop (either may be parallel), with vars, an
// accumulating inner loop and ifs — checked three ways: print/parse round trip, the verifier, and
// the interpreter against compileScalar (ir/scalar.ts) evaluating the same expression per element.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { KBuilder } from "../../ir/kernel/builder.js";
import { kType, type KFunc, type KPrim, type KValue } from "../../ir/kernel/kir.js";
import { printKFunc } from "../../ir/kernel/print.js";
import { parseKFunc } from "../../ir/kernel/parse.js";
import { verifyKFunc } from "../../ir/kernel/verify.js";
import { interpretKFunc, type KBufferData } from "../../ir/kernel/interpret.js";
import { ScalarBuilder, compileScalar, type SExpr } from "../../ir/scalar.js";
import { TfcError } from "../../ir/errors.js";

type Elem = "f32" | "i32" | "bool";
/** A value built twice: in the kernel (all lanes) and as the scalar expression of one lane. */
interface Both {
  readonly k: KValue;
  readonly s: SExpr;
}

interface Step {
  readonly kind: number;
  readonly pick: readonly [number, number, number];
  readonly op: number;
  readonly flag: boolean;
  readonly f32: number;
  readonly i32: number;
  readonly threshold: number;
}

interface Recipe {
  readonly width: 1 | 4 | 8;
  readonly rows: number;
  readonly groups: number;
  readonly outerParallel: boolean;
  readonly innerParallel: boolean;
  readonly steps: readonly Step[];
  readonly outputs: readonly [number, number, number];
  readonly fa: readonly number[];
  readonly fb: readonly number[];
  readonly ia: readonly number[];
  readonly ib: readonly number[];
  readonly ba: readonly boolean[];
}

const MAX_ELEMENTS = 3 * 3 * 8;
const anyF32 = fc.oneof(fc.float(), fc.constantFrom(0, -0, 1, -1, 0.5, 2, NaN, Infinity, -Infinity, 16777217, 1e-45), fc.integer({ min: -9, max: 9 }).map(Math.fround));
const anyI32 = fc.oneof(fc.integer({ min: -2147483648, max: 2147483647 }), fc.integer({ min: -9, max: 9 }), fc.constantFrom(-2147483648, 2147483647, 0, -1));

const recipe: fc.Arbitrary<Recipe> = fc.record({
  width: fc.constantFrom(1 as const, 4 as const, 8 as const),
  rows: fc.integer({ min: 1, max: 3 }),
  groups: fc.integer({ min: 1, max: 3 }),
  outerParallel: fc.boolean(),
  innerParallel: fc.boolean(),
  steps: fc.array(
    fc.record({
      kind: fc.nat(10),
      pick: fc.tuple(fc.nat(), fc.nat(), fc.nat()),
      op: fc.nat(),
      flag: fc.boolean(),
      f32: anyF32,
      i32: anyI32,
      threshold: fc.nat(24),
    }),
    { maxLength: 14 },
  ),
  outputs: fc.tuple(fc.nat(), fc.nat(), fc.nat()),
  fa: fc.array(anyF32, { minLength: MAX_ELEMENTS, maxLength: MAX_ELEMENTS }),
  fb: fc.array(anyF32, { minLength: MAX_ELEMENTS, maxLength: MAX_ELEMENTS }),
  ia: fc.array(anyI32, { minLength: MAX_ELEMENTS, maxLength: MAX_ELEMENTS }),
  ib: fc.array(anyI32, { minLength: MAX_ELEMENTS, maxLength: MAX_ELEMENTS }),
  ba: fc.array(fc.boolean(), { minLength: MAX_ELEMENTS, maxLength: MAX_ELEMENTS }),
});

const F32_BINARY = ["add", "sub", "mul", "div", "max", "min", "pow"] as const;
const F32_UNARY = ["neg", "abs", "sqrt", "exp", "log", "tanh", "floor"] as const;
const I32_BINARY = ["add", "sub", "mul", "div", "max", "min"] as const;
const COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"] as const;
const ACCUMULATE = ["add", "mul", "max", "min"] as const;
const ELEMS: readonly Elem[] = ["f32", "i32", "bool"];

interface Built {
  readonly fn: KFunc;
  /** The stored expressions of one element: f32, i32, bool outputs. */
  readonly exprs: readonly [SExpr, SExpr, SExpr];
  /** Extra bool inputs of the expressions (if conditions), as functions of the element's row and loop column. */
  readonly conds: readonly ((row: number, groupStart: number) => number)[];
}

/** Build the kernel a recipe describes, and the scalar expression each output element should equal. */
function build(r: Recipe): Built {
  const W = r.width;
  const kb = new KBuilder("random");
  const sb = new ScalarBuilder();
  const buffers = {
    fa: kb.buffer("fa", "f32"), fb: kb.buffer("fb", "f32"), ia: kb.buffer("ia", "i32"), ib: kb.buffer("ib", "i32"), ba: kb.buffer("ba", "bool"),
    of: kb.buffer("of", "f32", true), oi: kb.buffer("oi", "i32", true), ob: kb.buffer("ob", "bool", true),
  };
  const rows = kb.scalarParam("rows");
  const cols = kb.scalarParam("cols");
  const conds: ((row: number, groupStart: number) => number)[] = [];
  let exprs: [SExpr, SExpr, SExpr] | undefined;

  kb.for(0, rows, { parallel: r.outerParallel, name: "row" }, (row) => {
    const base = kb.ix(row, "*", cols);
    kb.for(0, cols, { step: W, parallel: r.innerParallel, name: "col" }, (col) => {
      const at = kb.ix(base, "+", col);
      const pools: Record<Elem, Both[]> = {
        f32: [{ k: kb.load(buffers.fa, at, W), s: sb.input(0, "f32") }, { k: kb.load(buffers.fb, at, W), s: sb.input(1, "f32") }],
        i32: [{ k: kb.load(buffers.ia, at, W), s: sb.input(2, "i32") }, { k: kb.load(buffers.ib, at, W), s: sb.input(3, "i32") }],
        bool: [{ k: kb.load(buffers.ba, at, W), s: sb.input(4, "bool") }],
      };
      const pick = (e: Elem, n: number): Both => pools[e][n % pools[e].length]!;
      const push = (e: Elem, k: KValue, s: SExpr) => pools[e].push({ k, s });

      for (const st of r.steps) {
        const [p0, p1, p2] = st.pick;
        const numeric: Elem = st.flag ? "f32" : "i32";
        switch (st.kind) {
          case 0: {
            const op = F32_BINARY[st.op % F32_BINARY.length]!;
            const [x, y] = [pick("f32", p0), pick("f32", p1)];
            push("f32", kb.prim(op, [x.k, y.k]), sb[op](x.s, y.s));
            break;
          }
          case 1: {
            const op = F32_UNARY[st.op % F32_UNARY.length]!;
            const x = pick("f32", p0);
            push("f32", kb.prim(op, [x.k]), sb[op](x.s));
            break;
          }
          case 2: {
            const op = I32_BINARY[st.op % I32_BINARY.length]!;
            const [x, y] = [pick("i32", p0), pick("i32", p1)];
            push("i32", kb.prim(op, [x.k, y.k]), sb[op](x.s, y.s));
            break;
          }
          case 3: {
            const x = pick("i32", p0);
            const op = st.flag ? "neg" : "abs";
            push("i32", kb.prim(op, [x.k]), sb[op](x.s));
            break;
          }
          case 4: {
            const op = COMPARE[st.op % COMPARE.length]!;
            const [x, y] = [pick(numeric, p0), pick(numeric, p1)];
            push("bool", kb.prim(op, [x.k, y.k]), sb[op](x.s, y.s));
            break;
          }
          case 5: {
            const [x, y] = [pick("bool", p0), pick("bool", p1)];
            const op = (["and", "or", "not"] as const)[st.op % 3]!;
            if (op === "not") push("bool", kb.prim("not", [x.k]), sb.not(x.s));
            else push("bool", kb.prim(op, [x.k, y.k]), sb[op](x.s, y.s));
            break;
          }
          case 6: {
            const [c, x, y] = [pick("bool", p0), pick(numeric, p1), pick(numeric, p2)];
            push(numeric, kb.select(c.k, x.k, y.k), sb.select(c.s, x.s, y.s));
            break;
          }
          case 7: {
            const from = ELEMS[st.op % 3]!;
            const to = ELEMS[(st.op + 1 + (st.flag ? 1 : 0)) % 3]!;
            const x = pick(from, p0);
            push(to, kb.cast(x.k, kType(to, W)), sb.cast(x.s, to));
            break;
          }
          case 8: {
            // KBuilder.const takes the value as is; the verifier wants f32-exact constants. No -0 constant:
            // compileScalar writes constants with String(), which turns -0 into 0 (-0 inputs are fine).
            const value = st.flag ? Math.fround(st.f32) + 0 : st.i32;
            const k = p0 % 2 ? kb.const(value, kType(numeric, W)) : W === 1 ? kb.const(value, kType(numeric)) : kb.broadcast(kb.const(value, kType(numeric)), W);
            push(numeric, k, sb.const(value, numeric));
            break;
          }
          case 9: {
            // acc = x; repeat n times: acc = op(acc, y) — a var carried through a sequential inner loop.
            const op: KPrim = ACCUMULATE[st.op % ACCUMULATE.length]!;
            const [x, y] = [pick(numeric, p0), pick(numeric, p1)];
            const times = 1 + (st.threshold % 3);
            const acc = kb.var(x.k, "acc");
            kb.for(0, times, { name: "j" }, () => kb.set(acc, kb.prim(op, [kb.get(acc), y.k])));
            let s = x.s;
            for (let t = 0; t < times; t++) s = sb[op as (typeof ACCUMULATE)[number]](s, y.s);
            push(numeric, kb.get(acc), s);
            break;
          }
          case 10: {
            // v = x; if (row|col < t) v = y [else v = z]: the condition is an extra input of the expression.
            const e = ELEMS[st.op % 3]!;
            const [x, y, z] = [pick(e, p0), pick(e, p1), pick(e, p2)];
            const useRow = p0 % 2 === 0;
            const threshold = st.threshold;
            const cond = kb.lt(useRow ? row : col, kb.index(threshold));
            const v = kb.var(x.k);
            kb.if(cond, () => kb.set(v, y.k), st.flag ? () => kb.set(v, z.k) : undefined);
            const condInput = sb.input(5 + conds.length, "bool");
            conds.push((rowValue, groupStart) => ((useRow ? rowValue : groupStart) < threshold ? 1 : 0));
            push(e, kb.get(v), sb.select(condInput, y.s, st.flag ? z.s : x.s));
            break;
          }
        }
      }
      const [o0, o1, o2] = r.outputs;
      const [f, i, b] = [pick("f32", o0), pick("i32", o1), pick("bool", o2)];
      kb.store(buffers.of, at, f.k);
      kb.store(buffers.oi, at, i.k);
      kb.store(buffers.ob, at, b.k);
      exprs = [f.s, i.s, b.s];
    });
  });
  return { fn: kb.finish(), exprs: exprs!, conds };
}

interface Run {
  readonly of: Float32Array;
  readonly oi: Int32Array;
  readonly ob: Uint8Array;
}

function run(fn: KFunc, r: Recipe): Run {
  const n = r.rows * r.groups * r.width;
  const out: Run = { of: new Float32Array(n), oi: new Int32Array(n), ob: new Uint8Array(n) };
  const buffers = new Map<string, KBufferData>([
    ["fa", new Float32Array(r.fa.slice(0, n))], ["fb", new Float32Array(r.fb.slice(0, n))],
    ["ia", new Int32Array(r.ia.slice(0, n))], ["ib", new Int32Array(r.ib.slice(0, n))],
    ["ba", new Uint8Array(r.ba.slice(0, n).map(Number))],
    ["of", out.of], ["oi", out.oi], ["ob", out.ob],
  ]);
  interpretKFunc(fn, buffers, new Map([["rows", r.rows], ["cols", r.groups * r.width]]));
  return out;
}

describe("random kernels", () => {
  it("print/parse round trip, verify, and interpret exactly as compileScalar per element", () => {
    fc.assert(
      fc.property(recipe, (r) => {
        const { fn, exprs, conds } = build(r);
        verifyKFunc(fn);
        const text = printKFunc(fn);
        const parsed = parseKFunc(text, "random.kir");
        assert.equal(printKFunc(parsed), text);

        const got = run(fn, r);
        const again = run(parsed, r);
        for (const key of ["of", "oi", "ob"] as const) {
          assert.ok(again[key].every((x, i) => Object.is(x, got[key][i])), `the parsed kernel computes another ${key}: [${again[key].join(", ")}] vs [${got[key].join(", ")}]`);
        }
        const arity = 5 + conds.length;
        const [ef, ei, eb] = exprs.map((e) => compileScalar(e, arity));
        const cols = r.groups * r.width;
        const f32 = (x: number) => Math.fround(x);
        for (let row = 0; row < r.rows; row++) {
          for (let col = 0; col < cols; col++) {
            const e = row * cols + col;
            const groupStart = col - (col % r.width);
            const inputs = [f32(r.fa[e]!), f32(r.fb[e]!), r.ia[e]!, r.ib[e]!, r.ba[e] ? 1 : 0, ...conds.map((c) => c(row, groupStart))];
            const where = `element ${e} (row ${row}, column ${col}) of\n${text}`;
            assert.ok(Object.is(got.of[e], f32(ef!(...inputs))), `f32 output ${got.of[e]} vs compileScalar ${ef!(...inputs)} at ${where}`);
            assert.equal(got.oi[e], ei!(...inputs), `i32 output at ${where}`);
            assert.equal(got.ob[e], eb!(...inputs), `bool output at ${where}`);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("a k.set inside a parallel loop of a var declared outside it is a race, and only then", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), fc.nat(), (parallel, declareAt) => {
        const depth = declareAt % (parallel.length + 1); // declare the var inside this many loops, set it in the innermost
        const kb = new KBuilder("nest");
        const n = kb.scalarParam("n");
        let declared: ReturnType<KBuilder["var"]> | undefined;
        const level = (d: number): void => {
          if (d === depth) declared = kb.var(kb.f32(0), "v");
          if (d === parallel.length) {
            kb.set(declared!, kb.f32(1));
            return;
          }
          kb.for(0, n, { parallel: parallel[d]! }, () => level(d + 1));
        };
        level(0);
        const fn = kb.finish();
        const racy = parallel.slice(depth).some((p) => p);
        let error: unknown;
        try {
          parseKFunc(printKFunc(fn));
        } catch (e) {
          error = e;
        }
        if (racy) assert.ok(error instanceof TfcError && error.code === "TFC4107", `expected a race error for\n${printKFunc(fn)}`);
        else assert.equal(error, undefined);
      }),
    );
  });
});
