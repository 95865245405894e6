// fuse — gather ops that can run as one kernel into fusion groups, written as the reserved attribute
// `group=k` on each member; lowering turns each group into one kernel (passes/lower/index.ts).
// Requires: verified SSA with decompositions expanded (run `decompose` first).
// Preserves: semantics — the attribute only changes how ops are lowered; the interpreter ignores it.
//
// A group has one root, its last op in program order; its kernel runs where the root is. Members
// other than the root are computed inside the kernel and never reach memory, unless they are
// needed after it (then the kernel stores them too). Four shapes of group:
// - elementwise: every member is elementwise and has as many elements as the root (a smaller
//   member would be recomputed for every output element). Members of the root's shape may also
//   be outputs when all their other users come after the root: Adam's update of a weight and of
//   its two moments is one kernel that reads g, m, v, w once and writes m', v', w';
// - epilogue: one anchor whose template takes an epilogue (matmul, conv2d) and elementwise members
//   of the anchor's shape applied to its accumulators before they are stored — bias, activation,
//   residual add — provided every other operand can be read at (row, column) of the anchor's
//   output seen as a matrix (LOWERING[anchor].epilogue says which anchors, epilogueStrides which
//   operands); such a group has one output, the root.
// - pooled: an epilogue group followed by a max_pool with non-overlapping windows, when the conv's
//   template can take it (LOWERING[conv].pools): the kernel stores each window's maximum, so the
//   conv's full-size output never reaches memory.
// - reduction: a reduction (sum, mean, max, min, prod) reading the elementwise group that computes
//   its operand as a prologue, when nothing else needs that group's values and it reads only
//   values of the operand's shape or single elements: `mean(square(p - y))` is one pass.
// Groups grow greedily from the last op backwards: a producer joins when all its uses are inside
// the group and it is not a function result; reductions then absorb their producers' groups.

import type { Op, Value } from "../ir/ir.js";
import { sizeOf } from "./lower/context.js";
import { LOWERING } from "./lower/index.js";
import { epilogueStrides } from "./lower/matmul.js";
import { definePass } from "./pass.js";
import type { OpName } from "../ir/ops/index.js";
import { isSingleElement, sameShape } from "../ir/types.js";
import { GROUP_ATTR } from "../ir/attrs.js";

const isElementwise = (op: Op): boolean => LOWERING[op.name as OpName]?.kind === "elementwise";

/** Whether this op instance can take an elementwise epilogue in its kernel. */
export function takesEpilogue(op: Op): boolean {
  const rule = LOWERING[op.name as OpName];
  return rule?.kind === "template" && rule.epilogue !== undefined && rule.epilogue(op);
}

const sameElements = (a: Value, b: Value): boolean => {
  const x = sizeOf(a.type);
  const y = sizeOf(b.type);
  return x.constant === y.constant && x.perBatch === y.perBatch;
};

/**
 * A pooling op whose operand is a conv's (epilogue's) result used by nothing else, when the conv's
 * template can reduce each pooling window before storing (LOWERING[conv].pools): the conv group
 * plus the pool as its root. The epilogue's other operands must be per-channel (the kernel visits
 * the conv's outputs in window order).
 */
function pooledGroup(pool: Op, ctx: GrowContext, taken: ReadonlySet<Op>): Set<Op> | undefined {
  if (pool.name !== "max_pool") return undefined;
  const input = pool.operands[0]!;
  const p = input.def;
  if (!p || taken.has(p) || ctx.results.has(input) || (ctx.users.get(input) ?? []).length !== 1) return undefined;
  const members = isElementwise(p) ? growGroup(p, ctx, taken) : new Set([p]);
  const anchor = [...members].find((m) => !isElementwise(m));
  const rule = anchor && LOWERING[anchor.name as OpName];
  if (!anchor || rule?.kind !== "template" || !takesEpilogue(anchor) || !rule.pools?.(anchor, pool)) return undefined;
  if (p.result.type.dtype !== "f32" || !sameShape(p.result.type.shape, anchor.result.type.shape)) return undefined;
  if (!epilogueReadable(members, anchor, true)) return undefined;
  members.add(pool);
  return members;
}

/**
 * Whether `reduce` can read the elementwise group (or single op) computing its operand as its
 * prologue: the group's only value used outside it is its root, used only by `reduce`; it holds no
 * anchor; it reads values of the reduced operand's shape or single elements.
 */
function prologueReadable(group: ReadonlySet<Op>, reduce: Op, ctx: GrowContext): boolean {
  const input = reduce.operands[0]!;
  if (ctx.results.has(input) || (ctx.users.get(input) ?? []).length !== 1) return false;
  for (const m of group) {
    if (!isElementwise(m)) return false;
    if (m !== input.def && (ctx.results.has(m.result) || (ctx.users.get(m.result) ?? []).some((u) => !group.has(u)))) return false;
    for (const v of m.operands) {
      if (v.def && group.has(v.def)) continue;
      if (!isSingleElement(v.type.shape) && !sameShape(v.type.shape, input.type.shape)) return false;
    }
  }
  return true;
}

