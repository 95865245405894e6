// Scalar bodies of elementwise ops. An op's `scalar` rule is written once against ScalarBuilder
// and builds a small typed expression tree (SExpr). The interpreter compiles the tree to a JS
// function; fusion concatenates trees; every backend lowers the same tree to its own arithmetic.
// The primitive set below is the whole vocabulary a backend must implement for elementwise code.

import type { DType } from "./types.js";
import { TfcError } from "./errors.js";

export type ScalarPrim =
  | "add" | "sub" | "mul" | "div" | "neg" | "abs" | "max" | "min"
  | "sqrt" | "exp" | "log" | "tanh" | "pow" | "floor"
  | "eq" | "ne" | "lt" | "le" | "gt" | "ge"
  | "and" | "or" | "not" | "select" | "cast";

export type SExpr =
  | { readonly kind: "input"; readonly index: number; readonly dtype: DType }
  | { readonly kind: "const"; readonly value: number; readonly dtype: DType }
  | { readonly kind: "prim"; readonly prim: ScalarPrim; readonly args: readonly SExpr[]; readonly dtype: DType };

const UNARY_FLOAT: ReadonlySet<ScalarPrim> = new Set(["sqrt", "exp", "log", "tanh", "floor"]);

/** Builds typed SExpr trees; checks operand dtypes so a wrong scalar body fails at definition time. */
export class ScalarBuilder {
  input(index: number, dtype: DType): SExpr {
    return { kind: "input", index, dtype };
  }
  const(value: number, dtype: DType = "f32"): SExpr {
    return { kind: "const", value: dtype === "f32" ? Math.fround(value) : value, dtype };
  }
  /** A constant with the same dtype as `like`. */
  constLike(value: number, like: SExpr): SExpr {
    return this.const(value, like.dtype);
  }
  add(a: SExpr, b: SExpr): SExpr { return this.binary("add", a, b); }
  sub(a: SExpr, b: SExpr): SExpr { return this.binary("sub", a, b); }
  mul(a: SExpr, b: SExpr): SExpr { return this.binary("mul", a, b); }
  div(a: SExpr, b: SExpr): SExpr { return this.binary("div", a, b); }
  max(a: SExpr, b: SExpr): SExpr { return this.binary("max", a, b); }
  min(a: SExpr, b: SExpr): SExpr { return this.binary("min", a, b); }
  pow(a: SExpr, b: SExpr): SExpr { return this.binary("pow", a, b); }
  neg(a: SExpr): SExpr { return this.prim("neg", [a], a.dtype); }
  abs(a: SExpr): SExpr { return this.prim("abs", [a], a.dtype); }
  sqrt(a: SExpr): SExpr { return this.unaryFloat("sqrt", a); }
  exp(a: SExpr): SExpr { return this.unaryFloat("exp", a); }
  log(a: SExpr): SExpr { return this.unaryFloat("log", a); }
  tanh(a: SExpr): SExpr { return this.unaryFloat("tanh", a); }
  floor(a: SExpr): SExpr { return this.unaryFloat("floor", a); }
  eq(a: SExpr, b: SExpr): SExpr { return this.compare("eq", a, b); }
  ne(a: SExpr, b: SExpr): SExpr { return this.compare("ne", a, b); }
  lt(a: SExpr, b: SExpr): SExpr { return this.compare("lt", a, b); }
  le(a: SExpr, b: SExpr): SExpr { return this.compare("le", a, b); }
  gt(a: SExpr, b: SExpr): SExpr { return this.compare("gt", a, b); }
  ge(a: SExpr, b: SExpr): SExpr { return this.compare("ge", a, b); }
  and(a: SExpr, b: SExpr): SExpr { return this.logical("and", [a, b]); }
  or(a: SExpr, b: SExpr): SExpr { return this.logical("or", [a, b]); }
  not(a: SExpr): SExpr { return this.logical("not", [a]); }
  select(cond: SExpr, a: SExpr, b: SExpr): SExpr {
    if (cond.dtype !== "bool") throw new TfcError("TFC4101", `select condition must be bool, got ${cond.dtype}`);
    this.sameDType("select", a, b);
    return this.prim("select", [cond, a, b], a.dtype);
  }
  cast(a: SExpr, dtype: DType): SExpr {
    return a.dtype === dtype ? a : this.prim("cast", [a], dtype);
  }

