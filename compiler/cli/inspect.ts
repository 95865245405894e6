// `tfc inspect`: a Keras-style summary for models; for every compiled function (the inference
// `predict`, and `train_step` when the model was compiled for training) its signature, op counts,
// kernels and arena plan. The same lowered functions feed the HTML page (inspect-html.ts).

import type { CompileResult } from "../driver.js";
import { summaryLines } from "../api/models.js";
import { buildTrainingProgram } from "../train/step.js";
import type { Func, Module } from "../../ir/ir.js";
import { TfcError } from "../../ir/errors.js";
import { formatType, numElements } from "../../ir/types.js";
import type { KProgram, KSize } from "../../ir/kernel/kir.js";
import { lowerFunction } from "../../passes/lower/index.js";
import { bytesAt, liveBytes, packedBytes, planMemory, type MemoryPlan } from "../../passes/plan-memory.js";

/** The batch size `tfc inspect` reports memory at (the typical training batch). */
export const INSPECT_BATCH = 64;

/** One function as compiled: its tensor IR (as lowering expanded it), kernel program and arena plan. */
export interface InspectedFunction {
  readonly fn: Func;
  readonly module: Module;
  readonly program: KProgram;
  readonly plan: MemoryPlan;
  /** Bytes of live temporaries during each launch at INSPECT_BATCH. */
  readonly live: readonly number[];
}

/** A function that could not be shown, and why (e.g. a model whose training step does not build). */
export interface SkippedFunction {
  readonly name: string;
  readonly reason: string;
}

export interface Inspection {
  readonly functions: readonly InspectedFunction[];
  readonly skipped: readonly SkippedFunction[];
}

function inspectFunction(module: Module, fn: Func): InspectedFunction {
  const program = lowerFunction(module, fn, { vectorWidth: 8 });
  const plan = planMemory(program); // deterministic: the plan lowering already applied
  return { fn, module, program, plan, live: liveBytes(plan, INSPECT_BATCH) };
}

/**
 * Lower every function of the compiled module, then — when the export is a LayersModel on which
 * model.compile() was called — build and lower its training step too. Lowering expands the
 * functions of `result.module` in place.
 */
export function inspectFunctions(result: CompileResult): Inspection {
  const functions = result.module.functions.map((fn) => inspectFunction(result.module, fn));
  const skipped: SkippedFunction[] = [];
  const model = result.traced.model;
  if (model?.trainingConfig) {
    try {
      const training = buildTrainingProgram(model, model.trainingConfig);
      functions.push(inspectFunction(training.module, training.train));
    } catch (e) {
      if (!(e instanceof TfcError)) throw e;
      skipped.push({ name: "train_step", reason: `${e.code}: ${e.message}` });
    }
  }
  return { functions, skipped };
}

/** `1 kernel`, `4 kernels`. */
export const countOf = (n: number, noun: string, plural = `${noun}s`): string => `${n} ${n === 1 ? noun : plural}`;

/** `a + b·N bytes`, N the run-time batch size. */
export function formatBytesFormula(size: KSize): string {
  return `${size.constant} + ${size.perBatch}·N bytes`;
}

/** 1234567 → `1.18 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(2)} MiB`;
}

/** The arena line of a function: its formula, its value at N = 64 and the lower bound any plan has. */
export function arenaSummary(f: InspectedFunction): string {
  const at = bytesAt(f.plan.arena, INSPECT_BATCH);
  const bound = Math.max(0, ...f.live);
  return `arena ${formatBytesFormula(f.plan.arena)} = ${at} bytes at N = ${INSPECT_BATCH} (${formatBytes(at)}); lower bound (max live bytes at N = ${INSPECT_BATCH}): ${bound} bytes`;
}

/** For HTML: `&`, `<`, `>` and `"` as entities. */
export const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export function inspectText(result: CompileResult, inspection: Inspection = inspectFunctions(result)): string {
  const lines: string[] = [];
  if (result.traced.model) lines.push(...summaryLines(result.traced.model));
  for (const f of inspection.functions) {
    const { fn } = f;
    const args = fn.args.map((a) => `${a.name}: ${formatType(a.type)}`).join(", ");
    const outs = fn.results.map((r, i) => `${fn.resultNames[i]}: ${formatType(r.type)}`).join(", ");
    lines.push(`Function ${fn.name}(${args}) -> (${outs})`);
    const counts = new Map<string, number>();
    for (const op of fn.body) counts.set(op.name, (counts.get(op.name) ?? 0) + 1);
    lines.push(`  ${fn.body.length} ops: ${[...counts].map(([k, v]) => `${k}×${v}`).join(", ")}`);
    lines.push(`  ${countOf(f.program.launches.length, "kernel")}; ${arenaSummary(f)}`);
    const packed = f.program.buffers.filter((b) => b.role === "packed");
    if (packed.length) {
      const bytes = packedBytes(f.program);
      lines.push(`  ${countOf(packed.length, "weight")} packed once for the GEMM microkernels (prepare launches): ${bytes} bytes (${formatBytes(bytes)}), kept beside the weights`);
    }
  }
  for (const s of inspection.skipped) lines.push(`Function ${s.name}: not shown (${s.reason})`);
  const params = [...result.module.params.values()];
  const total = params.reduce((n, p) => n + numElements(p.type.shape), 0);
  lines.push(`Parameters: ${params.length} tensors, ${total} values (${total * 4} bytes as f32)`);
  return lines.join("\n");
}
