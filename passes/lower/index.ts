/**
 * lower — tensor IR → kernel IR. Requires a verified function. Ops with a decomposition are
 * expanded first; then every op gets a rule from LOWERING (a table keyed by op name, so a new op
 * without a rule is a type error): elementwise ops through their scalar body, the rest through
 * kernel templates in this folder; fusion groups (passes/fuse.ts) as one kernel each; reshape
 * aliases its operand's buffer; constants and parameters are buffers. Temporaries are placed in one
 * arena by planMemory (passes/plan-memory.ts: liveness over the launches, offsets `a + b·N`).
 * Weights a GEMM reads are packed into its panel layout once, by the program's prepare launches,
 * when the function never updates them (TemplateContext.stable / packed).
 */

import { updatedParam, type Func, type Module, type Op, type Value } from "../../ir/ir.js";
import { getOp, type OpName } from "../../ir/ops/index.js";
import { TfcError } from "../../ir/errors.js";
import type { HostTensor } from "../../ir/tensor.js";
import { ScalarBuilder, type SExpr } from "../../ir/scalar.js";
import { GROUP_ATTR } from "../../ir/attrs.js";
import { normalizeAxis, sameShape } from "../../ir/types.js";
import { KProgram, type KValue, type KFunc, type KLaunch, type KProgramBuffer, type KSize } from "../../ir/kernel/kir.js";
import { expandDecompositions } from "./expand.js";
import { planMemory } from "../plan-memory.js";
import { sizeOf, type LowerOptions, type TemplateContext } from "./context.js";
import { emitMultiOutputKernel, emitSExpr, lowerCopy, lowerElementwise } from "./elementwise.js";
import { lowerMatmul } from "./matmul.js";
import { convPools, lowerConv2d, lowerDepthwiseConv2d, lowerPool, lowerMaxPoolGrad } from "./conv.js";
import { lowerReduce, lowerArgMax, lowerSoftmax } from "./reduce.js";
import { lowerConcat, lowerGather, lowerOneHot, lowerPad, lowerSlice, lowerTranspose } from "./data.js";
import { lowerRandomUniform } from "./random.js";

export type { LowerOptions } from "./context.js";

type Rule =
  | { readonly kind: "elementwise" }
  | { readonly kind: "decompose" }
  | { readonly kind: "source" }
  | { readonly kind: "alias" }
  | {
      readonly kind: "template";
      readonly lower: (ctx: TemplateContext) => void;
      /** Whether this op instance's template applies a fused elementwise epilogue (TemplateContext.epilogue). */
      readonly epilogue?: (op: Op) => boolean;
      /** For an op that also has a decomposition: whether the template takes this instance (else it is expanded). */
      readonly accepts?: (op: Op) => boolean;
      /** Whether the template can also reduce its (epilogue's) result through this pooling op (TemplateContext.pool). */
      readonly pools?: (op: Op, pool: Op) => boolean;
      /** Whether the template reads its (first) operand through a fused elementwise prologue (TemplateContext.prologue). */
      readonly prologue?: boolean;
    };

const ew: Rule = { kind: "elementwise" };
const dec: Rule = { kind: "decompose" };
type TemplateOptions = { epilogue?: (op: Op) => boolean; accepts?: (op: Op) => boolean; pools?: (op: Op, pool: Op) => boolean; prologue?: boolean };
const tpl = (lower: (ctx: TemplateContext) => void, opts: TemplateOptions = {}): Rule => ({ kind: "template", lower, ...opts });
const reduction = (kind: "sum" | "mean" | "max" | "min" | "prod"): Rule => tpl((ctx) => lowerReduce(ctx, kind), { prologue: true });
/** softmax and log_softmax along the last axis have a row template; other axes use their decomposition. */
const lastAxis = (op: Op): boolean => normalizeAxis(op.attrs["axis"] as number, op.result.type.shape.length) === op.result.type.shape.length - 1;

