// Kernel IR → a WebAssembly module through binaryen (a thin typed layer over its JS API).
// binaryen expressions are tree nodes: each may be used once, so helpers build fresh ones.
// Vectors are SIMD128 (4 lanes; bool vectors are i32x4 masks in registers, bytes in memory);
// `index` is wasm32's i32; exp/log/tanh/pow come from the host's Math (imports), so results equal
// the interpreter's. `run(n)` binds every buffer's address from the planned layout and calls the
// kernels in launch order. Parallel loops run serially, except in the threads build (emitWasm with
// threads): a shared imported memory, each parallel loop outlined into a table function that
// env.parallel_for hands out in chunks, and `run_chunk` so every thread can run one.

import binaryen from "binaryen";
import { TfcError } from "../../ir/errors.js";
import type { KBufferParam, KFunc, KLaunch, KPrim, KProgram, KProgramBuffer, KSize, KStmt, KType, KValue, KVar } from "../../ir/kernel/kir.js";
import { freeValues, usedBuffers } from "../../ir/kernel/analysis.js";

type Expr = number; // binaryen ExpressionRef
type Mod = InstanceType<typeof binaryen.Module>;

const ELEM_BYTES = { f32: 4, i32: 4, bool: 1 } as const;
/** Bytes [0, LOW_GUARD) stay unused, so a null-ish address never hits data. */
const LOW_GUARD = 1024;
const PAGE = 65536;

export interface WasmBufferPlace {
  /** Static buffers (params, consts): an absolute address. Dynamic ones: staticBytes + a + b·n. */
  readonly static?: number;
  readonly dynamic?: KSize;
}

export interface WasmLayoutPlan {
  readonly places: Map<KProgramBuffer, WasmBufferPlace>;
  readonly staticBytes: number;
  readonly dynamicBytes: KSize;
  /** Threads build: where a parallel launch's captured values go (an area after the params). */
  readonly context?: { readonly address: number; readonly bytes: number };
}

/** Threads build: the Int32Array control block model.js and its workers share (inside the low guard). */
export const THREADS_CONTROL_OFFSET = 256;
/** Threads build: tfc_fail's status word (the globals of each instance are per thread; memory is shared). */
const THREADS_STATUS_ADDRESS = 128;
/** Threads build: a shared memory must declare its maximum; 2 GiB, the most the layout ever plans. */
export const THREADS_MAXIMUM_PAGES = 32768;

const align64 = (x: number) => Math.ceil(x / 64) * 64;
const bytesOf = (b: KProgramBuffer): KSize => ({ constant: b.size.constant * ELEM_BYTES[b.elem], perBatch: b.size.perBatch * ELEM_BYTES[b.elem] });

/**
 * Params, consts and packed weights at fixed addresses (then, with contextBytes, the parallel launch context area);
 * then the arena (temps), inputs and outputs, each `a + b·n`.
 */
export function planWasmLayout(program: KProgram, contextBytes = 0): WasmLayoutPlan {
  const places = new Map<KProgramBuffer, WasmBufferPlace>();
  let addr = LOW_GUARD;
  for (const b of program.buffers) {
    if (b.role !== "param" && b.role !== "const" && b.role !== "packed") continue;
    places.set(b, { static: addr });
    addr = align64(addr + bytesOf(b).constant);
  }
  const context = contextBytes > 0 ? { address: addr, bytes: contextBytes } : undefined;
  if (context) addr = align64(addr + contextBytes);
  const staticBytes = align64(addr);
  let dyn: KSize = { constant: align64(program.arenaBytes.constant), perBatch: align64(program.arenaBytes.perBatch) };
  for (const b of program.buffers) {
    if (b.role === "temp") places.set(b, { dynamic: b.offset! });
  }
  for (const role of ["input", "output"] as const) {
    for (const b of program.buffers) {
      if (b.role !== role) continue;
      places.set(b, { dynamic: dyn });
      const size = bytesOf(b);
      dyn = { constant: dyn.constant + align64(size.constant), perBatch: dyn.perBatch + align64(size.perBatch) };
    }
  }
  return { places, staticBytes, dynamicBytes: dyn, ...(context ? { context } : {}) };
}

const MATH_IMPORTS = { exp: 1, log: 1, tanh: 1, pow: 2 } as const;

/** Threads build: what the writers of one module share. */
interface ThreadsEmit {
  readonly contextAddress: number;
  readonly contextBytes: number;
  /** Names of the outlined parallel loop bodies; a name's position is its index in the table. */
  readonly outlined: string[];
}

type ForStmt = Extract<KStmt, { kind: "for" }>;

/** Where each buffer base address and captured value lies in a launch's context area. */
interface ContextLayout {
  readonly buffers: readonly { readonly param: KBufferParam; readonly offset: number }[];
  readonly values: readonly { readonly value: KValue; readonly offset: number }[];
  readonly bytes: number;
}

