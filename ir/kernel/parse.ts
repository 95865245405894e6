// Reads `.kir` text (print.ts's format) back into kernel IR: the exact inverse of the printer.
// Syntax and names are checked here; types, scoping and the other rules by verify.ts, which runs on
// what was read with each statement's position. Errors are TfcErrors (codes in verify.ts) at a line:column.

import {
  KFunc, KProgram, KValue, KVar, formatKType, kType, sameKType,
  type KBufferParam, type KBufferRole, type KElem, type KLaunch, type KParam, type KPrim, type KProgramBuffer,
  type KRuntimeFn, type KSize, type KStmt, type KType,
} from "./kir.js";
import { verifyKFunc, verifyKProgram, RUNTIME_SIGNATURES, type KLocated } from "./verify.js";
import { usableName } from "./print.js";
import { Lexer, describeToken, type Token, type TokenKind } from "../lexer.js";
import { TfcError, closest, type SourceLoc } from "../errors.js";

/** Parse one `kernel @name(…) { … }` and verify it. `file` names the text in error locations. */
export function parseKFunc(text: string, file = "<input>"): KFunc {
  const parser = new KParser(text, file);
  const fn = parser.kernel();
  parser.expectEnd();
  verifyKFunc(fn, { locOf: parser.locOf });
  return fn;
}

/** Parse one `program @name arena=[a, b] { … }` and verify it. */
export function parseKProgram(text: string, file = "<input>"): KProgram {
  const parser = new KParser(text, file);
  const p = parser.program();
  parser.expectEnd();
  verifyKProgram(p, { locOf: parser.locOf });
  return p;
}

const ELEMS: readonly KElem[] = ["f32", "i32", "bool", "index"];
const BUFFER_ELEMS: readonly KBufferParam["elem"][] = ["f32", "i32", "bool"];
const ROLES: readonly KBufferRole[] = ["input", "output", "param", "temp", "const", "packed"];
const PRIMS: readonly KPrim[] = [
  "add", "sub", "mul", "div", "rem", "neg", "abs", "max", "min", "sqrt", "exp", "log", "tanh", "pow", "floor", "fma",
  "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "select", "cast",
];
const REDUCE_OPS = ["add", "max", "min"] as const;
/** Ops that define a value (`%r = k.op …`), and statements that stand alone. */
const VALUE_OPS = ["k.const", "k.broadcast", "k.reduce", "k.load", "k.get", ...PRIMS.map((p) => `k.${p}`)];
const STATEMENTS = ["k.store", "k.set", "k.for", "k.if", "k.call"];

/** What a `%name` refers to inside a kernel. */
type Named = { readonly kind: "value"; readonly value: KValue } | { readonly kind: "buffer"; readonly buffer: KBufferParam };

class KParser {
  private readonly tokens: Token[];
  private index = 0;
  private readonly locs = new Map<KLocated, SourceLoc>();
  readonly locOf = (item: KLocated): SourceLoc | undefined => this.locs.get(item);

  // Per kernel: names in scope (every name defined so far; visibility is the verifier's check).
  private names = new Map<string, { named: Named; token: Token }>();
  private vars = new Map<string, { var: KVar; token: Token }>();
  private nextValue = 0;
  private nextVar = 0;

  constructor(
    text: string,
    private readonly file: string,
  ) {
    this.tokens = lexKernelText(text, file);
  }

  expectEnd(): void {
    const t = this.peek();
    if (t.kind !== "eof") throw this.error(t, `expected the end of the input, found ${describeToken(t)}`);
  }

  // -- programs --------------------------------------------------------------------------------

