// What a kernel template sees while lowering one tensor op: the op, its operand and result
// buffers, the target's vector width, and ways to add scratch buffers and kernel launches.
// Also the shape helpers templates share (run-time dimensions, sizes as a + b·N).

import type { Op } from "../../ir/ir.js";
import type { TensorType } from "../../ir/types.js";
import { BATCH } from "../../ir/types.js";
import type { KBuilder } from "../../ir/kernel/builder.js";
import type { KFunc, KProgramBuffer, KSize, KValue } from "../../ir/kernel/kir.js";
import type { Attrs } from "../../ir/builder.js";
import type { SExpr } from "../../ir/scalar.js";

export interface LowerOptions {
  /** Lanes of f32 vectors the target prefers (8: AVX2, 4: SSE/NEON/wasm SIMD128). */
  readonly vectorWidth: number;
  /**
   * Pack weights into the microkernels' panel layout once, in the program's prepare launches,
   * instead of on every call (default true; false for comparisons).
   */
  readonly prepack?: boolean;
}

export interface TemplateContext {
  readonly op: Op;
  readonly attrs: Attrs;
  readonly inputs: readonly KProgramBuffer[];
  readonly inTypes: readonly TensorType[];
  readonly out: KProgramBuffer;
  readonly outType: TensorType;
  readonly width: number;
  /** A unique kernel name derived from the op (`matmul_3`). */
  kernelName(suffix?: string): string;
  /** A scratch buffer in the arena, live for this op only. */
  scratch(name: string, elem: KProgramBuffer["elem"], size: KSize): KProgramBuffer;
  /** A const buffer holding `data` (index tables a kernel reads), baked into the artifact. */
  constant(label: string, data: Int32Array): KProgramBuffer;
  /** Add a kernel launch over these program buffers (in the kernel's buffer-parameter order). */
  launch(kernel: KFunc, buffers: readonly KProgramBuffer[]): void;
  /**
   * Whether data derived from `buf` may be computed once and kept between calls: it is a
   * parameter the function never updates (so only a write from outside changes it, after which
   * the prepare launches run again), and prepacking is on.
   */
  stable(buf: KProgramBuffer): boolean;
  /**
   * A packed buffer that `kernel(source, packed)` computes once, as a prepare launch; the same
   * source and key give the same buffer (each weight is packed once per layout).
   */
  packed(source: KProgramBuffer, key: string, elements: number, kernel: () => KFunc): KProgramBuffer;
  /**
   * Elementwise ops fused after this one (passes/fuse.ts): the template applies them to each
   * result element before storing it into `out`. Only templates whose LOWERING rule declares
   * `epilogue` get one.
   */
  readonly epilogue?: FusedEpilogue;
  /**
   * A max_pool fused after the epilogue (LOWERING[op].pools said yes): the template stores the
   * maximum of each pooling window into `out`, which has the pool's shape.
   */
  readonly pool?: Op;
  /**
   * Elementwise ops fused before this one (a reduction's producers): the template reads its first
   * operand's element i as `expr` over operands[k] at i (a single-element operand at 0). Only
   * templates whose LOWERING rule declares `prologue` get one.
   */
  readonly prologue?: FusedEpilogue;
}

/** A fused epilogue: `expr` reads input 0 as the template's result element and input k+1 as operands[k]; as a prologue, input k is operands[k]. */
export interface FusedEpilogue {
  readonly expr: SExpr;
  readonly operands: readonly { readonly buffer: KProgramBuffer; readonly type: TensorType }[];
}

/** Elements of a tensor type as `a + b·N`. */
export function sizeOf(t: TensorType): KSize {
  const fixed = t.shape.reduce((p, d) => (d === BATCH ? p : p * d), 1);
  return t.shape.includes(BATCH) ? { constant: 0, perBatch: fixed } : { constant: fixed, perBatch: 0 };
}

/** A dimension as a run-time index value: its size, or the batch parameter `n`. */
export function dimValue(b: KBuilder, d: number, n: KValue): KValue {
  return d === BATCH ? n : b.index(d);
}

/** Product of dimensions as an index value (constant-folded where static). */
export function dimsProduct(b: KBuilder, dims: readonly number[], n: KValue): KValue {
  const fixed = dims.reduce((p, d) => (d === BATCH ? p : p * d), 1);
  return dims.includes(BATCH) ? (fixed === 1 ? n : b.ix(n, "*", fixed)) : b.index(fixed);
}

/** A typical batch used only to decide whether a loop is worth running in parallel. */
export const TYPICAL_BATCH = 32;
/** Loops whose work (in elements) is below this run on one thread. */
export const PARALLEL_WORK = 1 << 15;

export function estimatedElements(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * (d === BATCH ? TYPICAL_BATCH : d), 1);
}