/** Buffer addresses first (4 bytes each), then the values: 16 bytes (aligned) for vectors, 4 otherwise. */
function contextLayout(buffers: readonly KBufferParam[], values: readonly KValue[]): ContextLayout {
  let at = buffers.length * 4;
  const placed = values.map((value) => {
    const size = value.type.width > 1 ? 16 : 4;
    at = Math.ceil(at / size) * size;
    const offset = at;
    at += size;
    return { value, offset };
  });
  return { buffers: buffers.map((param, i) => ({ param, offset: i * 4 })), values: placed, bytes: at };
}

/** What an outlined parallel loop body needs from its kernel: the buffers it touches and the values it captures (the lower bound always). */
function parallelCaptures(s: ForStmt): { buffers: KBufferParam[]; values: KValue[] } {
  const values = freeValues(s.body, new Set([s.iv]));
  if (!values.includes(s.lo)) values.unshift(s.lo);
  return { buffers: usedBuffers(s.body), values };
}

/** Bytes of the largest launch context of the program (an upper bound: constants count too). */
export function launchContextBytes(program: KProgram): number {
  let most = 0;
  const walk = (stmts: readonly KStmt[]): void => {
    for (const s of stmts) {
      if (s.kind === "for" && s.parallel) {
        const { buffers, values } = parallelCaptures(s);
        most = Math.max(most, contextLayout(buffers, values).bytes);
      } else if (s.kind === "for") walk(s.body);
      else if (s.kind === "if") {
        walk(s.then);
        walk(s.else);
      }
    }
  };
  for (const kernel of program.kernels) walk(kernel.body);
  return most;
}


class KernelWriter {
  private readonly locals: number[] = [];
  private readonly valueLocal = new Map<KValue, number>();
  private readonly constants = new Map<KValue, Expr>();
  private readonly varLocal = new Map<KVar, number>();
  private readonly bufferLocal = new Map<KBufferParam, number>();
  /** Scalar f32 loads by result, so that broadcast(load) becomes one v128.load32_splat. */
  private readonly scalarLoads = new Map<KValue, Extract<KStmt, { kind: "load" }>>();
  private labels = 0;
  private readonly paramCount: number;

  /**
   * A kernel's writer, or (outlined) the writer of one of its parallel loop bodies: a function
   * (ctx, first, last) that reads its buffers and values from the context area at ctx and runs
   * iterations [first, last). Parallel loops nested in an outlined body run serially.
   */
  constructor(
    private readonly m: Mod,
    private readonly fn: KFunc,
    private readonly threads?: ThreadsEmit,
    private readonly outlined = false,
  ) {
    let i = 0;
    if (outlined) i = 3;
    else {
      for (const p of fn.params) {
        if (p.kind === "buffer") this.bufferLocal.set(p, i++);
        else this.valueLocal.set(p.value, i++);
      }
    }
    this.paramCount = i;
  }

  static wasmType(t: KType): number {
    if (t.width > 1) {
      if (t.width !== 4) throw new TfcError("TFC6040", `wasm target: vectors have 4 lanes (SIMD128), got ${t.width}; lower with vectorWidth 4`);
      return binaryen.v128;
    }
    return t.elem === "f32" ? binaryen.f32 : binaryen.i32;
  }

  private local(t: KType): number {
    this.locals.push(KernelWriter.wasmType(t));
    return this.paramCount + this.locals.length - 1;
  }

  private get(v: KValue): Expr {
    const c = this.constants.get(v);
    if (c !== undefined) return this.m.copyExpression(c);
    const l = this.valueLocal.get(v);
    if (l === undefined) throw new TfcError("TFC6041", `wasm target: value %${v.id} of kernel ${this.fn.name} is used before it is defined`);
    return this.m.local.get(l, KernelWriter.wasmType(v.type));
  }

  private define(v: KValue, e: Expr): Expr {
    const l = this.local(v.type);
    this.valueLocal.set(v, l);
    return this.m.local.set(l, e);
  }

  function(name: string): void {
    const body = this.block(this.fn.body);
    const params = this.fn.params.map(() => binaryen.i32);
    this.m.addFunction(name, binaryen.createType(params), binaryen.none, this.locals, body);
  }

  private block(stmts: readonly KStmt[]): Expr {
    const out: Expr[] = [];
    for (const s of stmts) {
      const e = this.stmt(s);
      if (e !== undefined) out.push(e);
    }
    return this.m.block(null, out, binaryen.none);
  }

  private scalarConst(t: KType, value: number): Expr {
    if (t.elem === "f32") return this.m.f32.const(value);
    return this.m.i32.const(t.elem === "bool" ? (value ? 1 : 0) : value | 0);
  }

