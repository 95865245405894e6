// The kernel IR: what every target consumes. A KProgram is one tensor function after lowering:
// buffers (inputs, outputs, parameters, temporaries planned into one arena) and a sequence of
// kernel launches. A kernel (KFunc) is a loop nest over buffer parameters: typed SSA values,
// loads and stores, scalar and fixed-width vector arithmetic, mutable locals, structured
// `for`/`if` with parallel/unroll annotations, and calls into the C runtime. Text: print.ts,
// parse.ts; checks: verify.ts; semantics: interpret.ts; construction: builder.ts.

import type { Op } from "../ir.js";

/** Element types: `index` is the 64-bit integer type of sizes and addresses. */
export type KElem = "f32" | "i32" | "bool" | "index";

/** A scalar (width 1) or a fixed-width vector of one element type. */
export interface KType {
  readonly elem: KElem;
  readonly width: number;
}

export const kType = (elem: KElem, width = 1): KType => ({ elem, width });
export const F32 = kType("f32");
export const I32 = kType("i32");
export const BOOL = kType("bool");
export const INDEX = kType("index");

/** `f32`, `index`, `f32x8`. */
export function formatKType(t: KType): string {
  return t.width === 1 ? t.elem : `${t.elem}x${t.width}`;
}
export function sameKType(a: KType, b: KType): boolean {
  return a.elem === b.elem && a.width === b.width;
}

export class KValue {
  constructor(
    readonly id: number,
    readonly type: KType,
    /** Name hint for printing (parameters and induction variables keep names). */
    public name?: string,
  ) {}
}

/** A mutable local (a register the backend may keep in SSA form: LLVM mem2reg, wasm locals). */
export class KVar {
  constructor(
    readonly id: number,
    readonly type: KType,
    public name?: string,
  ) {}
}

/** Arithmetic, comparison and conversion; each applies lane-wise to vectors. */
export type KPrim =
  | "add" | "sub" | "mul" | "div" | "rem" | "neg" | "abs" | "max" | "min"
  | "sqrt" | "exp" | "log" | "tanh" | "pow" | "floor" | "fma"
  | "eq" | "ne" | "lt" | "le" | "gt" | "ge"
  | "and" | "or" | "not" | "select" | "cast";

/** Functions of the C runtime a kernel may call (declared once in runtime/c/tfc_runtime.h). */
export type KRuntimeFn = "tfc_fail"; // reports a run-time error (e.g. an index out of range) and stops the kernel

export type KStmt =
  | { readonly kind: "const"; readonly result: KValue; readonly value: number }
  | { readonly kind: "prim"; readonly result: KValue; readonly prim: KPrim; readonly args: readonly KValue[] }
  | { readonly kind: "broadcast"; readonly result: KValue; readonly arg: KValue }
  | { readonly kind: "reduce"; readonly result: KValue; readonly op: "add" | "max" | "min"; readonly arg: KValue }
  | { readonly kind: "load"; readonly result: KValue; readonly buffer: KBufferParam; readonly index: KValue }
  | { readonly kind: "store"; readonly buffer: KBufferParam; readonly index: KValue; readonly value: KValue }
  | { readonly kind: "var"; readonly var: KVar; readonly init: KValue }
  | { readonly kind: "get"; readonly result: KValue; readonly var: KVar }
  | { readonly kind: "set"; readonly var: KVar; readonly value: KValue }
  | {
      readonly kind: "for";
      readonly iv: KValue;
      readonly lo: KValue;
      readonly hi: KValue;
      readonly step: number;
      /** Iterations may run on different threads (CPU) or grid blocks (GPU). */
      readonly parallel: boolean;
      /** Unroll hint for the backend (1: none). */
      readonly unroll: number;
      readonly body: KStmt[];
    }
  | { readonly kind: "if"; readonly cond: KValue; readonly then: KStmt[]; readonly else: KStmt[] }
  | { readonly kind: "call"; readonly fn: KRuntimeFn; readonly args: readonly KValue[] };

/** A buffer parameter: a pointer to elements of one type, never aliasing another parameter. */
export interface KBufferParam {
  readonly kind: "buffer";
  readonly name: string;
  readonly elem: "f32" | "i32" | "bool";
  /** Whether the kernel writes it (outputs, scratch). */
  readonly writes: boolean;
}

/** A scalar parameter (the batch size and other run-time sizes). */
export interface KScalarParam {
  readonly kind: "scalar";
  readonly name: string;
  readonly value: KValue;
}

export type KParam = KBufferParam | KScalarParam;

export class KFunc {
  constructor(
    readonly name: string,
    readonly params: KParam[],
    readonly body: KStmt[],
  ) {}
  buffers(): KBufferParam[] {
    return this.params.filter((p): p is KBufferParam => p.kind === "buffer");
  }
  scalars(): KScalarParam[] {
    return this.params.filter((p): p is KScalarParam => p.kind === "scalar");
  }
}

/** Elements as `constant + perBatch·N`, N the run-time batch size. */
export interface KSize {
  readonly constant: number;
  readonly perBatch: number;
}

/**
 * `packed`: data derived from parameters by the program's `prepare` launches (weights laid out as
 * a microkernel reads them), kept between calls; the ordinary launches only read it.
 */
export type KBufferRole = "input" | "output" | "param" | "temp" | "const" | "packed";

/** A buffer of the program. Temporaries live in the arena at `offset` (in bytes, also `a + b·N`). */
export interface KProgramBuffer {
  readonly name: string;
  readonly elem: "f32" | "i32" | "bool";
  readonly size: KSize;
  readonly role: KBufferRole;
  /** For inputs/outputs/params: position in the signature; for params the parameter's name. */
  readonly ref?: number | string;
  /** For `const`: the data, baked into the artifact. */
  readonly data?: Float32Array | Int32Array | Uint8Array;
  /** For temps: byte offset in the arena. */
  offset?: KSize;
}

/** One kernel launch: the kernel and the program buffers bound to its buffer parameters, in order. */
export interface KLaunch {
  readonly kernel: KFunc;
  readonly buffers: readonly KProgramBuffer[];
  /** The tensor ops this launch computes, when it came from lowering (for `tfc inspect`; not printed). */
  readonly ops?: readonly Op[];
}

export class KProgram {
  constructor(
    /** The tensor function's name (`predict`). */
    readonly name: string,
    readonly buffers: KProgramBuffer[],
    readonly kernels: KFunc[],
    readonly launches: KLaunch[],
    /** Arena bytes as `a + b·N`. */
    public arenaBytes: KSize = { constant: 0, perBatch: 0 },
  ) {}
  /**
   * Launches that compute the `packed` buffers from parameters and consts. Whoever runs the
   * program runs them before the first call and again after it changes a parameter, not per call.
   */
  readonly prepare: KLaunch[] = [];
}