  program(): KProgram {
    this.expectWord("program", "'program @name arena=[a, b] {'");
    const name = this.expectKind("symbol", "a program name like @predict").name;
    this.expectWord("arena", "after the program name (arena=[a, b]: a + b·N bytes)");
    this.expectPunct("=", "after arena");
    const arena = this.size("the arena size");
    const p = new KProgram(name, [], [], [], arena);
    const buffers = new Map<string, KProgramBuffer>();
    const kernels = new Map<string, KFunc>();
    this.expectPunct("{", "to open the program");
    while (!this.acceptPunct("}")) {
      const t = this.peek();
      if (this.isWord(t, "buffer")) {
        const { buffer, nameTok } = this.programBuffer();
        if (buffers.has(buffer.name)) throw this.error(nameTok, `buffer %${buffer.name} is declared twice`, "TFC4105");
        buffers.set(buffer.name, buffer);
        p.buffers.push(buffer);
        this.locs.set(buffer, this.loc(t));
      } else if (this.isWord(t, "kernel")) {
        const fn = this.kernel();
        if (kernels.has(fn.name)) throw this.error(t, `kernel @${fn.name} is defined twice`, "TFC4105");
        this.locs.set(fn, this.loc(t));
        kernels.set(fn.name, fn);
        p.kernels.push(fn);
      } else if (this.isWord(t, "launch") || this.isWord(t, "prepare")) {
        const launch = this.launch(kernels, buffers);
        (this.isWord(t, "prepare") ? p.prepare : p.launches).push(launch);
        this.locs.set(launch, this.loc(t));
      } else throw this.error(t, `expected 'buffer', 'kernel', 'prepare', 'launch' or '}' in the program, found ${describeToken(t)}`);
    }
    return p;
  }

  /** `buffer %t0: f32 temp size=[0, 128] offset=[0, 0]`; inputs/outputs add a position, params a name, consts data=[…]. */
  private programBuffer(): { buffer: KProgramBuffer; nameTok: Token } {
    this.advance(); // 'buffer'
    const nameTok = this.expectValueName("a buffer name like %x");
    this.expectPunct(":", "after the buffer name");
    const elemTok = this.expectKind("ident", "an element type (f32, i32, bool)");
    const elem = this.oneOf(elemTok, BUFFER_ELEMS, "buffer element type");
    const roleTok = this.expectKind("ident", `a role (${ROLES.join(", ")})`);
    const role = this.oneOf(roleTok, ROLES, "buffer role");
    let ref: number | string | undefined;
    const refTok = this.peek();
    if (refTok.kind === "number") ref = this.integer("a signature position");
    else if (refTok.kind === "string") ref = this.advance().name;
    this.expectWord("size", "(size=[a, b]: a + b·N elements)");
    this.expectPunct("=", "after size");
    const size = this.size("a buffer size");
    let offset: KSize | undefined;
    if (this.isWord(this.peek(), "offset")) {
      this.advance();
      this.expectPunct("=", "after offset");
      offset = this.size("an arena offset");
    }
    let data: Float32Array | Int32Array | Uint8Array | undefined;
    if (this.isWord(this.peek(), "data")) {
      this.advance();
      this.expectPunct("=", "after data");
      this.expectPunct("[", "to open the data");
      const values: number[] = [];
      if (!this.peekPunct("]")) {
        do values.push(this.constant(kType(elem)));
        while (this.acceptPunct(","));
      }
      this.expectPunct("]", "to close the data");
      data = elem === "f32" ? new Float32Array(values) : elem === "i32" ? new Int32Array(values) : new Uint8Array(values);
    }
    const buffer: KProgramBuffer = {
      name: nameTok.name, elem, size, role,
      ...(ref !== undefined ? { ref } : {}),
      ...(data ? { data } : {}),
      ...(offset ? { offset } : {}),
    };
    return { buffer, nameTok };
  }

  private launch(kernels: ReadonlyMap<string, KFunc>, buffers: ReadonlyMap<string, KProgramBuffer>): KLaunch {
    this.advance(); // 'launch' or 'prepare'
    const kernelTok = this.expectKind("symbol", "a kernel name like @relu_0");
    const kernel = kernels.get(kernelTok.name);
    if (!kernel) {
      const hint = closest(kernelTok.name, kernels.keys());
      throw this.error(kernelTok, `launch of unknown kernel @${kernelTok.name} (kernels are defined before their launches)`, "TFC4103", hint ? [`did you mean @${hint}?`] : []);
    }
    this.expectPunct("(", "to open the launch's buffers");
    const bound: KProgramBuffer[] = [];
    if (!this.peekPunct(")")) {
      do {
        const t = this.expectValueName("a buffer like %x");
        const b = buffers.get(t.name);
        if (!b) {
          const hint = closest(t.name, buffers.keys());
          throw this.error(t, `launch of @${kernel.name} uses undeclared buffer %${t.name}`, "TFC4104", hint ? [`did you mean %${hint}?`] : []);
        }
        bound.push(b);
      } while (this.acceptPunct(","));
    }
    this.expectPunct(")", "to close the launch's buffers");
    return { kernel, buffers: bound };
  }

