// The op registry: every op tfc knows, keyed by its IR mnemonic. Adding an op means defining it in
// one of the files beside this one and listing it here; tables elsewhere are typed
// `{ [P in OpName]: … }`, so the compiler then points at every place that needs a rule for it.

import { TfcError, closest } from "../errors.js";
import type { OpDef } from "../op-def.js";
import * as ew from "./elementwise.js";
import * as core from "./core.js";
import * as nn from "./nn.js";
import * as random from "./random.js";
import * as reduce from "./reduce.js";
import * as shape from "./shape.js";

export const OPS = {
  // sources, products, layout
  constant: core.constant,
  param: core.param,
  matmul: core.matmul,
  reshape: core.reshape,
  transpose: core.transpose,
  broadcast_to: core.broadcast_to,
  // elementwise
  add: ew.add,
  sub: ew.sub,
  mul: ew.mul,
  div: ew.div,
  pow: ew.pow,
  maximum: ew.maximum,
  minimum: ew.minimum,
  squared_difference: ew.squared_difference,
  neg: ew.neg,
  abs: ew.abs,
  square: ew.square,
  sqrt: ew.sqrt,
  rsqrt: ew.rsqrt,
  exp: ew.exp,
  log: ew.log,
  floor: ew.floor,
  tanh: ew.tanh,
  sigmoid: ew.sigmoid_,
  relu: ew.relu,
  relu6: ew.relu6,
  elu: ew.elu,
  selu: ew.selu,
  leaky_relu: ew.leaky_relu,
  gelu: ew.gelu,
  softplus: ew.softplus,
  softsign: ew.softsign,
  equal: ew.equal,
  not_equal: ew.not_equal,
  less: ew.less,
  less_equal: ew.less_equal,
  greater: ew.greater,
  greater_equal: ew.greater_equal,
  logical_and: ew.logical_and,
  logical_or: ew.logical_or,
  logical_not: ew.logical_not,
  select: ew.select,
  cast: ew.cast,
  // selection and layout
  concat: shape.concat,
  slice: shape.slice,
  pad: shape.pad,
  gather: shape.gather,
  one_hot: shape.one_hot,
  // reductions
  sum: reduce.sum,
  mean: reduce.mean,
  max: reduce.max,
  min: reduce.min,
  prod: reduce.prod,
  arg_max: reduce.arg_max,
  softmax: reduce.softmax,
  log_softmax: reduce.log_softmax,
  // neural-network layers
  conv2d: nn.conv2d,
  depthwise_conv2d: nn.depthwise_conv2d,
  max_pool: nn.max_pool,
  max_pool_grad: nn.max_pool_grad,
  random_uniform: random.random_uniform,
  avg_pool: nn.avg_pool,
  batch_norm: nn.batch_norm,
  dropout: nn.dropout,
} as const;

export type OpName = keyof typeof OPS;

export function isOpName(name: string): name is OpName {
  return Object.prototype.hasOwnProperty.call(OPS, name);
}

export function getOp(name: string): OpDef {
  if (!isOpName(name)) {
    const hint = closest(name, Object.keys(OPS));
    throw new TfcError("TFC3001", `unknown op '${name}'`, hint ? { notes: [`did you mean '${hint}'?`] } : {});
  }
  return OPS[name] as unknown as OpDef;
}

export function allOps(): OpDef[] {
  return Object.values(OPS) as unknown as OpDef[];
}