  private stmt(s: KStmt): Expr | undefined {
    const m = this.m;
    switch (s.kind) {
      case "const": {
        const scalar = this.scalarConst({ elem: s.result.type.elem, width: 1 }, s.value);
        this.constants.set(s.result, s.result.type.width === 1 ? scalar : this.splat(s.result.type, scalar));
        return undefined;
      }
      case "prim":
        return this.define(s.result, this.prim(s.prim, s.args, s.result.type));
      case "broadcast": {
        const load = this.scalarLoads.get(s.arg);
        if (load && load.buffer.elem !== "bool") return this.define(s.result, m.v128.load32_splat(0, 4, this.address(load.buffer, this.get(load.index))));
        return this.define(s.result, this.splat(s.result.type, this.get(s.arg)));
      }
      case "reduce": {
        let acc = this.lane(s.arg, 0);
        for (let i = 1; i < s.arg.type.width; i++) acc = this.scalarBinary(s.op === "add" ? "add" : s.op, s.result.type, acc, this.lane(s.arg, i));
        return this.define(s.result, acc);
      }
      case "load":
        if (s.result.type.width === 1) this.scalarLoads.set(s.result, s);
        return this.define(s.result, this.load(s.buffer, this.get(s.index), s.result.type));
      case "store":
        return this.store(s.buffer, s.index, s.value);
      case "var": {
        const l = this.local(s.var.type);
        this.varLocal.set(s.var, l);
        return m.local.set(l, this.get(s.init));
      }
      case "get":
        return this.define(s.result, m.local.get(this.varOf(s.var), KernelWriter.wasmType(s.result.type)));
      case "set":
        return m.local.set(this.varOf(s.var), this.get(s.value));
      case "for": {
        if (s.parallel && this.threads && !this.outlined) return this.launch(s, this.threads);
        const iv = this.local(s.iv.type);
        this.valueLocal.set(s.iv, iv);
        const hi = this.local(s.hi.type);
        const exit = `exit${this.labels}`;
        const cont = `loop${this.labels++}`;
        const body = this.block(s.body);
        return m.block(null, [
          m.local.set(iv, this.get(s.lo)),
          m.local.set(hi, this.get(s.hi)),
          m.block(exit, [
            m.loop(
              cont,
              m.block(null, [
                m.br(exit, m.i32.ge_s(m.local.get(iv, binaryen.i32), m.local.get(hi, binaryen.i32))),
                body,
                m.local.set(iv, m.i32.add(m.local.get(iv, binaryen.i32), m.i32.const(s.step))),
                m.br(cont),
              ]),
            ),
          ]),
        ]);
      }
      case "if":
        return m.if(this.get(s.cond), this.block(s.then), s.else.length ? this.block(s.else) : undefined);
      case "call": {
        // tfc_fail(code): the first error wins; the kernel goes on (its indices are clamped).
        const code = this.get(s.args[0]!);
        if (this.threads) return m.drop(m.i32.atomic.rmw.cmpxchg(0, m.i32.const(THREADS_STATUS_ADDRESS), m.i32.const(0), code));
        return m.if(m.i32.eqz(m.global.get("status", binaryen.i32)), m.global.set("status", code));
      }
    }
  }

  /** Threads build: store the loop's captures into the context area, outline its body, call env.parallel_for over its trip count. */
  private launch(s: ForStmt, threads: ThreadsEmit): Expr {
    const m = this.m;
    const { buffers, values } = parallelCaptures(s);
    const constants = values.filter((v) => this.constants.has(v));
    const context = contextLayout(buffers, values.filter((v) => !this.constants.has(v)));
    if (context.bytes > threads.contextBytes) throw new TfcError("TFC6042", `internal: a parallel loop of ${this.fn.name} needs ${context.bytes} context bytes, ${threads.contextBytes} were planned; please report it`);
    const base = () => m.i32.const(threads.contextAddress);
    const stores = [
      ...context.buffers.map(({ param, offset }) => m.i32.store(offset, 4, base(), m.local.get(this.bufferLocal.get(param)!, binaryen.i32))),
      ...context.values.map(({ value, offset }) => this.storeField(value.type, offset, base(), this.get(value))),
    ];
    const index = threads.outlined.length;
    const name = `p${index}_${this.fn.name}`;
    threads.outlined.push(name);
    new KernelWriter(m, this.fn, threads, true).outlinedBody(name, s, context, new Map(constants.map((v) => [v, this.constants.get(v)!])));
    // Trip count in iterations of `step`, so that threads get whole iterations.
    const span = this.local({ elem: "index", width: 1 });
    const spanValue = () => m.local.get(span, binaryen.i32);
    const trips = m.i32.div_s(m.i32.add(spanValue(), m.i32.const(s.step - 1)), m.i32.const(s.step));
    return m.block(null, [
      ...stores,
      m.local.set(span, m.i32.sub(this.get(s.hi), this.get(s.lo))),
      m.if(m.i32.gt_s(spanValue(), m.i32.const(0)), m.call("parallel_for", [m.i32.const(index), base(), m.i32.const(0), trips], binaryen.none)),
    ]);
  }

