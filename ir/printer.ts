// Prints tensor IR as `.tfir` text: one op a line, result types always, attributes sorted by key.
// The output is deterministic (golden files stay stable) and parser.ts reads it back exactly:
// parseModule(printModule(m)) prints the same text. `tfc inspect` and --print-after use it.

import type { Func, Initializer, Module, Op, Param, Value } from "./ir.js";
import { attrSpecOf, type AttrSpec, type AttrValue } from "./attrs.js";
import type { SourceLoc } from "./errors.js";
import type { HostTensor } from "./tensor.js";
import { formatType } from "./types.js";
import { OPS, isOpName } from "./ops/index.js";

export interface PrintOptions {
  /** Append ` loc("file":line:col)` to ops that carry a source location. */
  readonly locs?: boolean;
}

/** Parameters first (one line each, in declaration order), then the functions, a blank line apart. */
export function printModule(m: Module, opts: PrintOptions = {}): string {
  const params = [...m.params.values()].map((p) => printParam(p) + "\n").join("");
  const funcs = m.functions.map((fn) => printFuncBody(fn, opts)).join("\n");
  return params + funcs;
}

/**
 * One function as text. Given its module, the `param` lines of the parameters the function reads
 * come first, so the text parses on its own.
 */
export function printFunc(fn: Func, m?: Module, opts: PrintOptions = {}): string {
  let header = "";
  if (m) {
    const read = new Set(fn.body.filter((op) => op.name === "param").map((op) => op.attrs["name"]));
    header = [...m.params.values()]
      .filter((p) => read.has(p.name))
      .map((p) => printParam(p) + "\n")
      .join("");
  }
  return header + printFuncBody(fn, opts);
}