/** The last member of a group in program order (its root). */
function lastOf(group: ReadonlySet<Op>, ctx: GrowContext): Op {
  return [...group].reduce((a, b) => (ctx.position.get(b)! > ctx.position.get(a)! ? b : a));
}

interface GrowContext {
  readonly users: ReadonlyMap<Value, readonly Op[]>;
  readonly results: ReadonlySet<Value>;
  readonly position: ReadonlyMap<Op, number>;
}

/** Grow a group from `root`; returns its members (just the root when nothing fuses). */
function growGroup(root: Op, ctx: GrowContext, taken: ReadonlySet<Op>): Set<Op> {
  const members = new Set<Op>([root]);
  let anchor: Op | undefined;
  let extraOutputs = 0;
  const after = (u: Op): boolean => ctx.position.get(u)! > ctx.position.get(root)!;
  const joins = (v: Value): Op | undefined => {
    const p = v.def;
    if (!p || members.has(p) || taken.has(p)) return undefined;
    const outside = (ctx.users.get(v) ?? []).filter((u) => !members.has(u));
    const escapes = outside.length > 0 || ctx.results.has(v);
    if (isElementwise(p)) {
      if (!sameElements(p.result, root.result)) return undefined;
      if (!escapes) return p;
      // Another output of the kernel: its other users read it after the kernel has run.
      if (anchor || !sameShape(p.result.type.shape, root.result.type.shape) || !outside.every(after)) return undefined;
      extraOutputs++;
      return p;
    }
    if (escapes || anchor || extraOutputs > 0) return undefined;
    if (takesEpilogue(p) && sameShape(p.result.type.shape, root.result.type.shape) && root.result.type.dtype === "f32") return p;
    return undefined;
  };
  for (let grew = true; grew; ) {
    grew = false;
    for (const m of [...members]) {
      if (m === anchor) continue; // an anchor's operands are read by its template, never fused into it
      for (const v of m.operands) {
        const p = joins(v);
        if (!p) continue;
        members.add(p);
        if (!isElementwise(p)) anchor = p;
        grew = true;
      }
    }
  }
  if (anchor && !epilogueReadable(members, anchor)) {
    // The anchor stays its own kernel; members reached only through it drop out too.
    return growGroup(root, ctx, new Set([...taken, anchor]));
  }
  return members;
}

/**
 * Whether every operand the epilogue reads (besides the anchor's result) is addressable by (row,
 * column) — and, with `perChannel`, the same for every row (a pooled kernel visits rows in window order).
 */
function epilogueReadable(members: ReadonlySet<Op>, anchor: Op, perChannel = false): boolean {
  for (const m of members) {
    if (m === anchor) continue;
    for (const v of m.operands) {
      if (v === anchor.result || (v.def && members.has(v.def))) continue;
      const strides = epilogueStrides(v.type.shape, anchor.result.type.shape);
      if (!strides || (perChannel && strides.rowStride !== 0)) return false;
    }
  }
  return true;
}

export const fuse = definePass({
  name: "fuse",
  summary: "Group elementwise chains and matmul/conv epilogues into single kernels",
  run(fn) {
    const before = fn.body.map((op) => op.attrs[GROUP_ATTR]);
    for (const op of fn.body) delete op.attrs[GROUP_ATTR];
    const users = new Map<Value, Op[]>();
    for (const op of fn.body) for (const v of op.operands) users.set(v, [...(users.get(v) ?? []), op]);
    const ctx: GrowContext = { users, results: new Set(fn.results), position: new Map(fn.body.map((op, i) => [op, i])) };
    const taken = new Set<Op>();
    const found: Set<Op>[] = [];
    for (let i = fn.body.length - 1; i >= 0; i--) {
      const op = fn.body[i]!;
      if (taken.has(op)) continue;
      const pooled = pooledGroup(op, ctx, taken);
      if (!pooled && !isElementwise(op)) continue;
      const members = pooled ?? growGroup(op, ctx, taken);
      for (const m of members) taken.add(m);
      if (members.size > 1) found.push(members);
    }
    // Then reductions take the elementwise kernel that computes their operand as their prologue,
    // when nothing else needs its values: two kernels become one, and nothing else changes.
    const groupOf = new Map<Op, Set<Op>>();
    for (const g of found) for (const m of g) groupOf.set(m, g);
    for (const op of fn.body) {
      const rule = LOWERING[op.name as OpName];
      if (rule?.kind !== "template" || !rule.prologue) continue;
      const producer = op.operands[0]!.def;
      if (!producer || !isElementwise(producer)) continue;
      const group = groupOf.get(producer) ?? new Set([producer]);
      if (!prologueReadable(group, op, ctx)) continue;
      group.add(op);
      groupOf.set(op, group);
      if (group.size === 2) found.push(group);
    }
    // Number groups in the program order of their roots, so printed IR reads top to bottom.
    found.sort((a, b) => ctx.position.get(lastOf(a, ctx))! - ctx.position.get(lastOf(b, ctx))!);
    found.forEach((members, k) => {
      for (const m of members) m.attrs[GROUP_ATTR] = k;
    });
    return fn.body.some((op, i) => op.attrs[GROUP_ATTR] !== before[i]);
  },
});
