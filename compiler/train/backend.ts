// Which backend compiled training (fit, evaluate) runs on: tf.setBackend / tf.getBackend in TF.js's
// spelling. 'llvm' (aliases 'cpu', 'native') is native code, the default when a C toolchain is
// present; 'wasm' is WebAssembly in this process; 'interp' is the reference interpreter.

import { TfcError, closest } from "../../ir/errors.js";
import { findToolchain } from "../../targets/llvm/toolchain.js";
import type { Backend } from "./runner.js";

const NAMES: Record<string, Backend> = { llvm: "llvm", native: "llvm", cpu: "llvm", wasm: "wasm", interp: "interp", interpreter: "interp" };

let chosen: Backend | undefined;

function defaultBackend(): Backend {
  try {
    findToolchain();
    return "llvm";
  } catch {
    return "wasm";
  }
}

/** Resolve a backend name ('llvm', 'cpu', 'native', 'wasm', 'interp'). */
export function backendNamed(name: string): Backend {
  const b = NAMES[name.toLowerCase()];
  if (!b) {
    const hint = closest(name, Object.keys(NAMES));
    throw new TfcError("TFC7095", `unknown backend '${name}'`, { notes: [hint ? `did you mean '${hint}'?` : `backends: ${Object.keys(NAMES).join(", ")}`] });
  }
  return b;
}

export async function setBackend(name: string): Promise<boolean> {
  chosen = backendNamed(name);
  return true;
}

export function getBackend(): Backend {
  return (chosen ??= defaultBackend());
}