  /** `[a, b]`: a + b·N. */
  private size(what: string): KSize {
    this.expectPunct("[", `to open ${what} [a, b] (a + b·N)`);
    const constant = this.integer(`the constant part of ${what}`);
    this.expectPunct(",", `between the parts of ${what}`);
    const perBatch = this.integer(`the per-batch part of ${what}`);
    this.expectPunct("]", `to close ${what}`);
    return { constant, perBatch };
  }

  // -- kernels ---------------------------------------------------------------------------------

  kernel(): KFunc {
    this.expectWord("kernel", "'kernel @name(…) {'");
    const name = this.expectKind("symbol", "a kernel name like @relu_0").name;
    this.names = new Map();
    this.vars = new Map();
    this.nextValue = 0;
    this.nextVar = 0;
    const params: KParam[] = [];
    this.expectPunct("(", "to open the parameter list");
    if (!this.peekPunct(")")) {
      do params.push(this.param());
      while (this.acceptPunct(","));
    }
    this.expectPunct(")", "to close the parameter list");
    const fn = new KFunc(name, params, this.block());
    return fn;
  }

  /** `%x: buffer<f32>`, `%y: buffer<f32, write>` or `%n: index`. */
  private param(): KParam {
    const nameTok = this.expectValueName("a parameter like %x");
    this.expectPunct(":", "after the parameter name");
    if (this.isWord(this.peek(), "buffer")) {
      this.advance();
      this.expectPunct("<", "after buffer");
      const elem = this.oneOf(this.expectKind("ident", "an element type (f32, i32, bool)"), BUFFER_ELEMS, "buffer element type");
      let writes = false;
      if (this.acceptPunct(",")) {
        this.expectWord("write", "(buffer<f32, write> marks a buffer the kernel writes)");
        writes = true;
      }
      this.expectPunct(">", "to close buffer<…>");
      const p: KBufferParam = { kind: "buffer", name: nameTok.name, elem, writes };
      this.define(nameTok, { kind: "buffer", buffer: p });
      return p;
    }
    const { type } = this.type();
    const value = new KValue(this.nextValue++, type, nameTok.name);
    this.define(nameTok, { kind: "value", value });
    return { kind: "scalar", name: nameTok.name, value };
  }

  /** `{ statements }` */
  private block(): KStmt[] {
    this.expectPunct("{", "to open a block");
    const stmts: KStmt[] = [];
    while (!this.acceptPunct("}")) {
      const start = this.peek();
      const s = this.statement();
      this.locs.set(s, this.loc(start));
      stmts.push(s);
    }
    return stmts;
  }

  private statement(): KStmt {
    const t = this.peek();
    if (t.kind === "value" && t.text.startsWith("$")) return this.varDecl();
    if (t.kind === "value") return this.valueOp();
    if (t.kind === "ident" && STATEMENTS.includes(t.text)) {
      this.advance();
      switch (t.text) {
        case "k.store": {
          const { buffer, index } = this.bufferAccess();
          this.expectPunct(",", "between the address and the stored value");
          const value = this.use();
          this.declaredType(value, "the stored value");
          return { kind: "store", buffer, index, value };
        }
        case "k.set": {
          const v = this.useVar();
          this.expectPunct(",", "between the var and its new value");
          return { kind: "set", var: v, value: this.use() };
        }
        case "k.for":
          return this.forLoop();
        case "k.if": {
          const cond = this.use();
          const then = this.block();
          const otherwise = this.isWord(this.peek(), "else") ? (this.advance(), this.block()) : [];
          return { kind: "if", cond, then, else: otherwise };
        }
        default: {
          const fnTok = this.expectKind("symbol", "a runtime function like @tfc_fail");
          if (!(fnTok.name in RUNTIME_SIGNATURES)) {
            const hint = closest(fnTok.name, Object.keys(RUNTIME_SIGNATURES));
            throw this.error(fnTok, `unknown runtime function @${fnTok.name}`, "TFC4103", hint ? [`did you mean @${hint}?`] : []);
          }
          this.expectPunct("(", "to open the call's arguments");
          const args: KValue[] = [];
          if (!this.peekPunct(")")) {
            do args.push(this.use());
            while (this.acceptPunct(","));
          }
          this.expectPunct(")", "to close the call's arguments");
          return { kind: "call", fn: fnTok.name as KRuntimeFn, args };
        }
      }
    }
    if (t.kind === "ident" && t.text.startsWith("k.")) {
      const hint = closest(t.text, [...VALUE_OPS, ...STATEMENTS, "k.var"]);
      throw this.error(t, `unknown kernel op '${t.text}'`, "TFC4103", hint ? [`did you mean '${hint}'?`] : []);
    }
    throw this.error(t, `expected a statement like '%0 = k.add %a, %b : f32', 'k.store …', 'k.for …' or '}', found ${describeToken(t)}`);
  }

