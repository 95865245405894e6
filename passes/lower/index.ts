/**
 * lower — tensor IR → kernel IR. Requires a verified function. Ops with a decomposition are
 * expanded first; then every op gets a rule from LOWERING (a table keyed by op name, so a new op
 * without a rule is a type error): elementwise ops through their scalar body, the rest through
 * kernel templates in this folder; reshape aliases its operand's buffer; constants and parameters
 * are buffers. Temporaries are laid out in one arena (offsets `a + b·N`, 64-byte aligned).
 */

import type { Func, Module, Op, Value } from "../../ir/ir.js";
import { FuncBuilder } from "../../ir/builder.js";
import { getOp, type OpName } from "../../ir/ops/index.js";
import { TfcError } from "../../ir/errors.js";
import type { HostTensor } from "../../ir/tensor.js";
import { ScalarBuilder } from "../../ir/scalar.js";
import { KProgram, type KFunc, type KLaunch, type KProgramBuffer, type KSize } from "../../ir/kernel/kir.js";
import { replaceOp } from "../pass.js";
import { sizeOf, type LowerOptions, type TemplateContext } from "./context.js";
import { lowerCopy, lowerElementwise } from "./elementwise.js";
import { lowerMatmul } from "./matmul.js";
import { lowerConv2d, lowerDepthwiseConv2d, lowerPool, lowerMaxPoolGrad } from "./conv.js";
import { lowerReduce, lowerArgMax } from "./reduce.js";
import { lowerConcat, lowerGather, lowerOneHot, lowerPad, lowerSlice, lowerTranspose } from "./data.js";
import { lowerRandomUniform } from "./random.js";

export type { LowerOptions } from "./context.js";

type Rule =
  | { readonly kind: "elementwise" }
  | { readonly kind: "decompose" }
  | { readonly kind: "source" }
  | { readonly kind: "alias" }
  | { readonly kind: "template"; readonly lower: (ctx: TemplateContext) => void };

const ew: Rule = { kind: "elementwise" };
const dec: Rule = { kind: "decompose" };
const tpl = (lower: (ctx: TemplateContext) => void): Rule => ({ kind: "template", lower });

/** How each op becomes kernel IR. */
export const LOWERING: { readonly [P in OpName]: Rule } = {
  constant: { kind: "source" },
  param: { kind: "source" },
  reshape: { kind: "alias" },
  matmul: tpl(lowerMatmul),
  transpose: tpl(lowerTranspose),
  broadcast_to: tpl(lowerCopy),
  add: ew, sub: ew, mul: ew, div: ew, pow: ew, maximum: ew, minimum: ew, squared_difference: ew,
  neg: ew, abs: ew, square: ew, sqrt: ew, rsqrt: ew, exp: ew, log: ew, floor: ew, tanh: ew,
  sigmoid: ew, relu: ew, relu6: ew, elu: ew, selu: ew, leaky_relu: ew, gelu: ew, softplus: ew, softsign: ew,
  equal: ew, not_equal: ew, less: ew, less_equal: ew, greater: ew, greater_equal: ew,
  logical_and: ew, logical_or: ew, logical_not: ew, select: ew, cast: ew,
  conv2d: tpl(lowerConv2d),
  depthwise_conv2d: tpl(lowerDepthwiseConv2d),
  max_pool: tpl((ctx) => lowerPool(ctx, "max")),
  max_pool_grad: tpl(lowerMaxPoolGrad),
  random_uniform: tpl(lowerRandomUniform),
  avg_pool: tpl((ctx) => lowerPool(ctx, "avg")),
  batch_norm: dec,
  dropout: dec,
  sum: tpl((ctx) => lowerReduce(ctx, "sum")),
  mean: tpl((ctx) => lowerReduce(ctx, "mean")),
  max: tpl((ctx) => lowerReduce(ctx, "max")),
  min: tpl((ctx) => lowerReduce(ctx, "min")),
  prod: tpl((ctx) => lowerReduce(ctx, "prod")),
  arg_max: tpl(lowerArgMax),
  softmax: dec,
  log_softmax: dec,
  concat: tpl(lowerConcat),
  slice: tpl(lowerSlice),
  pad: tpl(lowerPad),
  gather: tpl(lowerGather),
  one_hot: tpl(lowerOneHot),
};

/** Replace every op that has a decomposition by its expansion (repeatedly: expansions may decompose too). */
export function expandDecompositions(module: Module, fn: Func): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const op of [...fn.body]) {
      const def = getOp(op.name);
      if (def.semantics !== "decompose") continue;
      const b = FuncBuilder.forRewrite(module, fn);
      b.loc = op.loc;
      const value = def.decompose!(b, op.operands, op.attrs as never);
      fn.body.splice(fn.body.indexOf(op), 0, ...b.body);
      replaceOp(fn, op, value);
      changed = true;
    }
  }
}

const ALIGN_ELEMS = 16; // 64 bytes of 4-byte elements

function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

