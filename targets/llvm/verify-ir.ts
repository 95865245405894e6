// Parses and verifies generated LLVM IR with llvm-bindings (LLVM's own parser and verifier as a
// library). llvm-bindings 0.4 crashes the process when handed IR it cannot parse, so the check
// runs in a short-lived child process: `node verify-ir.js FILE` exits 0 (valid), 1 (invalid, the
// reason on stderr) or dies — and the caller then asks `opt -verify` for the message.

import { createRequire } from "node:module";
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";

/** Whether llvm-bindings is installed (it is an optional dependency that builds at install). */
export function hasLLVMBindings(): boolean {
  try {
    createRequire(import.meta.url).resolve("llvm-bindings");
    return true;
  } catch {
    return false;
  }
}

export const VERIFY_SCRIPT = fileURLToPath(import.meta.url);

function main(file: string): number {
  const llvm = createRequire(import.meta.url)("llvm-bindings");
  if (!fs.existsSync(file)) {
    process.stderr.write(`no such file: ${file}\n`);
    return 2;
  }
  const context = new llvm.LLVMContext();
  const diagnostic = new llvm.SMDiagnostic();
  const module = llvm.parseIRFile(file, diagnostic, context);
  if (!module) {
    process.stderr.write("the generated LLVM IR does not parse\n");
    return 1;
  }
  if (llvm.verifyModule(module)) {
    process.stderr.write("the generated LLVM IR does not pass LLVM's verifier\n");
    return 1;
  }
  return 0;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(VERIFY_SCRIPT)) {
  process.exitCode = main(process.argv[2] ?? "");
}
