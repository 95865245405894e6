// tf.Tensor and tf.Variable. A Tensor is either concrete (eager: holds host data) or symbolic
// (traced: holds an IR value of the function being traced). A symbolic batch dimension reads as
// -1 in `shape`, so `tf.reshape(x, [x.shape[0], -1])` keeps meaning what it means in TF.js.

import type { Value, Initializer } from "../../ir/ir.js";
import type { HostTensor } from "../../ir/tensor.js";
import { toNested } from "../../ir/tensor.js";
import { materialize } from "../../ir/initializers.js";
import { TfcError } from "../../ir/errors.js";
import type { TensorType } from "../../ir/types.js";
import { formatType } from "../../ir/types.js";
import { currentUserLoc } from "../frontend/location.js";
import { fromIRDType, type DataType } from "./dtypes.js";
import type { TraceContext } from "./context.js";
import * as ops from "./ops.js";
import { assignVariable, executingEagerly } from "./context.js";

export type Rank = number;
export type TensorLike = number | boolean | TensorLike[] | Float32Array | Int32Array | Uint8Array;

let nextTensorId = 0;

export class Tensor {
  readonly id = nextTensorId++;
  /** @internal Concrete data (eager). */
  protected hostData: HostTensor | undefined;
  /** @internal IR value (traced) and the trace it belongs to. */
  value: Value | undefined;
  /** @internal */
  trace: TraceContext | undefined;

  /** @internal */
  constructor(readonly irType: TensorType) {}

  /** @internal */
  static fromHost(h: HostTensor): Tensor {
    const t = new Tensor({ dtype: h.dtype, shape: h.shape });
    t.hostData = h;
    return t;
  }
  /** @internal */
  static fromTrace(trace: TraceContext, v: Value): Tensor {
    const t = new Tensor(v.type);
    t.value = v;
    t.trace = trace;
    return t;
  }

  /** @internal Concrete data, if this tensor has any. */
  get host(): HostTensor | undefined {
    return this.hostData;
  }

  get dtype(): DataType {
    return fromIRDType(this.irType.dtype);
  }
  get shape(): number[] {
    return [...this.irType.shape];
  }
  get rank(): number {
    return this.irType.shape.length;
  }
  get size(): number {
    return this.irType.shape.reduce((a, b) => a * b, 1);
  }
  get isSymbolic(): boolean {
    return this.host === undefined && !(this instanceof Variable);
  }

  /** @internal Concrete data, or a located error saying why there is none. */
  concrete(what: string): HostTensor {
    if (this.host) return this.host;
    throw new TfcError(
      "TFC5011",
      `${what}() reads values, but this tensor is symbolic: it is being traced for compilation (${formatType(this.irType)}); its values exist only when the compiled model runs`,
      { loc: currentUserLoc() },
    );
  }

  dataSync(): Float32Array | Int32Array | Uint8Array {
    return this.concrete("dataSync").data;
  }
  async data(): Promise<Float32Array | Int32Array | Uint8Array> {
    return this.dataSync();
  }
  arraySync(): any {
    return toNested(this.concrete("arraySync"));
  }
  async array(): Promise<any> {
    return this.arraySync();
  }
  toString(): string {
    if (!this.host) return `Tensor (symbolic) ${formatType(this.irType)}`;
    return `Tensor\n    dtype: ${this.dtype}\n    rank: ${this.rank}\n    shape: [${this.shape}]\n    values:\n      ${JSON.stringify(this.arraySync())}`;
  }
  print(): void {
    console.log(this.host ? `Tensor\n    ${JSON.stringify(this.arraySync())}` : this.toString());
  }
  dispose(): void {}

