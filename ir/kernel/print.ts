// Prints kernel IR as `.kir` text: one statement a line, kernel-level ops prefixed `k.`, nested
// loop and if bodies indented two spaces, result types always. Deterministic, so golden files stay
// stable; parse.ts reads it back exactly (print(parse(print(x))) === print(x)). Sits beside kir.ts.
//
// Names: buffers and scalar parameters print under their own names, induction variables and other
// values with a name hint keep it (made unique with `_1`, `_2`, …), every other value is `%0`,
// `%1`, … in order of definition; vars (`k.var` locals) are `$name` or `$0`, `$1`, … likewise.
// Sizes and offsets `a + b·N` (N the batch size) print as `[a, b]`.

import {
  formatKType,
  type KBufferParam, type KFunc, type KLaunch, type KProgram, type KProgramBuffer, type KSize, type KStmt, type KType,
  type KValue, type KVar,
} from "./kir.js";
import { ARG_NAME, SYMBOL_NAME, printFloat32, printNumber } from "../printer.js";

/** A kernel as text, ending in a newline. */
export function printKFunc(fn: KFunc): string {
  return kernelLines(fn, kernelNames(fn)).join("\n") + "\n";
}

/**
 * A program: header with the arena size, one `buffer` line per buffer, the kernels, the prepare
 * launches (`prepare @pack_0(%p_w, %w_packed)`: run once, and again after a parameter changes), the launches.
 * ```
 * program @predict arena=[0, 512] {
 *   buffer %x: f32 input 0 size=[0, 784]
 *   buffer %t0: f32 temp size=[0, 128] offset=[0, 0]
 *   buffer %c0: f32 const size=[2, 0] data=[0.5, -1]
 *
 *   kernel @relu_0(…) { … }
 *
 *   launch @relu_0(%x, %t0)
 * }
 * ```
 */
