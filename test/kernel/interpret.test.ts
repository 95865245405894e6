// Hand-written kernels on the interpreter against plain JS (a dot product with a vector accumulator,
// a vectorized relu with a scalar tail, a matmul loop nest, a two-launch program sharing arena
// bytes), the semantics compileScalar does not cover (rem, fma, index, reduce order, casts to index),
// and the safety net: out-of-range accesses, tfc_fail, races between parallel iterations, bad arguments.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { KBuilder } from "../../ir/kernel/builder.js";
import { I32, KProgram, kType, type KFunc, type KProgramBuffer } from "../../ir/kernel/kir.js";
import { fmaF32, interpretKFunc, interpretKProgram, primLane, type KBufferData } from "../../ir/kernel/interpret.js";
import { verifyKProgram } from "../../ir/kernel/verify.js";
import { parseKProgram } from "../../ir/kernel/parse.js";
import { printKProgram } from "../../ir/kernel/print.js";
import { TfcError } from "../../ir/errors.js";

const fround = Math.fround;

/** Deterministic pseudo-random f32 values in [-2, 2) (a 32-bit LCG), so failures reproduce. */
function randomF32(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return out;
}

function throwsTfc(run: () => unknown, code: string, ...parts: string[]): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof TfcError, `expected a TfcError, got ${String(e)}`);
    const text = [e.message, ...e.notes].join("\n");
    assert.equal(e.code, code, text);
    for (const p of parts) assert.ok(text.includes(p), `'${p}' not in:\n${text}`);
    return true;
  });
}

/** dot(a, b) with a 4-lane accumulator var: acc += a[i:i+4] * b[i:i+4], then a left-to-right reduce. */
function dotKernel(): KFunc {
  const kb = new KBuilder("dot");
  const [a, b, out] = [kb.buffer("a", "f32"), kb.buffer("b", "f32"), kb.buffer("out", "f32", true)];
  const n = kb.scalarParam("n");
  const acc = kb.var(kb.broadcast(kb.f32(0), 4), "acc");
  kb.for(0, n, { step: 4, unroll: 2, name: "i" }, (i) => {
    kb.set(acc, kb.add(kb.get(acc), kb.mul(kb.load(a, i, 4), kb.load(b, i, 4))));
  });
  kb.store(out, kb.index(0), kb.reduce("add", kb.get(acc)));
  return kb.finish();
}

/** y = max(x, 0): 8 lanes at a time over the first n - n % 8 elements, then one at a time. */
function reluKernel(): KFunc {
  const kb = new KBuilder("relu");
  const [x, y] = [kb.buffer("x", "f32"), kb.buffer("y", "f32", true)];
  const n = kb.scalarParam("n");
  const body = kb.ix(kb.ix(n, "/", 8), "*", 8);
  const zero = kb.f32(0);
  const zeros = kb.broadcast(zero, 8);
  kb.for(0, body, { step: 8, parallel: true, name: "i" }, (i) => kb.store(y, i, kb.max(kb.load(x, i, 8), zeros)));
  kb.for(body, n, { name: "j" }, (j) => kb.store(y, j, kb.max(kb.load(x, j), zero)));
  return kb.finish();
}

/** C[m, n] = sum_k A[m, k]·B[k, n] with row-major buffers; rows in parallel, a scalar accumulator var. */
function matmulKernel(): KFunc {
  const kb = new KBuilder("matmul");
  const [A, B, C] = [kb.buffer("A", "f32"), kb.buffer("B", "f32"), kb.buffer("C", "f32", true)];
  const [M, K, N] = [kb.scalarParam("M"), kb.scalarParam("K"), kb.scalarParam("N")];
  kb.for(0, M, { parallel: true, name: "m" }, (m) => {
    kb.for(0, N, { name: "n" }, (n) => {
      const acc = kb.var(kb.f32(0), "acc");
      kb.for(0, K, { name: "k" }, (k) => {
        const a = kb.load(A, kb.ix(kb.ix(m, "*", K), "+", k));
        const b = kb.load(B, kb.ix(kb.ix(k, "*", N), "+", n));
        kb.set(acc, kb.fma(a, b, kb.get(acc)));
      });
      kb.store(C, kb.ix(kb.ix(m, "*", N), "+", n), kb.get(acc));
    });
  });
  return kb.finish();
}

