// The kernel IR verifier: SSA scoping, types, buffer access rights, var scoping and races for one
// kernel; buffers, launches and the arena plan for a program. parse.ts runs it on what it reads;
// lowering tests run it on what they build; the interpreter runs it before executing anything.
//
// Error codes (TFC41xx, shared with parse.ts and interpret.ts; the builder reports 4101 too):
//   4101 type error (operands, results, constants)     4102 syntax
//   4103 unknown op, type, function or kernel name      4104 value/var/buffer undefined or not visible
//   4105 defined twice                                  4106 write to a read-only buffer, written alias
//   4107 data race (parallel loop)                      4108 bad loop step or unroll, bad vector width
//   4109 launch does not match its kernel              4110 out-of-range access (interpreter)
//   4111 bad run-time argument (interpreter)            4112 arena plan: temps overlap or lie outside it
//   4113 bad program buffer (role, ref, size, data)     4114 index overflow or bad cast (interpreter)
//   TFC6100: a kernel called tfc_fail (interpreter)

import {
  INDEX, I32, formatKType, kType, sameKType,
  type KBufferParam, type KElem, type KFunc, type KLaunch, type KProgram, type KProgramBuffer, type KRuntimeFn,
  type KSize, type KStmt, type KType, type KValue, type KVar,
} from "./kir.js";
import { primResultType } from "./builder.js";
import { kernelNames, printKStmtHead, printSize, type KNames } from "./print.js";
import { TfcError, type SourceLoc } from "../errors.js";

/** Argument types of the C runtime's functions (runtime/c/tfc_runtime.h). */
export const RUNTIME_SIGNATURES: { readonly [F in KRuntimeFn]: readonly KType[] } = {
  tfc_fail: [I32], // void tfc_fail(int32_t code)
};

/** Bytes of one element of a buffer. */
export const ELEM_BYTES: { readonly [E in KProgramBuffer["elem"]]: number } = { f32: 4, i32: 4, bool: 1 };

/** Things the parser knows positions of. */
export type KLocated = KStmt | KProgramBuffer | KLaunch | KFunc;

export interface KVerifyOptions {
  /** Where a statement, buffer, launch or kernel was written (the parser passes positions in the .kir text). */
  readonly locOf?: (item: KLocated) => SourceLoc | undefined;
}

const ELEMS: ReadonlySet<string> = new Set<KElem>(["f32", "i32", "bool", "index"]);
const BUFFER_ELEMS: ReadonlySet<string> = new Set(["f32", "i32", "bool"]);

/** Check one kernel; throws the first problem found as a located TfcError. */
export function verifyKFunc(fn: KFunc, opts: KVerifyOptions = {}): void {
  new KernelChecker(fn, opts).run();
}

class KernelChecker {
  private names: KNames | undefined;
  /** Every value the kernel defines (to tell "used before its definition" from "not in this kernel"). */
  private readonly allDefined = new Set<KValue>();
  private readonly defined = new Set<KValue>();
  private readonly scopes: Set<KValue>[] = [new Set()];
  /** Vars in scope, each with the number of parallel loops around its declaration. */
  private readonly varScopes: Map<KVar, number>[] = [new Map()];
  private readonly declaredVars = new Set<KVar>();
  private readonly buffers = new Set<KBufferParam>();
  private parallelDepth = 0;

  constructor(
    private readonly fn: KFunc,
    private readonly opts: KVerifyOptions,
  ) {}

