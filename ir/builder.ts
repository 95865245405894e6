// FuncBuilder appends ops to a function in SSA order, filling attribute defaults and running each
// op's type rule as it goes, so a badly typed op can never enter the IR. The frontend traces into
// it; decompositions and passes build replacement ops with it.

import { Func, Module, Value, type Op } from "./ir.js";
import type { AttrValue } from "./attrs.js";
import { attrSpecOf, describeAttrKind } from "./attrs.js";
import { TfcError, closest, type SourceLoc } from "./errors.js";
import type { TensorType } from "./types.js";
import type { HostTensor } from "./tensor.js";
import type { OpDef } from "./op-def.js";
import { getOp, type OpName } from "./ops/index.js";

export type Attrs = Record<string, AttrValue>;

/** Fill defaults and check names and forms of attributes against the op's schema. */
export function resolveAttrs(def: OpDef, attrs: Attrs): Attrs {
  const out: Attrs = {};
  for (const key of Object.keys(attrs)) {
    const reserved = !(key in def.attrs) ? attrSpecOf(def.attrs, key) : undefined;
    if (reserved) {
      if (!reserved.check(attrs[key])) throw new TfcError("TFC4004", `attribute '${key}' must be ${describeAttrKind(reserved)} >= 0, got ${JSON.stringify(attrs[key])}`);
      continue; // checked, not carried: ops built anew (rewrites, gradients) start outside any fusion group
    }
    if (!(key in def.attrs)) {
      const hint = closest(key, Object.keys(def.attrs));
      throw new TfcError("TFC4002", `${def.name} has no attribute '${key}'`, {
        notes: hint ? [`did you mean '${hint}'?`] : Object.keys(def.attrs).length ? [`its attributes are: ${Object.keys(def.attrs).join(", ")}`] : [],
      });
    }
  }
  for (const [key, spec] of Object.entries(def.attrs)) {
    const v = key in attrs ? attrs[key] : spec.default;
    if (v === undefined) throw new TfcError("TFC4003", `${def.name} needs attribute '${key}' (${describeAttrKind(spec)})`);
    if (!spec.check(v)) throw new TfcError("TFC4004", `${def.name} attribute '${key}' must be ${describeAttrKind(spec)}, got ${JSON.stringify(v)}`);
    out[key] = v;
  }
  return out;
}

/** Check operand count and run the type rule. */
export function inferOpType(def: OpDef, types: readonly TensorType[], attrs: Attrs): TensorType {
  if (def.variadic ? types.length < 1 : types.length !== def.operands.length) {
    const want = def.variadic ? "at least 1" : String(def.operands.length);
    throw new TfcError("TFC4005", `${def.name} takes ${want} operand${want === "1" ? "" : "s"}, got ${types.length}`);
  }
  return def.type(types, attrs as never);
}

export class FuncBuilder {
  readonly args: Value[] = [];
  readonly body: Op[] = [];
  private nextId: number;
  /** Location attached to ops built while it is set (decompositions inherit their op's location). */
  loc: SourceLoc | undefined;

  constructor(
    readonly module: Module,
    readonly name: string,
    firstId = 0,
  ) {
    this.nextId = firstId;
  }

  /** A builder that creates fresh values for an existing function, without touching its body. */
  static forRewrite(module: Module, fn: Func): FuncBuilder {
    let max = -1;
    for (const a of fn.args) max = Math.max(max, a.id);
    for (const op of fn.body) max = Math.max(max, op.result.id);
    return new FuncBuilder(module, fn.name, max + 1);
  }

  arg(name: string, type: TensorType): Value {
    const v = new Value(this.nextId++, type, null, name);
    this.args.push(v);
    return v;
  }

  op(name: OpName, operands: readonly Value[], attrs: Attrs = {}, loc: SourceLoc | undefined = this.loc): Value {
    const def = getOp(name);
    try {
      const full = resolveAttrs(def, attrs);
      const type = inferOpType(
        def,
        operands.map((o) => o.type),
        full,
      );
      const op: Op = { name, operands: [...operands], attrs: full, result: undefined as unknown as Value };
      if (loc) op.loc = loc;
      op.result = new Value(this.nextId++, type, op);
      this.body.push(op);
      return op.result;
    } catch (e) {
      if (e instanceof TfcError) e.at(loc);
      throw e;
    }
  }

  param(name: string): Value {
    const p = this.module.params.get(name);
    if (!p) throw new TfcError("TFC4010", `no parameter named '${name}'`, this.loc ? { loc: this.loc } : {});
    return this.op("param", [], { name, dtype: p.type.dtype, shape: p.type.shape });
  }

  constant(t: HostTensor): Value {
    return this.op("constant", [], { value: t });
  }

  finish(results: readonly Value[], resultNames?: readonly string[]): Func {
    return new Func(this.name, this.args, this.body, [...results], resultNames ? [...resultNames] : undefined);
  }
}