/** How each op becomes kernel IR. */
export const LOWERING: { readonly [P in OpName]: Rule } = {
  constant: { kind: "source" },
  param: { kind: "source" },
  reshape: { kind: "alias" },
  matmul: tpl(lowerMatmul, { epilogue: (op) => op.result.type.dtype === "f32" && op.operands[1]!.type.shape.length === 2 }),
  transpose: tpl(lowerTranspose),
  broadcast_to: tpl(lowerCopy),
  add: ew, sub: ew, mul: ew, div: ew, pow: ew, maximum: ew, minimum: ew, squared_difference: ew,
  neg: ew, abs: ew, square: ew, sqrt: ew, rsqrt: ew, exp: ew, log: ew, floor: ew, tanh: ew,
  sigmoid: ew, relu: ew, relu6: ew, elu: ew, selu: ew, leaky_relu: ew, gelu: ew, softplus: ew, softsign: ew,
  equal: ew, not_equal: ew, less: ew, less_equal: ew, greater: ew, greater_equal: ew,
  logical_and: ew, logical_or: ew, logical_not: ew, select: ew, cast: ew,
  conv2d: tpl(lowerConv2d, { epilogue: () => true, pools: convPools }),
  depthwise_conv2d: tpl(lowerDepthwiseConv2d),
  max_pool: tpl((ctx) => lowerPool(ctx, "max")),
  max_pool_grad: tpl(lowerMaxPoolGrad),
  random_uniform: tpl(lowerRandomUniform),
  avg_pool: tpl((ctx) => lowerPool(ctx, "avg")),
  batch_norm: dec,
  dropout: dec,
  sum: reduction("sum"),
  mean: reduction("mean"),
  max: reduction("max"),
  min: reduction("min"),
  prod: reduction("prod"),
  arg_max: tpl(lowerArgMax),
  softmax: tpl((ctx) => lowerSoftmax(ctx, false), { accepts: lastAxis }),
  log_softmax: tpl((ctx) => lowerSoftmax(ctx, true), { accepts: lastAxis }),
  concat: tpl(lowerConcat),
  slice: tpl(lowerSlice),
  pad: tpl(lowerPad),
  gather: tpl(lowerGather),
  one_hot: tpl(lowerOneHot),
};

/** Whether a kernel template takes this op as it is (so lowering keeps it rather than expanding it). */
function hasTemplate(op: Op): boolean {
  const rule = LOWERING[op.name as OpName];
  return rule.kind === "template" && (rule.accepts?.(op) ?? true);
}

/** Expand the decompositions lowering needs expanded: all but ops a template takes as they are. */
export function expandForLowering(module: Module, fn: Func): boolean {
  return expandDecompositions(module, fn, hasTemplate);
}

/** The members of each fusion group (passes/fuse.ts), in program order, checked to be one kernel's worth. */
export function fusionGroups(fn: Func): Map<number, Op[]> {
  const groups = new Map<number, Op[]>();
  for (const op of fn.body) {
    const g = op.attrs[GROUP_ATTR];
    if (typeof g === "number") groups.set(g, [...(groups.get(g) ?? []), op]);
  }
  // A member's value exists once its group's kernel has run, where the group's last op is.
  const rootOf = new Map<Value, Op>();
  for (const members of groups.values()) for (const m of members) rootOf.set(m.result, members[members.length - 1]!);
  const position = new Map(fn.body.map((op, i) => [op, i]));
  for (const op of fn.body) {
    for (const v of op.operands) {
      const root = rootOf.get(v);
      if (root && op.attrs[GROUP_ATTR] !== root.attrs[GROUP_ATTR] && position.get(op)! < position.get(root)!) {
        throw new TfcError("TFC6011", `${op.name} reads ${v.def!.name} of fusion group ${String(root.attrs[GROUP_ATTR])} before the group's kernel runs (at its last op, ${root.name})`);
      }
    }
  }
  return groups;
}