  private prim(prim: ScalarPrim, args: SExpr[], dtype: DType): SExpr {
    return { kind: "prim", prim, args, dtype };
  }
  private binary(prim: ScalarPrim, a: SExpr, b: SExpr): SExpr {
    this.sameDType(prim, a, b);
    if (a.dtype === "bool") throw new TfcError("TFC4101", `scalar ${prim} is not defined on bool`);
    return this.prim(prim, [a, b], a.dtype);
  }
  private unaryFloat(prim: ScalarPrim, a: SExpr): SExpr {
    if (a.dtype !== "f32" || !UNARY_FLOAT.has(prim)) throw new TfcError("TFC4101", `scalar ${prim} needs f32, got ${a.dtype}`);
    return this.prim(prim, [a], "f32");
  }
  private compare(prim: ScalarPrim, a: SExpr, b: SExpr): SExpr {
    this.sameDType(prim, a, b);
    return this.prim(prim, [a, b], "bool");
  }
  private logical(prim: ScalarPrim, args: SExpr[]): SExpr {
    for (const a of args) if (a.dtype !== "bool") throw new TfcError("TFC4101", `scalar ${prim} needs bool, got ${a.dtype}`);
    return this.prim(prim, args, "bool");
  }
  private sameDType(prim: string, a: SExpr, b: SExpr): void {
    if (a.dtype !== b.dtype) throw new TfcError("TFC4101", `scalar ${prim} operands differ in dtype: ${a.dtype} vs ${b.dtype}`);
  }
}

/**
 * Compile an SExpr tree to a JS function over plain numbers. f32 results are rounded with
 * Math.fround after every primitive, i32 results wrap to 32 bits, bools are 0 or 1, so the
 * interpreter computes what a compiled f32 kernel computes, step by step.
 */
export function compileScalar(expr: SExpr, arity: number): (...inputs: number[]) => number {
  const lines: string[] = [];
  const names = new Map<SExpr, string>();
  const emit = (e: SExpr): string => {
    const known = names.get(e);
    if (known) return known;
    let code: string;
    if (e.kind === "input") code = `x${e.index}`;
    else if (e.kind === "const") code = Object.is(e.value, -0) ? "-0" : Number.isFinite(e.value) ? String(e.value) : e.value > 0 ? "Infinity" : e.value < 0 ? "-Infinity" : "NaN";
    else code = primJs(e.prim, e.args.map(emit), e.args.map((a) => a.dtype), e.dtype);
    if (e.kind === "input") return code;
    const name = `t${names.size}`;
    names.set(e, name);
    lines.push(`const ${name} = ${code};`);
    return name;
  };
  const result = emit(expr);
  const params = Array.from({ length: arity }, (_, i) => `x${i}`);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function("fround", `return function(${params.join(", ")}) {\n${lines.join("\n")}\nreturn ${result};\n}`)(Math.fround) as (
    ...inputs: number[]
  ) => number;
}

function primJs(prim: ScalarPrim, a: string[], argTypes: DType[], dtype: DType): string {
  const wrap = (code: string): string => (dtype === "f32" ? `fround(${code})` : dtype === "i32" ? `((${code}) | 0)` : code);
  const [x, y, z] = a;
  switch (prim) {
    case "add": return wrap(`${x} + ${y}`);
    case "sub": return wrap(`${x} - ${y}`);
    case "mul": return dtype === "i32" ? `Math.imul(${x}, ${y})` : wrap(`${x} * ${y}`);
    case "div": return dtype === "i32" ? `(${y} === 0 ? 0 : Math.floor(${x} / ${y}) | 0)` : wrap(`${x} / ${y}`);
    case "neg": return wrap(`-${x}`);
    case "abs": return wrap(`Math.abs(${x})`);
    case "max": return `(${x} !== ${x} || ${y} !== ${y} ? NaN : Math.max(${x}, ${y}))`;
    case "min": return `(${x} !== ${x} || ${y} !== ${y} ? NaN : Math.min(${x}, ${y}))`;
    case "sqrt": return wrap(`Math.sqrt(${x})`);
    case "exp": return wrap(`Math.exp(${x})`);
    case "log": return wrap(`Math.log(${x})`);
    case "tanh": return wrap(`Math.tanh(${x})`);
    case "floor": return wrap(`Math.floor(${x})`);
    case "pow": return wrap(`Math.pow(${x}, ${y})`);
    case "eq": return `(${x} === ${y} ? 1 : 0)`;
    case "ne": return `(${x} !== ${y} ? 1 : 0)`;
    case "lt": return `(${x} < ${y} ? 1 : 0)`;
    case "le": return `(${x} <= ${y} ? 1 : 0)`;
    case "gt": return `(${x} > ${y} ? 1 : 0)`;
    case "ge": return `(${x} >= ${y} ? 1 : 0)`;
    case "and": return `(${x} & ${y})`;
    case "or": return `(${x} | ${y})`;
    case "not": return `(1 - ${x})`;
    case "select": return `(${x} ? ${y} : ${z})`;
    case "cast": {
      const from = argTypes[0]!;
      if (dtype === "bool") return `(${x} !== 0 ? 1 : 0)`;
      if (dtype === "i32") return from === "f32" ? `(Math.trunc(${x}) | 0)` : `(${x} | 0)`;
      return `fround(${x})`;
    }
  }
}
