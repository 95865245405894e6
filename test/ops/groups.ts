// Registry cases packed into compiled functions: each group of cases becomes one function with
// one argument per operand and one result per case, so a target compiles the whole registry in a
// handful of builds. Shared by the native and wasm target tests.

import { Module, type Func, type Value } from "../../ir/ir.js";
import { FuncBuilder } from "../../ir/builder.js";
import { allOps, type OpName } from "../../ir/ops/index.js";
import { hostTensor, type HostTensor } from "../../ir/tensor.js";
import { Rng } from "../../ir/initializers.js";
import { concretize } from "../../ir/types.js";
import { OP_CASES, describeCase, type OpCase } from "./cases.js";

export interface OpEntry {
  readonly op: OpName;
  readonly c: OpCase;
}

/** Every valid case that runs on its own (param reads need a session), in registry order. */
export function runnableCases(): OpEntry[] {
  const entries: OpEntry[] = [];
  for (const def of allOps()) for (const c of OP_CASES[def.name as OpName].valid) if (c.runAlone !== false) entries.push({ op: def.name as OpName, c });
  return entries;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Groups of at most `size` cases whose operands plus results stay within `maxTensors` (a native
 * build's C entry point takes a pointer and a length per tensor, and koffi binds at most 64).
 */
export function chunkByTensors(items: readonly OpEntry[], size: number, maxTensors: number): OpEntry[][] {
  const out: OpEntry[][] = [];
  let group: OpEntry[] = [];
  let tensors = 0;
  for (const e of items) {
    const t = e.c.operands.length + 1;
    if (group.length > 0 && (group.length === size || tensors + t > maxTensors)) {
      out.push(group);
      group = [];
      tensors = 0;
    }
    group.push(e);
    tensors += t;
  }
  if (group.length > 0) out.push(group);
  return out;
}

/** One function computing every case of the group. */
export function groupModule(group: readonly OpEntry[]): { module: Module; fn: Func } {
  const module = new Module();
  const b = new FuncBuilder(module, "ops");
  const results: Value[] = [];
  group.forEach((e, i) => {
    const args = e.c.operands.map((o, k) => b.arg(`c${i}_${k}`, { dtype: o.dtype, shape: o.shape }));
    results.push(b.op(e.op, args, e.c.attrs ?? {}));
  });
  const fn = b.finish(results, group.map((_, i) => `r${i}`));
  module.functions.push(fn);
  return { module, fn };
}

/** Random inputs for every operand of the group, `?` replaced by `batch`. */
export function groupInputs(group: readonly OpEntry[], batch: number, seed: number): HostTensor[] {
  const rng = new Rng(seed);
  return group.flatMap((e) =>
    e.c.operands.map((o) => {
      const t = hostTensor(o.dtype, concretize(o.shape, batch));
      for (let i = 0; i < t.data.length; i++) t.data[i] = o.sample(rng);
      return t;
    }),
  );
}

export function describeEntry(e: OpEntry, batch: number): string {
  return `${e.op} ${describeCase({ operands: e.c.operands.map((o) => ({ dtype: o.dtype, shape: o.shape })), ...(e.c.attrs ? { attrs: e.c.attrs } : {}) })} at batch ${batch}`;
}

/** Ops that sum many terms; compiled code sums them in another order than the interpreter. */
export const ACCUMULATING: ReadonlySet<string> = new Set(["matmul", "conv2d", "depthwise_conv2d", "avg_pool", "sum", "mean", "prod", "softmax", "log_softmax", "batch_norm"]);