  // Chainable ops, as on tf.Tensor in TF.js.
  add(b: Tensor | TensorLike): Tensor { return ops.add(this, b); }
  sub(b: Tensor | TensorLike): Tensor { return ops.sub(this, b); }
  mul(b: Tensor | TensorLike): Tensor { return ops.mul(this, b); }
  div(b: Tensor | TensorLike): Tensor { return ops.div(this, b); }
  pow(b: Tensor | TensorLike): Tensor { return ops.pow(this, b); }
  maximum(b: Tensor | TensorLike): Tensor { return ops.maximum(this, b); }
  minimum(b: Tensor | TensorLike): Tensor { return ops.minimum(this, b); }
  neg(): Tensor { return ops.neg(this); }
  abs(): Tensor { return ops.abs(this); }
  square(): Tensor { return ops.square(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  tanh(): Tensor { return ops.tanh(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  relu(): Tensor { return ops.relu(this); }
  matMul(b: Tensor | TensorLike, transposeA = false, transposeB = false): Tensor { return ops.matMul(this, b, transposeA, transposeB); }
  reshape(shape: number[]): Tensor { return ops.reshape(this, shape); }
  transpose(perm?: number[]): Tensor { return ops.transpose(this, perm); }
  cast(dtype: DataType): Tensor { return ops.cast(this, dtype); }
  sum(axis?: number | number[], keepDims = false): Tensor { return ops.sum(this, axis, keepDims); }
  mean(axis?: number | number[], keepDims = false): Tensor { return ops.mean(this, axis, keepDims); }
  max(axis?: number | number[], keepDims = false): Tensor { return ops.max(this, axis, keepDims); }
  min(axis?: number | number[], keepDims = false): Tensor { return ops.min(this, axis, keepDims); }
  argMax(axis = 0): Tensor { return ops.argMax(this, axis); }
  softmax(dim = -1): Tensor { return ops.softmax(this, dim); }
  flatten(): Tensor { return ops.reshape(this, [-1]); }
  expandDims(axis = 0): Tensor { return ops.expandDims(this, axis); }
  squeeze(axis?: number[]): Tensor { return ops.squeeze(this, axis); }
  equal(b: Tensor | TensorLike): Tensor { return ops.equal(this, b); }
  greater(b: Tensor | TensorLike): Tensor { return ops.greater(this, b); }
  less(b: Tensor | TensorLike): Tensor { return ops.less(this, b); }
}

let nextVariableId = 0;

/**
 * tf.Variable: a named, mutable tensor. When a traced function reads it, it becomes a module
 * parameter; its initial value is kept as an initializer (seeded random kinds stay symbolic in
 * the IR and are materialized only when values are needed).
 */
export class Variable extends Tensor {
  readonly name: string;
  readonly trainable: boolean;
  /** @internal */
  init: Initializer;

  /** Variables by name, as TF.js's engine registers them (the last one made wins a name). */
  private static readonly registry = new Map<string, WeakRef<Variable>>();

  /** @internal The variable with this name, if one is alive (gradients by name find their variables). */
  static named(name: string): Variable | undefined {
    return Variable.registry.get(name)?.deref();
  }

  /** @internal */
  constructor(type: TensorType, init: Initializer, name: string | undefined, trainable: boolean) {
    super(type);
    this.name = name ?? `Variable_${nextVariableId++}`;
    this.init = init;
    this.trainable = trainable;
    Variable.registry.set(this.name, new WeakRef(this));
  }

  /** Concrete value, materialized from the initializer on first use. */
  override get host(): HostTensor | undefined {
    if (!this.hostData) this.hostData = materialize(this.init, this.irType);
    return this.hostData;
  }

  /** Replace the value: eagerly now; in a traced function, as a parameter update of the compiled function. */
  assign(value: Tensor): void {
    if (!executingEagerly()) return assignVariable(this, value);
    this.write(value);
  }

  /** @internal Replace the value now, whatever the context (setWeights, loading, training results). */
  write(value: Tensor): void {
    const h = value.concrete("assign");
    if (h.dtype !== this.irType.dtype || h.shape.length !== this.irType.shape.length || h.shape.some((d, i) => d !== this.irType.shape[i])) {
      throw new TfcError("TFC2012", `cannot assign ${formatType({ dtype: h.dtype, shape: h.shape })} to variable '${this.name}' of type ${formatType(this.irType)}`, {
        loc: currentUserLoc(),
      });
    }
    this.hostData = { ...h, data: h.data.slice() };
    this.init = { kind: "data", tensor: this.hostData };
  }
}
