// KBuilder: writes kernel IR the way one writes a loop nest by hand. Statements go into the
// current block; `for`/`if` take callbacks that fill their bodies. Operand types are checked as
// statements are built, so a kernel template cannot produce ill-typed IR.

import { TfcError } from "../errors.js";
import {
  BOOL, INDEX, KFunc, KValue, KVar, formatKType, kType, sameKType,
  type KBufferParam, type KElem, type KParam, type KPrim, type KStmt, type KType, type KRuntimeFn,
} from "./kir.js";

const COMPARE: ReadonlySet<KPrim> = new Set(["eq", "ne", "lt", "le", "gt", "ge"]);
const FLOAT_ONLY: ReadonlySet<KPrim> = new Set(["sqrt", "exp", "log", "tanh", "floor", "fma"]);
const INT_ONLY: ReadonlySet<KPrim> = new Set(["rem"]);
const LOGICAL: ReadonlySet<KPrim> = new Set(["and", "or", "not"]);

function fail(message: string): never {
  throw new TfcError("TFC4101", `kernel IR: ${message}`);
}

/** The result type of a primitive, or a readable error. */
export function primResultType(prim: KPrim, args: readonly KType[], castTo?: KType): KType {
  const a = args[0]!;
  if (prim === "cast") {
    if (!castTo || castTo.width !== a.width) fail(`cast needs a target type of width ${a.width}`);
    return castTo;
  }
  if (prim === "select") {
    const [c, x, y] = args;
    if (!c || !x || !y || c.elem !== "bool" || c.width !== x.width || !sameKType(x, y)) {
      fail(`select needs (bool, T, T) of one width, got (${args.map(formatKType).join(", ")})`);
    }
    return x;
  }
  for (const t of args) if (!sameKType(t, a)) fail(`${prim} operands differ: ${args.map(formatKType).join(" and ")}`);
  if (FLOAT_ONLY.has(prim) && a.elem !== "f32") fail(`${prim} needs f32 operands, got ${formatKType(a)}`);
  if (INT_ONLY.has(prim) && a.elem !== "i32" && a.elem !== "index") fail(`${prim} needs integer operands, got ${formatKType(a)}`);
  if (LOGICAL.has(prim) && a.elem !== "bool") fail(`${prim} needs bool operands, got ${formatKType(a)}`);
  if (!LOGICAL.has(prim) && !COMPARE.has(prim) && a.elem === "bool") fail(`${prim} is not defined on bool operands`);
  const arity = prim === "fma" ? 3 : ["neg", "abs", "sqrt", "exp", "log", "tanh", "floor", "not"].includes(prim) ? 1 : 2;
  if (args.length !== arity) fail(`${prim} takes ${arity} operand(s), got ${args.length}`);
  return COMPARE.has(prim) ? kType("bool", a.width) : a;
}

export class KBuilder {
  private nextValue = 0;
  private nextVar = 0;
  private readonly params: KParam[] = [];
  private blocks: KStmt[][] = [[]];

  constructor(readonly name: string) {}

  private get block(): KStmt[] {
    return this.blocks[this.blocks.length - 1]!;
  }
  private value(type: KType, name?: string): KValue {
    return new KValue(this.nextValue++, type, name);
  }
  private emit(s: KStmt): void {
    this.block.push(s);
  }

  // Parameters
  buffer(name: string, elem: KBufferParam["elem"], writes = false): KBufferParam {
    const p: KBufferParam = { kind: "buffer", name, elem, writes };
    this.params.push(p);
    return p;
  }
  scalarParam(name: string, type: KType = INDEX): KValue {
    const v = this.value(type, name);
    this.params.push({ kind: "scalar", name, value: v });
    return v;
  }

  // Constants
  const(value: number, type: KType): KValue {
    const result = this.value(type);
    this.emit({ kind: "const", result, value: type.elem === "f32" ? Math.fround(value) : value });
    return result;
  }
  index(value: number): KValue {
    return this.const(value, INDEX);
  }
  f32(value: number): KValue {
    return this.const(Math.fround(value), kType("f32"));
  }

  // Arithmetic (lane-wise on vectors)
  prim(prim: KPrim, args: readonly KValue[], castTo?: KType): KValue {
    const result = this.value(primResultType(prim, args.map((a) => a.type), castTo));
    this.emit({ kind: "prim", result, prim, args: [...args] });
    return result;
  }
  add(a: KValue, b: KValue): KValue { return this.prim("add", [a, b]); }
  sub(a: KValue, b: KValue): KValue { return this.prim("sub", [a, b]); }
  mul(a: KValue, b: KValue): KValue { return this.prim("mul", [a, b]); }
  div(a: KValue, b: KValue): KValue { return this.prim("div", [a, b]); }
  rem(a: KValue, b: KValue): KValue { return this.prim("rem", [a, b]); }
  min(a: KValue, b: KValue): KValue { return this.prim("min", [a, b]); }
  max(a: KValue, b: KValue): KValue { return this.prim("max", [a, b]); }
  fma(a: KValue, b: KValue, c: KValue): KValue { return this.prim("fma", [a, b, c]); }
  lt(a: KValue, b: KValue): KValue { return this.prim("lt", [a, b]); }
  select(c: KValue, a: KValue, b: KValue): KValue { return this.prim("select", [c, a, b]); }
  cast(a: KValue, to: KType): KValue { return sameKType(a.type, to) ? a : this.prim("cast", [a], to); }

