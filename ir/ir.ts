// The tensor IR's data structures: a Module holds parameters (variables) and functions; a Function
// holds typed arguments, ops in SSA order and results. Every op has exactly one result.
// Build IR with FuncBuilder (builder.ts), print/parse with printer.ts/parser.ts, check with verifier.ts.

import type { TensorType } from "./types.js";
import type { AttrValue } from "./attrs.js";
import type { SourceLoc } from "./errors.js";
import type { HostTensor } from "./tensor.js";

export class Value {
  constructor(
    readonly id: number,
    public type: TensorType,
    /** The op that defines this value, or null for a function argument. */
    public def: Op | null,
    /** Name hint for printing (arguments keep their names; ops print as %0, %1, …). */
    public name?: string,
  ) {}
}

export interface Op {
  name: string; // an OpName; kept as string here so ir.ts does not depend on the registry
  operands: Value[];
  attrs: Record<string, AttrValue>;
  result: Value;
  loc?: SourceLoc;
}

/**
 * A function result named `@p` is parameter p's value after the call: this is how a function
 * updates parameters (a training step's weights and optimizer state). The function stays pure —
 * it reads `param @p` and returns the new value — and whoever runs it writes the result back
 * (the interpreter's caller, the C wrapper by swapping buffers, model.js by copying).
 */
export const UPDATE_PREFIX = "@";

/** The parameter a result name updates, or undefined for an ordinary result. */
export function updatedParam(resultName: string | undefined): string | undefined {
  return resultName?.startsWith(UPDATE_PREFIX) ? resultName.slice(UPDATE_PREFIX.length) : undefined;
}

export class Func {
  constructor(
    public name: string,
    public args: Value[],
    public body: Op[],
    public results: Value[],
    /** Output names, parallel to results (e.g. "output_0"). */
    public resultNames: string[] = results.map((_, i) => `output_${i}`),
  ) {}
}

/** How a parameter gets its first value. Random initializers are seeded, so compiles are reproducible. */
export type Initializer =
  | { readonly kind: "zeros" }
  | { readonly kind: "ones" }
  | { readonly kind: "constant"; readonly value: number }
  | { readonly kind: "data"; readonly tensor: HostTensor }
  | {
      readonly kind: RandomInitKind;
      readonly seed: number;
      /** Scale for variance-scaling kinds, stddev/mean or min/max for plain random kinds. */
      readonly a?: number;
      readonly b?: number;
    };

export type RandomInitKind =
  | "glorot_uniform" | "glorot_normal" | "he_uniform" | "he_normal" | "lecun_uniform" | "lecun_normal"
  | "random_uniform" | "random_normal" | "truncated_normal";

export interface Param {
  readonly name: string;
  readonly type: TensorType;
  init: Initializer;
  readonly trainable: boolean;
}

export class Module {
  readonly params = new Map<string, Param>();
  readonly functions: Func[] = [];

  addParam(p: Param): Param {
    this.params.set(p.name, p);
    return p;
  }
  getFunction(name: string): Func | undefined {
    return this.functions.find((f) => f.name === name);
  }
}
