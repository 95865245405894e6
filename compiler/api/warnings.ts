// Warnings collected while a model file loads and traces (Keras spellings, ignored options).
// The CLI prints them as located diagnostics; a script running eagerly sees them on stderr.

import type { SourceLoc } from "../../ir/errors.js";
import { currentUserLoc, hasUserFiles } from "../frontend/location.js";

export interface Warning {
  readonly code: string;
  readonly message: string;
  readonly loc: SourceLoc | undefined;
}

let sink: Warning[] | undefined;

/** Collect warnings into `into` while `fn` runs (the compiler driver does this). */
export function collectWarnings<T>(into: Warning[], fn: () => T): T {
  const saved = sink;
  sink = into;
  try {
    return fn();
  } finally {
    sink = saved;
  }
}

export function warn(code: string, message: string): void {
  const w: Warning = { code, message, loc: currentUserLoc() };
  if (sink) {
    if (!sink.some((x) => x.code === w.code && x.message === w.message && x.loc?.line === w.loc?.line)) sink.push(w);
  } else if (!hasUserFiles()) {
    process.emitWarning(`${code}: ${message}`);
  }
}
