// Formats errors and warnings for people: tsc-style `file:line:col - error TFC2001: message`,
// followed by a code frame of the user's line with a caret, and notes ("did you mean …").
// Colored on a terminal; plain when not a TTY or when NO_COLOR is set.

import * as fs from "node:fs";
import * as path from "node:path";
import { Chalk, type ChalkInstance } from "chalk";
import { TfcError, TfcErrorList, formatLoc, type SourceLoc } from "../ir/errors.js";

export function makeChalk(stream: NodeJS.WriteStream): ChalkInstance {
  const color = Boolean(stream.isTTY) && !process.env["NO_COLOR"] && process.env["TERM"] !== "dumb";
  return new Chalk({ level: color || process.env["FORCE_COLOR"] ? 1 : 0 });
}

const fileCache = new Map<string, string[] | undefined>();
function sourceLines(file: string): string[] | undefined {
  if (!fileCache.has(file)) {
    try {
      fileCache.set(file, fs.readFileSync(path.resolve(file), "utf8").split(/\r?\n/));
    } catch {
      fileCache.set(file, undefined);
    }
  }
  return fileCache.get(file);
}

export function codeFrame(loc: SourceLoc, c: ChalkInstance): string[] {
  const lines = sourceLines(loc.file);
  const text = lines?.[loc.line - 1];
  if (text === undefined) return [];
  const num = String(loc.line);
  const underline = wordLengthAt(text, loc.column - 1);
  return [
    "",
    `${c.bgWhite.black(num)} ${text}`,
    `${" ".repeat(num.length)} ${" ".repeat(Math.max(0, loc.column - 1))}${c.red("~".repeat(underline))}`,
  ];
}

function wordLengthAt(text: string, col: number): number {
  const m = /^[A-Za-z0-9_$.]+/.exec(text.slice(col));
  return Math.max(1, m ? m[0].length : 1);
}

export function formatDiagnostic(severity: "error" | "warning", code: string, message: string, loc: SourceLoc | undefined, notes: readonly string[], c: ChalkInstance): string {
  const sev = severity === "error" ? c.red("error") : c.yellow("warning");
  const where = loc ? `${c.cyan(loc.file)}:${c.yellow(String(loc.line))}:${c.yellow(String(loc.column))} - ` : "";
  const out = [`${where}${sev} ${c.gray(code)}: ${message}`];
  if (loc) out.push(...codeFrame(loc, c));
  for (const n of notes) out.push(`  ${c.gray("note:")} ${n}`);
  return out.join("\n");
}

export function formatError(e: TfcError, c: ChalkInstance): string {
  return formatDiagnostic("error", e.code, e.message, e.loc, e.notes, c);
}

/** Errors of any kind as text; unexpected (non-tfc) errors become an internal-error message. */
export function formatAnyError(e: unknown, c: ChalkInstance): string {
  if (e instanceof TfcErrorList) {
    const n = e.errors.length;
    return [...e.errors.map((x) => formatError(x, c)), `Found ${n} error${n === 1 ? "" : "s"}.`].join("\n\n");
  }
  if (e instanceof TfcError) return formatError(e, c);
  const err = e instanceof Error ? e : new Error(String(e));
  const detail = process.env["TFC_DEBUG"] ? `\n${err.stack}` : "\n(set TFC_DEBUG=1 to see the compiler's stack trace)";
  return `${c.red("error")} ${c.gray("TFC9000")}: internal compiler error: ${err.message}${detail}`;
}

export { formatLoc };
