// The C runtime (runtime/c/tfc_runtime.c) built with `cc` and exercised by the C programs in
// test/runtime/c: thread pool coverage, nesting, errors and stress (also under ThreadSanitizer
// when the compiler has it), aligned memory, and weights files written by TypeScript read in C,
// with every kind of damage giving the same status and message as the TypeScript reader.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { TfcError } from "../../ir/errors.js";
import { decodeWeights, encodeWeights, type NamedTensor } from "../../targets/common/weights.js";
import { damagedCases, expectedMessage, sampleTensors } from "./weights-cases.js";
import { repoRoot } from "../util.js";

const root = repoRoot();
const runtimeDir = path.join(root, "runtime", "c");
const programsDir = path.join(root, "test", "runtime", "c");
/** The flags native model libraries are built with; the runtime must be warning-free under them. */
const LIBRARY_FLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-fPIC", "-pthread"];
const TFC_ERR_WEIGHTS = 3;
const TFC_ERR_IO = 4;

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Run {
  const r = spawnSync(command, args, { encoding: "utf8", env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 << 20 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT") {
    assert.fail(`${path.basename(command)} ${args.join(" ")} did not finish in ${(options.timeoutMs ?? 120_000) / 1000} s (a deadlock?)`);
  }
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function hasTool(name: string): boolean {
  const r = spawnSync(name, ["--version"], { encoding: "utf8" });
  return !r.error && r.status === 0;
}

// ---- building ----------------------------------------------------------------------------------

let buildDir: string | undefined;
const built = new Map<string, string>();

/** Compiles a test program against the runtime once; fails clearly when there is no C compiler. */
function program(name: "pool_test" | "weights_tool", variant: "plain" | "tsan" = "plain"): string {
  const key = `${name}-${variant}`;
  const cached = built.get(key);
  if (cached) return cached;
  if (!hasTool("cc")) {
    assert.fail("the C runtime tests need a C compiler, but `cc` was not found on PATH (install gcc or clang, e.g. `apt-get install gcc`)");
  }
  buildDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "tfc-runtime-"));
  const output = path.join(buildDir, key);
  const flags = variant === "tsan" ? ["-std=c11", "-O1", "-g", "-pthread", "-fsanitize=thread"] : ["-std=c11", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-pthread"];
  const r = run("cc", [...flags, "-I", runtimeDir, path.join(programsDir, `${name}.c`), path.join(runtimeDir, "tfc_runtime.c"), "-o", output, "-lm"]);
  assert.equal(r.status, 0, `cc failed to build ${name}:\n${r.stderr}`);
  built.set(key, output);
  return output;
}

function tempFile(name: string, bytes: Uint8Array): string {
  buildDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "tfc-runtime-"));
  const file = path.join(buildDir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

process.on("exit", () => {
  if (buildDir) fs.rmSync(buildDir, { recursive: true, force: true });
});

// ---- the library itself ------------------------------------------------------------------------

test("tfc_runtime.c compiles warning-free with the library flags and exports every function of the header", () => {
  program("pool_test"); // checks for cc
  const object = path.join(buildDir!, "tfc_runtime.o");
  const shared = path.join(buildDir!, "libtfc_runtime.so");
  const compile = run("cc", [...LIBRARY_FLAGS, "-Werror", "-c", path.join(runtimeDir, "tfc_runtime.c"), "-o", object]);
  assert.equal(compile.status, 0, compile.stderr);
  assert.equal(compile.stderr, "", "no warnings");
  const link = run("cc", ["-shared", "-pthread", object, "-o", shared]);
  assert.equal(link.status, 0, link.stderr);

  const header = fs.readFileSync(path.join(runtimeDir, "tfc_runtime.h"), "utf8");
  const declared = [...header.matchAll(/^[\w ]+?\**\s*\b(tfc_\w+)\(/gm)].map((m) => m[1]!);
  const required = ["tfc_status_name", "tfc_pool_create", "tfc_pool_destroy", "tfc_pool_size", "tfc_exec_init", "tfc_parallel_for", "tfc_fail",
    "tfc_aligned_alloc", "tfc_aligned_free", "tfc_cpu_has_avx2_fma", "tfc_weights_load", "tfc_weights_from_memory", "tfc_weights_find", "tfc_weights_free"];
  assert.deepEqual(required.filter((fn) => !declared.includes(fn)), [], "missing from tfc_runtime.h");
  if (!hasTool("nm")) return;
  const symbols = run("nm", ["-D", "--defined-only", shared]).stdout;
  const missing = declared.filter((fn) => !new RegExp(`\\bT ${fn}$`, "m").test(symbols));
  assert.deepEqual(missing, [], "declared in tfc_runtime.h but not defined by tfc_runtime.c");
});

// ---- thread pool, errors, memory ---------------------------------------------------------------

function poolCheck(check: string, options: { env?: NodeJS.ProcessEnv; variant?: "plain" | "tsan" } = {}): Run {
  const r = run(program("pool_test", options.variant), [check], { env: options.env ?? process.env, timeoutMs: 300_000 });
  assert.equal(r.signal, null, `pool_test ${check} was killed by ${r.signal}:\n${r.stderr}`);
  assert.equal(r.status, 0, `pool_test ${check} failed:\n${r.stdout}${r.stderr}`);
  return r;
}

test("parallel_for runs every index exactly once, one balanced chunk per thread, for pools of 1..8 threads and many ranges", () => {
  assert.match(poolCheck("coverage").stdout, /^coverage: \d+ ranges/);
});

test("a parallel_for inside a parallel_for body runs serially and does not deadlock", () => {
  assert.match(poolCheck("nested").stdout, /^nested: /);
});

test("tfc_fail keeps the first error code, also when many threads fail at once", () => {
  assert.match(poolCheck("fail").stdout, /^fail: /);
});

test("10000 tiny back-to-back parallel_fors finish on pools of 2..8 threads; two callers can share a pool", () => {
  assert.match(poolCheck("stress").stdout, /^stress: /);
});

test("tfc_aligned_alloc gives 64-byte aligned memory, a distinct pointer for 0 bytes and NULL when it must", () => {
  assert.match(poolCheck("alloc").stdout, /^alloc: /);
});

test("tfc_pool_create(0) takes TFC_NUM_THREADS, else every online core", () => {
  const size = (env: NodeJS.ProcessEnv): { threads: number; cores: number } => {
    const m = /threads=(\d+) cores=(\d+)/.exec(poolCheck("default-threads", { env }).stdout);
    assert.ok(m, "pool_test default-threads printed no sizes");
    return { threads: Number(m[1]), cores: Number(m[2]) };
  };
  const { TFC_NUM_THREADS: _, ...withoutVar } = process.env;
  assert.equal(size({ ...withoutVar, TFC_NUM_THREADS: "3" }).threads, 3);
  assert.equal(size({ ...withoutVar, TFC_NUM_THREADS: "1" }).threads, 1);
  const unset = size(withoutVar);
  assert.equal(unset.threads, unset.cores);
  const junk = size({ ...withoutVar, TFC_NUM_THREADS: "lots" });
  assert.equal(junk.threads, junk.cores);
});

test("parallel_for latency (printed, not checked)", (t) => {
  for (const line of poolCheck("latency").stdout.trim().split("\n")) t.diagnostic(line);
});

test("the pool checks pass under ThreadSanitizer with no reports", (t) => {
  program("pool_test"); // checks for cc
  const probe = path.join(buildDir!, "tsan-probe");
  const source = tempFile("tsan-probe.c", new TextEncoder().encode("int main(void) { return 0; }\n"));
  if (run("cc", ["-fsanitize=thread", source, "-o", probe]).status !== 0 || run(probe, []).status !== 0) {
    t.skip("this compiler or system cannot build and run -fsanitize=thread programs");
    return;
  }
  for (const check of ["coverage", "nested", "fail", "stress"]) {
    const r = poolCheck(check, { variant: "tsan" });
    assert.doesNotMatch(r.stderr, /ThreadSanitizer/, `pool_test ${check}:\n${r.stderr}`);
  }
});

// ---- weights -----------------------------------------------------------------------------------

interface DumpedTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
  aligned: boolean;
  values: (number | string)[];
}

type WeightsResult = { status: string; message?: string; tensors?: DumpedTensor[]; tensor?: DumpedTensor };

function weightsTool(args: string[], options: { valgrind?: boolean } = {}): Run & { json: WeightsResult } {
  const tool = program("weights_tool");
  const r = options.valgrind ? run("valgrind", ["--error-exitcode=9", "-q", "--leak-check=full", tool, ...args]) : run(tool, args);
  assert.equal(r.signal, null, `weights_tool ${args.join(" ")} crashed with ${r.signal}:\n${r.stderr}`);
  assert.ok(r.status !== null && r.status <= 7, `weights_tool ${args.join(" ")} exited with ${r.status}:\n${r.stdout}${r.stderr}`);
  return { ...r, json: JSON.parse(r.stdout) as WeightsResult };
}

function numberOf(v: number | string): number {
  return typeof v === "number" ? v : v === "NaN" ? NaN : v === "Infinity" ? Infinity : -Infinity;
}

function assertSameAsWritten(dumped: DumpedTensor[] | undefined, written: NamedTensor[]): void {
  assert.ok(dumped, "no tensors printed");
  assert.deepEqual(dumped.map((t) => [t.name, t.dtype, t.shape]), written.map((t) => [t.name, t.dtype, t.shape]));
  dumped.forEach((t, i) => {
    const original = written[i]!;
    assert.equal(t.bytes, original.data.byteLength, `${t.name}: bytes`);
    assert.ok(t.aligned, `${t.name}: data is not 64-byte aligned in C`);
    assert.equal(t.values.length, original.data.length, `${t.name}: element count`);
    t.values.forEach((v, k) => {
      const got = original.dtype === "f32" ? Math.fround(numberOf(v)) : numberOf(v);
      assert.ok(Object.is(got, original.data[k]), `${t.name}[${k}]: C read ${v}, TypeScript wrote ${original.data[k]}`);
    });
  });
}

test("a weights file written by TypeScript loads in C with the same names, shapes and values", () => {
  const tensors = sampleTensors();
  const file = tempFile("sample.weights", encodeWeights(tensors));
  const r = weightsTool(["load", file]);
  assert.equal(r.status, 0, r.stdout);
  assertSameAsWritten(r.json.tensors, tensors);
});

test("tfc_weights_from_memory copies unaligned bytes into aligned storage and gives the same tensors", () => {
  const tensors = sampleTensors();
  const r = weightsTool(["mem", tempFile("sample-mem.weights", encodeWeights(tensors))]);
  assert.equal(r.status, 0, r.stdout);
  assertSameAsWritten(r.json.tensors, tensors);
});

test("a weights file with no tensors loads in C", () => {
  const r = weightsTool(["load", tempFile("empty.weights", encodeWeights([]))]);
  assert.equal(r.status, 0, r.stdout);
  assert.deepEqual(r.json.tensors, []);
});

test("tfc_weights_find returns a tensor of the right dtype and shape, and says what differs otherwise", () => {
  const file = tempFile("find.weights", encodeWeights(sampleTensors()));
  const find = (name: string, dtype: number, ...dims: number[]): WeightsResult => weightsTool(["find", file, name, String(dtype), ...dims.map(String)]).json;
  assert.equal(find("dense/kernel", 0, 3, 5).tensor?.name, "dense/kernel");
  assert.deepEqual(find("step", 1).tensor?.values, [1234]);
  assert.deepEqual(find("ünïcode/名前", 1, 1).tensor?.values, [-5]);
  assert.equal(find("empty", 0, 0, 4).tensor?.bytes, 0);
  const misses: [WeightsResult, string][] = [
    [find("dense/kernal", 0, 3, 5), `weights file '${file}' has no tensor 'dense/kernal'`],
    [find("dense/kernel", 0, 3, 6), `weights file '${file}' has 'dense/kernel' as f32[3,5], the model needs f32[3,6]`],
    [find("dense/kernel", 1, 3, 5), `weights file '${file}' has 'dense/kernel' as f32[3,5], the model needs i32[3,5]`],
    [find("dense/kernel", 0, 15), `weights file '${file}' has 'dense/kernel' as f32[3,5], the model needs f32[15]`],
    [find("step", 1, 1), `weights file '${file}' has 'step' as i32[], the model needs i32[1]`],
    [find("mask", 9, 7), `weights file '${file}' has 'mask' as bool[7], the model needs ?[7]`],
  ];
  for (const [result, message] of misses) {
    assert.equal(result.status, "TFC_ERR_WEIGHTS");
    assert.equal(result.message, message);
  }
});

test("a missing weights file or a directory is TFC_ERR_IO with the reason", () => {
  const missing = path.join(os.tmpdir(), `tfc-no-such-file-${process.pid}.weights`);
  const r = weightsTool(["load", missing]);
  assert.equal(r.status, TFC_ERR_IO);
  assert.deepEqual(r.json, { status: "TFC_ERR_IO", message: `cannot open weights file '${missing}': No such file or directory` });
  const dir = weightsTool(["load", runtimeDir]);
  assert.equal(dir.status, TFC_ERR_IO);
  assert.equal(dir.json.message, `cannot read weights file '${runtimeDir}': it is a directory`);
});

/** decodeWeights' message for bytes, or "TFC_OK". */
function typescriptMessage(bytes: Uint8Array, file: string): string {
  try {
    decodeWeights(bytes, file);
    return "TFC_OK";
  } catch (e) {
    assert.ok(e instanceof TfcError, String(e));
    return e.message;
  }
}

for (const c of damagedCases()) {
  test(`C rejects ${c.what} with TFC_ERR_WEIGHTS and the TypeScript reader's message`, () => {
    const file = tempFile(`damaged-${c.what.replace(/\W+/g, "-")}.weights`, c.bytes);
    const r = weightsTool(["load", file]);
    assert.equal(r.status, TFC_ERR_WEIGHTS, r.stdout);
    assert.equal(r.json.status, "TFC_ERR_WEIGHTS");
    const expected = expectedMessage(c.message, file);
    if (typeof expected === "string") assert.equal(r.json.message, expected);
    else assert.match(r.json.message ?? "", expected);
    assert.equal(r.json.message, typescriptMessage(c.bytes, file));
  });
}

test("every single-bit flip and every truncation of a small file fails in C exactly as in TypeScript", () => {
  const bytes = encodeWeights(sampleTensors().slice(0, 5));
  const file = tempFile("small.weights", bytes);
  for (const mode of ["flips", "truncations"] as const) {
    const r = run(program("weights_tool"), [mode, file]);
    assert.equal(r.status, 0, `weights_tool ${mode}: ${r.signal ?? ""}${r.stderr}`);
    const lines = r.stdout.trim().split("\n").map((line) => JSON.parse(line) as { variant: number; status: string; message?: string });
    assert.equal(lines.length, mode === "flips" ? bytes.length * 8 : bytes.length);
    for (const { variant, status, message } of lines) {
      const damaged = mode === "flips" ? bytes.slice() : bytes.slice(0, variant);
      if (mode === "flips") damaged[variant >> 3]! ^= 1 << (variant & 7);
      assert.equal(status, "TFC_ERR_WEIGHTS", `${mode} variant ${variant} loaded`);
      assert.equal(message, typescriptMessage(damaged, "<memory>"), `${mode} variant ${variant}`);
    }
  }
});

test("under valgrind, damaged files are rejected with no memory errors or leaks", (t) => {
  program("weights_tool"); // checks for cc
  if (!hasTool("valgrind")) {
    t.skip("valgrind is not installed");
    return;
  }
  const cases = damagedCases();
  const pick = (what: string): Uint8Array => cases.find((c) => c.what === what)!.bytes;
  const good = tempFile("valgrind-good.weights", encodeWeights(sampleTensors()));
  assert.equal(weightsTool(["load", good], { valgrind: true }).status, 0);
  for (const what of ["a file cut in its data", "an offset that wraps around", "a name length past the header", "a name that appears twice"]) {
    const r = weightsTool(["load", tempFile(`valgrind-${what.replace(/\W+/g, "-")}.weights`, pick(what))], { valgrind: true });
    assert.equal(r.status, TFC_ERR_WEIGHTS, `${what}: exit ${r.status} (9 means valgrind found errors)\n${r.stderr}`);
    assert.equal(r.stderr, "", `${what}: valgrind reported\n${r.stderr}`);
  }
  const small = tempFile("valgrind-small.weights", encodeWeights(sampleTensors().slice(0, 5)));
  for (const mode of ["flips", "truncations"]) {
    const r = run("valgrind", ["--error-exitcode=9", "-q", "--leak-check=full", program("weights_tool"), mode, small]);
    assert.equal(r.status, 0, `valgrind on every one of the ${mode}: exit ${r.status}\n${r.stderr.slice(0, 4000)}`);
  }
});