describe("hand-written kernels against plain JS", () => {
  it("dot product: vector accumulator var and reduce", () => {
    for (const n of [0, 4, 8, 36]) {
      const [a, b, out] = [randomF32(n, 1), randomF32(n, 2), new Float32Array(1)];
      interpretKFunc(dotKernel(), new Map<string, KBufferData>([["a", a], ["b", b], ["out", out]]), new Map([["n", n]]));
      const lanes = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) lanes[i % 4] = fround(lanes[i % 4]! + fround(a[i]! * b[i]!));
      const expected = fround(fround(fround(lanes[0]! + lanes[1]!) + lanes[2]!) + lanes[3]!);
      assert.equal(out[0], expected, `n = ${n}`);
    }
  });

  it("relu: 8-lane body and scalar tail cover every element once", () => {
    for (const n of [0, 5, 8, 19, 64]) {
      const x = randomF32(n, n);
      const y = new Float32Array(n).fill(NaN);
      interpretKFunc(reluKernel(), new Map([["x", x], ["y", y]]), new Map([["n", n]]));
      assert.deepEqual([...y], [...x].map((v) => Math.max(v, 0)), `n = ${n}`);
    }
  });

  it("matmul loop nest with fma accumulation", () => {
    const [M, K, N] = [5, 7, 3];
    const [A, B, C] = [randomF32(M * K, 3), randomF32(K * N, 4), new Float32Array(M * N)];
    interpretKFunc(matmulKernel(), new Map([["A", A], ["B", B], ["C", C]]), new Map([["M", M], ["K", K], ["N", N]]));
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc = fmaF32(A[m * K + k]!, B[k * N + n]!, acc);
        let plain = 0;
        for (let k = 0; k < K; k++) plain += A[m * K + k]! * B[k * N + n]!;
        assert.equal(C[m * N + n], acc, `C[${m}, ${n}]`);
        assert.ok(Math.abs(C[m * N + n]! - plain) < 1e-5, `C[${m}, ${n}] = ${C[m * N + n]} vs ${plain} in doubles`);
      }
    }
  });
});