/** Lower one function of a module into a kernel program. The module's function is expanded in place. */
export function lowerFunction(module: Module, fn: Func, opts: LowerOptions): KProgram {
  expandDecompositions(module, fn);
  const buffers: KProgramBuffer[] = [];
  const kernels: KFunc[] = [];
  const launches: KLaunch[] = [];
  const bufferOf = new Map<Value, KProgramBuffer>();
  const paramBuffers = new Map<string, KProgramBuffer>();
  const constBuffers = new Map<HostTensor, KProgramBuffer>();
  let nextTemp = 0;
  let arena: KSize = { constant: 0, perBatch: 0 };
  const names = new Map<string, number>();

  const addBuffer = (buf: KProgramBuffer): KProgramBuffer => {
    buffers.push(buf);
    return buf;
  };
  const temp = (label: string, elem: KProgramBuffer["elem"], size: KSize): KProgramBuffer => {
    const offset = arena;
    arena = {
      constant: arena.constant + roundUp(size.constant, ALIGN_ELEMS) * 4,
      perBatch: arena.perBatch + roundUp(size.perBatch, ALIGN_ELEMS) * 4,
    };
    return addBuffer({ name: `t${nextTemp++}_${label}`, elem, size, role: "temp", offset });
  };

  fn.args.forEach((a, i) => bufferOf.set(a, addBuffer({ name: `in_${a.name ?? i}`, elem: a.type.dtype, size: sizeOf(a.type), role: "input", ref: i })));

  for (const op of fn.body) {
    const rule = LOWERING[op.name as OpName];
    try {
      lowerOp(op, rule);
    } catch (e) {
      if (e instanceof TfcError) e.at(op.loc);
      throw e;
    }
  }

  function lowerOp(op: Op, rule: Rule): void {
    const result = op.result;
    switch (rule.kind) {
      case "decompose":
        throw new TfcError("TFC6010", `${op.name} should have been expanded before lowering`);
      case "source":
        if (op.name === "param") {
          const name = op.attrs["name"] as string;
          let buf = paramBuffers.get(name);
          if (!buf) {
            buf = addBuffer({ name: `p_${name}`, elem: result.type.dtype, size: sizeOf(result.type), role: "param", ref: name });
            paramBuffers.set(name, buf);
          }
          bufferOf.set(result, buf);
        } else {
          const value = op.attrs["value"] as HostTensor;
          let buf = constBuffers.get(value);
          if (!buf) {
            buf = addBuffer({ name: `c${constBuffers.size}`, elem: value.dtype, size: sizeOf(result.type), role: "const", data: value.data });
            constBuffers.set(value, buf);
          }
          bufferOf.set(result, buf);
        }
        return;
      case "alias":
        bufferOf.set(result, bufferOf.get(op.operands[0]!)!);
        return;
      case "elementwise":
      case "template": {
        const out = temp(op.name, result.type.dtype, sizeOf(result.type));
        bufferOf.set(result, out);
        const ctx = templateContext(op, out);
        if (rule.kind === "template") rule.lower(ctx);
        else {
          const def = getOp(op.name);
          lowerElementwise(ctx, (inputs) => def.scalar!(new ScalarBuilder(), inputs, op.attrs as never), op.operands.map((o) => o.type.dtype));
        }
        return;
      }
    }
  }

  function templateContext(op: Op, out: KProgramBuffer): TemplateContext {
    const base = op.name;
    return {
      op,
      attrs: op.attrs,
      inputs: op.operands.map((o) => bufferOf.get(o)!),
      inTypes: op.operands.map((o) => o.type),
      out,
      outType: op.result.type,
      width: opts.vectorWidth,
      kernelName: (suffix?: string) => {
        const key = suffix ? `${base}_${suffix}` : base;
        const k = names.get(key) ?? 0;
        names.set(key, k + 1);
        return `${key}_${k}`;
      },
      scratch: (label, elem, size) => temp(label, elem, size),
      launch: (kernel, bufs) => {
        kernels.push(kernel);
        launches.push({ kernel, buffers: [...bufs] });
      },
    };
  }

  // Results: a temp written by exactly one result becomes that output; anything else is copied.
  const outputs: KProgramBuffer[] = [];
  fn.results.forEach((r, i) => {
    const buf = bufferOf.get(r)!;
    const index = buffers.indexOf(buf);
    if (buf.role === "temp" && !outputs.includes(buf)) {
      const output: KProgramBuffer = { name: `out_${fn.resultNames[i] ?? i}`, elem: buf.elem, size: buf.size, role: "output", ref: i };
      buffers[index] = output;
      for (const l of launches) (l.buffers as KProgramBuffer[]).forEach((b, k, arr) => b === buf && (arr[k] = output));
      // A value returned twice (a loss that is also a metric) is copied into its second output.
      bufferOf.set(r, output);
      outputs.push(output);
      return;
    }
    const output = addBuffer({ name: `out_${fn.resultNames[i] ?? i}`, elem: buf.elem, size: sizeOf(r.type), role: "output", ref: i });
    outputs.push(output);
    const ctx = templateContext({ name: "copy", operands: [r], attrs: {}, result: r } as Op, output);
    lowerCopy(ctx);
  });
  // Outputs replaced temps; keep arena offsets of the remaining temps (the freed space stays unused until plan-memory).
  return new KProgram(fn.name, buffers, kernels, launches, arena);
}