  run(): void {
    const fn = this.fn;
    try {
      const paramNames = new Set<string>();
      for (const p of fn.params) {
        if (paramNames.has(p.name)) throw new TfcError("TFC4105", `@${fn.name} has two parameters named %${p.name}`);
        paramNames.add(p.name);
        if (p.kind === "buffer") {
          if (!BUFFER_ELEMS.has(p.elem)) throw new TfcError("TFC4101", `buffer %${p.name} has element type '${p.elem}'; buffers hold f32, i32 or bool`);
          this.buffers.add(p);
        } else {
          this.checkType(p.value.type, `scalar parameter %${p.name}`);
          if (p.value.type.width !== 1) throw new TfcError("TFC4101", `scalar parameter %${p.name} is a vector (${formatKType(p.value.type)})`);
          this.define(p.value);
        }
      }
    } catch (e) {
      if (e instanceof TfcError) e.at(this.opts.locOf?.(fn));
      throw e;
    }
    collectDefinitions(fn.body, this.allDefined);
    this.block(fn.body);
  }

  private block(stmts: readonly KStmt[], enter?: () => void): void {
    this.scopes.push(new Set());
    this.varScopes.push(new Map());
    enter?.();
    for (const s of stmts) {
      try {
        this.stmt(s);
      } catch (e) {
        if (e instanceof TfcError) {
          e.at(this.opts.locOf?.(s));
          if (!e.notes.some((n) => n.startsWith("in @"))) e.notes.push(`in @${this.fn.name}: ${printKStmtHead(s, this.nameTable())}`);
        }
        throw e;
      }
    }
    this.scopes.pop();
    this.varScopes.pop();
  }

