// Runs the `.kir` golden files in test/kernel/golden/ (read from the source tree). Each case is a
// kernel or a program; `// -----` splits cases. Directives, each a comment line:
//   // RUN: roundtrip      the case is printer output: parse, print — the code lines must come back
//                          exactly — and parse the print again to the same text
//   // RUN: verify-error   reading the case must fail with the ERROR lines below
//   (a case without RUN uses the file's first RUN line)
//   // ERROR: TFC4104 message substring [line N]   the error's code, message (or a note) and line
// Roundtrip cases can also run on the interpreter. Kernels:
//   // RUN-SCALAR: %n = 11            // RUN-BUFFER: %x = [1, 2, nan]     (every buffer parameter)
//   // RUN-EXPECT: %y = [1, 2, nan]    the buffer's contents afterwards, exactly (f32 values as written, rounded to f32)
// Programs:  // RUN-BATCH: 2   // RUN-INPUT: [..] (in order)   // RUN-PARAM: name = [..]   // RUN-OUTPUT: [..] (in order)

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { parseKFunc, parseKProgram } from "../../ir/kernel/parse.js";
import { printKFunc, printKProgram } from "../../ir/kernel/print.js";
import { interpretKFunc, interpretKProgram, type KBufferData } from "../../ir/kernel/interpret.js";
import { KProgram, type KFunc } from "../../ir/kernel/kir.js";
import { TfcError, formatLoc } from "../../ir/errors.js";
import { repoRoot } from "../util.js";

interface ExpectedError {
  readonly code: string;
  readonly message: string;
  readonly line?: number;
}

interface GoldenCase {
  readonly file: string;
  readonly firstLine: number;
  /** The case's text, earlier lines blank so that error lines are lines of the file. */
  readonly text: string;
  mode: "roundtrip" | "verify-error" | undefined;
  readonly errors: ExpectedError[];
  /** Other directives by key, each with its values in order. */
  readonly run: Map<string, string[]>;
}

const DIRECTIVE = /^\s*\/\/\s*(RUN|ERROR|RUN-SCALAR|RUN-BUFFER|RUN-EXPECT|RUN-BATCH|RUN-INPUT|RUN-PARAM|RUN-OUTPUT):(.*)$/;
const SEPARATOR = /^\s*\/\/\s*-----\s*$/;

function readCases(file: string): GoldenCase[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const cases: GoldenCase[] = [];
  let start = 0;
  const flush = (end: number) => {
    const c: GoldenCase = { file, firstLine: start + 1, text: "\n".repeat(start) + lines.slice(start, end).join("\n"), mode: undefined, errors: [], run: new Map() };
    for (let i = start; i < end; i++) {
      const m = DIRECTIVE.exec(lines[i]!);
      if (!m) continue;
      const key = m[1]!;
      const rest = m[2]!.trim();
      if (key === "RUN") {
        if (rest !== "roundtrip" && rest !== "verify-error") throw new Error(`${file}:${i + 1}: unknown RUN '${rest}' (roundtrip, verify-error)`);
        c.mode = rest;
      } else if (key === "ERROR") {
        const e = /^(TFC\d{4})\s+(.*?)(?:\s+line\s+(\d+))?$/.exec(rest);
        if (!e) throw new Error(`${file}:${i + 1}: ERROR needs 'TFCnnnn message [line N]'`);
        c.errors.push({ code: e[1]!, message: e[2]!, ...(e[3] ? { line: Number(e[3]) } : {}) });
      } else c.run.set(key, [...(c.run.get(key) ?? []), rest]);
    }
    cases.push(c);
    start = end + 1;
  };
  lines.forEach((l, i) => SEPARATOR.test(l) && flush(i));
  flush(lines.length);
  const fileMode = cases.find((c) => c.mode)?.mode;
  for (const c of cases) c.mode ??= fileMode;
  return cases;
}

/** The code of a case: lines that are neither blank nor whole-line comments, right-trimmed. */
function codeLines(text: string): string[] {
  return text.split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "" && !l.trim().startsWith("//"));
}

const isProgram = (text: string) => /^\s*program\b/.test(codeLines(text)[0] ?? "");

function parseCase(c: GoldenCase): KFunc | KProgram {
  return isProgram(c.text) ? parseKProgram(c.text, c.file) : parseKFunc(c.text, c.file);
}

/** A JSON list of numbers where `nan`, `inf` and `-inf` may stand for numbers. */
function numbers(text: string): number[] {
  const list = JSON.parse(text.replace(/-?\binf\b|\bnan\b/g, (m) => `"${m}"`)) as (number | string)[];
  return list.map((x) => (x === "nan" ? NaN : x === "inf" ? Infinity : x === "-inf" ? -Infinity : (x as number)));
}

function assignment(text: string, where: string): [string, string] {
  const m = /^%?("(?:[^"\\]|\\.)*"|[^\s=]+)\s*=\s*(.+)$/.exec(text);
  if (!m) throw new Error(`${where}: expected 'name = value', got '${text}'`);
  return [m[1]!.startsWith('"') ? (JSON.parse(m[1]!) as string) : m[1]!, m[2]!];
}