describe("semantics beyond compileScalar", () => {
  it("div floors and rem is floor-mod with the divisor's sign, for i32 and index", () => {
    const cases: [number, number, number, number][] = [[7, 3, 2, 1], [-7, 3, -3, 2], [7, -3, -3, -2], [-7, -3, 2, -1], [6, -3, -2, 0], [0, -5, 0, 0]];
    for (const elem of ["i32", "index"] as const) {
      for (const [a, b, q, r] of cases) {
        assert.ok(Object.is(primLane("div", elem)(a, b, 0), q), `${a} div ${b} on ${elem}`);
        assert.ok(Object.is(primLane("rem", elem)(a, b, 0), r), `${a} rem ${b} on ${elem}`);
      }
    }
    assert.equal(primLane("div", "i32")(5, 0, 0), 0, "i32 division by zero gives 0, as compileScalar");
    assert.equal(primLane("rem", "i32")(5, 0, 0), 5, "i32 rem by zero keeps x = div·y + rem");
    assert.equal(primLane("div", "i32")(-2147483648, -1, 0), -2147483648, "wraps");
    assert.equal(primLane("rem", "i32")(-2147483648, -1, 0), 0);
    throwsTfc(() => primLane("div", "index")(5, 0, 0), "TFC4114", "by zero");
    throwsTfc(() => primLane("rem", "index")(5, 0, 0), "TFC4114", "by zero");
  });

  it("x = div(x, y)·y + rem(x, y), 0 <= |rem| < |y| with the sign of y (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -2147483648, max: 2147483647 }), fc.integer({ min: -2147483648, max: 2147483647 }).filter((y) => y !== 0), (x, y) => {
        for (const elem of ["i32", "index"] as const) {
          const [q, r] = [primLane("div", elem)(x, y, 0), primLane("rem", elem)(x, y, 0)];
          if (elem === "index") assert.equal(q * y + r, x);
          else assert.equal((Math.imul(q, y) + r) | 0, x);
          assert.ok(Math.abs(r) < Math.abs(y) && (r === 0 || r < 0 === y < 0), `${x} rem ${y} = ${r}`);
        }
      }),
    );
  });

  it("index arithmetic is exact and overflow throws; i32 wraps", () => {
    assert.equal(primLane("mul", "index")(2 ** 26, 2 ** 26, 0), 2 ** 52);
    throwsTfc(() => primLane("mul", "index")(2 ** 27, 2 ** 27, 0), "TFC4114", "beyond the exact range");
    assert.ok(Object.is(primLane("mul", "index")(-3, 0, 0), 0), "no -0 index");
    assert.equal(primLane("add", "i32")(2147483647, 1, 0), -2147483648);
    assert.equal(primLane("mul", "i32")(65536, 65536, 0), 0);
  });

  it("casts: f32→index truncates toward zero, nan and inf throw; index→i32 wraps; →bool is x != 0", () => {
    assert.equal(primLane("cast", "f32", "index")(-2.75, 0, 0), -2);
    throwsTfc(() => primLane("cast", "f32", "index")(NaN, 0, 0), "TFC4114", "cast of NaN to index");
    throwsTfc(() => primLane("cast", "f32", "index")(Infinity, 0, 0), "TFC4114");
    assert.equal(primLane("cast", "index", "i32")(2 ** 32 + 5, 0, 0), 5);
    assert.equal(primLane("cast", "f32", "i32")(NaN, 0, 0), 0);
    assert.equal(primLane("cast", "f32", "bool")(NaN, 0, 0), 1);
    assert.equal(primLane("cast", "index", "f32")(16777217, 0, 0), 16777216);
  });

  it("fma rounds once: a case where fround(a·b + c) rounds twice and differs", () => {
    const a = fround(1 + 2 ** -12);
    const c = fround(2 ** -80);
    // a·a = 1 + 2^-11 + 2^-24, exactly halfway between two f32s; c tips it up, but a double loses c.
    assert.equal(fround(a * a + c), 1 + 2 ** -11, "the double-rounded result ties to even");
    assert.equal(fmaF32(a, a, c), 1 + 2 ** -11 + 2 ** -23);
    assert.equal(fmaF32(a, a, -c), 1 + 2 ** -11);
    assert.ok(Number.isNaN(fmaF32(Infinity, 0, 1)));
    assert.equal(fmaF32(3e38, 3e38, -Infinity), -Infinity);
  });

  it("fma equals a·b + c rounded once (property, checked by resolving double-rounding ties)", () => {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const neighbor = (x: number, up: boolean) => {
      f32[0] = x;
      u32[0] = u32[0]! + ((x > 0 || Object.is(x, 0)) === up ? 1 : -1);
      return f32[0]!;
    };
    const reference = (a: number, b: number, c: number) => {
      const p = a * b;
      const s = p + c;
      const cc = s - p;
      const err = p - (s - cc) + (c - cc);
      const r = fround(s);
      if (err === 0 || !Number.isFinite(r) || r === 0) return r;
      const other = neighbor(r, s > r);
      return Math.abs(s - r) === Math.abs(other - s) ? (err > 0 ? Math.max(r, other) : Math.min(r, other)) : r; // a tie in doubles: the lost err decides
    };
    const anyF32 = fc.float({ noNaN: true, noDefaultInfinity: true, min: fround(-1e18), max: fround(1e18) });
    fc.assert(fc.property(anyF32, anyF32, anyF32, (a, b, c) => void assert.equal(fmaF32(a, b, c), reference(a, b, c))), { numRuns: 2000 });
    const near = fc.integer({ min: -(2 ** 12), max: 2 ** 12 }).map((k) => fround(1 + k * 2 ** -12));
    const tiny = fc.integer({ min: -200, max: 200 }).map((e) => fround(2 ** Math.max(-126, Math.min(-60, -e))) * (e % 2 ? -1 : 1));
    fc.assert(fc.property(near, near, tiny, (a, b, c) => void assert.equal(fmaF32(a, b, c), reference(a, b, c))), { numRuns: 2000 });
  });

  it("k.reduce folds lanes left to right, f32 rounding after each step", () => {
    const kb = new KBuilder("fold");
    const [x, y] = [kb.buffer("x", "f32"), kb.buffer("y", "f32", true)];
    const zero = kb.index(0);
    kb.store(y, zero, kb.reduce("add", kb.load(x, zero, 4)));
    const y0 = new Float32Array(1);
    interpretKFunc(kb.finish(), new Map([["x", new Float32Array([1e8, 1, -1e8, 1])], ["y", y0]]), new Map());
    assert.equal(y0[0], 1, "((1e8 + 1) - 1e8) + 1 in f32 is 1; pairwise it would be 2");
  });

  it("bool lanes loaded from memory read any nonzero byte as true", () => {
    const kb = new KBuilder("bools");
    const [m, out] = [kb.buffer("m", "bool"), kb.buffer("out", "i32", true)];
    const zero = kb.index(0);
    kb.store(out, zero, kb.cast(kb.load(m, zero, 2), kType("i32", 2)));
    const result = new Int32Array(2);
    interpretKFunc(kb.finish(), new Map<string, KBufferData>([["m", new Uint8Array([255, 0])], ["out", result]]), new Map());
    assert.deepEqual([...result], [1, 0]);
  });
});

