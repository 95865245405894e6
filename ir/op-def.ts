// defineOp: the one place an op's target-independent facts live — summary, operands, attribute
// schema, type rule, semantics (a scalar body, a decomposition, or an explicit reference kernel)
// and the slot for its VJP. Tests, passes and backends loop over the registry built from these.

import type { AttrSchema, AttrsOf } from "./attrs.js";
import type { ScalarBuilder, SExpr } from "./scalar.js";
import type { TensorType } from "./types.js";
import type { HostTensor } from "./tensor.js";
import type { Value } from "./ir.js";
import type { FuncBuilder } from "./builder.js";

export type Trait =
  | "pure" // no side effects: may be merged (cse) or removed when unused (dce)
  | "elementwise" // result[i] depends only on operands[i] after broadcasting; has a scalar body
  | "commutative" // op(a, b) = op(b, a)
  | "reduction" // reduces over `axis`
  | "layout" // moves data without arithmetic (reshape, transpose, slice, …)
  | "source"; // no tensor operands (constant, param)

export interface VjpArgs<A> {
  readonly inputs: readonly Value[];
  readonly output: Value;
  readonly grad: Value;
  readonly attrs: A;
}

export interface OpSpec<S extends AttrSchema> {
  readonly name: string;
  /** One line with an IR example, e.g. "Elementwise sum: `%2 = add %0, %1 : f32[4]`". */
  readonly summary: string;
  /** Operand names; a single name ending in "..." makes the op variadic (one or more operands). */
  readonly operands: readonly string[];
  readonly attrs?: S;
  readonly traits?: readonly Trait[];
  /** Result type from operand types; throws TfcError with a readable message when they do not fit. */
  type(inputs: readonly TensorType[], attrs: AttrsOf<S>): TensorType;
  /** Elementwise body, shared by the interpreter, fusion and every backend. */
  scalar?(s: ScalarBuilder, inputs: readonly SExpr[], attrs: AttrsOf<S>): SExpr;
  /** Expansion into other ops; the interpreter and lowering use it. */
  decompose?(b: FuncBuilder, inputs: readonly Value[], attrs: AttrsOf<S>): Value;
  /** Reference semantics for ops that are neither elementwise nor decomposed (kernel templates). */
  interpret?(inputs: readonly HostTensor[], attrs: AttrsOf<S>, out: TensorType): HostTensor;
  /** Vector-Jacobian product: gradients of the operands given the gradient of the result (null: not differentiable in that operand). */
  vjp?(b: FuncBuilder, args: VjpArgs<AttrsOf<S>>): (Value | null)[];
}

export interface OpDef<S extends AttrSchema = AttrSchema> extends OpSpec<S> {
  readonly attrs: S;
  readonly traits: readonly Trait[];
  readonly variadic: boolean;
  /** How the op gets its meaning: exactly one of these is defined. */
  readonly semantics: "scalar" | "decompose" | "interpret";
}

export function defineOp<S extends AttrSchema = {}>(spec: OpSpec<S>): OpDef<S> {
  const kinds = (["scalar", "decompose", "interpret"] as const).filter((k) => spec[k] !== undefined);
  if (kinds.length !== 1) {
    throw new Error(`op ${spec.name}: define exactly one of scalar, decompose, interpret (got ${kinds.join(", ") || "none"})`);
  }
  const traits = spec.traits ?? [];
  if ((kinds[0] === "scalar") !== traits.includes("elementwise")) {
    throw new Error(`op ${spec.name}: an op has a scalar body exactly when it is elementwise`);
  }
  return {
    ...spec,
    attrs: spec.attrs ?? ({} as S),
    traits,
    variadic: spec.operands.length === 1 && spec.operands[0]!.endsWith("..."),
    semantics: kinds[0]!,
  };
}
