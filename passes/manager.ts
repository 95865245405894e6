// The pass manager: runs named pipelines (data, not code paths) over every function of a module,
// repeating runs of simplifying passes until they settle, optionally verifying and printing the IR
// after each pass. The driver and `tfc inspect` call runPipeline; tests always set verify.

import type { Module } from "../ir/ir.js";
import { TfcError, closest } from "../ir/errors.js";
import { verifyModule } from "../ir/verifier.js";
import { printModule } from "../ir/printer.js";
import { passContext, type PassDef } from "./pass.js";
import { inferTypes } from "./infer-types.js";
import { canonicalize } from "./canonicalize.js";
import { constantFold } from "./constant-fold.js";
import { cse } from "./cse.js";
import { dce } from "./dce.js";
import { stripTraining } from "./strip-training.js";
import { decompose } from "./decompose.js";
import { fuse } from "./fuse.js";

export const PASSES = {
  "infer-types": inferTypes,
  "strip-training": stripTraining,
  canonicalize,
  "constant-fold": constantFold,
  cse,
  dce,
  decompose,
  fuse,
} as const satisfies Record<string, PassDef>;

export type PassName = keyof typeof PASSES;

export const PIPELINES: Readonly<Record<string, readonly PassName[]>> = {
  inference: ["infer-types", "strip-training", "canonicalize", "constant-fold", "cse", "dce", "decompose", "cse", "dce", "fuse"],
  /** Training steps keep training-only ops (dropout) and their parameter updates. */
  training: ["infer-types", "canonicalize", "constant-fold", "cse", "dce", "decompose", "cse", "dce", "fuse"],
};

/** A run of consecutive simplifying passes is repeated at most this often; each round is cheap. */
export const MAX_SIMPLIFY_ROUNDS = 10;

export interface PipelineOptions {
  /** Run the verifier after every pass (tests always do). */
  readonly verify?: boolean;
  /** Print the module after these passes (or all): after their first run, and after later runs that changed it. */
  readonly printAfter?: readonly string[] | "all";
  /** Receives what printAfter prints; by default it goes to stderr. */
  readonly onPrint?: (pass: string, text: string) => void;
}

/**
 * Run a pipeline over every function of the module, in place, and return the module. `pipeline`
 * names an entry of PIPELINES, lists passes separated by commas, or is a list of pass names.
 */
export function runPipeline(module: Module, pipeline: string | readonly string[], opts: PipelineOptions = {}): Module {
  const passes = resolvePipeline(pipeline);
  const printAfter = opts.printAfter ?? [];
  for (const name of printAfter === "all" ? [] : printAfter) passByName(name);
  const onPrint = opts.onPrint ?? ((pass, text) => process.stderr.write(`// ----- IR after ${pass} ----- //\n${text}`));
  const ctx = passContext(module);

  for (const stage of stages(passes)) {
    for (let round = 1; round <= (stage.repeat ? MAX_SIMPLIFY_ROUNDS : 1); round++) {
      let roundChanged = false;
      for (const pass of stage.passes) {
        let changed = false;
        for (const fn of module.functions) changed = pass.run(fn, ctx) || changed;
        roundChanged ||= changed;
        if (opts.verify) verifyAfter(module, `pass '${pass.name}'`);
        if ((printAfter === "all" || printAfter.includes(pass.name)) && (round === 1 || changed)) onPrint(pass.name, printModule(module));
      }
      if (!roundChanged) break;
    }
  }
  return module;
}

/** The passes a pipeline argument names, checked before anything runs. */
export function resolvePipeline(pipeline: string | readonly string[]): PassDef[] {
  const names = typeof pipeline === "string" ? (PIPELINES[pipeline] ?? pipeline.split(",").map((s) => s.trim()).filter(Boolean)) : pipeline;
  return names.map(passByName);
}

function passByName(name: string): PassDef {
  if (Object.prototype.hasOwnProperty.call(PASSES, name)) return PASSES[name as PassName];
  const hint = closest(name, [...Object.keys(PASSES), ...Object.keys(PIPELINES)]);
  throw new TfcError("TFC3012", `unknown pass '${name}'`, {
    notes: [hint ? `did you mean '${hint}'?` : `passes: ${Object.keys(PASSES).join(", ")}; pipelines: ${Object.keys(PIPELINES).join(", ")}`],
  });
}

/** Consecutive simplifying passes form one repeated stage; every other pass runs once on its own. */
function stages(passes: readonly PassDef[]): { passes: PassDef[]; repeat: boolean }[] {
  const out: { passes: PassDef[]; repeat: boolean }[] = [];
  for (const pass of passes) {
    const last = out[out.length - 1];
    if (pass.simplifies && last?.repeat) last.passes.push(pass);
    else out.push({ passes: [pass], repeat: pass.simplifies === true });
  }
  return out;
}

function verifyAfter(module: Module, what: string): void {
  try {
    verifyModule(module);
  } catch (e) {
    if (e instanceof TfcError) e.notes.push(`the verifier failed after ${what}`);
    throw e;
  }
}