  /** `%r = k.op operands : type` */
  private valueOp(): KStmt {
    const resultTok = this.advance();
    this.expectPunct("=", `after ${resultTok.text}`);
    const opTok = this.expectKind("ident", "a kernel op like k.add");
    if (opTok.text === "k.var") throw this.error(resultTok, `k.var defines a var, named with $: write '$name = k.var …'`);
    if (!VALUE_OPS.includes(opTok.text)) {
      const known = STATEMENTS.includes(opTok.text);
      const hint = known ? undefined : closest(opTok.text, VALUE_OPS);
      throw this.error(opTok, known ? `${opTok.text} gives no value; write it without '${resultTok.text} ='` : `unknown kernel op '${opTok.text}'`,
        known ? "TFC4102" : "TFC4103", hint ? [`did you mean '${hint}'?`] : []);
    }
    const op = opTok.text.slice(2);
    let stmt: (result: KValue) => KStmt;
    let type: KType;
    if (op === "const") {
      const valueTok = this.advance();
      this.expectPunct(":", `after the constant ${valueTok.text} (k.const 1.5 : f32)`);
      type = this.type().type;
      const value = this.literal(valueTok, type);
      stmt = (result) => ({ kind: "const", result, value });
    } else if (op === "load") {
      const { buffer, index } = this.bufferAccess();
      type = this.resultType(opTok);
      stmt = (result) => ({ kind: "load", result, buffer, index });
    } else if (op === "get") {
      const v = this.useVar();
      type = this.resultType(opTok);
      stmt = (result) => ({ kind: "get", result, var: v });
    } else if (op === "reduce") {
      const opName = this.oneOf(this.expectKind("ident", "a reduction (add, max, min)"), REDUCE_OPS, "reduction");
      const arg = this.use();
      type = this.resultType(opTok);
      stmt = (result) => ({ kind: "reduce", result, op: opName, arg });
    } else if (op === "broadcast") {
      const arg = this.use();
      type = this.resultType(opTok);
      stmt = (result) => ({ kind: "broadcast", result, arg });
    } else {
      const prim = op as KPrim;
      const args: KValue[] = [];
      do args.push(this.use());
      while (this.acceptPunct(","));
      if (prim === "cast") {
        this.expectPunct(":", "before the cast's types (k.cast %x : i32 to f32)");
        if (args.length === 1) this.declaredType(args[0]!, "the cast operand", true);
        else this.type();
        this.expectWord("to", "between the cast's source and target types");
        type = this.type().type;
      } else type = this.resultType(opTok);
      stmt = (result) => ({ kind: "prim", result, prim, args });
    }
    return stmt(this.defineValue(resultTok, type));
  }

  /** `$acc = k.var %init : f32` */
  private varDecl(): KStmt {
    const nameTok = this.advance();
    this.expectPunct("=", `after ${nameTok.text}`);
    this.expectWord("k.var", `(only k.var defines ${nameTok.text}; values are %names)`);
    const init = this.use();
    this.expectPunct(":", "before the var's type");
    const { type } = this.type();
    const prior = this.vars.get(nameTok.name);
    if (prior) throw this.error(nameTok, `${nameTok.text} is declared twice`, "TFC4105", [`first declared at line ${prior.token.line}`]);
    const v = new KVar(this.nextVar++, type, usableName(nameTok.name) ? nameTok.name : undefined);
    this.vars.set(nameTok.name, { var: v, token: nameTok });
    return { kind: "var", var: v, init };
  }

  /** `k.for %i = %lo to %hi step 4 parallel unroll 2 { … }` (step, parallel, unroll optional, in this order). */
  private forLoop(): KStmt {
    const ivTok = this.expectValueName("an induction variable like %i");
    this.expectPunct("=", "after the induction variable");
    const lo = this.use();
    this.expectWord("to", "between the loop bounds");
    const hi = this.use();
    let step = 1;
    let unroll = 1;
    let parallel = false;
    if (this.isWord(this.peek(), "step")) {
      this.advance();
      step = this.integer("a loop step");
    }
    if (this.isWord(this.peek(), "parallel")) {
      this.advance();
      parallel = true;
    }
    if (this.isWord(this.peek(), "unroll")) {
      this.advance();
      unroll = this.integer("an unroll factor");
    }
    const iv = this.defineValue(ivTok, kType("index"));
    const body = this.block();
    return { kind: "for", iv, lo, hi, step, parallel, unroll, body };
  }