describe("the interpreter as a safety net", () => {
  it("an out-of-range load names the kernel, the buffer and the index", () => {
    const x = new Float32Array(12);
    throwsTfc(() => interpretKFunc(reluKernel(), new Map([["x", x], ["y", new Float32Array(16)]]), new Map([["n", 16]])), "TFC4110", "@relu", "%x at index 8", "elements 8…15", "has 12", "in @relu: %");
  });

  it("an out-of-range store is caught before it writes", () => {
    const y = new Float32Array(3);
    throwsTfc(() => interpretKFunc(reluKernel(), new Map([["x", new Float32Array(4)], ["y", y]]), new Map([["n", 4]])), "TFC4110", "k.store into %y at index 3");
    assert.deepEqual([...y], [0, 0, 0]);
  });

  it("tfc_fail throws TFC6100 with the code", () => {
    const kb = new KBuilder("checked");
    const n = kb.scalarParam("n");
    kb.if(kb.lt(n, kb.index(0)), () => kb.call("tfc_fail", [kb.const(42, I32)]));
    const fn = kb.finish();
    interpretKFunc(fn, new Map(), new Map([["n", 1]]));
    throwsTfc(() => interpretKFunc(fn, new Map(), new Map([["n", -1]])), "TFC6100", "@checked called tfc_fail(42)");
  });

  /** A parallel loop over i where iteration i writes y[write(i)] after reading x[i] and y[read(i)]. */
  function parallelKernel(write: (kb: KBuilder, i: ReturnType<KBuilder["index"]>) => ReturnType<KBuilder["index"]>, read?: (kb: KBuilder, i: ReturnType<KBuilder["index"]>) => ReturnType<KBuilder["index"]>): KFunc {
    const kb = new KBuilder("par");
    const [x, y] = [kb.buffer("x", "f32"), kb.buffer("y", "f32", true)];
    const n = kb.scalarParam("n");
    kb.for(0, n, { parallel: true, name: "i" }, (i) => {
      let v = kb.load(x, i);
      if (read) v = kb.add(v, kb.load(y, read(kb, i)));
      kb.store(y, write(kb, i), v);
    });
    return kb.finish();
  }
  const runParallel = (fn: KFunc, n: number, checkRaces = true) =>
    interpretKFunc(fn, new Map([["x", new Float32Array(n)], ["y", new Float32Array(n)]]), new Map([["n", n]]), { checkRaces });

  it("races between parallel iterations are reported; disjoint iterations are not", () => {
    runParallel(parallelKernel((_, i) => i), 8);
    runParallel(parallelKernel((_, i) => i, (_, i) => i), 8); // each iteration reads what only it writes
    throwsTfc(() => runParallel(parallelKernel((kb) => kb.index(0)), 8), "TFC4107", "iteration %i = 1", "writes %y[0], which iteration %i = 0 wrote");
    throwsTfc(() => runParallel(parallelKernel((_, i) => i, (kb, i) => kb.ix(kb.ix(i, "+", 1), "%", 8)), 8), "TFC4107", "iteration %i = 1 of a parallel loop writes %y[1], which iteration %i = 0 read");
    throwsTfc(() => runParallel(parallelKernel((_, i) => i, (kb) => kb.index(0)), 8), "TFC4107", "reads %y[0], which iteration %i = 0 wrote");
    runParallel(parallelKernel((kb) => kb.index(0)), 8, false); // checking off: runs in order
  });

  it("a race inside a nested parallel loop is found; the join after it orders later accesses", () => {
    const kb = new KBuilder("nested");
    const y = kb.buffer("y", "f32", true);
    const n = kb.scalarParam("n");
    kb.for(0, n, { parallel: true, name: "i" }, (i) => {
      const row = kb.ix(i, "*", n);
      kb.for(0, n, { parallel: true, name: "j" }, (j) => kb.store(y, kb.ix(row, "+", j), kb.f32(1)));
      kb.store(y, row, kb.f32(2)); // after the inner loop: same iteration of i, ordered
    });
    const ok = kb.finish();
    interpretKFunc(ok, new Map([["y", new Float32Array(9)]]), new Map([["n", 3]]));

    const kb2 = new KBuilder("nested_racy");
    const y2 = kb2.buffer("y", "f32", true);
    const n2 = kb2.scalarParam("n");
    kb2.for(0, n2, { parallel: true, name: "i" }, (i) => {
      kb2.for(0, n2, { parallel: true, name: "j" }, () => kb2.store(y2, i, kb2.f32(1)));
    });
    throwsTfc(() => interpretKFunc(kb2.finish(), new Map([["y", new Float32Array(3)]]), new Map([["n", 3]])), "TFC4107", "%j = 1");
  });

  it("bad arguments: missing or unknown names, wrong array types, scalars of the wrong type", () => {
    const fn = reluKernel();
    const x = new Float32Array(8);
    throwsTfc(() => interpretKFunc(fn, new Map([["x", x]]), new Map([["n", 8]])), "TFC4111", "buffer %y of @relu must be a Float32Array");
    throwsTfc(() => interpretKFunc(fn, new Map<string, KBufferData>([["x", x], ["y", new Int32Array(8)]]), new Map([["n", 8]])), "TFC4111", "got Int32Array");
    throwsTfc(() => interpretKFunc(fn, new Map([["x", x], ["y", x]]), new Map()), "TFC4111", "needs scalar %n");
    throwsTfc(() => interpretKFunc(fn, new Map([["x", x], ["y", x]]), new Map([["n", 2.5]])), "TFC4111", "is index, got 2.5");
    throwsTfc(() => interpretKFunc(fn, new Map([["x", x], ["y", x], ["z", x]]), new Map([["n", 8]])), "TFC4111", "no parameter %z");
  });
});

