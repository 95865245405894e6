// Reads `.tfir` text back into a Module: the exact inverse of printer.ts. Every op goes through
// the builder (attribute schema, type rule) and the declared result type must equal the inferred
// one; errors are TfcErrors (TFC4xxx, table in verifier.ts) located at a line and column of the text.

import { Func, Module, type Initializer, type Op, type Param, type RandomInitKind, type Value } from "./ir.js";
import { FuncBuilder, resolveAttrs, type Attrs } from "./builder.js";
import { attrSpecOf, describeAttrKind, type AttrSpec, type AttrValue } from "./attrs.js";
import { TfcError, closest, type SourceLoc } from "./errors.js";
import { OPS, isOpName } from "./ops/index.js";
import type { OpDef } from "./op-def.js";
import { BATCH, DTYPES, formatType, isDType, isStatic, numElements, sameType, type TensorType } from "./types.js";
import { hostTensor, type HostTensor } from "./tensor.js";
import { checkParam, checkShape, typeMismatch, verifyModule } from "./verifier.js";
import { defaultResultName } from "./printer.js";
import { Lexer, describeToken, type Token, type TokenKind } from "./lexer.js";

/**
 * Parse a module and verify it. `file` names the text in error locations. Ops get a source
 * location only from an explicit ` loc("model.ts":12:5)`; positions in the text are for errors.
 */
export function parseModule(text: string, file = "<input>"): Module {
  return new Parser(text, file).module();
}

// ---------------------------------------------------------------------------------------------
// Literals: attribute values are read generically, then converted by the attribute's schema kind.

type Literal =
  | { readonly form: "number"; readonly value: number; readonly token: Token }
  | { readonly form: "ident"; readonly name: string; readonly token: Token }
  | { readonly form: "string"; readonly value: string; readonly token: Token }
  | { readonly form: "list"; readonly items: readonly Literal[]; readonly token: Token; readonly end: number }
  | { readonly form: "tensor"; readonly value: HostTensor; readonly token: Token; readonly end: number };

interface AttrEntry {
  readonly key: string;
  readonly keyToken: Token;
  readonly literal: Literal;
}

const RANDOM_KINDS: readonly RandomInitKind[] = [
  "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
  "random_uniform", "random_normal", "truncated_normal",
];
const INIT_KINDS = ["zeros", "ones", "constant", "data", ...RANDOM_KINDS];

