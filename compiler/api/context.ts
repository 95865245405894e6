// Where API calls go: eagerly to the reference interpreter, or into a function being traced.
// Every `tf.*` op ends in `currentContext().apply(...)`; tracing swaps the context for the
// duration of a trace, so the same model code runs eagerly in a script and compiles to IR.

import type { Attrs } from "../../ir/builder.js";
import { FuncBuilder } from "../../ir/builder.js";
import type { OpName } from "../../ir/ops/index.js";
import type { Module, Value } from "../../ir/ir.js";
import { evalOp } from "../../ir/interpreter.js";
import { TfcError } from "../../ir/errors.js";
import type { HostTensor } from "../../ir/tensor.js";
import { currentUserLoc } from "../frontend/location.js";
import { Tensor, Variable } from "./tensor.js";

export interface ExecutionContext {
  readonly kind: "eager" | "trace";
  apply(op: OpName, inputs: readonly Tensor[], attrs?: Attrs): Tensor;
}

class EagerContext implements ExecutionContext {
  readonly kind = "eager";
  apply(op: OpName, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor {
    const hosts = inputs.map((t) => {
      if (!t.host) {
        throw new TfcError("TFC5010", "a traced (symbolic) tensor was used outside the function that traced it", { loc: currentUserLoc() });
      }
      return t.host;
    });
    try {
      return Tensor.fromHost(evalOp(op, hosts, attrs));
    } catch (e) {
      if (e instanceof TfcError) e.at(currentUserLoc());
      throw e;
    }
  }
}

/** Records ops into a FuncBuilder; captured concrete tensors become constants, variables params. */
export class TraceContext implements ExecutionContext {
  readonly kind = "trace";
  readonly builder: FuncBuilder;
  private readonly constants = new Map<HostTensor, Value>();
  private readonly captured = new Map<Tensor, Value>();
  /** Tensors of an enclosing trace that this one used, in order: they became extra arguments. */
  readonly captures: Tensor[] = [];
  /** Set on a trace nested in another (tf.grad inside a tf.function): enclosing tensors are captured as arguments. */
  captureForeign = false;
  /** Variables assigned in this trace (optimizer updates), in order: they become `@param` results. */
  readonly assigned = new Map<Variable, Value>();

  constructor(
    readonly module: Module,
    fnName: string,
    /** Called the first time a variable is read, to declare it as a module parameter. */
    private readonly declareParam: (v: Variable) => string,
  ) {
    this.builder = new FuncBuilder(module, fnName);
  }

  /** A symbolic tensor for a function argument. */
  arg(name: string, type: Value["type"]): Tensor {
    return Tensor.fromTrace(this, this.builder.arg(name, type));
  }

  valueOf(t: Tensor): Value {
    if (t.trace === this && t.value) return t.value;
    if (this.captureForeign && t.trace && t.value) {
      let v = this.captured.get(t);
      if (!v) {
        v = this.builder.arg(`captured${this.captures.length}`, t.irType);
        this.captured.set(t, v);
        this.captures.push(t);
      }
      return v;
    }
    if (t instanceof Variable) {
      const written = this.assigned.get(t);
      if (written) return written;
      const name = this.declareParam(t);
      this.builder.loc = currentUserLoc();
      return this.builder.param(name);
    }
    if (t.host) {
      let v = this.constants.get(t.host);
      if (!v) {
        v = this.builder.constant(t.host);
        this.constants.set(t.host, v);
      }
      return v;
    }
    throw new TfcError("TFC5010", "a tensor traced in another function was used here; pass it as an argument instead", { loc: currentUserLoc() });
  }

  /** Record `v := value`: later reads in this trace see `value`; the function returns it as `@param`. */
  assign(v: Variable, value: Tensor): void {
    const name = this.declareParam(v);
    void name;
    this.assigned.set(v, this.valueOf(value));
  }

  /** The `@param` results for the variables assigned in this trace. */
  updateResults(): { values: Value[]; names: string[] } {
    const values: Value[] = [];
    const names: string[] = [];
    for (const [v, value] of this.assigned) {
      values.push(value);
      names.push(`@${this.declareParam(v)}`);
    }
    return { values, names };
  }

  apply(op: OpName, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor {
    const loc = currentUserLoc();
    const operands = inputs.map((t) => this.valueOf(t));
    return Tensor.fromTrace(this, this.builder.op(op, operands, attrs, loc));
  }
}

const eager = new EagerContext();
let current: ExecutionContext = eager;

export function currentContext(): ExecutionContext {
  return current;
}

export function executingEagerly(): boolean {
  return current.kind === "eager";
}

/** Run `fn` with `ctx` as the current context, restoring the previous one afterwards. */
export function withContext<T>(ctx: ExecutionContext, fn: () => T): T {
  const saved = current;
  current = ctx;
  try {
    return fn();
  } finally {
    current = saved;
  }
}

/**
 * `v := value`, as optimizers and Variable.assign do it: eagerly the variable's data is replaced;
 * in a trace the function gets a result `@param` holding the new value (see UPDATE_PREFIX in
 * ir/ir.ts), and later reads of `v` in the same trace see it.
 */
export function assignVariable(v: Variable, value: Tensor): void {
  if (current instanceof TraceContext) {
    if (value.irType.dtype !== v.irType.dtype || value.rank !== v.rank || value.shape.some((d, i) => d !== v.shape[i])) {
      throw new TfcError("TFC2012", `cannot assign a ${value.dtype}[${value.shape}] tensor to variable '${v.name}' of shape [${v.shape}]`, { loc: currentUserLoc() });
    }
    current.assign(v, value);
  } else v.assign(value);
}

let stepSeed: (() => Tensor) | undefined;

/**
 * @internal Run `fn` as a training step's forward pass: layers that act differently in training
 * (Dropout) do, drawing randomness from `seed()` — the step's i32 seed tensor.
 */
export function withTraining<T>(seed: () => Tensor, fn: () => T): T {
  const saved = stepSeed;
  stepSeed = seed;
  try {
    return fn();
  } finally {
    stepSeed = saved;
  }
}

/** Whether layers run as in a training step's forward pass. */
export function inTraining(): boolean {
  return stepSeed !== undefined;
}

/** The training step's seed, or undefined outside a training forward pass. */
export function trainingSeed(): Tensor | undefined {
  return stepSeed?.();
}

export function apply(op: OpName, inputs: readonly Tensor[], attrs?: Attrs): Tensor {
  return current.apply(op, inputs, attrs);
}