  private stmt(s: KStmt): void {
    switch (s.kind) {
      case "const":
        this.checkType(s.result.type, "k.const");
        checkConstant(s.value, s.result.type);
        return this.define(s.result);
      case "prim": {
        s.args.forEach((a) => this.use(a));
        let want: KType;
        try {
          want = primResultType(s.prim, s.args.map((a) => a.type), s.prim === "cast" ? s.result.type : undefined);
        } catch (e) {
          if (e instanceof TfcError) throw new TfcError("TFC4101", e.message.replace(/^kernel IR: /, "k."));
          throw e;
        }
        this.resultIs(s.result, want, `k.${s.prim}`);
        return this.define(s.result);
      }
      case "broadcast":
        this.use(s.arg);
        if (s.arg.type.width !== 1) throw new TfcError("TFC4101", `k.broadcast needs a scalar, got ${this.name(s.arg)} : ${formatKType(s.arg.type)}`);
        this.checkType(s.result.type, "k.broadcast");
        this.resultIs(s.result, kType(s.arg.type.elem, s.result.type.width), "k.broadcast");
        return this.define(s.result);
      case "reduce": {
        this.use(s.arg);
        const lane = kType(s.arg.type.elem);
        if (!["add", "max", "min"].includes(s.op)) throw new TfcError("TFC4103", `unknown reduction '${s.op}' (add, max, min)`);
        if (s.arg.type.elem === "bool") throw new TfcError("TFC4101", `k.reduce ${s.op} is not defined on bool lanes`);
        this.resultIs(s.result, lane, `k.reduce ${s.op}`);
        return this.define(s.result);
      }
      case "load":
        this.buffer(s.buffer);
        this.index(s.index, "a k.load index");
        this.checkType(s.result.type, "k.load");
        if (s.result.type.elem !== s.buffer.elem) {
          throw new TfcError("TFC4101", `k.load from ${this.nameTable().buffer(s.buffer)} (buffer<${s.buffer.elem}>) cannot give ${formatKType(s.result.type)}`);
        }
        return this.define(s.result);
      case "store":
        this.buffer(s.buffer);
        if (!s.buffer.writes) {
          throw new TfcError("TFC4106", `k.store into ${this.nameTable().buffer(s.buffer)}, a buffer the kernel does not write`, {
            notes: [`mark it buffer<${s.buffer.elem}, write> if the kernel writes it`],
          });
        }
        this.index(s.index, "a k.store index");
        this.use(s.value);
        if (s.value.type.elem !== s.buffer.elem) {
          throw new TfcError("TFC4101", `cannot k.store ${formatKType(s.value.type)} into ${this.nameTable().buffer(s.buffer)} (buffer<${s.buffer.elem}>)`);
        }
        return;
      case "var":
        this.use(s.init);
        this.checkType(s.var.type, "k.var");
        if (this.declaredVars.has(s.var)) throw new TfcError("TFC4105", `${this.nameTable().var(s.var)} is declared twice`);
        if (!sameKType(s.var.type, s.init.type)) {
          throw new TfcError("TFC4101", `${this.nameTable().var(s.var)} is ${formatKType(s.var.type)} but its initial value ${this.name(s.init)} is ${formatKType(s.init.type)}`);
        }
        this.declaredVars.add(s.var);
        this.varScopes[this.varScopes.length - 1]!.set(s.var, this.parallelDepth);
        return;
      case "get":
        this.useVar(s.var);
        this.resultIs(s.result, s.var.type, "k.get");
        return this.define(s.result);
      case "set": {
        const depth = this.useVar(s.var);
        this.use(s.value);
        if (!sameKType(s.value.type, s.var.type)) {
          throw new TfcError("TFC4101", `cannot k.set ${this.nameTable().var(s.var)} (${formatKType(s.var.type)}) to ${this.name(s.value)} (${formatKType(s.value.type)})`);
        }
        if (depth < this.parallelDepth) {
          throw new TfcError("TFC4107", `data race: ${this.nameTable().var(s.var)} is declared outside a parallel k.for and set inside it`, {
            notes: ["iterations of a parallel loop run at once; declare the var inside the loop, or make the loop sequential"],
          });
        }
        return;
      }
      case "for":
        this.index(s.lo, "a loop bound");
        this.index(s.hi, "a loop bound");
        if (!Number.isSafeInteger(s.step) || s.step < 1) throw new TfcError("TFC4108", `loop step must be a positive integer, got ${s.step}`);
        if (!Number.isSafeInteger(s.unroll) || s.unroll < 1) throw new TfcError("TFC4108", `unroll factor must be a positive integer, got ${s.unroll}`);
        if (!sameKType(s.iv.type, INDEX)) throw new TfcError("TFC4101", `the induction variable ${this.name(s.iv)} must be index, got ${formatKType(s.iv.type)}`);
        if (s.parallel) this.parallelDepth++;
        try {
          this.block(s.body, () => this.define(s.iv));
        } finally {
          if (s.parallel) this.parallelDepth--;
        }
        return;
      case "if":
        this.use(s.cond);
        if (!sameKType(s.cond.type, kType("bool"))) throw new TfcError("TFC4101", `k.if condition ${this.name(s.cond)} must be bool, got ${formatKType(s.cond.type)}`);
        this.block(s.then);
        this.block(s.else);
        return;
      case "call": {
        const signature = RUNTIME_SIGNATURES[s.fn] as readonly KType[] | undefined;
        if (!signature) throw new TfcError("TFC4103", `unknown runtime function @${s.fn}`);
        s.args.forEach((a) => this.use(a));
        const got = s.args.map((a) => formatKType(a.type)).join(", ");
        if (s.args.length !== signature.length || s.args.some((a, i) => !sameKType(a.type, signature[i]!))) {
          throw new TfcError("TFC4101", `@${s.fn} takes (${signature.map(formatKType).join(", ")}), got (${got})`);
        }
        return;
      }
    }
  }

  private define(v: KValue): void {
    if (this.defined.has(v)) throw new TfcError("TFC4105", `${this.name(v)} is defined twice`);
    this.checkType(v.type, this.name(v));
    this.defined.add(v);
    this.scopes[this.scopes.length - 1]!.add(v);
  }

  private use(v: KValue): void {
    if (this.scopes.some((s) => s.has(v))) return;
    const name = this.name(v);
    if (this.defined.has(v)) {
      throw new TfcError("TFC4104", `${name} is not visible here: it is defined inside a k.for or k.if body that has ended`);
    }
    if (this.allDefined.has(v)) throw new TfcError("TFC4104", `${name} is used before it is defined`);
    throw new TfcError("TFC4104", `${name} is not defined in @${this.fn.name}`);
  }