  /** Write this (outlined) writer's function: unpack the context, then a serial loop over iterations [first, last). */
  outlinedBody(name: string, s: ForStmt, context: ContextLayout, constants: Map<KValue, Expr>): void {
    const m = this.m;
    const ctx = () => m.local.get(0, binaryen.i32);
    const first = () => m.local.get(1, binaryen.i32);
    const last = () => m.local.get(2, binaryen.i32);
    for (const [value, expr] of constants) this.constants.set(value, expr);
    const prologue: Expr[] = [];
    for (const { param, offset } of context.buffers) {
      const l = this.local({ elem: "index", width: 1 });
      this.bufferLocal.set(param, l);
      prologue.push(m.local.set(l, m.i32.load(offset, 4, ctx())));
    }
    for (const { value, offset } of context.values) {
      const l = this.local(value.type);
      this.valueLocal.set(value, l);
      prologue.push(m.local.set(l, this.loadField(value.type, offset, ctx())));
    }
    const iv = this.local(s.iv.type);
    this.valueLocal.set(s.iv, iv);
    prologue.push(m.local.set(iv, m.i32.add(this.get(s.lo), m.i32.mul(first(), m.i32.const(s.step)))));
    const body = this.block(s.body);
    const loop = m.block("exit", [
      m.loop(
        "next",
        m.block(null, [
          m.br("exit", m.i32.ge_s(first(), last())),
          body,
          m.local.set(iv, m.i32.add(m.local.get(iv, binaryen.i32), m.i32.const(s.step))),
          m.local.set(1, m.i32.add(first(), m.i32.const(1))),
          m.br("next"),
        ]),
      ),
    ]);
    m.addFunction(name, binaryen.createType([binaryen.i32, binaryen.i32, binaryen.i32]), binaryen.none, this.locals, m.block(null, [...prologue, loop]));
  }

  private loadField(t: KType, offset: number, ptr: Expr): Expr {
    if (t.width > 1) return this.m.v128.load(offset, 16, ptr);
    return t.elem === "f32" ? this.m.f32.load(offset, 4, ptr) : this.m.i32.load(offset, 4, ptr);
  }

  private storeField(t: KType, offset: number, ptr: Expr, value: Expr): Expr {
    if (t.width > 1) return this.m.v128.store(offset, 16, ptr, value);
    return t.elem === "f32" ? this.m.f32.store(offset, 4, ptr, value) : this.m.i32.store(offset, 4, ptr, value);
  }

  private varOf(v: KVar): number {
    const l = this.varLocal.get(v);
    if (l === undefined) throw new TfcError("TFC6041", `wasm target: local ${v.name ?? v.id} used before its declaration in ${this.fn.name}`);
    return l;
  }

  private address(p: KBufferParam, index: Expr): Expr {
    const base = this.m.local.get(this.bufferLocal.get(p)!, binaryen.i32);
    const bytes = ELEM_BYTES[p.elem];
    return this.m.i32.add(base, bytes === 1 ? index : this.m.i32.shl(index, this.m.i32.const(2)));
  }