const I32_MIN = -2147483648;
const I32_MAX = 2147483647;

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private readonly m = new Module();
  /** Where each op was written in the text, for errors the verifier finds after the whole module is read. */
  private readonly opLocs = new Map<Op, SourceLoc>();

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {
    this.tokens = new Lexer(text, file).tokens();
  }

  module(): Module {
    while (this.peek().kind !== "eof") {
      const t = this.peek();
      if (t.kind === "ident" && t.text === "param") this.param();
      else if (t.kind === "ident" && t.text === "func") this.func();
      else throw this.error(t, `expected 'param' or 'func' at the top level, found ${describeToken(t)}`);
    }
    verifyModule(this.m, { locOf: (op) => this.opLocs.get(op) });
    return this.m;
  }

  // -- parameters ------------------------------------------------------------------------------

  private param(): void {
    const start = this.advance(); // 'param'
    const nameTok = this.expectKind("symbol", "a parameter name like @dense/kernel");
    if (this.m.params.has(nameTok.name)) throw this.error(nameTok, `parameter @${nameTok.name} is declared twice`, "TFC4015");
    this.expectPunct(":", "before the parameter's type");
    const { type } = this.type(`parameter @${nameTok.name}`);
    this.expectPunct("=", "before the parameter's initializer");
    const kindTok = this.expectKind("ident", `an initializer (${INIT_KINDS.join(", ")})`);
    const kind = kindTok.text;
    if (!INIT_KINDS.includes(kind)) {
      const hint = closest(kind, INIT_KINDS);
      throw this.error(kindTok, `unknown initializer '${kind}'`, "TFC4016", hint ? [`did you mean '${hint}'?`] : [`initializers are: ${INIT_KINDS.join(", ")}`]);
    }
    let data: HostTensor | undefined;
    if (kind === "data") {
      const lit = this.literal();
      if (lit.form !== "tensor") throw this.error(lit.token, "a data initializer needs a dense<…> value", "TFC4016");
      data = lit.value;
    }
    const attrs = this.peekPunct("{") ? this.attrDict() : [];
    const allowed = kind === "constant" ? ["value", "trainable"] : RANDOM_KINDS.includes(kind as RandomInitKind) ? ["seed", "a", "b", "trainable"] : ["trainable"];
    const values = new Map<string, Literal>();
    for (const { key, keyToken, literal } of attrs) {
      if (!allowed.includes(key)) {
        const hint = closest(key, allowed);
        throw this.error(keyToken, `initializer ${kind} has no attribute '${key}'`, "TFC4016", hint ? [`did you mean '${hint}'?`] : [`its attributes are: ${allowed.join(", ")}`]);
      }
      values.set(key, literal);
    }
    const number = (key: string, integer: boolean): number | undefined => {
      const lit = values.get(key);
      if (!lit) return undefined;
      const v = numberOf(lit);
      if (v === undefined || (integer && !Number.isInteger(v))) {
        throw this.error(lit.token, `initializer attribute '${key}' must be ${integer ? "an integer" : "a number"}, got ${this.source(lit)}`, "TFC4016");
      }
      return v;
    };
    const required = (key: string, integer: boolean): number => {
      const v = number(key, integer);
      if (v === undefined) throw this.error(kindTok, `initializer ${kind} needs attribute '${key}'`, "TFC4016");
      return v;
    };
    let init: Initializer;
    if (kind === "zeros" || kind === "ones") init = { kind };
    else if (kind === "constant") init = { kind, value: required("value", false) };
    else if (kind === "data") init = { kind, tensor: data! };
    else {
      const a = number("a", false);
      const b = number("b", false);
      init = { kind: kind as RandomInitKind, seed: required("seed", true), ...(a !== undefined ? { a } : {}), ...(b !== undefined ? { b } : {}) };
    }
    let trainable = true;
    const trainableLit = values.get("trainable");
    if (trainableLit) {
      if (trainableLit.form !== "ident" || (trainableLit.name !== "true" && trainableLit.name !== "false")) {
        throw this.error(trainableLit.token, `'trainable' must be true or false, got ${this.source(trainableLit)}`, "TFC4016");
      }
      trainable = trainableLit.name === "true";
    }
    const p: Param = { name: nameTok.name, type, init, trainable };
    this.located(start, () => checkParam(p));
    this.m.addParam(p);
  }

  // -- functions -------------------------------------------------------------------------------

  private func(): void {
    this.advance(); // 'func'
    const nameTok = this.expectKind("symbol", "a function name like @predict");
    if (this.m.getFunction(nameTok.name)) throw this.error(nameTok, `function @${nameTok.name} is defined twice`, "TFC4015");
    const b = new FuncBuilder(this.m, nameTok.name);
    const scope = new Map<string, Value>();

    this.expectPunct("(", "to open the argument list");
    if (!this.peekPunct(")")) {
      do {
        const argTok = this.expectKind("value", "an argument like %x");
        if (scope.has(argTok.name)) throw this.error(argTok, `argument %${argTok.name} is declared twice`, "TFC4008");
        if (/^[0-9]+$/.test(argTok.name)) {
          throw this.error(argTok, `argument %${argTok.name} has a number for a name; %0, %1, … name op results`, "TFC4008");
        }
        this.expectPunct(":", "between an argument and its type");
        const { type } = this.type(`argument %${argTok.name}`);
        scope.set(argTok.name, b.arg(argTok.name, type));
      } while (this.acceptPunct(","));
    }
    this.expectPunct(")", "to close the argument list");
    this.expectPunct("->", "before the result types");

    const declared: { type: TensorType; name: string; token: Token }[] = [];
    const resultType = () => {
      const token = this.peek();
      const { type } = this.type(`result ${declared.length} of @${nameTok.name}`);
      let name = defaultResultName(declared.length);
      if (this.peek().kind === "ident" && this.peek().text === "as") {
        this.advance();
        name = this.expectKind("string", 'a result name like "probs"').name;
      }
      declared.push({ type, name, token });
    };
    if (this.acceptPunct("(")) {
      if (!this.peekPunct(")")) {
        do resultType();
        while (this.acceptPunct(","));
      }
      this.expectPunct(")", "to close the result types");
    } else resultType();

    this.expectPunct("{", "to open the function body");
    for (;;) {
      const t = this.peek();
      if (t.kind === "ident" && t.text === "return") break;
      if (t.kind !== "value") throw this.error(t, `expected an op like '%0 = add %x, %y : f32[4]' or 'return', found ${describeToken(t)}`);
      this.op(b, scope);
    }
    const returnTok = this.advance();
    const results: Value[] = [];
    if (this.peek().kind === "value") {
      do results.push(this.use(scope));
      while (this.acceptPunct(","));
    }
    if (results.length !== declared.length) {
      throw this.error(returnTok, `@${nameTok.name} declares ${declared.length} result${declared.length === 1 ? "" : "s"} but returns ${results.length}`, "TFC4014");
    }
    results.forEach((r, i) => {
      if (!sameType(r.type, declared[i]!.type)) {
        throw this.error(
          declared[i]!.token,
          `result ${i} of @${nameTok.name} is declared ${formatType(declared[i]!.type)} but the returned value is ${formatType(r.type)}`,
          "TFC4009",
        );
      }
    });
    const names = declared.map((d) => d.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw this.error(declared[names.lastIndexOf(dup)]!.token, `@${nameTok.name} has two results named "${dup}"`, "TFC4014");
    this.expectPunct("}", "to close the function body");
    const fn: Func = b.finish(results, names);
    this.m.functions.push(fn);
  }

  private op(b: FuncBuilder, scope: Map<string, Value>): void {
    const resultTok = this.advance();
    if (scope.has(resultTok.name)) throw this.error(resultTok, `%${resultTok.name} is defined twice`, "TFC4008");
    this.expectPunct("=", `after ${resultTok.text}`);
    const nameTok = this.expectKind("ident", "an op name");
    if (!isOpName(nameTok.text)) {
      const hint = closest(nameTok.text, Object.keys(OPS));
      throw this.error(nameTok, `unknown op '${nameTok.text}'`, "TFC4006", hint ? [`did you mean '${hint}'?`] : []);
    }
    const def = OPS[nameTok.text] as unknown as OpDef;
    const operands: Value[] = [];
    if (this.peek().kind === "value") {
      do operands.push(this.use(scope));
      while (this.acceptPunct(","));
    }
    const entries = this.peekPunct("{") ? this.attrDict() : [];
    const attrs = this.opAttrs(def, nameTok, entries);
    this.expectPunct(":", `before the result type of ${nameTok.text}`);
    const { type: declared, token: typeTok } = this.type(`the result of ${nameTok.text}`);
    const sourceLoc = this.optionalLoc();

    let result: Value;
    try {
      result = b.op(nameTok.text, operands, attrs);
    } catch (e) {
      if (e instanceof TfcError) e.loc = this.loc(nameTok);
      throw e;
    }
    const op = b.body[b.body.length - 1]!;
    if (sourceLoc) op.loc = sourceLoc;
    // The builder keeps only the op's own attributes; reserved ones (a fusion group) come back here.
    for (const key of Object.keys(attrs)) if (!(key in def.attrs)) op.attrs[key] = attrs[key]!;
    this.opLocs.set(op, this.loc(resultTok));
    if (!sameType(declared, result.type)) throw typeMismatch(nameTok.text, declared, result.type).at(this.loc(typeTok));
    scope.set(resultTok.name, result);
  }

  /** Convert attribute literals by the op's schema; unknown keys and wrong kinds point at their text. */
  private opAttrs(def: OpDef, opTok: Token, entries: readonly AttrEntry[]): Attrs {
    const attrs: Attrs = {};
    for (const { key, keyToken, literal } of entries) {
      const spec = attrSpecOf(def.attrs, key);
      if (!spec) throw this.unknownAttr(def, key, keyToken);
      attrs[key] = this.attrValue(literal, spec, `${def.name} attribute '${key}'`);
    }
    try {
      resolveAttrs(def, attrs);
    } catch (e) {
      if (e instanceof TfcError) e.loc = this.loc(opTok);
      throw e;
    }
    return attrs;
  }

  /** The builder's own "has no attribute" error (with its did-you-mean), placed at the key. */
  private unknownAttr(def: OpDef, key: string, keyToken: Token): TfcError {
    try {
      resolveAttrs(def, { [key]: 0 });
    } catch (e) {
      if (e instanceof TfcError) {
        e.loc = this.loc(keyToken);
        return e;
      }
      throw e;
    }
    return this.error(keyToken, `${def.name} has no attribute '${key}'`, "TFC4002");
  }

  private attrValue(lit: Literal, spec: AttrSpec, what: string): AttrValue {
    const wrong = () => this.error(lit.token, `${what} must be ${describeAttrKind(spec)}, got ${this.source(lit)}`, "TFC4004");
    let v: AttrValue | undefined;
    switch (spec.kind) {
      case "int":
        v = integerOf(lit);
        break;
      case "float":
        v = numberOf(lit);
        break;
      case "ints":
        if (lit.form === "list") {
          const items = lit.items.map(integerOf);
          if (items.every((x) => x !== undefined)) v = items as number[];
        }
        break;
      case "bool":
        if (lit.form === "ident" && (lit.name === "true" || lit.name === "false")) v = lit.name === "true";
        break;
      case "string":
      case "enum":
        if (lit.form === "string") v = lit.value;
        break;
      case "dtype":
        if (lit.form === "ident" && isDType(lit.name)) v = lit.name;
        break;
      case "tensor":
        if (lit.form === "tensor") v = lit.value;
        break;
    }
    if (v === undefined || !spec.check(v)) throw wrong();
    return v;
  }

  /** `%name` as an operand: it must already be defined in this function. */
  private use(scope: Map<string, Value>): Value {
    const t = this.expectKind("value", "a value like %0 or %x");
    const v = scope.get(t.name);
    if (!v) {
      const hint = closest(t.name, scope.keys());
      throw this.error(t, `use of undefined value %${t.name}`, "TFC4007", hint ? [`did you mean %${hint}?`] : []);
    }
    return v;
  }

  /** ` loc("model.ts":12:5)` after an op's type. */
  private optionalLoc(): SourceLoc | undefined {
    const t = this.peek();
    if (t.kind !== "ident" || t.text !== "loc") return undefined;
    this.advance();
    this.expectPunct("(", "after loc");
    const file = this.expectKind("string", 'a file name like "model.ts"').name;
    this.expectPunct(":", "between file and line");
    const line = this.positiveInt("a line number");
    this.expectPunct(":", "between line and column");
    const column = this.positiveInt("a column number");
    this.expectPunct(")", "to close loc(…)");
    return { file, line, column };
  }

  private positiveInt(what: string): number {
    const t = this.expectKind("number", what);
    if (!Number.isInteger(t.num) || t.num < 1) throw this.error(t, `expected ${what}, found ${t.text}`);
    return t.num;
  }

  // -- types and literals ----------------------------------------------------------------------

  /** `f32[?,784]`; only the leading dimension may be `?`. */
  private type(what: string): { type: TensorType; token: Token } {
    const token = this.expectKind("ident", "a type like f32[?,784]");
    if (!isDType(token.text)) {
      const hint = closest(token.text, DTYPES);
      throw this.error(token, `unknown dtype '${token.text}'`, "TFC4001", [hint ? `did you mean '${hint}'?` : `dtypes are: ${DTYPES.join(", ")}`]);
    }
    this.expectPunct("[", `after ${token.text} (a scalar is ${token.text}[])`);
    const shape: number[] = [];
    if (!this.peekPunct("]")) {
      do {
        const d = this.advance();
        if (d.kind === "punct" && d.name === "?") shape.push(BATCH);
        else if (d.kind === "number" && Number.isInteger(d.num) && d.num >= 0 && !d.text.startsWith("-")) shape.push(d.num);
        else throw this.error(d, `expected a dimension (a size or ?), found ${describeToken(d)}`);
      } while (this.acceptPunct(","));
    }
    this.expectPunct("]", "to close the shape");
    this.located(token, () => checkShape(shape, what));
    return { type: { dtype: token.text, shape }, token };
  }

  private attrDict(): AttrEntry[] {
    this.expectPunct("{", "");
    const entries: AttrEntry[] = [];
    if (!this.peekPunct("}")) {
      do {
        const keyToken = this.advance();
        if (keyToken.kind !== "ident" && keyToken.kind !== "string") throw this.error(keyToken, `expected an attribute name, found ${describeToken(keyToken)}`);
        const key = keyToken.name;
        if (entries.some((e) => e.key === key)) throw this.error(keyToken, `attribute '${key}' is given twice`);
        this.expectPunct("=", `after attribute '${key}'`);
        entries.push({ key, keyToken, literal: this.literal() });
      } while (this.acceptPunct(","));
    }
    this.expectPunct("}", "to close the attributes");
    return entries;
  }

  private literal(): Literal {
    const token = this.advance();
    switch (token.kind) {
      case "number":
        return { form: "number", value: token.num, token };
      case "string":
        return { form: "string", value: token.name, token };
      case "ident":
        if (token.text === "dense" && this.peekPunct("<")) return this.dense(token);
        return { form: "ident", name: token.text, token };
      case "punct":
        if (token.name === "[") {
          const items: Literal[] = [];
          if (!this.peekPunct("]")) {
            do items.push(this.literal());
            while (this.acceptPunct(","));
          }
          const close = this.expectPunct("]", "to close the list");
          return { form: "list", items, token, end: close.end };
        }
    }
    throw this.error(token, `expected a value (number, string, true/false, dtype, [list] or dense<…>), found ${describeToken(token)}`);
  }

  /** `dense<f32[2,2] [1, 2, 3, 4]>`: elements in row-major order; `nan`, `inf`, `-inf`; bools true/false. */
  private dense(start: Token): Literal {
    this.expectPunct("<", "after dense");
    const { type, token: typeTok } = this.type("a dense tensor");
    if (!isStatic(type.shape)) throw this.error(typeTok, `a dense tensor needs a static shape, got ${formatType(type)}`, "TFC4016");
    this.expectPunct("[", "before the tensor's elements");
    const values: number[] = [];
    if (!this.peekPunct("]")) {
      do {
        const t = this.advance();
        const lit: Literal = t.kind === "number" ? { form: "number", value: t.num, token: t } : { form: "ident", name: t.text, token: t };
        const v = type.dtype === "bool" ? boolOf(lit) : type.dtype === "i32" ? integerOf(lit) : numberOf(lit);
        if (v === undefined || (type.dtype === "i32" && (v < I32_MIN || v > I32_MAX))) {
          const want = type.dtype === "bool" ? "true or false" : type.dtype === "i32" ? "a 32-bit integer" : "a number, nan, inf or -inf";
          throw this.error(t, `an element of a ${type.dtype} tensor must be ${want}, found ${describeToken(t)}`, "TFC4016");
        }
        values.push(v);
      } while (this.acceptPunct(","));
    }
    this.expectPunct("]", "to close the tensor's elements");
    const close = this.expectPunct(">", "to close dense<…>");
    const want = numElements(type.shape);
    if (values.length !== want) {
      throw this.error(typeTok, `dense<${formatType(type)}> needs ${want} element${want === 1 ? "" : "s"}, got ${values.length}`, "TFC4016");
    }
    return { form: "tensor", value: hostTensor(type.dtype, type.shape, values), token: start, end: close.end };
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
    if (t.kind !== "punct" || t.name !== p) throw this.error(t, `expected '${p}'${context ? " " + context : ""}, found ${describeToken(t)}`);
    return this.advance();
  }

  private expectKind(kind: TokenKind, what: string): Token {
    const t = this.peek();
    if (t.kind !== kind) throw this.error(t, `expected ${what}, found ${describeToken(t)}`);
    return this.advance();
  }

  private source(lit: Literal): string {
    const end = "end" in lit ? lit.end : lit.token.end;
    return this.text.slice(lit.token.start, end);
  }

  private loc(t: Token): SourceLoc {
    return { file: this.file, line: t.line, column: t.column };
  }

  /** Run a check and place any TfcError it throws at the token. */
  private located(t: Token, check: () => void): void {
    try {
      check();
    } catch (e) {
      if (e instanceof TfcError) e.loc = this.loc(t);
      throw e;
    }
  }

  private error(t: Token, message: string, code = "TFC4001", notes: string[] = []): TfcError {
    return new TfcError(code, message, { loc: this.loc(t), notes });
  }
}

function numberOf(lit: Literal): number | undefined {
  if (lit.form === "number") return lit.value;
  if (lit.form === "ident") {
    if (lit.name === "nan") return NaN;
    if (lit.name === "inf") return Infinity;
  }
  return undefined;
}

function integerOf(lit: Literal): number | undefined {
  return lit.form === "number" && Number.isInteger(lit.value) ? lit.value : undefined;
}

function boolOf(lit: Literal): number | undefined {
  if (lit.form === "ident" && lit.name === "true") return 1;
  if (lit.form === "ident" && lit.name === "false") return 0;
  return undefined;
}