  /** A var in scope; returns the parallel depth of its declaration. */
  private useVar(v: KVar): number {
    for (const scope of this.varScopes) {
      const depth = scope.get(v);
      if (depth !== undefined) return depth;
    }
    const name = this.nameTable().var(v);
    if (this.declaredVars.has(v)) throw new TfcError("TFC4104", `${name} is not visible here: it is declared inside a k.for or k.if body that has ended`);
    throw new TfcError("TFC4104", `${name} is used before it is declared with k.var`);
  }

  private buffer(b: KBufferParam): void {
    if (!this.buffers.has(b)) throw new TfcError("TFC4104", `buffer '${b.name}' is not a parameter of @${this.fn.name}`);
  }

  private index(v: KValue, what: string): void {
    this.use(v);
    if (!sameKType(v.type, INDEX)) throw new TfcError("TFC4101", `${what} must be index, got ${this.name(v)} : ${formatKType(v.type)}`);
  }

  private resultIs(result: KValue, want: KType, op: string): void {
    if (!sameKType(result.type, want)) {
      throw new TfcError("TFC4101", `${op} gives ${formatKType(want)}, but its result ${this.name(result)} is declared ${formatKType(result.type)}`);
    }
  }

  private checkType(t: KType, what: string): void {
    if (!ELEMS.has(t.elem)) throw new TfcError("TFC4101", `${what} has unknown element type '${t.elem}'`);
    if (!Number.isInteger(t.width) || t.width < 1) throw new TfcError("TFC4108", `${what} has vector width ${t.width}; widths are positive integers`);
  }

  private name(v: KValue): string {
    return this.nameTable().value(v);
  }
  private nameTable(): KNames {
    return (this.names ??= kernelNames(this.fn));
  }
}

function collectDefinitions(stmts: readonly KStmt[], into: Set<KValue>): void {
  for (const s of stmts) {
    if (s.kind === "for") {
      into.add(s.iv);
      collectDefinitions(s.body, into);
    } else if (s.kind === "if") {
      collectDefinitions(s.then, into);
      collectDefinitions(s.else, into);
    } else if ("result" in s) into.add(s.result);
  }
}

