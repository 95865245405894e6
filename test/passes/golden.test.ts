// Runs the `.tfir` golden files under test/passes/ and test/ir/ (read from the source tree):
// each case is parsed, optionally run through passes, printed and matched FileCheck-style, and —
// when it gives inputs — run on the interpreter before and after the passes, which must agree.
//
// A file holds cases split by `// -----`. Directives, each a comment line:
//   // RUN: passes=canonicalize,cse   run these passes (verifier after each), then check the output
//   // RUN: roundtrip                 print, parse and print again: the texts must be equal
//   // RUN: verify-error              reading the case must fail with the ERROR below
//   (a case without RUN uses the file's first RUN line)
//   // CHECK: text / CHECK-NEXT: text / CHECK-NOT: text    substrings of printed lines, in order
//   // ERROR: TFC4007 message substring [line N]           the error code, message (or a note) and file line;
//                                                          several ERROR lines pin the same error
//   // RUN-ARG-TYPE: %x = f32[8,4]    give an argument a new type before the passes (infer-types)
//   // RUN-INPUT: %x = [[1, 2], [3, 4]]   an input of the first function (JSON; nan, inf allowed)
//   // RUN-OUTPUT: [4, 6]             the expected value of each result in order (f32 within 1e-6)
// Every passes case must give RUN-INPUT for all arguments (and runs even without any), so every
// pass test is a semantics test.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseModule } from "../../ir/parser.js";
import { printModule } from "../../ir/printer.js";
import { runPipeline } from "../../passes/manager.js";
import { interpret } from "../../ir/interpreter.js";
import { TfcError, formatLoc } from "../../ir/errors.js";
import { flattenNested, hostTensor, type HostTensor } from "../../ir/tensor.js";
import type { Module } from "../../ir/ir.js";
import type { TensorType } from "../../ir/types.js";
import { repoRoot } from "../util.js";

function findGoldenFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return findGoldenFiles(path);
      return name.endsWith(".tfir") ? [path] : [];
    });
}

// ---------------------------------------------------------------------------------------------
// Cases and directives

type CheckKind = "CHECK" | "CHECK-NEXT" | "CHECK-NOT";
interface Check {
  readonly kind: CheckKind;
  readonly pattern: string;
  readonly line: number;
}
interface ExpectedError {
  readonly code: string;
  readonly message: string;
  readonly line?: number;
}
type Mode = { readonly kind: "roundtrip" } | { readonly kind: "verify-error" } | { readonly kind: "passes"; readonly passes: string[] };

interface GoldenCase {
  readonly file: string;
  /** Line of the case's first line in the file (1-based). */
  readonly firstLine: number;
  /** The case's text, with earlier lines blank so that error lines are lines of the file. */
  readonly text: string;
  readonly mode: Mode | undefined;
  readonly checks: Check[];
  readonly errors: ExpectedError[];
  readonly argTypes: Map<string, string>;
  readonly inputs: Map<string, string>;
  readonly outputs: string[];
}

const DIRECTIVE = /^\s*\/\/\s*(RUN|CHECK|CHECK-NEXT|CHECK-NOT|ERROR|RUN-ARG-TYPE|RUN-INPUT|RUN-OUTPUT):(.*)$/;
const SEPARATOR = /^\s*\/\/\s*-----\s*$/;

function splitCases(file: string, source: string): GoldenCase[] {
  const lines = source.split("\n");
  const cases: GoldenCase[] = [];
  let start = 0;
  const flush = (end: number) => {
    cases.push(readCase(file, lines, start, end));
    start = end + 1;
  };
  lines.forEach((l, i) => SEPARATOR.test(l) && flush(i));
  flush(lines.length);
  const fileMode = cases.find((c) => c.mode)?.mode;
  return cases.map((c) => (c.mode ? c : { ...c, mode: fileMode }));
}

