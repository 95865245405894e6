// The compiler driver: one function from a model file to compiled results, used by the CLI, the
// build plugin and the tests. Load (type-check, run top level) → trace the chosen export →
// run a named pass pipeline → hand the IR to a target (`build`).

import type { Module } from "../ir/ir.js";
import { TfcError, closest } from "../ir/errors.js";
import { printModule } from "../ir/printer.js";
import { runPipeline } from "../passes/manager.js";
import { loadModelFile, displayPath } from "./frontend/load.js";
import { traceExport, type TracedExport } from "./frontend/trace.js";
import type { Warning } from "./api/warnings.js";
import { buildNative, type NativeArtifacts } from "../targets/llvm/index.js";

export interface CompileOptions {
  /** Which export to compile; the default export when absent. */
  readonly exportName?: string;
  /** Pass pipeline to run (a name from PIPELINES, or a list of pass names). */
  readonly pipeline?: string | string[];
  readonly printAfter?: string[] | "all";
  readonly onPrint?: (pass: string, text: string) => void;
  /** Run the verifier after every pass (tests do). */
  readonly verify?: boolean;
}

export interface CompileResult {
  readonly file: string;
  readonly module: Module;
  readonly traced: TracedExport;
  readonly warnings: Warning[];
  /** The optimized tensor IR as text. */
  ir(): string;
}

export function compile(file: string, options: CompileOptions = {}): CompileResult {
  const loaded = loadModelFile(file);
  const warnings = [...loaded.warnings];
  const exportName = options.exportName ?? "default";
  if (!(exportName in loaded.exports)) {
    const names = Object.keys(loaded.exports).filter((k) => k !== "__esModule");
    if (exportName === "default") {
      throw new TfcError("TFC5002", `${file} has no default export: export the model with \`export default model\``, {
        loc: { file: displayPath(loaded.file), line: 1, column: 1 },
        notes: names.length ? [`named exports: ${names.join(", ")} (compile one with --export NAME)`] : [],
      });
    }
    const hint = closest(exportName, names);
    throw new TfcError("TFC5002", `${file} has no export named '${exportName}'`, {
      notes: hint ? [`did you mean '${hint}'?`] : names.length ? [`exports: ${names.join(", ")}`] : [],
    });
  }
  const fnName = exportName === "default" ? "predict" : exportName;
  const traced = traceExport(loaded.exports[exportName], exportName, fnName, warnings, loaded.exportLocs.get(exportName));
  const module = runPipeline(traced.module, options.pipeline ?? "inference", {
    verify: options.verify ?? false,
    ...(options.printAfter ? { printAfter: options.printAfter } : {}),
    ...(options.onPrint ? { onPrint: options.onPrint } : {}),
  });
  return { file: loaded.file, module, traced, warnings, ir: () => printModule(module) };
}

export interface BuildOptions {
  readonly target: "llvm";
  readonly outDir: string;
  /** C symbol prefix and file stem (default `model`). */
  readonly name?: string;
  readonly cpu?: string;
  readonly triple?: string;
}

/** Compile a model file for a target and write its artifacts. */
export function build(file: string, options: CompileOptions & BuildOptions): { result: CompileResult; artifacts: NativeArtifacts } {
  const result = compile(file, options);
  const fn = result.module.functions[0]!;
  const artifacts = buildNative(result.module, fn, {
    outDir: options.outDir,
    ...(options.name ? { name: options.name } : {}),
    ...(options.cpu ? { cpu: options.cpu } : {}),
    ...(options.triple ? { triple: options.triple } : {}),
  });
  return { result, artifacts };
}
