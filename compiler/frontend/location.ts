// Maps the JavaScript call stack back to the user's TypeScript source. The loader registers each
// model file it runs (its emitted JS path and source map); ops and errors then take the innermost
// stack frame that lies in a user file as their source location.

import { SourceMap } from "node:module";
import type { SourceLoc } from "../../ir/errors.js";

interface UserFile {
  /** Path shown to the user (the .ts file). */
  readonly display: string;
  readonly map: SourceMap | undefined;
}

const userFiles = new Map<string, UserFile>();

/** Called by the loader for each emitted JS file it runs. */
export function registerUserFile(jsPath: string, display: string, sourceMapJson: string | undefined): void {
  let map: SourceMap | undefined;
  if (sourceMapJson) map = new SourceMap(JSON.parse(sourceMapJson));
  userFiles.set(jsPath, { display, map });
}

export function hasUserFiles(): boolean {
  return userFiles.size > 0;
}

let fallback: SourceLoc | undefined;

/**
 * Run `fn` with `loc` as the location of whatever it does that no user frame is on the stack for:
 * a layer's ops traced from the compiler (the layer's creation site), a training step's loss and
 * optimizer ops (the model.compile call).
 */
export function withFallbackLoc<T>(loc: SourceLoc | undefined, fn: () => T): T {
  const saved = fallback;
  fallback = loc ?? saved;
  try {
    return fn();
  } finally {
    fallback = saved;
  }
}

/** The innermost frame of the current stack that lies in user code, mapped to the .ts source. */
export function currentUserLoc(): SourceLoc | undefined {
  return stackUserLoc() ?? fallback;
}

function stackUserLoc(): SourceLoc | undefined {
  if (userFiles.size === 0) return undefined;
  const saved = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  let sites: NodeJS.CallSite[] = [];
  try {
    Error.stackTraceLimit = 64;
    Error.prepareStackTrace = (_e, s) => s;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, stackUserLoc);
    sites = holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = saved;
    Error.stackTraceLimit = savedLimit;
  }
  for (const site of sites) {
    const file = site.getFileName();
    if (!file) continue;
    const user = userFiles.get(file);
    if (!user) continue;
    return mapPosition(user, site.getLineNumber() ?? 1, site.getColumnNumber() ?? 1);
  }
  return undefined;
}

function mapPosition(user: UserFile, line: number, column: number): SourceLoc {
  if (user.map) {
    const entry = user.map.findEntry(line - 1, column - 1) as { originalLine?: number; originalColumn?: number };
    if (entry && typeof entry.originalLine === "number") {
      return { file: user.display, line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 };
    }
  }
  return { file: user.display, line, column };
}

/** The innermost user frame of an error's own stack (where it was thrown). */
export function currentUserLocFromError(err: Error): SourceLoc | undefined {
  const stack = err.stack ?? "";
  for (const line of stack.split("\n")) {
    const m = /\(?([^\s()]+):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (!m) continue;
    const user = userFiles.get(m[1]!);
    if (user) return mapPosition(user, Number(m[2]), Number(m[3]));
  }
  return undefined;
}