export function printKProgram(p: KProgram): string {
  const bufferNames = programBufferNames(p);
  const lines = [`program ${symbol(p.name)} arena=${printSize(p.arenaBytes)} {`];
  for (const b of p.buffers) lines.push("  " + printProgramBuffer(b, bufferNames));
  for (const k of p.kernels) {
    lines.push("");
    for (const l of kernelLines(k, kernelNames(k))) lines.push("  " + l);
  }
  if (p.prepare.length) lines.push("");
  for (const l of p.prepare) lines.push("  " + printLaunch(l, bufferNames, "prepare"));
  if (p.launches.length) lines.push("");
  for (const l of p.launches) lines.push("  " + printLaunch(l, bufferNames));
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** How each named thing of a kernel prints (`%x`, `%3`, `$acc`); unknown things print visibly wrong. */
export interface KNames {
  value(v: KValue): string;
  var(v: KVar): string;
  buffer(b: KBufferParam): string;
}

/** Names of a kernel's buffers, values and vars, assigned in order of definition. */
export function kernelNames(fn: KFunc): KNames {
  const values = new Map<KValue, string>();
  const vars = new Map<KVar, string>();
  const buffers = new Map<KBufferParam, string>();
  const valueTable = new NameTable();
  const varTable = new NameTable();
  for (const p of fn.params) {
    const name = "%" + valueTable.take(p.name);
    if (p.kind === "buffer") buffers.set(p, name);
    else values.set(p.value, name);
  }
  const define = (v: KValue) => {
    if (!values.has(v)) values.set(v, "%" + valueTable.take(v.name));
  };
  const walk = (stmts: readonly KStmt[]): void => {
    for (const s of stmts) {
      if (s.kind === "var") {
        if (!vars.has(s.var)) vars.set(s.var, "$" + varTable.take(s.var.name));
      } else if (s.kind === "for") {
        define(s.iv);
        walk(s.body);
      } else if (s.kind === "if") {
        walk(s.then);
        walk(s.else);
      } else if ("result" in s) define(s.result);
    }
  };
  walk(fn.body);
  return {
    value: (v) => values.get(v) ?? `%${JSON.stringify(`<undefined #${v.id}>`)}`,
    var: (v) => vars.get(v) ?? `$${JSON.stringify(`<undeclared #${v.id}>`)}`,
    buffer: (b) => buffers.get(b) ?? `%${JSON.stringify(`<not a parameter: ${b.name}>`)}`,
  };
}

/** Whether a name hint can print as a name; digit-only names would read as numbered values. */
export function usableName(name: string | undefined): name is string {
  return name !== undefined && name !== "" && !/^[0-9]+$/.test(name);
}

/** Hands out unique names: hints made unique with `_1`, `_2`, …; no hint: the next number. */
class NameTable {
  private readonly used = new Set<string>();
  private nextNumber = 0;

  take(hint: string | undefined): string {
    if (!usableName(hint)) return String(this.nextNumber++);
    let name = hint;
    for (let k = 1; this.used.has(name); k++) name = `${hint}_${k}`;
    this.used.add(name);
    return bareOrQuoted(name, ARG_NAME);
  }
}

function kernelLines(fn: KFunc, names: KNames): string[] {
  const params = fn.params.map((p) =>
    p.kind === "buffer"
      ? `${names.buffer(p)}: buffer<${p.elem}${p.writes ? ", write" : ""}>`
      : `${names.value(p.value)}: ${formatKType(p.value.type)}`,
  );
  const lines = [`kernel ${symbol(fn.name)}(${params.join(", ")}) {`];
  blockLines(fn.body, names, "  ", lines);
  lines.push("}");
  return lines;
}

function blockLines(stmts: readonly KStmt[], names: KNames, indent: string, out: string[]): void {
  for (const s of stmts) {
    out.push(indent + printKStmtHead(s, names));
    if (s.kind === "for") {
      blockLines(s.body, names, indent + "  ", out);
      out.push(indent + "}");
    } else if (s.kind === "if") {
      blockLines(s.then, names, indent + "  ", out);
      if (s.else.length) {
        out.push(indent + "} else {");
        blockLines(s.else, names, indent + "  ", out);
      }
      out.push(indent + "}");
    }
  }
}

/** One statement's line (for `k.for`/`k.if` the opening line, ending in `{`); also used in error notes. */
export function printKStmtHead(s: KStmt, names: KNames): string {
  const v = (x: KValue) => names.value(x);
  const t = (x: KType) => formatKType(x);
  switch (s.kind) {
    case "const":
      return `${v(s.result)} = k.const ${printKConst(s.value, s.result.type)} : ${t(s.result.type)}`;
    case "prim": {
      if (s.prim === "cast") {
        const from = s.args[0] ? t(s.args[0].type) : "?";
        return `${v(s.result)} = k.cast ${s.args.map(v).join(", ")} : ${from} to ${t(s.result.type)}`;
      }
      return `${v(s.result)} = k.${s.prim} ${s.args.map(v).join(", ")} : ${t(s.result.type)}`;
    }
    case "broadcast":
      return `${v(s.result)} = k.broadcast ${v(s.arg)} : ${t(s.result.type)}`;
    case "reduce":
      return `${v(s.result)} = k.reduce ${s.op} ${v(s.arg)} : ${t(s.result.type)}`;
    case "load":
      return `${v(s.result)} = k.load ${names.buffer(s.buffer)}[${v(s.index)}] : ${t(s.result.type)}`;
    case "store":
      return `k.store ${names.buffer(s.buffer)}[${v(s.index)}], ${v(s.value)} : ${t(s.value.type)}`;
    case "var":
      return `${names.var(s.var)} = k.var ${v(s.init)} : ${t(s.var.type)}`;
    case "get":
      return `${v(s.result)} = k.get ${names.var(s.var)} : ${t(s.result.type)}`;
    case "set":
      return `k.set ${names.var(s.var)}, ${v(s.value)}`;
    case "for": {
      let head = `k.for ${v(s.iv)} = ${v(s.lo)} to ${v(s.hi)}`;
      if (s.step !== 1) head += ` step ${printNumber(s.step)}`;
      if (s.parallel) head += " parallel";
      if (s.unroll !== 1) head += ` unroll ${printNumber(s.unroll)}`;
      return head + " {";
    }
    case "if":
      return `k.if ${v(s.cond)} {`;
    case "call":
      return `k.call @${s.fn}(${s.args.map(v).join(", ")})`;
  }
}

/** A constant: f32 as the shortest decimal that reads back to the same f32, bool as true/false. */
export function printKConst(value: number, type: KType): string {
  if (type.elem === "f32") return printFloat32(value);
  if (type.elem === "bool" && (value === 0 || value === 1)) return value ? "true" : "false";
  return printNumber(value);
}

/** `[a, b]` for `a + b·N`. */
export function printSize(s: KSize): string {
  return `[${printNumber(s.constant)}, ${printNumber(s.perBatch)}]`;
}

/** Names of a program's buffers (`%x`), unique. */
export function programBufferNames(p: KProgram): (b: KProgramBuffer) => string {
  const table = new NameTable();
  const names = new Map<KProgramBuffer, string>();
  for (const b of p.buffers) if (!names.has(b)) names.set(b, "%" + table.take(b.name));
  return (b) => names.get(b) ?? `%${JSON.stringify(`<not a program buffer: ${b.name}>`)}`;
}

function printProgramBuffer(b: KProgramBuffer, nameOf: (b: KProgramBuffer) => string): string {
  let line = `buffer ${nameOf(b)}: ${b.elem} ${b.role}`;
  if (typeof b.ref === "number") line += ` ${printNumber(b.ref)}`;
  else if (typeof b.ref === "string") line += ` ${JSON.stringify(b.ref)}`;
  line += ` size=${printSize(b.size)}`;
  if (b.offset) line += ` offset=${printSize(b.offset)}`;
  if (b.data) {
    const items: string[] = [];
    for (const x of b.data) items.push(b.elem === "f32" ? printFloat32(x) : b.elem === "bool" && (x === 0 || x === 1) ? String(x === 1) : printNumber(x));
    line += ` data=[${items.join(", ")}]`;
  }
  return line;
}

function printLaunch(l: KLaunch, nameOf: (b: KProgramBuffer) => string, keyword = "launch"): string {
  return `${keyword} ${symbol(l.kernel.name)}(${l.buffers.map(nameOf).join(", ")})`;
}

/** `@relu_0`; names with other characters are JSON-quoted: `@"my kernel"`. */
function symbol(name: string): string {
  return "@" + bareOrQuoted(name, SYMBOL_NAME);
}

function bareOrQuoted(name: string, bare: RegExp): string {
  return bare.test(name) ? name : JSON.stringify(name);
}
