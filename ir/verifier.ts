// The IR verifier: checks that a module is well formed — SSA order, known ops, attributes per
// schema, result types equal to each op's type rule, parameter reads that match their declarations.
// The parser runs it on what it reads; the pass manager runs it after every pass in tests.
//
// Error codes (TFC4xxx, shared with parser.ts; the builder owns 4002–4005 and 4010):
//   4001 syntax            4006 unknown op          4007 value used before it is defined
//   4008 value defined twice / duplicate argument   4009 declared type differs from the type rule
//   4012 param read differs from its declaration    4013 bad shape (symbolic dim not leading, …)
//   4014 bad function results                        4015 duplicate function or parameter
//   4016 bad literal or initializer

import { updatedParam, type Func, type Module, type Op, type Param, type Value } from "./ir.js";
import { TfcError, closest, type SourceLoc } from "./errors.js";
import { resolveAttrs, inferOpType } from "./builder.js";
import { OPS, isOpName } from "./ops/index.js";
import type { OpDef } from "./op-def.js";
import { BATCH, formatShape, formatType, isStatic, sameShape, sameType, type Shape, type TensorType } from "./types.js";
import { printOp, valueNames } from "./printer.js";

export interface VerifyOptions {
  /** Where an op was written, when it is not op.loc (the parser passes positions in the .tfir text). */
  readonly locOf?: (op: Op) => SourceLoc | undefined;
}

export function verifyModule(m: Module, opts: VerifyOptions = {}): void {
  for (const [key, p] of m.params) {
    if (key !== p.name) throw new TfcError("TFC4015", `parameter '${p.name}' is registered under the name '${key}'`);
    checkParam(p);
  }
  const seen = new Set<string>();
  for (const fn of m.functions) {
    if (seen.has(fn.name)) throw new TfcError("TFC4015", `function @${fn.name} is defined twice`);
    seen.add(fn.name);
    verifyFunc(fn, m, opts);
  }
}

/** Check one function; with its module, `param` reads are checked against the declarations too. */
export function verifyFunc(fn: Func, m?: Module, opts: VerifyOptions = {}): void {
  const defined = new Set<Value>();
  const argNames = new Set<string>();
  fn.args.forEach((a, i) => {
    const name = a.name ?? `arg${i}`;
    if (argNames.has(name)) throw new TfcError("TFC4008", `@${fn.name} has two arguments named %${name}`);
    if (/^[0-9]+$/.test(name)) throw new TfcError("TFC4008", `@${fn.name} argument %${name} has a number for a name; %0, %1, … name op results`);
    if (a.def !== null) throw new TfcError("TFC4008", `@${fn.name} argument %${name} is also the result of an op`);
    argNames.add(name);
    checkShape(a.type.shape, `argument %${name} of @${fn.name}`);
    defined.add(a);
  });

  let names: Map<Value, string> | undefined;
  const describe = (op: Op) => `in @${fn.name}: ${printOp(fn, op)}`;
  for (const op of fn.body) {
    try {
      verifyOp(op, defined, m, () => (names ??= valueNames(fn)));
    } catch (e) {
      if (e instanceof TfcError) {
        e.at(opts.locOf?.(op) ?? op.loc);
        if (!e.notes.some((n) => n.startsWith("in @"))) e.notes.push(describe(op));
      }
      throw e;
    }
    defined.add(op.result);
  }

  if (fn.resultNames.length !== fn.results.length) {
    throw new TfcError("TFC4014", `@${fn.name} has ${fn.results.length} results but ${fn.resultNames.length} result names`);
  }
  const resultNames = new Set<string>();
  fn.results.forEach((r, i) => {
    if (!defined.has(r)) throw new TfcError("TFC4014", `result ${i} of @${fn.name} is not a value defined in the function`);
    const name = fn.resultNames[i]!;
    if (resultNames.has(name)) throw new TfcError("TFC4014", `@${fn.name} has two results named "${name}"`);
    resultNames.add(name);
    const updated = updatedParam(name);
    if (updated !== undefined && m) {
      const p = m.params.get(updated);
      if (!p) throw new TfcError("TFC4014", `result "${name}" of @${fn.name} updates parameter @${updated}, which the module does not declare`);
      if (!sameType(p.type, r.type)) {
        throw new TfcError("TFC4014", `result "${name}" of @${fn.name} is ${formatType(r.type)} but parameter @${updated} is ${formatType(p.type)}`);
      }
    }
  });
}