/** A constant must be a value of its type: an f32 (or nan/±inf), a 32-bit integer, a safe integer, 0 or 1. */
function checkConstant(v: number, t: KType): void {
  const ok =
    t.elem === "f32" ? Number.isNaN(v) || Math.fround(v) === v
    : t.elem === "i32" ? Number.isInteger(v) && v >= -2147483648 && v <= 2147483647
    : t.elem === "index" ? Number.isSafeInteger(v)
    : v === 0 || v === 1;
  if (!ok) {
    const want = t.elem === "f32" ? "a number exactly representable as f32" : t.elem === "i32" ? "a 32-bit integer" : t.elem === "index" ? "an integer below 2^53" : "true or false";
    throw new TfcError("TFC4101", `k.const ${v} : ${formatKType(t)} is not ${want}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Programs

/**
 * Check a program: every kernel, its buffers (roles, refs, sizes, const data, temp offsets),
 * its launches against their kernels, and that temps live in the arena without overlapping
 * another temp that is live in the same launches.
 */
export function verifyKProgram(p: KProgram, opts: KVerifyOptions = {}): void {
  const at = <T>(item: KLocated | undefined, check: () => T): T => {
    try {
      return check();
    } catch (e) {
      if (e instanceof TfcError && item) e.at(opts.locOf?.(item));
      throw e;
    }
  };
  checkSize(p.arenaBytes, `the arena size of @${p.name}`);
  const names = new Set<string>();
  const refs = { input: new Set<number>(), output: new Set<number>(), param: new Set<string>() };
  for (const b of p.buffers) {
    at(b, () => {
      if (names.has(b.name)) throw new TfcError("TFC4105", `@${p.name} has two buffers named %${b.name}`);
      names.add(b.name);
      checkProgramBuffer(b, refs);
    });
  }
  for (const role of ["input", "output"] as const) {
    const count = refs[role].size;
    for (let i = 0; i < count; i++) {
      if (refs[role].has(i)) continue;
      const beyond = p.buffers.find((b) => b.role === role && (b.ref as number) >= count);
      at(beyond, () => {
        throw new TfcError("TFC4113", `@${p.name} has ${count} ${role} buffers but none is ${role} ${i}; positions are 0…${count - 1}`);
      });
    }
  }

  const kernelNameSet = new Set<string>();
  for (const k of p.kernels) {
    at(k, () => {
      if (kernelNameSet.has(k.name)) throw new TfcError("TFC4105", `@${p.name} has two kernels named @${k.name}`);
      kernelNameSet.add(k.name);
    });
    verifyKFunc(k, opts);
  }

  const kernels = new Set(p.kernels);
  const buffers = new Set(p.buffers);
  // Prepare launches compute packed buffers from params and consts (and packed buffers computed
  // before them); the ordinary launches read packed buffers and never write them.
  const prepared = new Set<KProgramBuffer>();
  p.prepare.forEach((l) => at(l, () => {
    checkLaunch(l, kernels, buffers);
    l.kernel.buffers().forEach((param, i) => {
      const b = l.buffers[i]!;
      if (param.writes) {
        if (b.role !== "packed") throw new TfcError("TFC4106", `prepare launch of @${l.kernel.name} writes %${b.name}, a ${b.role}; prepare launches write packed buffers only`);
        prepared.add(b);
      } else if (b.role !== "param" && b.role !== "const" && !(b.role === "packed" && prepared.has(b))) {
        throw new TfcError("TFC4109", `prepare launch of @${l.kernel.name} reads %${b.name}, ${b.role === "input" || b.role === "output" ? "an" : "a"} ${b.role}${b.role === "packed" ? " no earlier prepare launch writes" : ""}; it runs before any call, on params, consts and packed buffers`);
      }
    });
    if (l.kernel.scalars().length) throw new TfcError("TFC4109", `prepare launch of @${l.kernel.name}: the kernel takes a scalar, but prepare launches run without a batch size`);
  }));
  for (const b of p.buffers) {
    if (b.role === "packed" && !prepared.has(b)) at(b, () => { throw new TfcError("TFC4113", `packed buffer %${b.name} is written by no prepare launch`); });
  }
  /** Launch indices where each temp is first and last used. */
  const live = new Map<KProgramBuffer, { first: number; last: number }>();
  p.launches.forEach((l, i) => at(l, () => {
    checkLaunch(l, kernels, buffers);
    l.kernel.buffers().forEach((param, i) => {
      if (param.writes && l.buffers[i]!.role === "packed") throw new TfcError("TFC4106", `@${l.kernel.name} writes %${l.buffers[i]!.name}, a packed buffer (only prepare launches write them)`);
    });
    for (const b of l.buffers) {
      if (b.role !== "temp") continue;
      const range = live.get(b);
      if (range) range.last = i;
      else live.set(b, { first: i, last: i });
    }
  }));
  const temps = p.buffers.filter((b) => b.role === "temp");
  for (const t of temps) at(t, () => checkInArena(t, p.arenaBytes));
  temps.forEach((a, i) => {
    for (const b of temps.slice(i + 1)) at(b, () => checkNoOverlap(a, b, live.get(a), live.get(b)));
  });
}

function checkSize(s: KSize, what: string): void {
  if (!Number.isSafeInteger(s.constant) || !Number.isSafeInteger(s.perBatch) || s.constant < 0 || s.perBatch < 0) {
    throw new TfcError("TFC4113", `${what} is ${printSize(s)}; both parts of a + b·N must be non-negative integers`);
  }
}

function checkProgramBuffer(b: KProgramBuffer, refs: { input: Set<number>; output: Set<number>; param: Set<string> }): void {
  const what = `buffer %${b.name}`;
  if (!BUFFER_ELEMS.has(b.elem)) throw new TfcError("TFC4113", `${what} has element type '${b.elem}'; buffers hold f32, i32 or bool`);
  checkSize(b.size, `the size of ${what}`);
  if (b.role === "input" || b.role === "output") {
    if (typeof b.ref !== "number" || !Number.isSafeInteger(b.ref) || b.ref < 0) throw new TfcError("TFC4113", `${what} is an ${b.role} and needs its position in the signature (${b.role} 0)`);
    if (refs[b.role].has(b.ref)) throw new TfcError("TFC4113", `${what} is ${b.role} ${b.ref}, like an earlier buffer`);
    refs[b.role].add(b.ref);
  } else if (b.role === "param") {
    if (typeof b.ref !== "string") throw new TfcError("TFC4113", `${what} is a param and needs the parameter's name (param "dense/kernel")`);
    if (refs.param.has(b.ref)) throw new TfcError("TFC4113", `${what} is param "${b.ref}", like an earlier buffer`);
    refs.param.add(b.ref);
  } else if (b.role === "temp" || b.role === "const" || b.role === "packed") {
    if (b.ref !== undefined) throw new TfcError("TFC4113", `${what} is a ${b.role}; only inputs, outputs and params have a ref`);
  } else throw new TfcError("TFC4113", `${what} has unknown role '${b.role as string}'`);

  if (b.role === "const") {
    const want = b.elem === "f32" ? Float32Array : b.elem === "i32" ? Int32Array : Uint8Array;
    if (!(b.data instanceof want)) throw new TfcError("TFC4113", `${what} is a const and needs its data as a ${want.name}`);
    if (b.size.perBatch !== 0 || b.data.length !== b.size.constant) {
      throw new TfcError("TFC4113", `${what} has ${b.data.length} elements of data but size ${printSize(b.size)}`);
    }
    if (b.elem === "bool" && b.data.some((x) => x !== 0 && x !== 1)) throw new TfcError("TFC4113", `${what} is bool data with an element other than 0 or 1`);
  } else if (b.data) throw new TfcError("TFC4113", `${what} is a ${b.role}; only consts carry data`);
  if (b.role === "packed" && b.size.perBatch !== 0) throw new TfcError("TFC4113", `${what} is packed, of size ${printSize(b.size)}; packed data does not depend on the batch size`);

  if (b.role === "temp") {
    if (!b.offset) throw new TfcError("TFC4112", `${what} is a temp without an arena offset (the memory planner sets offset=[a, b])`);
    checkSize(b.offset, `the offset of ${what}`);
    const bytes = ELEM_BYTES[b.elem];
    if (b.offset.constant % bytes !== 0 || b.offset.perBatch % bytes !== 0) {
      throw new TfcError("TFC4112", `${what} has offset ${printSize(b.offset)}, not a multiple of ${bytes} bytes (its elements are ${b.elem})`);
    }
  } else if (b.offset) throw new TfcError("TFC4112", `${what} is a ${b.role}; only temps have an arena offset`);
}

function checkLaunch(l: KLaunch, kernels: ReadonlySet<KFunc>, buffers: ReadonlySet<KProgramBuffer>): void {
  const k = l.kernel;
  if (!kernels.has(k)) throw new TfcError("TFC4109", `launch of @${k.name}, a kernel that is not in the program`);
  const params = k.buffers();
  if (l.buffers.length !== params.length) {
    throw new TfcError("TFC4109", `@${k.name} takes ${params.length} buffer${params.length === 1 ? "" : "s"}, the launch gives ${l.buffers.length}`);
  }
  for (const s of k.scalars()) {
    if (!sameKType(s.value.type, INDEX) && !sameKType(s.value.type, I32)) {
      throw new TfcError("TFC4109", `@${k.name} has scalar parameter %${s.name} : ${formatKType(s.value.type)}; a launch passes the batch size, an index or i32`);
    }
  }
  params.forEach((param, i) => {
    const b = l.buffers[i]!;
    if (!buffers.has(b)) throw new TfcError("TFC4109", `launch of @${k.name} binds %${b.name}, a buffer that is not in the program`);
    if (b.elem !== param.elem) throw new TfcError("TFC4109", `@${k.name} parameter %${param.name} is buffer<${param.elem}> but %${b.name} holds ${b.elem}`);
    if (param.writes && (b.role === "input" || b.role === "const")) {
      throw new TfcError("TFC4106", `@${k.name} writes parameter %${param.name}, but %${b.name} is ${b.role === "input" ? "an input" : "a const"}`);
    }
    const other = params.findIndex((q, j) => j !== i && l.buffers[j] === b);
    if (other >= 0 && (param.writes || params[other]!.writes)) {
      throw new TfcError("TFC4106", `launch of @${k.name} binds %${b.name} to %${param.name} and %${params[other]!.name}, and the kernel writes one of them (parameters never alias)`);
    }
  });
}

// The arena plan: offsets and sizes are affine in N, so "x(N) >= 0 for every batch N >= 1" holds
// exactly when x(1) >= 0 and x's slope is >= 0. Checking that is exact for all N (the brief's
// N=1 and N=1000 spot check is implied by it); a plan whose temps swap order as N grows is rejected.

/** `a + b·N` as an affine function, in bytes. */
interface Affine {
  readonly at1: number;
  readonly slope: number;
}
const affine = (s: KSize, scale = 1): Affine => ({ at1: (s.constant + s.perBatch) * scale, slope: s.perBatch * scale });
const minus = (x: Affine, y: Affine): Affine => ({ at1: x.at1 - y.at1, slope: x.slope - y.slope });
const plus = (x: Affine, y: Affine): Affine => ({ at1: x.at1 + y.at1, slope: x.slope + y.slope });
const nonNegativeForAllN = (x: Affine): boolean => x.at1 >= 0 && x.slope >= 0;

function tempRange(t: KProgramBuffer): { start: Affine; end: Affine } {
  const start = affine(t.offset!);
  return { start, end: plus(start, affine(t.size, ELEM_BYTES[t.elem])) };
}

function checkInArena(t: KProgramBuffer, arena: KSize): void {
  const { end } = tempRange(t);
  if (!nonNegativeForAllN(minus(affine(arena), end))) {
    throw new TfcError("TFC4112", `temp %${t.name} at offset ${printSize(t.offset!)} with ${printSize(t.size)} ${t.elem} elements ends past the arena of ${printSize(arena)} bytes`);
  }
}

/** Two temps may share bytes only when no launch range uses both (their live ranges are disjoint). */
function checkNoOverlap(a: KProgramBuffer, b: KProgramBuffer, liveA?: { first: number; last: number }, liveB?: { first: number; last: number }): void {
  if (!liveA || !liveB || liveA.last < liveB.first || liveB.last < liveA.first) return;
  const ra = tempRange(a);
  const rb = tempRange(b);
  const empty = (r: { start: Affine; end: Affine }) => r.end.at1 === r.start.at1 && r.end.slope === r.start.slope;
  if (empty(ra) || empty(rb)) return;
  if (nonNegativeForAllN(minus(rb.start, ra.end)) || nonNegativeForAllN(minus(ra.start, rb.end))) return;
  const [first, last] = [Math.max(liveA.first, liveB.first), Math.min(liveA.last, liveB.last)];
  const both = first === last ? `launch ${first}` : `launches ${first}–${last}`;
  throw new TfcError("TFC4112", `temps %${a.name} and %${b.name} overlap in the arena while both are live (${both})`, {
    notes: [`%${a.name}: offset ${printSize(a.offset!)}, ${printSize(a.size)} ${a.elem}; %${b.name}: offset ${printSize(b.offset!)}, ${printSize(b.size)} ${b.elem} (a + b·N)`],
  });
}