  /** `%x[%i]` */
  private bufferAccess(): { buffer: KBufferParam; index: KValue } {
    const t = this.expectValueName("a buffer like %x");
    const entry = this.names.get(t.name);
    if (!entry || entry.named.kind !== "buffer") {
      const buffers = [...this.names].filter(([, e]) => e.named.kind === "buffer").map(([n]) => n);
      const hint = closest(t.name, buffers);
      throw this.error(t, entry ? `%${t.name} is a value, not a buffer parameter` : `unknown buffer %${t.name}`, "TFC4104", hint ? [`did you mean %${hint}?`] : []);
    }
    this.expectPunct("[", "after the buffer");
    const index = this.use();
    this.expectPunct("]", "to close the index");
    return { buffer: entry.named.buffer, index };
  }

  // -- names -----------------------------------------------------------------------------------

  private define(t: Token, named: Named): void {
    const prior = this.names.get(t.name);
    if (prior) throw this.error(t, `%${t.name} is defined twice`, "TFC4105", [`first defined at line ${prior.token.line}`]);
    this.names.set(t.name, { named, token: t });
  }

  private defineValue(t: Token, type: KType): KValue {
    const v = new KValue(this.nextValue++, type, usableName(t.name) ? t.name : undefined);
    this.define(t, { kind: "value", value: v });
    return v;
  }

  /** `%name` as an operand: defined earlier in the kernel (whether it is visible here, the verifier says). */
  private use(): KValue {
    const t = this.expectValueName("a value like %0 or %x");
    const entry = this.names.get(t.name);
    if (!entry) {
      const hint = /^[0-9]+$/.test(t.name) ? undefined : closest(t.name, this.names.keys());
      throw this.error(t, `use of undefined value %${t.name}`, "TFC4104", hint ? [`did you mean %${hint}?`] : []);
    }
    if (entry.named.kind === "buffer") throw this.error(t, `%${t.name} is a buffer; read it with k.load %${t.name}[%i]`, "TFC4101");
    return entry.named.value;
  }

  private useVar(): KVar {
    const t = this.peek();
    if (t.kind !== "value" || !t.text.startsWith("$")) throw this.error(t, `expected a var like $acc, found ${describeToken(t)}`);
    this.advance();
    const entry = this.vars.get(t.name);
    if (!entry) {
      const hint = closest(t.name, this.vars.keys());
      throw this.error(t, `use of undeclared var ${t.text}`, "TFC4104", hint ? [`did you mean $${hint}?`] : []);
    }
    return entry.var;
  }

  private expectValueName(what: string): Token {
    const t = this.peek();
    if (t.kind !== "value" || t.text.startsWith("$")) throw this.error(t, `expected ${what}, found ${describeToken(t)}`);
    return this.advance();
  }

  // -- types and literals ----------------------------------------------------------------------

  /** `f32`, `index`, `f32x8`. */
  private type(): { type: KType; token: Token } {
    const token = this.expectKind("ident", "a type like f32 or f32x8");
    const m = /^(f32|i32|bool|index)(?:x([1-9][0-9]*))?$/.exec(token.text);
    if (!m) {
      const base = token.text.replace(/x[0-9]+$/, "");
      const hint = closest(base, ELEMS);
      throw this.error(token, `unknown type '${token.text}'`, "TFC4103", [hint ? `did you mean '${hint}'?` : `types are ${ELEMS.join(", ")}, vectors f32x8`]);
    }
    return { type: kType(m[1] as KElem, m[2] ? Number(m[2]) : 1), token };
  }

  private resultType(opTok: Token): KType {
    this.expectPunct(":", `before the result type of ${opTok.text}`);
    return this.type().type;
  }

  /** `: T` after an operand whose type is known: it must be that type. */
  private declaredType(v: KValue, what: string, skipColon = false): void {
    if (!skipColon) this.expectPunct(":", `before the type of ${what}`);
    const { type, token } = this.type();
    if (!sameKType(type, v.type)) throw this.error(token, `${what} is ${formatKType(v.type)}, but its type is written ${formatKType(type)}`, "TFC4101");
  }