  /** Index arithmetic with plain numbers folded: `ix(i, "*", 4)`. */
  ix(a: KValue | number, op: "+" | "*" | "-" | "/" | "%", b: KValue | number): KValue {
    const va = typeof a === "number" ? this.index(a) : a;
    const vb = typeof b === "number" ? this.index(b) : b;
    const prim: KPrim = op === "+" ? "add" : op === "*" ? "mul" : op === "-" ? "sub" : op === "/" ? "div" : "rem";
    return this.prim(prim, [va, vb]);
  }

  broadcast(a: KValue, width: number): KValue {
    if (a.type.width !== 1) fail(`broadcast needs a scalar, got ${formatKType(a.type)}`);
    const result = this.value(kType(a.type.elem, width));
    this.emit({ kind: "broadcast", result, arg: a });
    return result;
  }
  reduce(op: "add" | "max" | "min", a: KValue): KValue {
    if (a.type.width === 1) return a;
    const result = this.value(kType(a.type.elem, 1));
    this.emit({ kind: "reduce", result, op, arg: a });
    return result;
  }

  // Memory
  load(buffer: KBufferParam, index: KValue, width = 1): KValue {
    if (!sameKType(index.type, INDEX)) fail(`load index must be index, got ${formatKType(index.type)}`);
    const result = this.value(kType(buffer.elem, width));
    this.emit({ kind: "load", result, buffer, index });
    return result;
  }
  store(buffer: KBufferParam, index: KValue, value: KValue): void {
    if (!sameKType(index.type, INDEX)) fail(`store index must be index, got ${formatKType(index.type)}`);
    if (value.type.elem !== buffer.elem) fail(`cannot store ${formatKType(value.type)} into ${buffer.elem} buffer '${buffer.name}'`);
    this.emit({ kind: "store", buffer, index, value });
  }

  // Locals
  var(init: KValue, name?: string): KVar {
    const v = new KVar(this.nextVar++, init.type, name);
    this.emit({ kind: "var", var: v, init });
    return v;
  }
  get(v: KVar): KValue {
    const result = this.value(v.type);
    this.emit({ kind: "get", result, var: v });
    return result;
  }
  set(v: KVar, value: KValue): void {
    if (!sameKType(v.type, value.type)) fail(`cannot set ${formatKType(v.type)} local to ${formatKType(value.type)}`);
    this.emit({ kind: "set", var: v, value });
  }

  // Control flow
  for(
    lo: KValue | number,
    hi: KValue | number,
    opts: { step?: number; parallel?: boolean; unroll?: number; name?: string },
    body: (iv: KValue) => void,
  ): void {
    const vlo = typeof lo === "number" ? this.index(lo) : lo;
    const vhi = typeof hi === "number" ? this.index(hi) : hi;
    if (!sameKType(vlo.type, INDEX) || !sameKType(vhi.type, INDEX)) fail("loop bounds must be index values");
    const step = opts.step ?? 1;
    if (!Number.isInteger(step) || step < 1) fail(`loop step must be a positive integer, got ${step}`);
    const iv = this.value(INDEX, opts.name);
    const stmts: KStmt[] = [];
    this.blocks.push(stmts);
    try {
      body(iv);
    } finally {
      this.blocks.pop();
    }
    this.emit({ kind: "for", iv, lo: vlo, hi: vhi, step, parallel: opts.parallel ?? false, unroll: opts.unroll ?? 1, body: stmts });
  }

  if(cond: KValue, then: () => void, otherwise?: () => void): void {
    if (!sameKType(cond.type, BOOL)) fail(`if condition must be bool, got ${formatKType(cond.type)}`);
    const thenBlock: KStmt[] = [];
    const elseBlock: KStmt[] = [];
    this.blocks.push(thenBlock);
    try {
      then();
    } finally {
      this.blocks.pop();
    }
    if (otherwise) {
      this.blocks.push(elseBlock);
      try {
        otherwise();
      } finally {
        this.blocks.pop();
      }
    }
    this.emit({ kind: "if", cond, then: thenBlock, else: elseBlock });
  }

  call(fn: KRuntimeFn, args: readonly KValue[]): void {
    this.emit({ kind: "call", fn, args: [...args] });
  }

  finish(): KFunc {
    if (this.blocks.length !== 1) fail("finish() called inside a loop or if body");
    return new KFunc(this.name, [...this.params], this.blocks[0]!);
  }
}

export type { KElem };
