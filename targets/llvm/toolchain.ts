// The external tools the LLVM target drives: LLVM's `opt` and `llc` (system LLVM 14, found on
// PATH, as `*-14`, or through `llvm-config --bindir`) and a C compiler. A missing tool is one
// clear error saying what to install; a failing tool shows its own message.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { TfcError } from "../../ir/errors.js";

export interface Toolchain {
  readonly opt: string;
  readonly llc: string;
  readonly cc: string;
  readonly ar: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const full = path.join(dir, name);
    try {
      fs.accessSync(full, fs.constants.X_OK);
      return full;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

function llvmBinDir(): string | undefined {
  for (const cfg of ["llvm-config", "llvm-config-14"]) {
    const exe = onPath(cfg);
    if (!exe) continue;
    const r = spawnSync(exe, ["--bindir"], { encoding: "utf8" });
    if (r.status === 0) return r.stdout.trim();
  }
  return undefined;
}

function findLLVM(name: string): string | undefined {
  const bin = llvmBinDir();
  const candidates = [onPath(name), onPath(`${name}-14`), bin ? path.join(bin, name) : undefined];
  return candidates.find((c) => c !== undefined && fs.existsSync(c));
}

let cached: Toolchain | undefined;

/** The host toolchain, or TFC6001 naming what is missing and how to install it. */
export function findToolchain(crossCC?: string): Toolchain {
  if (cached && !crossCC) return cached;
  const opt = findLLVM("opt");
  const llc = findLLVM("llc");
  const cc = crossCC ? onPath(crossCC) : (process.env["CC"] ? onPath(process.env["CC"]) : undefined) ?? onPath("cc") ?? onPath("gcc") ?? onPath("clang");
  const ar = onPath("ar") ?? onPath("llvm-ar-14");
  const missing: string[] = [];
  if (!opt || !llc) missing.push("LLVM's opt and llc (Debian: apt-get install llvm-14)");
  if (!cc) missing.push(crossCC ? `the cross compiler ${crossCC} (Debian: apt-get install gcc-aarch64-linux-gnu for aarch64)` : "a C compiler (Debian: apt-get install gcc)");
  if (!ar) missing.push("ar (Debian: apt-get install binutils)");
  if (missing.length) {
    throw new TfcError("TFC6001", `--target llvm needs ${missing.join(", ")}, which ${missing.length === 1 ? "is" : "are"} not installed`);
  }
  const tc = { opt: opt!, llc: llc!, cc: cc!, ar: ar! };
  if (!crossCC) cached = tc;
  return tc;
}

/** Run a tool; a failure becomes TFC6002 with the tool's own output. */
export function run(tool: string, args: readonly string[], what: string): string {
  const r = spawnSync(tool, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw new TfcError("TFC6002", `${what} could not start ${tool}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new TfcError("TFC6002", `${what} failed (${path.basename(tool)} exited with ${r.status}):\n${(r.stderr || r.stdout).trim().split("\n").slice(0, 30).join("\n")}`);
  }
  return r.stdout;
}

/** The host CPU as llc names it (for --cpu native). */
export function hostCpu(tc: Toolchain): string {
  const out = spawnSync(tc.llc, ["--version"], { encoding: "utf8" }).stdout;
  return /Host CPU:\s*(\S+)/.exec(out)?.[1] ?? "x86-64";
}