describe("programs", () => {
  const buffer = (name: string, elem: "f32", role: KProgramBuffer["role"], size: [number, number], extra: Partial<KProgramBuffer> = {}): KProgramBuffer => ({
    name, elem, role, size: { constant: size[0], perBatch: size[1] }, ...extra,
  });

  /** out[i] = op(in[i]) for i < n·width: n is the batch. */
  function mapKernel(name: string, width: number, op: (kb: KBuilder, v: ReturnType<KBuilder["index"]>) => ReturnType<KBuilder["index"]>): KFunc {
    const kb = new KBuilder(name);
    const [x, y] = [kb.buffer("x", "f32"), kb.buffer("y", "f32", true)];
    const n = kb.scalarParam("n");
    kb.for(0, kb.ix(n, "*", width), { parallel: true, name: "i" }, (i) => kb.store(y, i, op(kb, kb.load(x, i))));
    return kb.finish();
  }

  /** y = ((x + 1)·2 + 1)·2 through temps t0, t1, t2, where t2 reuses t0's bytes once t0 is dead. */
  function chain(t2Offset: number): KProgram {
    const width = 3;
    const inc = mapKernel("inc", width, (kb, v) => kb.add(v, kb.f32(1)));
    const dbl = mapKernel("dbl", width, (kb, v) => kb.mul(v, kb.f32(2)));
    const x = buffer("x", "f32", "input", [0, width], { ref: 0 });
    const t0 = buffer("t0", "f32", "temp", [0, width], { offset: { constant: 0, perBatch: 0 } });
    const t1 = buffer("t1", "f32", "temp", [0, width], { offset: { constant: 0, perBatch: 4 * width } });
    const t2 = buffer("t2", "f32", "temp", [0, width], { offset: { constant: 0, perBatch: t2Offset } });
    const y = buffer("y", "f32", "output", [0, width], { ref: 0 });
    const launches = [
      { kernel: inc, buffers: [x, t0] }, { kernel: dbl, buffers: [t0, t1] },
      { kernel: inc, buffers: [t1, t2] }, { kernel: dbl, buffers: [t2, y] },
    ];
    return new KProgram("chain", [x, t0, t1, t2, y], [inc, dbl], launches, { constant: 0, perBatch: 8 * width });
  }

  it("temps with disjoint live ranges share arena bytes; results match JS", () => {
    const p = chain(0);
    verifyKProgram(p);
    const again = parseKProgram(printKProgram(p));
    for (const program of [p, again]) {
      const x = randomF32(6, 9);
      const [y] = interpretKProgram(program, [x], new Map(), 2);
      assert.deepEqual([...y!], [...x].map((v) => fround(fround(fround(fround(v + 1) * 2) + 1) * 2)));
    }
  });

  it("a plan that puts live temps on the same bytes is rejected before anything runs", () => {
    throwsTfc(() => interpretKProgram(chain(12), [new Float32Array(6)], new Map(), 2), "TFC4112", "temps %t1 and %t2 overlap", "launch 2");
  });

  it("outputs nobody writes read as NaN; inputs and params are checked against the plan", () => {
    const kb = new KBuilder("half");
    const [x, y] = [kb.buffer("x", "f32"), kb.buffer("y", "f32", true)];
    kb.store(y, kb.index(0), kb.load(x, kb.index(0)));
    const half = kb.finish();
    const bx = buffer("x", "f32", "param", [2, 0], { ref: "w" });
    const by = buffer("y", "f32", "output", [2, 0], { ref: 0 });
    const p = new KProgram("half", [bx, by], [half], [{ kernel: half, buffers: [bx, by] }]);
    const [y0] = interpretKProgram(p, [], new Map([["w", new Float32Array([5, 6])]]), 1);
    assert.equal(y0![0], 5);
    assert.ok(Number.isNaN(y0![1]!), "the element no kernel wrote");
    throwsTfc(() => interpretKProgram(p, [], new Map(), 1), "TFC4111", 'needs parameter "w"');
    throwsTfc(() => interpretKProgram(p, [], new Map([["w", new Float32Array(3)]]), 1), "TFC4111", "must have 2 elements, got 3");
    throwsTfc(() => interpretKProgram(p, [new Float32Array(1)], new Map([["w", new Float32Array(2)]]), 1), "TFC4111", "takes 0 inputs, got 1");
  });
});