function printFuncBody(fn: Func, opts: PrintOptions): string {
  const names = valueNames(fn);
  const args = fn.args.map((a) => `${names.get(a)}: ${formatType(a.type)}`).join(", ");
  const results = fn.results
    .map((r, i) => {
      const name = fn.resultNames[i];
      const type = formatType(r.type);
      return name === undefined || name === defaultResultName(i) ? type : `${type} as ${JSON.stringify(name)}`;
    })
    .join(", ");
  const lines = [`func ${symbol(fn.name)}(${args}) -> (${results}) {`];
  for (const op of fn.body) lines.push(`  ${printOpWith(op, names, opts)}`);
  const ret = fn.results.map((r) => nameOf(r, names)).join(", ");
  lines.push(ret ? `  return ${ret}` : "  return");
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** The name a result gets when none is given: `output_0`, `output_1`, … */
export function defaultResultName(index: number): string {
  return `output_${index}`;
}

/** One op as it appears inside its function, e.g. `%2 = relu %1 : f32[?,128]` (for error notes). */
export function printOp(fn: Func, op: Op, opts: PrintOptions = {}): string {
  return printOpWith(op, valueNames(fn), opts);
}

/** How each value of a function prints: arguments by name, op results `%0, %1, …` in order. */
export function valueNames(fn: Func): Map<Value, string> {
  const names = new Map<Value, string>();
  fn.args.forEach((a, i) => names.set(a, "%" + bareOrQuoted(a.name ?? `arg${i}`, ARG_NAME)));
  fn.body.forEach((op, i) => names.set(op.result, `%${i}`));
  return names;
}

function printOpWith(op: Op, names: Map<Value, string>, opts: PrintOptions): string {
  let line = `${nameOf(op.result, names)} = ${op.name}`;
  if (op.operands.length) line += " " + op.operands.map((o) => nameOf(o, names)).join(", ");
  const schema = isOpName(op.name) ? (OPS[op.name].attrs as Readonly<Record<string, AttrSpec>>) : {};
  const attrs = printAttrDict(op.attrs, (key) => attrSpecOf(schema, key)?.kind);
  if (attrs) line += " " + attrs;
  line += ` : ${formatType(op.result.type)}`;
  if (opts.locs && op.loc) line += " " + printLoc(op.loc);
  return line;
}

/** A value outside the function (only in invalid IR) prints so that it stands out in error notes. */
function nameOf(v: Value, names: Map<Value, string>): string {
  return names.get(v) ?? `%"<undefined #${v.id}>"`;
}

export function printLoc(loc: SourceLoc): string {
  return `loc(${JSON.stringify(loc.file)}:${loc.line}:${loc.column})`;
}

export function printParam(p: Param): string {
  const { kind, value, attrs } = describeInit(p.init);
  const all: Record<string, AttrValue> = { ...attrs };
  if (!p.trainable) all["trainable"] = false;
  let line = `param ${symbol(p.name)} : ${formatType(p.type)} = ${kind}`;
  if (value) line += " " + printTensor(value);
  const dict = printAttrDict(all);
  if (dict) line += " " + dict;
  return line;
}

/** An initializer as its keyword, an optional dense value and its attributes. */
function describeInit(init: Initializer): { kind: string; value?: HostTensor; attrs: Record<string, AttrValue> } {
  switch (init.kind) {
    case "zeros":
    case "ones":
      return { kind: init.kind, attrs: {} };
    case "constant":
      return { kind: "constant", attrs: { value: init.value } };
    case "data":
      return { kind: "data", value: init.tensor, attrs: {} };
    default: {
      const attrs: Record<string, AttrValue> = { seed: init.seed };
      if (init.a !== undefined) attrs["a"] = init.a;
      if (init.b !== undefined) attrs["b"] = init.b;
      return { kind: init.kind, attrs };
    }
  }
}

/** `{a=1, b=[2, 3]}` with keys sorted; empty string when there are none. */
export function printAttrDict(attrs: Readonly<Record<string, AttrValue>>, kindOf: (key: string) => AttrKind | undefined = () => undefined): string {
  const keys = Object.keys(attrs).sort();
  if (!keys.length) return "";
  return `{${keys.map((k) => `${bareOrQuoted(k, ATTR_KEY)}=${printAttrValue(attrs[k]!, kindOf(k))}`).join(", ")}}`;
}

type AttrKind = AttrSpec["kind"];

/**
 * One attribute value. Numbers print as the shortest decimal that reads back to the same double
 * (`2`, `0.1`, `-0`, `nan`, `inf`); the op's schema tells the parser whether it is an int or a float.
 * Dtype attributes print bare (`f32`), every other string JSON-quoted (`"same"`), so they never look alike.
 */
export function printAttrValue(v: AttrValue, kind?: AttrKind): string {
  if (typeof v === "number") return printNumber(v);
  if (typeof v === "boolean") return String(v);
  if (typeof v === "string") return kind === "dtype" ? v : JSON.stringify(v);
  if (Array.isArray(v)) return `[${(v as readonly number[]).map(printNumber).join(", ")}]`;
  return printTensor(v as HostTensor);
}

/** `dense<f32[2,2] [1, 2, 3, 4]>`: the type, then the elements in row-major order. */
export function printTensor(t: HostTensor): string {
  const elems: string[] = new Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const x = t.data[i]!;
    elems[i] = t.dtype === "bool" ? String(x !== 0) : t.dtype === "f32" ? printFloat32(x) : String(x);
  }
  return `dense<${formatType(t)} [${elems.join(", ")}]>`;
}

/** A double, exactly: JS's shortest round-trip decimal, with `-0`, `nan`, `inf`, `-inf` spelled out. */
export function printNumber(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (Object.is(x, -0)) return "-0";
  return String(x);
}

/** An f32 as the shortest decimal that rounds back to the same f32 (`0.1`, not `0.10000000149011612`). */
export function printFloat32(x: number): string {
  if (!Number.isFinite(x) || x === 0) return printNumber(x);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(x.toPrecision(digits));
    if (Math.fround(candidate) === x) return String(candidate);
  }
  return String(x);
}

/** `@dense/kernel`; names with other characters are JSON-quoted: `@"my model"`. */
function symbol(name: string): string {
  return "@" + bareOrQuoted(name, SYMBOL_NAME);
}

/** Character sets of names that print bare; parser.ts reads exactly these. */
export const SYMBOL_NAME = /^[A-Za-z0-9_.\/-]+$/;
export const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
export const ATTR_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function bareOrQuoted(name: string, bare: RegExp): string {
  return bare.test(name) ? name : JSON.stringify(name);
}