  private load(p: KBufferParam, index: Expr, t: KType): Expr {
    const m = this.m;
    if (t.width === 1) {
      if (p.elem === "f32") return m.f32.load(0, 4, this.address(p, index));
      if (p.elem === "i32") return m.i32.load(0, 4, this.address(p, index));
      return m.i32.ne(m.i32.load8_u(0, 1, this.address(p, index)), m.i32.const(0));
    }
    if (p.elem !== "bool") return m.v128.load(0, 4, this.address(p, index));
    // Four bytes → an i32x4 mask (0 or -1 per lane).
    const at = this.local({ elem: "index", width: 1 });
    let v = m.v128.const([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    for (let i = 0; i < 4; i++) {
      const byte = m.i32.load8_u(i, 1, m.local.get(at, binaryen.i32));
      v = m.i32x4.replace_lane(v, i, m.i32.sub(m.i32.const(0), m.i32.ne(byte, m.i32.const(0))));
    }
    return m.block(null, [m.local.set(at, this.address(p, index)), v], binaryen.v128);
  }

  private store(p: KBufferParam, indexValue: KValue, value: KValue): Expr {
    const m = this.m;
    const addr = this.address(p, this.get(indexValue));
    const t = value.type;
    if (t.width === 1) {
      if (p.elem === "f32") return m.f32.store(0, 4, addr, this.get(value));
      if (p.elem === "i32") return m.i32.store(0, 4, addr, this.get(value));
      return m.i32.store8(0, 1, addr, this.get(value));
    }
    if (p.elem !== "bool") return m.v128.store(0, 4, addr, this.get(value));
    const at = this.local({ elem: "index", width: 1 });
    const stores = [m.local.set(at, addr)];
    for (let i = 0; i < 4; i++) stores.push(m.i32.store8(i, 1, m.local.get(at, binaryen.i32), m.i32.and(m.i32x4.extract_lane(this.get(value), i), m.i32.const(1))));
    return m.block(null, stores);
  }

  private splat(t: KType, scalar: Expr): Expr {
    if (t.elem === "f32") return this.m.f32x4.splat(scalar);
    if (t.elem === "bool") return this.m.i32x4.splat(this.m.i32.sub(this.m.i32.const(0), scalar));
    return this.m.i32x4.splat(scalar);
  }

  private lane(v: KValue, i: number): Expr {
    if (v.type.elem === "f32") return this.m.f32x4.extract_lane(this.get(v), i);
    const x = this.m.i32x4.extract_lane(this.get(v), i);
    return v.type.elem === "bool" ? this.m.i32.and(x, this.m.i32.const(1)) : x;
  }

  /** Apply a scalar operation lane by lane (ops SIMD128 lacks: integer division, transcendentals). */
  private perLane(t: KType, args: readonly KValue[], op: (lanes: Expr[]) => Expr): Expr {
    const m = this.m;
    let v = m.v128.const([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    for (let i = 0; i < 4; i++) {
      const x = op(args.map((a) => this.lane(a, i)));
      v = t.elem === "f32" ? m.f32x4.replace_lane(v, i, x) : m.i32x4.replace_lane(v, i, t.elem === "bool" ? m.i32.sub(m.i32.const(0), x) : x);
    }
    return v;
  }

  private math(name: keyof typeof MATH_IMPORTS, args: Expr[]): Expr {
    const m = this.m;
    const call = m.call(`math_${name}`, args.map((a) => m.f64.promote(a)), binaryen.f64);
    return m.f32.demote(call);
  }

  private scalarBinary(op: "add" | "max" | "min", t: KType, a: Expr, b: Expr): Expr {
    const m = this.m;
    if (t.elem === "f32") return op === "add" ? m.f32.add(a, b) : op === "max" ? m.f32.max(a, b) : m.f32.min(a, b);
    if (op === "add") return m.i32.add(a, b);
    return this.intMinMax(op, a, b);
  }

  private intMinMax(op: "max" | "min", a: Expr, b: Expr): Expr {
    const m = this.m;
    const la = this.local({ elem: "i32", width: 1 });
    const lb = this.local({ elem: "i32", width: 1 });
    const ga = m.local.get(la, binaryen.i32);
    const gb = m.local.get(lb, binaryen.i32);
    const pick = m.select(op === "max" ? m.i32.gt_s(ga, gb) : m.i32.lt_s(ga, gb), m.local.get(la, binaryen.i32), m.local.get(lb, binaryen.i32));
    return m.block(null, [m.local.set(la, a), m.local.set(lb, b), pick], binaryen.i32);
  }

  /** Floor division / floor modulo for i32 (x / 0 = 0 as the interpreter); index operands are non-negative. */
  private intDiv(elem: KType["elem"], a: Expr, b: Expr, remainder: boolean): Expr {
    const m = this.m;
    if (elem === "index") return remainder ? m.i32.rem_s(a, b) : m.i32.div_s(a, b);
    const x = this.local({ elem: "i32", width: 1 });
    const y = this.local({ elem: "i32", width: 1 });
    const q = this.local({ elem: "i32", width: 1 });
    const r = this.local({ elem: "i32", width: 1 });
    const gx = () => m.local.get(x, binaryen.i32);
    const gy = () => m.local.get(y, binaryen.i32);
    const gq = () => m.local.get(q, binaryen.i32);
    const gr = () => m.local.get(r, binaryen.i32);
    // INT_MIN / -1 would trap: it wraps to INT_MIN in the interpreter (|0), remainder 0.
    const overflow = () => m.i32.and(m.i32.eq(gx(), m.i32.const(-2147483648)), m.i32.eq(gy(), m.i32.const(-1)));
    const adjust = m.i32.and(m.i32.ne(gr(), m.i32.const(0)), m.i32.lt_s(m.i32.xor(gr(), gy()), m.i32.const(0)));
    const result = remainder ? m.select(adjust, m.i32.add(gr(), gy()), gr()) : m.select(adjust, m.i32.sub(gq(), m.i32.const(1)), gq());
    return m.block(
      null,
      [
        m.local.set(x, a),
        m.local.set(y, b),
        m.if(
          m.i32.or(m.i32.eqz(gy()), overflow()),
          m.block(null, [m.local.set(q, m.select(m.i32.eqz(gy()), m.i32.const(0), gx())), m.local.set(r, remainder ? m.select(m.i32.eqz(gy()), gx(), m.i32.const(0)) : m.i32.const(0))]),
          m.block(null, [m.local.set(q, m.i32.div_s(gx(), gy())), m.local.set(r, m.i32.rem_s(gx(), gy()))]),
        ),
        m.if(m.i32.or(m.i32.eqz(gy()), overflow()), remainder ? m.local.set(q, gr()) : m.nop(), m.local.set(q, result)),
        gq(),
      ],
      binaryen.i32,
    );
  }

  private prim(prim: KPrim, args: readonly KValue[], result: KType): Expr {
    const t = args[0]!.type;
    const m = this.m;
    const a = () => this.get(args[0]!);
    const b = () => this.get(args[1]!);
    const vec = t.width > 1;
    const f = t.elem === "f32";
    if (vec) {
      switch (prim) {
        case "add": return f ? m.f32x4.add(a(), b()) : m.i32x4.add(a(), b());
        case "sub": return f ? m.f32x4.sub(a(), b()) : m.i32x4.sub(a(), b());
        case "mul": return f ? m.f32x4.mul(a(), b()) : m.i32x4.mul(a(), b());
        case "div": return f ? m.f32x4.div(a(), b()) : this.perLane(t, args, ([x, y]) => this.intDiv(t.elem, x!, y!, false));
        case "rem": return this.perLane(t, args, ([x, y]) => this.intDiv(t.elem, x!, y!, true));
        case "neg": return f ? m.f32x4.neg(a()) : m.i32x4.neg(a());
        case "abs": return f ? m.f32x4.abs(a()) : m.i32x4.abs(a());
        case "max": return f ? m.f32x4.max(a(), b()) : m.i32x4.max_s(a(), b());
        case "min": return f ? m.f32x4.min(a(), b()) : m.i32x4.min_s(a(), b());
        case "sqrt": return m.f32x4.sqrt(a());
        case "floor": return m.f32x4.floor(a());
        case "fma": return m.f32x4.add(m.f32x4.mul(a(), b()), this.get(args[2]!));
        case "exp": case "log": case "tanh": return this.perLane(t, args, ([x]) => this.math(prim, [x!]));
        case "pow": return this.perLane(t, args, ([x, y]) => (f ? this.math("pow", [x!, y!]) : this.intPow(x!, y!)));
        case "eq": return f ? m.f32x4.eq(a(), b()) : m.i32x4.eq(a(), b());
        case "ne": return f ? m.f32x4.ne(a(), b()) : m.i32x4.ne(a(), b());
        case "lt": return f ? m.f32x4.lt(a(), b()) : t.elem === "bool" ? m.i32x4.gt_s(a(), b()) : m.i32x4.lt_s(a(), b());
        case "le": return f ? m.f32x4.le(a(), b()) : t.elem === "bool" ? m.i32x4.ge_s(a(), b()) : m.i32x4.le_s(a(), b());
        case "gt": return f ? m.f32x4.gt(a(), b()) : t.elem === "bool" ? m.i32x4.lt_s(a(), b()) : m.i32x4.gt_s(a(), b());
        case "ge": return f ? m.f32x4.ge(a(), b()) : t.elem === "bool" ? m.i32x4.le_s(a(), b()) : m.i32x4.ge_s(a(), b());
        case "and": return m.v128.and(a(), b());
        case "or": return m.v128.or(a(), b());
        case "not": return m.v128.not(a());
        case "select": return m.v128.bitselect(b(), this.get(args[2]!), a());
        case "cast": return this.castVector(t, result, a());
      }
    }
    switch (prim) {
      case "add": return f ? m.f32.add(a(), b()) : m.i32.add(a(), b());
      case "sub": return f ? m.f32.sub(a(), b()) : m.i32.sub(a(), b());
      case "mul": return f ? m.f32.mul(a(), b()) : m.i32.mul(a(), b());
      case "div": return f ? m.f32.div(a(), b()) : this.intDiv(t.elem, a(), b(), false);
      case "rem": return this.intDiv(t.elem, a(), b(), true);
      case "neg": return f ? m.f32.neg(a()) : m.i32.sub(m.i32.const(0), a());
      case "abs": {
        if (f) return m.f32.abs(a());
        const l = this.local(t);
        const g = () => m.local.get(l, binaryen.i32);
        return m.block(null, [m.local.set(l, a()), m.select(m.i32.lt_s(g(), m.i32.const(0)), m.i32.sub(m.i32.const(0), g()), g())], binaryen.i32);
      }
      case "max": return f ? m.f32.max(a(), b()) : this.intMinMax("max", a(), b());
      case "min": return f ? m.f32.min(a(), b()) : this.intMinMax("min", a(), b());
      case "sqrt": return m.f32.sqrt(a());
      case "floor": return m.f32.floor(a());
      case "fma": return m.f32.add(m.f32.mul(a(), b()), this.get(args[2]!));
      case "exp": case "log": case "tanh": return this.math(prim, [a()]);
      case "pow": return f ? this.math("pow", [a(), b()]) : this.intPow(a(), b());
      case "eq": return f ? m.f32.eq(a(), b()) : m.i32.eq(a(), b());
      case "ne": return f ? m.f32.ne(a(), b()) : m.i32.ne(a(), b());
      case "lt": return f ? m.f32.lt(a(), b()) : t.elem === "bool" ? m.i32.lt_u(a(), b()) : m.i32.lt_s(a(), b());
      case "le": return f ? m.f32.le(a(), b()) : t.elem === "bool" ? m.i32.le_u(a(), b()) : m.i32.le_s(a(), b());
      case "gt": return f ? m.f32.gt(a(), b()) : t.elem === "bool" ? m.i32.gt_u(a(), b()) : m.i32.gt_s(a(), b());
      case "ge": return f ? m.f32.ge(a(), b()) : t.elem === "bool" ? m.i32.ge_u(a(), b()) : m.i32.ge_s(a(), b());
      case "and": return m.i32.and(a(), b());
      case "or": return m.i32.or(a(), b());
      case "not": return m.i32.xor(a(), m.i32.const(1));
      case "select": return m.select(a(), b(), this.get(args[2]!));
      case "cast": return this.castScalar(t, result, a());
    }
  }

  /** i32 x^y as the interpreter: in doubles, truncated to 32 bits. */
  private intPow(x: Expr, y: Expr): Expr {
    const m = this.m;
    const p = m.call("math_pow", [m.f64.convert_s.i32(x), m.f64.convert_s.i32(y)], binaryen.f64);
    return m.i32.trunc_s_sat.f64(p);
  }

  private castScalar(from: KType, to: KType, x: Expr): Expr {
    const m = this.m;
    const k = `${from.elem}->${to.elem}`;
    switch (k) {
      case "f32->i32": case "f32->index": return m.i32.trunc_s_sat.f32(x);
      case "i32->f32": case "index->f32": return m.f32.convert_s.i32(x);
      case "bool->f32": return m.f32.convert_u.i32(x);
      case "f32->bool": return m.f32.ne(x, m.f32.const(0));
      case "i32->bool": case "index->bool": return m.i32.ne(x, m.i32.const(0));
      default: return x; // i32 ↔ index ↔ bool→int: the same i32
    }
  }

  private castVector(from: KType, to: KType, x: Expr): Expr {
    const m = this.m;
    const k = `${from.elem}->${to.elem}`;
    switch (k) {
      case "f32->i32": case "f32->index": return m.i32x4.trunc_sat_f32x4_s(x);
      case "i32->f32": case "index->f32": return m.f32x4.convert_i32x4_s(x);
      case "bool->f32": return m.f32x4.convert_i32x4_s(m.i32x4.neg(x)); // mask -1 → 1
      case "bool->i32": case "bool->index": return m.i32x4.neg(x);
      case "f32->bool": return m.f32x4.ne(x, m.f32x4.splat(m.f32.const(0)));
      case "i32->bool": case "index->bool": return m.i32x4.ne(x, m.i32x4.splat(m.i32.const(0)));
      default: return x;
    }
  }
}

export interface WasmEmitOptions {
  /** Put params and consts into a data segment (model.wasm is then self-contained). */
  readonly embed?: { readonly data: Map<KProgramBuffer, Uint8Array> };
  /** The threads build: shared imported memory, outlined parallel loops, env.parallel_for and run_chunk. */
  readonly threads?: boolean;
}

/** Threads build: what model.js needs to create the shared memory. */
export interface WasmThreadsInfo {
  readonly initialPages: number;
  readonly maximumPages: number;
  readonly controlOffset: number;
}

/**
 * Build the binaryen module for a program; returns the module (validated, not yet optimized) and its
 * layout. The threads build imports env.memory (shared, declared maximum THREADS_MAXIMUM_PAGES) and
 * env.parallel_for(fnIndex, ctx, begin, end), and exports run_chunk(fnIndex, ctx, lo, hi) and
 * init_weights() (copies the passive weight segments in; the main thread calls it once).
 */
export function emitWasm(program: KProgram, opts: WasmEmitOptions = {}): { module: Mod; layout: WasmLayoutPlan; threads?: WasmThreadsInfo } {
  const m = new binaryen.Module();
  const threaded = opts.threads === true;
  m.setFeatures(
    binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.NontrappingFPToInt | binaryen.Features.SignExt | binaryen.Features.BulkMemory | binaryen.Features.MutableGlobals | (threaded ? binaryen.Features.Atomics : 0),
  );
  const layout = planWasmLayout(program, threaded ? launchContextBytes(program) : 0);
  const initialPages = Math.max(1, Math.ceil((layout.staticBytes + layout.dynamicBytes.constant + layout.dynamicBytes.perBatch) / PAGE));
  const embedded = opts.embed ? [...opts.embed.data] : [];
  if (threaded) {
    // Passive segments: instantiating the module on each worker must not write the weights again.
    const segments = embedded.map(([, data], i) => ({ name: `weights${i}`, offset: 0 /* none: passive */, data, passive: true }));
    m.setMemory(initialPages, THREADS_MAXIMUM_PAGES, "memory", segments, true);
    m.addMemoryImport("0", "env", "memory", true);
  } else {
    const segments = embedded.map(([buf, data]) => ({ offset: m.i32.const(layout.places.get(buf)!.static!), data, passive: false }));
    m.setMemory(initialPages, 65536, "memory", segments);
  }
  for (const [name, arity] of Object.entries(MATH_IMPORTS)) {
    m.addFunctionImport(`math_${name}`, "env", name, binaryen.createType(new Array(arity).fill(binaryen.f64)), binaryen.f64);
  }
  const i32x4 = binaryen.createType([binaryen.i32, binaryen.i32, binaryen.i32, binaryen.i32]);
  const threads: ThreadsEmit | undefined = threaded ? { contextAddress: layout.context?.address ?? 0, contextBytes: layout.context?.bytes ?? 0, outlined: [] } : undefined;
  if (threaded) m.addFunctionImport("parallel_for", "env", "parallel_for", i32x4, binaryen.none);
  else m.addGlobal("status", binaryen.i32, true, m.i32.const(0));
  for (const kernel of program.kernels) new KernelWriter(m, kernel, threads).function(`k_${kernel.name}`);

  // run(n): every buffer's address, then the launches.
  const n = () => m.local.get(0, binaryen.i32);
  const addressOf = (b: KProgramBuffer): Expr => {
    const place = layout.places.get(b);
    if (!place) throw new TfcError("TFC6041", `wasm target: buffer ${b.name} has no place in memory`);
    if (place.static !== undefined) return m.i32.const(place.static);
    const d = place.dynamic!;
    const perBatch = d.perBatch ? m.i32.mul(n(), m.i32.const(d.perBatch)) : m.i32.const(0);
    return m.i32.add(m.i32.const(layout.staticBytes + d.constant), perBatch);
  };
  const calls = (launches: readonly KLaunch[]) =>
    launches.map((launch) => {
      let k = 0;
      const args = launch.kernel.params.map((p) => (p.kind === "buffer" ? addressOf(launch.buffers[k++]!) : n()));
      return m.call(`k_${launch.kernel.name}`, args, binaryen.none);
    });
  m.addFunction("run", binaryen.createType([binaryen.i32]), binaryen.none, [], m.block(null, calls(program.launches)));
  m.addFunctionExport("run", "run");
  // prepare(): the prepare launches (weights packed for the microkernels); model.js calls it before
  // the first run and again after writeParameter.
  m.addFunction("prepare", binaryen.none, binaryen.none, [], m.block(null, calls(program.prepare)));
  m.addFunctionExport("prepare", "prepare");
  const status = threads ? m.i32.atomic.load(0, m.i32.const(THREADS_STATUS_ADDRESS)) : m.global.get("status", binaryen.i32);
  m.addFunction("status", binaryen.none, binaryen.i32, [], status);
  m.addFunctionExport("status", "status");
  const reset = threads ? m.i32.atomic.store(0, m.i32.const(THREADS_STATUS_ADDRESS), m.i32.const(0)) : m.global.set("status", m.i32.const(0));
  m.addFunction("reset", binaryen.none, binaryen.none, [], reset);
  m.addFunctionExport("reset", "reset");
  if (threads) {
    const names = threads.outlined;
    m.addTable("outlined", names.length, names.length);
    if (names.length > 0) m.addActiveElementSegment("outlined", "outlined_bodies", names, m.i32.const(0));
    const arg = (i: number) => m.local.get(i, binaryen.i32);
    const call = m.call_indirect("outlined", arg(0), [arg(1), arg(2), arg(3)], binaryen.createType([binaryen.i32, binaryen.i32, binaryen.i32]), binaryen.none);
    m.addFunction("run_chunk", i32x4, binaryen.none, [], call);
    m.addFunctionExport("run_chunk", "run_chunk");
    const copies = embedded.flatMap(([buf, data], i) => [
      m.memory.init(`weights${i}`, m.i32.const(layout.places.get(buf)!.static!), m.i32.const(0), m.i32.const(data.byteLength)),
      m.data.drop(`weights${i}`),
    ]);
    m.addFunction("init_weights", binaryen.none, binaryen.none, [], m.block(null, copies));
    m.addFunctionExport("init_weights", "init_weights");
  }
  if (!m.validate()) throw new TfcError("TFC6042", "internal: tfc generated an invalid WebAssembly module; please report it");
  const threadsInfo = threaded ? { initialPages, maximumPages: THREADS_MAXIMUM_PAGES, controlOffset: THREADS_CONTROL_OFFSET } : undefined;
  return { module: m, layout, ...(threadsInfo ? { threads: threadsInfo } : {}) };
}

export function optimizeAndEmit(m: Mod): Uint8Array {
  binaryen.setOptimizeLevel(3);
  binaryen.setShrinkLevel(1);
  m.optimize();
  const bytes = m.emitBinary();
  m.dispose();
  return bytes;
}