function readCase(file: string, lines: string[], start: number, end: number): GoldenCase {
  const c: GoldenCase = {
    file,
    firstLine: start + 1,
    text: "\n".repeat(start) + lines.slice(start, end).join("\n"),
    mode: undefined,
    checks: [],
    errors: [],
    argTypes: new Map(),
    inputs: new Map(),
    outputs: [],
  };
  let mode: Mode | undefined;
  for (let i = start; i < end; i++) {
    const m = DIRECTIVE.exec(lines[i]!);
    if (!m) continue;
    const [, key, rawRest] = m;
    const rest = rawRest!.trim();
    const where = `${file}:${i + 1}`;
    switch (key) {
      case "RUN":
        if (rest === "roundtrip" || rest === "verify-error") mode = { kind: rest };
        else if (rest.startsWith("passes=")) mode = { kind: "passes", passes: rest.slice("passes=".length).split(",").map((s) => s.trim()) };
        else throw new Error(`${where}: unknown RUN '${rest}' (passes=…, roundtrip, verify-error)`);
        break;
      case "CHECK":
      case "CHECK-NEXT":
      case "CHECK-NOT":
        if (!rest) throw new Error(`${where}: empty ${key}`);
        c.checks.push({ kind: key, pattern: rest, line: i + 1 });
        break;
      case "ERROR": {
        const e = /^(TFC\d{4})\s+(.*?)(?:\s+line\s+(\d+))?$/.exec(rest);
        if (!e) throw new Error(`${where}: ERROR needs 'TFCnnnn message [line N]'`);
        c.errors.push({ code: e[1]!, message: e[2]!, ...(e[3] ? { line: Number(e[3]) } : {}) });
        break;
      }
      case "RUN-ARG-TYPE":
      case "RUN-INPUT": {
        const a = /^%([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.+)$/.exec(rest);
        if (!a) throw new Error(`${where}: ${key} needs '%name = value'`);
        (key === "RUN-INPUT" ? c.inputs : c.argTypes).set(a[1]!, a[2]!);
        break;
      }
      case "RUN-OUTPUT":
        c.outputs.push(rest);
        break;
    }
  }
  return { ...c, mode };
}

// ---------------------------------------------------------------------------------------------
// Running a case

function runCase(c: GoldenCase): void {
  if (!c.mode) throw new Error(`${c.file}:${c.firstLine}: the case has no RUN line (and the file has none)`);
  if (c.mode.kind === "verify-error" && c.errors.length === 0) throw new Error(`${c.file}:${c.firstLine}: verify-error case without an ERROR line`);
  if (c.errors.length > 0) return expectError(c);

  const module = parseModule(c.text, c.file);
  if (c.mode.kind === "roundtrip") {
    const printed = printModule(module);
    assert.equal(printModule(parseModule(printed, c.file)), printed, "print(parse(print(m))) differs from print(m)");
    const withLocs = printModule(module, { locs: true });
    assert.equal(printModule(parseModule(withLocs, c.file), { locs: true }), withLocs, "the round trip with locations differs");
    if (c.checks.length) fileCheck(printed, c.checks, c.file);
    return;
  }

  if (c.checks.length === 0) throw new Error(`${c.file}:${c.firstLine}: a passes case needs CHECK lines`);
  retypeArgs(module, c);
  const inputs = readInputs(module, c);
  const before = interpretFirst(module, inputs);
  runPipeline(module, c.mode.kind === "passes" ? c.mode.passes : [], { verify: true });
  const printed = printModule(module);
  fileCheck(printed, c.checks, c.file);
  assert.equal(printModule(parseModule(printed, c.file)), printed, "the output of the passes does not round-trip");
  const after = interpretFirst(module, inputs);
  assert.equal(after.length, before.length);
  after.forEach((t, i) => assertSameTensor(t, before[i]!, `result ${i} after the passes`));
  if (c.outputs.length) {
    assert.equal(c.outputs.length, after.length, `${c.file}:${c.firstLine}: one RUN-OUTPUT per result`);
    c.outputs.forEach((text, i) => assertCloseTo(after[i]!, readTensor(text, after[i]!.dtype, `RUN-OUTPUT ${i}`), `result ${i}`));
  }
}

function expectError(c: GoldenCase): void {
  let error: unknown;
  try {
    const module = parseModule(c.text, c.file);
    if (c.mode!.kind === "passes") {
      retypeArgs(module, c);
      runPipeline(module, c.mode!.passes, { verify: true });
    }
  } catch (e) {
    error = e;
  }
  const expected = c.errors[0]!;
  if (!(error instanceof TfcError)) {
    assert.fail(error ? `expected ${expected.code}, got a non-TfcError: ${String(error)}` : `expected ${expected.code} '${expected.message}', but there was no error`);
  }
  const got = `${error.loc ? formatLoc(error.loc) + ": " : ""}${error.code}: ${error.message}${error.notes.map((n) => `\n  note: ${n}`).join("")}`;
  for (const e of c.errors) {
    assert.equal(error.code, e.code, `wrong error code; got\n${got}`);
    assert.ok(error.message.includes(e.message) || error.notes.some((n) => n.includes(e.message)), `message does not contain '${e.message}'; got\n${got}`);
    if (e.line !== undefined) assert.equal(error.loc?.line, e.line, `wrong error line; got\n${got}`);
  }
}

function retypeArgs(module: Module, c: GoldenCase): void {
  for (const [name, typeText] of c.argTypes) {
    const arg = firstFunction(module).args.find((a) => a.name === name);
    if (!arg) throw new Error(`${c.file}:${c.firstLine}: RUN-ARG-TYPE names %${name}, which is not an argument`);
    arg.type = readType(typeText);
  }
}

/** A type through the parser, so the golden files and the IR spell types the same way. */
function readType(text: string): TensorType {
  const m = parseModule(`func @t(%a: ${text}) -> (${text}) {\n  return %a\n}\n`, "<RUN-ARG-TYPE>");
  return m.functions[0]!.args[0]!.type;
}

function readInputs(module: Module, c: GoldenCase): HostTensor[] {
  const fn = firstFunction(module);
  if (c.inputs.size === 0 && fn.args.length > 0) throw new Error(`${c.file}:${c.firstLine}: a passes case needs RUN-INPUT lines, so the passes are checked on the interpreter`);
  for (const name of c.inputs.keys()) {
    if (!fn.args.some((a) => a.name === name)) throw new Error(`${c.file}:${c.firstLine}: RUN-INPUT names %${name}, which @${fn.name} does not take`);
  }
  return fn.args.map((a) => {
    const text = c.inputs.get(a.name ?? "");
    if (text === undefined) throw new Error(`${c.file}:${c.firstLine}: RUN-INPUT is missing %${a.name}`);
    return readTensor(text, a.type.dtype, `RUN-INPUT %${a.name}`);
  });
}

function readTensor(text: string, dtype: TensorType["dtype"], what: string): HostTensor {
  const json = text.replace(/(?<![A-Za-z0-9_"])(-?inf|nan)(?![A-Za-z0-9_"])/g, '"$1"');
  const numbers = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(numbers) : v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v;
  const { shape, values } = flattenNested(numbers(JSON.parse(json)), what);
  return hostTensor(dtype, shape, values);
}

function firstFunction(module: Module) {
  const fn = module.functions[0];
  if (!fn) throw new Error("the case defines no function");
  return fn;
}

function interpretFirst(module: Module, inputs: HostTensor[]): HostTensor[] {
  return interpret(module, firstFunction(module), inputs);
}

function assertSameTensor(got: HostTensor, want: HostTensor, what: string): void {
  assert.equal(got.dtype, want.dtype, `${what}: dtype`);
  assert.deepEqual([...got.shape], [...want.shape], `${what}: shape`);
  for (let i = 0; i < got.data.length; i++) {
    const a = got.data[i]!;
    const b = want.data[i]!;
    if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) assert.fail(`${what}: element ${i} is ${a}, before the passes it was ${b}`);
  }
}