function arrayOf(elem: "f32" | "i32" | "bool", values: number[]): KBufferData {
  return elem === "f32" ? new Float32Array(values) : elem === "i32" ? new Int32Array(values) : new Uint8Array(values);
}

function assertSameElements(actual: KBufferData, expected: number[], what: string): void {
  const want = actual instanceof Float32Array ? expected.map(Math.fround) : expected;
  assert.equal(actual.length, want.length, `${what}: ${actual.length} elements, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(actual[i], want[i])) assert.fail(`${what}: element ${i} is ${actual[i]}, expected ${want[i]} (all: [${[...actual].join(", ")}])`);
  }
}

function runKernelCase(c: GoldenCase, fn: KFunc): void {
  const where = `${c.file}:${c.firstLine}`;
  const buffers = new Map<string, KBufferData>();
  for (const line of c.run.get("RUN-BUFFER") ?? []) {
    const [name, value] = assignment(line, where);
    const param = fn.buffers().find((b) => b.name === name);
    if (!param) throw new Error(`${where}: RUN-BUFFER for %${name}, which is not a buffer parameter`);
    buffers.set(name, arrayOf(param.elem, numbers(value)));
  }
  const scalars = new Map((c.run.get("RUN-SCALAR") ?? []).map((line) => {
    const [name, value] = assignment(line, where);
    return [name, Number(value)] as const;
  }));
  interpretKFunc(fn, buffers, scalars);
  for (const line of c.run.get("RUN-EXPECT") ?? []) {
    const [name, value] = assignment(line, where);
    assertSameElements(buffers.get(name)!, numbers(value), `${where}: %${name}`);
  }
}

function runProgramCase(c: GoldenCase, p: KProgram): void {
  const where = `${c.file}:${c.firstLine}`;
  const inputBuffers = p.buffers.filter((b) => b.role === "input").sort((a, b) => (a.ref as number) - (b.ref as number));
  const inputs = (c.run.get("RUN-INPUT") ?? []).map((v, i) => arrayOf(inputBuffers[i]!.elem, numbers(v)));
  const params = new Map((c.run.get("RUN-PARAM") ?? []).map((line) => {
    const [name, value] = assignment(line, where);
    const b = p.buffers.find((x) => x.role === "param" && x.ref === name);
    if (!b) throw new Error(`${where}: RUN-PARAM for "${name}", which no param buffer refers to`);
    return [name, arrayOf(b.elem, numbers(value))] as const;
  }));
  const outputs = interpretKProgram(p, inputs, params, Number((c.run.get("RUN-BATCH") ?? ["1"])[0]));
  const expected = c.run.get("RUN-OUTPUT") ?? [];
  assert.equal(outputs.length, expected.length, `${where}: ${outputs.length} outputs, ${expected.length} RUN-OUTPUT lines`);
  expected.forEach((v, i) => assertSameElements(outputs[i]!, numbers(v), `${where}: output ${i}`));
}

function runCase(c: GoldenCase): void {
  if (!c.mode) throw new Error(`${c.file}:${c.firstLine}: the case has no RUN line (and the file has none)`);
  if (c.mode === "roundtrip") {
    const ir = parseCase(c);
    const printed = ir instanceof KProgram ? printKProgram(ir) : printKFunc(ir);
    assert.deepEqual(codeLines(printed), codeLines(c.text), "the case is not exactly what the printer prints");
    const again = isProgram(printed) ? printKProgram(parseKProgram(printed)) : printKFunc(parseKFunc(printed));
    assert.equal(again, printed, "print(parse(print(x))) differs from print(x)");
    if (c.run.size) ir instanceof KProgram ? runProgramCase(c, ir) : runKernelCase(c, ir);
    return;
  }
  if (c.errors.length === 0) throw new Error(`${c.file}:${c.firstLine}: verify-error case without an ERROR line`);
  let error: TfcError | undefined;
  try {
    parseCase(c);
  } catch (e) {
    if (!(e instanceof TfcError)) throw e;
    error = e;
  }
  if (!error) assert.fail(`${c.file}:${c.firstLine}: expected ${c.errors[0]!.code}, but the case parsed and verified`);
  const got = `${error.loc ? formatLoc(error.loc) + ": " : ""}${error.code}: ${error.message}${error.notes.map((n) => `\n  note: ${n}`).join("")}`;
  for (const e of c.errors) {
    assert.equal(error.code, e.code, `wrong error code; got\n${got}`);
    assert.ok(error.message.includes(e.message) || error.notes.some((n) => n.includes(e.message)), `message does not contain '${e.message}'; got\n${got}`);
    if (e.line !== undefined) assert.equal(error.loc?.line, e.line, `wrong error line; got\n${got}`);
  }
}

const dir = join(repoRoot(), "test", "kernel", "golden");
const files = readdirSync(dir).filter((f) => f.endsWith(".kir")).sort();

test("golden .kir files exist", () => assert.ok(files.length >= 3, `found ${files.length} .kir files in ${dir}`));

for (const name of files) {
  const file = join(dir, name);
  describe(relative(repoRoot(), file), () => {
    for (const c of readCases(file)) test(`case at line ${c.firstLine}`, () => runCase(c));
  });
}
