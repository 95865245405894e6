// The `tfc` command line: compile, predict, inspect. Every command has --help; errors are printed
// as located diagnostics (colored on a terminal) and exit with status 1, never a stack trace.

import * as fs from "node:fs";
import { Command, Option } from "commander";
import { compile } from "../driver.js";
import { formatAnyError, formatDiagnostic, makeChalk } from "../diagnostics.js";
import { interpret, initialParams } from "../../ir/interpreter.js";
import { TfcError } from "../../ir/errors.js";
import { readInputFile, requestToInputs, outputsToResponse } from "./input.js";
import { inspectText } from "./inspect.js";
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
  .description("compile a model file; --emit ir prints the tensor IR after the inference pipeline")
  .argument("<model>", "model file (.ts) whose default export is a model or tf.function")
  .addOption(new Option("--emit <what>", "what to produce").choices(["ir"]).default("ir"))
  .option("-o, --output <file>", "write the result to a file instead of stdout")
  .option("--export <name>", "compile this named export instead of the default export")
  .option("--pipeline <name>", "pass pipeline to run", "inference")
  .option("--print-after <passes>", "print the IR after these passes (comma-separated, or 'all') to stderr")
  .action((model: string, opts: { emit: string; output?: string; export?: string; pipeline: string; printAfter?: string }) => {
    const result = compile(model, {
      ...(opts.export ? { exportName: opts.export } : {}),
      pipeline: opts.pipeline,
      ...(opts.printAfter ? { printAfter: opts.printAfter === "all" ? ("all" as const) : opts.printAfter.split(",") } : {}),
      onPrint: (pass, text) => process.stderr.write(`// ----- IR after ${pass} -----\n${text}\n`),
    });
    printWarnings(result.warnings);
    writeOut(result.ir(), opts.output);
  });

program
  .command("predict")
  .description("run a model on inputs and print TensorFlow Serving-style predictions")
  .argument("<model>", "model file (.ts)")
  .option("--input <file>", 'JSON file: {"instances": [...]} (one entry per example) or a nested array')
  .addOption(new Option("--target <target>", "where to run the model").choices(["interp"]).default("interp"))
  .option("--export <name>", "run this named export instead of the default export")
  .action((model: string, opts: { input?: string; target: string; export?: string }) => {
    const result = compile(model, opts.export ? { exportName: opts.export } : {});
    printWarnings(result.warnings);
    const fn = result.module.functions[0]!;
    if (fn.args.length > 0 && !opts.input) {
      throw new TfcError("TFC1024", `${fn.name} takes ${fn.args.length} input(s) (${fn.args.map((a) => a.name).join(", ")}): pass them with --input FILE`);
    }
    const inputs = opts.input ? requestToInputs(readInputFile(opts.input), fn) : [];
    const outputs = interpret(result.module, fn, inputs, initialParams(result.module));
    process.stdout.write(JSON.stringify(outputsToResponse(outputs, fn)) + "\n");
  });

program
  .command("inspect")
  .description("summarize a model: layers, output shapes and parameter counts (Keras-style)")
  .argument("<model>", "model file (.ts)")
  .option("--export <name>", "inspect this named export instead of the default export")
  .action((model: string, opts: { export?: string }) => {
    const result = compile(model, opts.export ? { exportName: opts.export } : {});
    printWarnings(result.warnings);
    process.stdout.write(inspectText(result) + "\n");
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(formatAnyError(e, makeChalk(process.stderr)) + "\n");
  process.exitCode = 1;
}