function assertCloseTo(got: HostTensor, want: HostTensor, what: string): void {
  assert.deepEqual([...got.shape], [...want.shape], `${what}: shape`);
  for (let i = 0; i < got.data.length; i++) {
    const a = got.data[i]!;
    const b = want.data[i]!;
    const close = a === b || (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
    if (!close) assert.fail(`${what}: element ${i} is ${a}, RUN-OUTPUT says ${b}`);
  }
}

// ---------------------------------------------------------------------------------------------
// FileCheck: CHECK finds a later line, CHECK-NEXT the very next line, CHECK-NOT nothing in between.

export function fileCheck(output: string, checks: readonly Check[], file: string): void {
  const lines = output.split("\n");
  const show = () => `\n--- output ---\n${output}`;
  let cursor = 0;
  let lastMatch = -1;
  let pendingNot: Check[] = [];
  const checkNots = (from: number, to: number) => {
    for (const n of pendingNot) {
      for (let i = from; i < to; i++) {
        if (lines[i]!.includes(n.pattern)) assert.fail(`${file}:${n.line}: CHECK-NOT '${n.pattern}' found on output line ${i + 1}: ${lines[i]}${show()}`);
      }
    }
    pendingNot = [];
  };
  for (const c of checks) {
    if (c.kind === "CHECK-NOT") {
      pendingNot.push(c);
      continue;
    }
    let found: number;
    if (c.kind === "CHECK-NEXT") {
      if (lastMatch < 0) throw new Error(`${file}:${c.line}: CHECK-NEXT needs a CHECK before it`);
      found = lastMatch + 1;
      if (!(lines[found] ?? "").includes(c.pattern)) {
        assert.fail(`${file}:${c.line}: CHECK-NEXT '${c.pattern}' is not on the line after '${lines[lastMatch]}'${show()}`);
      }
    } else {
      found = lines.findIndex((l, i) => i >= cursor && l.includes(c.pattern));
      if (found < 0) assert.fail(`${file}:${c.line}: CHECK '${c.pattern}' not found${lastMatch >= 0 ? ` after '${lines[lastMatch]}'` : ""}${show()}`);
    }
    checkNots(cursor, found);
    lastMatch = found;
    cursor = found + 1;
  }
  checkNots(cursor, lines.length);
}

// ---------------------------------------------------------------------------------------------

const root = repoRoot();
const files = [...findGoldenFiles(join(root, "test", "passes")), ...findGoldenFiles(join(root, "test", "ir"))];

test("FileCheck matching accepts in-order matches and rejects the rest", () => {
  const output = "a = 1\nb = 2\nc = 3\n";
  const check = (kind: CheckKind, pattern: string): Check => ({ kind, pattern, line: 0 });
  fileCheck(output, [check("CHECK", "a ="), check("CHECK-NEXT", "b ="), check("CHECK-NOT", "x"), check("CHECK", "c = 3")], "self");
  const fails = (checks: Check[]) => assert.throws(() => fileCheck(output, checks, "self"), assert.AssertionError);
  fails([check("CHECK", "b ="), check("CHECK", "a =")]); // out of order
  fails([check("CHECK", "a ="), check("CHECK-NEXT", "c =")]); // not the next line
  fails([check("CHECK", "a ="), check("CHECK-NOT", "b ="), check("CHECK", "c =")]); // forbidden in between
  fails([check("CHECK", "b ="), check("CHECK-NOT", "3")]); // forbidden after the last match
  fails([check("CHECK", "d =")]); // absent
});

test("golden files are found in the source tree", () => {
  assert.ok(files.some((f) => f.includes(join("test", "ir"))), `no .tfir files under ${join(root, "test", "ir")}`);
  assert.ok(files.some((f) => f.includes(join("test", "passes"))), `no .tfir files under ${join(root, "test", "passes")}`);
});

for (const path of files) {
  const file = relative(root, path);
  describe(file, () => {
    for (const c of splitCases(file, readFileSync(path, "utf8"))) {
      test(`case at line ${c.firstLine}`, () => runCase(c));
    }
  });
}