/** Lower one function of a module into a kernel program. The module's function is expanded in place. */
export function lowerFunction(module: Module, fn: Func, opts: LowerOptions): KProgram {
  expandForLowering(module, fn);
  const buffers: KProgramBuffer[] = [];
  const kernels: KFunc[] = [];
  const launches: KLaunch[] = [];
  const bufferOf = new Map<Value, KProgramBuffer>();
  const paramBuffers = new Map<string, KProgramBuffer>();
  const constBuffers = new Map<HostTensor, KProgramBuffer>();
  // Packed weights (GEMM panels) by source buffer and layout, and the prepare launches computing them.
  const packedBuffers = new Map<string, KProgramBuffer>();
  const prepare: KLaunch[] = [];
  const updated = new Set(fn.resultNames.map(updatedParam).filter((p): p is string => p !== undefined));
  let nextTemp = 0;
  let tables = 0; // const buffers made by templates (index tables: `koffsets0`), named apart from the ops' constants (`c0`)
  const names = new Map<string, number>();

  const addBuffer = (buf: KProgramBuffer): KProgramBuffer => {
    buffers.push(buf);
    return buf;
  };
  // Temporaries get their arena offsets from planMemory once every launch is known.
  const temp = (label: string, elem: KProgramBuffer["elem"], size: KSize): KProgramBuffer => addBuffer({ name: `t${nextTemp++}_${label}`, elem, size, role: "temp" });

  fn.args.forEach((a, i) => bufferOf.set(a, addBuffer({ name: `in_${a.name ?? i}`, elem: a.type.dtype, size: sizeOf(a.type), role: "input", ref: i })));

  const groups = fusionGroups(fn);
  // Values needed outside the kernel that computes them: function results, and operands of ops in
  // another group (or in none). A group's kernel stores exactly its members among these.
  const usedOutside = new Set<Value>(fn.results);
  for (const op of fn.body) {
    for (const v of op.operands) if (v.def?.attrs[GROUP_ATTR] === undefined || v.def.attrs[GROUP_ATTR] !== op.attrs[GROUP_ATTR]) usedOutside.add(v);
  }
  /** The tensor ops the launches being added compute. */
  let current: readonly Op[] = [];
  for (const op of fn.body) {
    const group = op.attrs[GROUP_ATTR];
    const members = typeof group === "number" ? groups.get(group)! : undefined;
    current = members ?? [op];
    try {
      if (!members) lowerOp(op, LOWERING[op.name as OpName]);
      else if (op === members[members.length - 1]) lowerGroup(members);
      // Other members are computed inside their group's kernel, which runs where the root is.
    } catch (e) {
      if (e instanceof TfcError) e.at(op.loc);
      throw e;
    }
  }

  /** One kernel for a fusion group: an elementwise loop nest over the composed scalar bodies, or the anchor's template with the rest as its epilogue. */
  function lowerGroup(members: readonly Op[]): void {
    const root = members[members.length - 1]!;
    // A pooled group ends with the pooling op; the kernel's epilogue ends at the pool's operand.
    const pool = members.length > 1 && root.name === "max_pool" ? root : undefined;
    // A reduction's group: elementwise producers read through the reduction's prologue.
    const rootRule = LOWERING[root.name as OpName];
    const reduce = members.length > 1 && rootRule.kind === "template" && rootRule.prologue ? root : undefined;
    const epilogueRoot = pool ? pool.operands[0]!.def! : root;
    const anchors = members.filter((m) => m !== pool && m !== reduce && LOWERING[m.name as OpName].kind !== "elementwise");
    const anchor = anchors[0];
    const anchorRule = anchor ? LOWERING[anchor.name as OpName] : undefined;
    const fits = (rule: Rule, a: Op): boolean =>
      rule.kind === "template" && rule.epilogue?.(a) === true && epilogueRoot.result.type.dtype === "f32" && sameShape(epilogueRoot.result.type.shape, a.result.type.shape) && (!pool || rule.pools?.(a, pool) === true);
    if (anchors.length > 1 || (pool && !anchor) || (reduce && anchor) || (anchorRule && !fits(anchorRule, anchor!))) {
      throw new TfcError("TFC6011", `fusion group ${String(root.attrs[GROUP_ATTR])} cannot be one kernel: besides elementwise ops it may hold one f32 matmul or conv2d (and a max_pool after a conv2d), got ${members.map((m) => m.name).join(", ")}`);
    }
    const inside = new Set(members.map((m) => m.result));
    const leaves: Value[] = [];
    const memo = new Map<Value, SExpr>();
    const sb = new ScalarBuilder();
    const exprOf = (v: Value): SExpr => {
      let e = memo.get(v);
      if (e) return e;
      if (anchor && v === anchor.result) e = sb.input(0, v.type.dtype);
      else if (inside.has(v)) e = getOp(v.def!.name).scalar!(sb, v.def!.operands.map(exprOf), v.def!.attrs as never);
      else {
        if (!leaves.includes(v)) leaves.push(v);
        e = sb.input(leaves.indexOf(v) + (anchor ? 1 : 0), v.type.dtype);
      }
      memo.set(v, e);
      return e;
    };
    // The kernel stores the root and every member needed after it (or returned).
    const group = root.attrs[GROUP_ATTR];
    const outputs = pool || reduce ? [root] : members.filter((m) => m === root || usedOutside.has(m.result));
    if (outputs.some((m) => !sameShape(m.result.type.shape, root.result.type.shape)) || (anchor && outputs.length > 1) || ((pool || reduce) && members.some((m) => m !== root && usedOutside.has(m.result)))) {
      throw new TfcError("TFC6011", `fusion group ${String(group)} stores ${outputs.length} values; a group stores values of its last op's shape, and one when it holds a ${anchor?.name ?? "product"}`);
    }
    const exprs = pool ? [exprOf(epilogueRoot.result)] : reduce ? [exprOf(reduce.operands[0]!)] : outputs.map((m) => exprOf(m.result));
    const expr = exprs[exprs.length - 1]!;
    const names = [...new Set(members.map((m) => m.name))];
    const label = names.length > 3 ? `${names.slice(0, 3).join("_")}_etc` : names.join("_");
    const outs = outputs.map((m) => {
      const buf = temp(label, m.result.type.dtype, sizeOf(m.result.type));
      bufferOf.set(m.result, buf);
      return buf;
    });
    const out = outs[outs.length - 1]!;
    if (anchor && anchorRule?.kind === "template") {
      const epilogue = { expr, operands: leaves.map((l) => ({ buffer: bufferOf.get(l)!, type: l.type })) };
      anchorRule.lower({ ...templateContext(anchor, out, label), epilogue, ...(pool ? { pool } : {}) });
      return;
    }
    if (reduce && rootRule.kind === "template") {
      const prologue = { expr, operands: leaves.map((l) => ({ buffer: bufferOf.get(l)!, type: l.type })) };
      rootRule.lower({ ...templateContext(reduce, out, label), prologue });
      return;
    }
    const ctx = templateContext(root, out, label);
    const kernel = emitMultiOutputKernel(ctx.kernelName(), leaves.map((l) => l.type), outputs.map((m) => m.result.type), ctx.width, (b, inputs, lanes) => {
      const memo = new Map<SExpr, KValue>();
      return exprs.map((e) => emitSExpr(b, e, inputs, lanes, memo));
    });
    ctx.launch(kernel, [...leaves.map((l) => bufferOf.get(l)!), ...outs]);
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

  function templateContext(op: Op, out: KProgramBuffer, base = op.name): TemplateContext {
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
      constant: (label, data) => addBuffer({ name: `${label}${tables++}`, elem: "i32", size: { constant: data.length, perBatch: 0 }, role: "const", data }),
      launch: (kernel, bufs) => {
        kernels.push(kernel);
        launches.push({ kernel, buffers: [...bufs], ops: current });
      },
      stable: (buf) => opts.prepack !== false && buf.role === "param" && !updated.has(String(buf.ref)),
      packed: (source, key, elements, kernel) => {
        const id = `${source.name}\u0000${key}`;
        let buf = packedBuffers.get(id);
        if (!buf) {
          buf = addBuffer({ name: `${source.name}_packed${packedBuffers.size ? packedBuffers.size : ""}`, elem: source.elem, size: { constant: elements, perBatch: 0 }, role: "packed" });
          packedBuffers.set(id, buf);
          const k = kernel();
          kernels.push(k);
          prepare.push({ kernel: k, buffers: [source, buf], ops: current });
        }
        return buf;
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
    current = r.def ? [r.def] : [];
    const ctx = templateContext({ name: "copy", operands: [r], attrs: {}, result: r } as Op, output);
    lowerCopy(ctx);
  });
  const program = new KProgram(fn.name, buffers, kernels, launches);
  program.prepare.push(...prepare);
  planMemory(program);
  return program;
}