  /** A constant of a type: numbers (f32 also nan, inf, -inf), true/false for bool. */
  private literal(t: Token, type: KType): number {
    const v = t.kind === "number" ? t.num : t.text === "nan" ? NaN : t.text === "inf" ? Infinity : t.text === "true" ? 1 : t.text === "false" ? 0 : undefined;
    if (v === undefined || (t.kind === "ident" && (type.elem === "bool") !== (t.text === "true" || t.text === "false"))) {
      const want = type.elem === "bool" ? "true or false" : type.elem === "f32" ? "a number, nan, inf or -inf" : "an integer";
      throw this.error(t, `expected ${want} for a constant of type ${formatKType(type)}, found ${describeToken(t)}`);
    }
    return type.elem === "f32" ? Math.fround(v) : v; // the printer writes the shortest decimal that rounds to the f32
  }

  private constant(type: KType): number {
    const t = this.advance();
    return this.literal(t, type);
  }

  private integer(what: string): number {
    const t = this.expectKind("number", what);
    if (!Number.isSafeInteger(t.num)) throw this.error(t, `expected ${what} (an integer), found ${t.text}`);
    return t.num;
  }

  private oneOf<T extends string>(t: Token, options: readonly T[], what: string): T {
    if ((options as readonly string[]).includes(t.text)) return t.text as T;
    const hint = closest(t.text, options);
    throw this.error(t, `unknown ${what} '${t.text}'`, "TFC4103", [hint ? `did you mean '${hint}'?` : `choices: ${options.join(", ")}`]);
  }

  // -- token helpers ---------------------------------------------------------------------------

  private peek(): Token {
    return this.tokens[this.index]!;
  }
  private advance(): Token {
    const t = this.tokens[this.index]!;
    if (t.kind !== "eof") this.index++;
    return t;
  }
  private isWord(t: Token, word: string): boolean {
    return t.kind === "ident" && t.text === word;
  }
  private expectWord(word: string, context: string): Token {
    const t = this.peek();
    if (!this.isWord(t, word)) throw this.error(t, `expected '${word}' ${context}, found ${describeToken(t)}`);
    return this.advance();
  }
  private peekPunct(p: string): boolean {
    const t = this.peek();
    return t.kind === "punct" && t.name === p;
  }
  private acceptPunct(p: string): boolean {
    if (!this.peekPunct(p)) return false;
    this.index++;
    return true;
  }
  private expectPunct(p: string, context: string): Token {
    const t = this.peek();
    if (t.kind !== "punct" || t.name !== p) throw this.error(t, `expected '${p}' ${context}, found ${describeToken(t)}`);
    return this.advance();
  }
  private expectKind(kind: TokenKind, what: string): Token {
    const t = this.peek();
    if (t.kind !== kind) throw this.error(t, `expected ${what}, found ${describeToken(t)}`);
    return this.advance();
  }
  private loc(t: Token): SourceLoc {
    return { file: this.file, line: t.line, column: t.column };
  }
  private error(t: Token, message: string, code = "TFC4102", notes: string[] = []): TfcError {
    return new TfcError(code, message, { loc: this.loc(t), notes });
  }
}

/**
 * Tokens of kernel text: the tensor IR's Lexer, plus `$name` vars. A `$` outside strings and
 * comments is read as `%` and its token's text keeps the `$`, so `$acc` is a value token whose
 * text starts with `$` (same length, so every line and column stays right). Lexer errors are TFC4102.
 */
function lexKernelText(text: string, file: string): Token[] {
  const chars = text.split("");
  const varStarts = new Set<number>();
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "/" && chars[i + 1] === "/") while (i < chars.length && chars[i] !== "\n") i++;
    else if (c === '"') {
      for (i++; i < chars.length && chars[i] !== '"' && chars[i] !== "\n"; i++) if (chars[i] === "\\") i++;
    } else if (c === "$") {
      varStarts.add(i);
      chars[i] = "%";
    }
  }
  let tokens: Token[];
  try {
    tokens = new Lexer(chars.join(""), file).tokens();
  } catch (e) {
    if (e instanceof TfcError && e.code === "TFC4001") {
      const message = e.loc && text.split("\n")[e.loc.line - 1]?.[e.loc.column - 1] === "$" ? e.message.replace("'%'", () => "'$'") : e.message;
      throw new TfcError("TFC4102", message, { ...(e.loc ? { loc: e.loc } : {}), notes: e.notes });
    }
    throw e;
  }
  return tokens.map((t) => (varStarts.has(t.start) ? { ...t, text: "$" + t.text.slice(1) } : t));
}