function verifyOp(op: Op, defined: ReadonlySet<Value>, m: Module | undefined, names: () => Map<Value, string>): void {
  if (!isOpName(op.name)) {
    const hint = closest(op.name, Object.keys(OPS));
    throw new TfcError("TFC4006", `unknown op '${op.name}'`, hint ? { notes: [`did you mean '${hint}'?`] } : {});
  }
  const def = OPS[op.name] as unknown as OpDef;
  op.operands.forEach((v, i) => {
    if (!defined.has(v)) {
      const name = names().get(v);
      const what = name ? `${name}, which is defined later` : "a value from outside this function";
      throw new TfcError("TFC4007", `operand ${i} of ${op.name} is ${what}; a value must be defined before its uses`);
    }
  });
  if (op.result.def !== op) throw new TfcError("TFC4008", `the result of ${op.name} does not point back at its op`);
  if (defined.has(op.result)) throw new TfcError("TFC4008", `the result of ${op.name} is defined twice: an earlier op already defines that value`);

  for (const key of Object.keys(def.attrs)) {
    if (!(key in op.attrs)) {
      throw new TfcError("TFC4003", `${op.name} is missing attribute '${key}' (the builder fills in defaults; IR keeps every attribute)`);
    }
  }
  resolveAttrs(def, op.attrs);
  const inferred = inferOpType(
    def,
    op.operands.map((o) => o.type),
    op.attrs,
  );
  checkShape(op.result.type.shape, `the result of ${op.name}`);
  if (!sameType(inferred, op.result.type)) throw typeMismatch(op.name, op.result.type, inferred);

  if (op.name === "param" && m) {
    const name = op.attrs["name"] as string;
    const p = m.params.get(name);
    if (!p) {
      const hint = closest(name, m.params.keys());
      throw new TfcError("TFC4010", `no parameter named '${name}'`, hint ? { notes: [`did you mean '${hint}'?`] } : {});
    }
    if (!sameType(p.type, op.result.type)) {
      throw new TfcError("TFC4012", `param reads '${name}' as ${formatType(op.result.type)}, but it is declared ${formatType(p.type)}`);
    }
  }
}

/** The one wording of "the written type is not what the type rule gives", shared with the parser. */
export function typeMismatch(opName: string, declared: TensorType, inferred: TensorType): TfcError {
  return new TfcError("TFC4009", `declared ${formatType(declared)} but ${opName} gives ${formatType(inferred)}`);
}

/** Dimensions are non-negative integers; only the leading one may be the symbolic batch `?`. */
export function checkShape(shape: Shape, what: string): void {
  shape.forEach((d, i) => {
    if (d === BATCH) {
      if (i !== 0) throw new TfcError("TFC4013", `${what} has shape [${formatShape(shape)}]: only the leading dimension may be symbolic (?)`);
    } else if (!Number.isInteger(d) || d < 0) {
      throw new TfcError("TFC4013", `${what} has shape [${formatShape(shape)}]: dimension ${i} is not a size`);
    }
  });
}

/** Parameters have static shapes, and data and random initializers must fit them. */
export function checkParam(p: Param): void {
  const what = `parameter '${p.name}'`;
  checkShape(p.type.shape, what);
  if (!isStatic(p.type.shape)) throw new TfcError("TFC4013", `${what} has shape [${formatShape(p.type.shape)}]: parameters cannot have a symbolic batch`);
  const init = p.init;
  switch (init.kind) {
    case "zeros":
    case "ones":
      return;
    case "constant":
      if (typeof init.value !== "number") throw new TfcError("TFC4016", `${what}: constant initializer needs a number value`);
      return;
    case "data":
      if (init.tensor.dtype !== p.type.dtype || !sameShape(init.tensor.shape, p.type.shape)) {
        throw new TfcError(
          "TFC4016",
          `${what} is ${formatType(p.type)} but its data is ${formatType({ dtype: init.tensor.dtype, shape: init.tensor.shape })}`,
        );
      }
      return;
    default:
      if (!Number.isInteger(init.seed)) throw new TfcError("TFC4016", `${what}: ${init.kind} needs an integer seed, got ${init.seed}`);
      if (p.type.dtype !== "f32") throw new TfcError("TFC4016", `${what} is ${formatType(p.type)}: random initializers (${init.kind}) make f32 values`);
  }
}
