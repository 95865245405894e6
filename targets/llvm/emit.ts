// Kernel IR → LLVM IR text (LLVM 14 dialect: typed pointers). A small typed writer, not the
// llvm-bindings IRBuilder, because kernels need explicit vector types, `llvm.fmuladd` and
// `noalias`. Each kernel becomes an internal function; parallel loops are outlined into a body
// function called through the runtime's `tfc_parallel_for`; `<prefix>_run` launches the kernels,
// `<prefix>_prepare` the prepare launches (packed weights).

import { TfcError } from "../../ir/errors.js";
import { KFunc, KProgram, KValue, KVar, type KBufferParam, type KLaunch, type KStmt, type KType, type KPrim } from "../../ir/kernel/kir.js";
import { freeValues, usedBuffers } from "../../ir/kernel/analysis.js";

const ELEM: Record<KType["elem"], string> = { f32: "float", i32: "i32", bool: "i1", index: "i64" };
const MEM: Record<KBufferParam["elem"], string> = { f32: "float", i32: "i32", bool: "i8" };

export function llType(t: KType): string {
  return t.width === 1 ? ELEM[t.elem] : `<${t.width} x ${ELEM[t.elem]}>`;
}
function memType(elem: KBufferParam["elem"], width: number): string {
  return width === 1 ? MEM[elem] : `<${width} x ${MEM[elem]}>`;
}

/** An f32 constant in LLVM's exact hexadecimal double form. */
export function floatLiteral(x: number): string {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.fround(x));
  return "0x" + buf.getBigUint64(0).toString(16).toUpperCase().padStart(16, "0");
}

function scalarLiteral(t: KType, value: number): string {
  switch (t.elem) {
    case "f32":
      return floatLiteral(value);
    case "bool":
      return value ? "true" : "false";
    default:
      return String(Math.trunc(value));
  }
}

/** Intrinsic suffix: `f32` or `v8f32`. */
function suffix(t: KType): string {
  const e = t.elem === "f32" ? "f32" : t.elem === "i32" ? "i32" : t.elem === "index" ? "i64" : "i1";
  return t.width === 1 ? e : `v${t.width}${e}`;
}

class ModuleWriter {
  readonly functions: string[] = [];
  readonly declarations = new Set<string>();
  private outlined = 0;
  constructor(readonly prefix: string) {}
  declare(decl: string): void {
    this.declarations.add(decl);
  }
  outlinedName(kernel: string): string {
    return `@${this.prefix}_${kernel}_par${this.outlined++}`;
  }
}

/** Emits one LLVM function body from kernel statements. */
class FunctionWriter {
  private readonly lines: string[] = [];
  private readonly allocas: string[] = [];
  private readonly names = new Map<KValue, string>();
  private readonly literals = new Map<KValue, string>();
  private readonly vars = new Map<KVar, string>();
  private readonly buffers = new Map<KBufferParam, string>();
  private tmp = 0;
  private label = 0;
  private block = "entry";

  constructor(
    private readonly mod: ModuleWriter,
    private readonly kernel: KFunc,
    private readonly exName: string,
  ) {}

  bindBuffer(p: KBufferParam, name: string): void {
    this.buffers.set(p, name);
  }
  bindValue(v: KValue, name: string): void {
    this.names.set(v, name);
  }

  private t(): string {
    return `%t${this.tmp++}`;
  }
  private newLabel(what: string): string {
    return `${what}${this.label++}`;
  }
  private emit(line: string): void {
    this.lines.push(`  ${line}`);
  }
  private startBlock(label: string): void {
    this.lines.push(`${label}:`);
    this.block = label;
  }
  ref(v: KValue): string {
    const lit = this.literals.get(v);
    if (lit !== undefined) return lit;
    const name = this.names.get(v);
    if (!name) throw new TfcError("TFC6020", `LLVM emitter: value %${v.id} of kernel ${this.kernel.name} is used before it is defined`);
    return name;
  }
  private def(v: KValue): string {
    const name = `%v${v.id}`;
    this.names.set(v, name);
    return name;
  }
  private buf(p: KBufferParam): string {
    const name = this.buffers.get(p);
    if (!name) throw new TfcError("TFC6020", `LLVM emitter: buffer ${p.name} is not bound in kernel ${this.kernel.name}`);
    return name;
  }

  body(stmts: readonly KStmt[]): void {
    for (const s of stmts) this.stmt(s);
  }

  finish(): string {
    return ["entry:", ...this.allocas.map((a) => `  ${a}`), ...this.lines.slice(this.lines[0] === "entry:" ? 1 : 0)].join("\n");
  }

  private stmt(s: KStmt): void {
    switch (s.kind) {
      case "const": {
        const lit = scalarLiteral(s.result.type, s.value);
        if (s.result.type.width === 1) this.literals.set(s.result, lit);
        else this.emitBroadcastLiteral(s.result, lit);
        return;
      }
      case "prim":
        return this.prim(s.result, s.prim, s.args);
      case "broadcast": {
        const ty = llType(s.result.type);
        const one = this.t();
        this.emit(`${one} = insertelement ${ty} undef, ${llType(s.arg.type)} ${this.ref(s.arg)}, i32 0`);
        this.emit(`${this.def(s.result)} = shufflevector ${ty} ${one}, ${ty} undef, <${s.result.type.width} x i32> zeroinitializer`);
        return;
      }
      case "reduce": {
        let acc = "";
        for (let i = 0; i < s.arg.type.width; i++) {
          const x = this.t();
          this.emit(`${x} = extractelement ${llType(s.arg.type)} ${this.ref(s.arg)}, i32 ${i}`);
          acc = i === 0 ? x : this.scalarBinary(s.op, s.result.type, acc, x);
        }
        this.names.set(s.result, acc);
        return;
      }
      case "load": {
        const ptr = this.address(s.buffer, s.index, s.result.type.width);
        const mt = memType(s.buffer.elem, s.result.type.width);
        if (s.buffer.elem === "bool") {
          const raw = this.t();
          this.emit(`${raw} = load ${mt}, ${mt}* ${ptr}, align 1`);
          this.emit(`${this.def(s.result)} = icmp ne ${mt} ${raw}, ${s.result.type.width === 1 ? "0" : "zeroinitializer"}`);
        } else {
          this.emit(`${this.def(s.result)} = load ${mt}, ${mt}* ${ptr}, align 4`);
        }
        return;
      }
      case "store": {
        const width = s.value.type.width;
        const ptr = this.address(s.buffer, s.index, width);
        const mt = memType(s.buffer.elem, width);
        let value = this.ref(s.value);
        if (s.buffer.elem === "bool") {
          const z = this.t();
          this.emit(`${z} = zext ${llType(s.value.type)} ${value} to ${mt}`);
          value = z;
        }
        this.emit(`store ${mt} ${value}, ${mt}* ${ptr}, align ${s.buffer.elem === "bool" ? 1 : 4}`);
        return;
      }
      case "var": {
        const name = `%var${s.var.id}`;
        this.vars.set(s.var, name);
        this.allocas.push(`${name} = alloca ${llType(s.var.type)}, align 32`);
        this.emit(`store ${llType(s.var.type)} ${this.ref(s.init)}, ${llType(s.var.type)}* ${name}`);
        return;
      }
      case "get":
        this.emit(`${this.def(s.result)} = load ${llType(s.result.type)}, ${llType(s.result.type)}* ${this.varRef(s.var)}`);
        return;
      case "set":
        this.emit(`store ${llType(s.var.type)} ${this.ref(s.value)}, ${llType(s.var.type)}* ${this.varRef(s.var)}`);
        return;
      case "for":
        return s.parallel ? this.parallelFor(s) : this.serialFor(s.iv, this.ref(s.lo), this.ref(s.hi), s.step, s.body);
      case "if": {
        const then = this.newLabel("then");
        const other = this.newLabel("else");
        const end = this.newLabel("endif");
        this.emit(`br i1 ${this.ref(s.cond)}, label %${then}, label %${s.else.length ? other : end}`);
        this.startBlock(then);
        this.body(s.then);
        this.emit(`br label %${end}`);
        if (s.else.length) {
          this.startBlock(other);
          this.body(s.else);
          this.emit(`br label %${end}`);
        }
        this.startBlock(end);
        return;
      }
      case "call":
        this.emit(`call void @tfc_fail(i8* ${this.exName}, i32 ${this.ref(s.args[0]!)})`);
        return;
    }
  }

  private varRef(v: KVar): string {
    const name = this.vars.get(v);
    if (!name) throw new TfcError("TFC6020", `LLVM emitter: local ${v.name ?? v.id} is used outside the function that declares it (kernel ${this.kernel.name})`);
    return name;
  }

  private emitBroadcastLiteral(v: KValue, lit: string): void {
    const lanes = Array.from({ length: v.type.width }, () => `${ELEM[v.type.elem]} ${lit}`).join(", ");
    this.literals.set(v, `<${lanes}>`);
  }

  private address(p: KBufferParam, index: KValue, width: number): string {
    const elem = MEM[p.elem];
    const gep = this.t();
    this.emit(`${gep} = getelementptr inbounds ${elem}, ${elem}* ${this.buf(p)}, i64 ${this.ref(index)}`);
    if (width === 1) return gep;
    const cast = this.t();
    this.emit(`${cast} = bitcast ${elem}* ${gep} to ${memType(p.elem, width)}*`);
    return cast;
  }

  private serialFor(iv: KValue, lo: string, hi: string, step: number, body: readonly KStmt[]): void {
    this.loop(this.def(iv), lo, hi, step, () => this.body(body));
  }

  /** A counted loop `for (iv = lo; iv < hi; iv += step)` with a phi for `iv` (mem2reg-free SSA). */
  private loop(ivName: string, lo: string, hi: string, step: number, body: () => void): void {
    const cond = this.newLabel("for.cond");
    const bodyLabel = this.newLabel("for.body");
    const latch = this.newLabel("for.latch");
    const end = this.newLabel("for.end");
    const pred = this.block;
    this.emit(`br label %${cond}`);
    this.startBlock(cond);
    this.emit(`${ivName} = phi i64 [ ${lo}, %${pred} ], [ ${ivName}.next, %${latch} ]`);
    const c = this.t();
    this.emit(`${c} = icmp slt i64 ${ivName}, ${hi}`);
    this.emit(`br i1 ${c}, label %${bodyLabel}, label %${end}`);
    this.startBlock(bodyLabel);
    body();
    this.emit(`br label %${latch}`);
    this.startBlock(latch);
    this.emit(`${ivName}.next = add nsw i64 ${ivName}, ${step}`);
    this.emit(`br label %${cond}`);
    this.startBlock(end);
  }

  /** Outline the loop body into `body(ctx, lo, hi)` and hand the iteration range to the runtime. */
  private parallelFor(s: Extract<KStmt, { kind: "for" }>): void {
    const captured = freeValues(s.body, new Set([s.iv]));
    if (!captured.includes(s.lo)) captured.unshift(s.lo);
    const buffers = usedBuffers(s.body);
    const fields = [...buffers.map((p) => `${MEM[p.elem]}*`), ...captured.map((v) => llType(v.type))];
    const structTy = `{ i8*${fields.map((f) => `, ${f}`).join("")} }`;
    const ctx = `%ctx${this.label++}`;
    this.allocas.push(`${ctx} = alloca ${structTy}, align 32`);
    const store = (i: number, ty: string, value: string) => {
      const p = this.t();
      this.emit(`${p} = getelementptr inbounds ${structTy}, ${structTy}* ${ctx}, i32 0, i32 ${i}`);
      this.emit(`store ${ty} ${value}, ${ty}* ${p}`);
    };
    store(0, "i8*", this.exName);
    buffers.forEach((p, i) => store(i + 1, `${MEM[p.elem]}*`, this.buf(p)));
    captured.forEach((v, i) => store(i + 1 + buffers.length, llType(v.type), this.ref(v)));
    // Trip count in iterations of `step`, so threads get whole iterations.
    const span = this.t();
    this.emit(`${span} = sub i64 ${this.ref(s.hi)}, ${this.ref(s.lo)}`);
    const pos = this.t();
    this.emit(`${pos} = icmp sgt i64 ${span}, 0`);
    const clamped = this.t();
    this.emit(`${clamped} = select i1 ${pos}, i64 ${span}, i64 0`);
    const bumped = this.t();
    this.emit(`${bumped} = add i64 ${clamped}, ${s.step - 1}`);
    const trips = this.t();
    this.emit(`${trips} = udiv i64 ${bumped}, ${s.step}`);
    const raw = this.t();
    this.emit(`${raw} = bitcast ${structTy}* ${ctx} to i8*`);
    const bodyName = this.mod.outlinedName(this.kernel.name);
    this.emit(`call void @tfc_parallel_for(i8* ${this.exName}, void (i8*, i64, i64)* ${bodyName}, i8* ${raw}, i64 0, i64 ${trips})`);

    // The outlined body: unpack the context, then a serial loop over its share [lo, hi) of iterations.
    const w = new FunctionWriter(this.mod, this.kernel, "%ex");
    const text = w.outlinedBody(s, structTy, buffers, captured);
    this.mod.functions.push(`define internal void ${bodyName}(i8* %raw, i64 %lo, i64 %hi) #0 {\n${text}\n}`);
  }

  /** Write an outlined parallel loop body on this (fresh) writer and return its text. */
  outlinedBody(s: Extract<KStmt, { kind: "for" }>, structTy: string, buffers: readonly KBufferParam[], captured: readonly KValue[]): string {
    this.emit(`%ctx = bitcast i8* %raw to ${structTy}*`);
    const load = (i: number, ty: string, name: string) => {
      this.emit(`%f${i} = getelementptr inbounds ${structTy}, ${structTy}* %ctx, i32 0, i32 ${i}`);
      this.emit(`${name} = load ${ty}, ${ty}* %f${i}`);
    };
    load(0, "i8*", "%ex");
    buffers.forEach((p, i) => {
      load(i + 1, `${MEM[p.elem]}*`, `%buf${i}`);
      this.bindBuffer(p, `%buf${i}`);
    });
    captured.forEach((v, i) => {
      load(i + 1 + buffers.length, llType(v.type), `%cap${i}`);
      this.bindValue(v, `%cap${i}`);
    });
    const it = `%it${this.label++}`;
    this.loop(it, "%lo", "%hi", 1, () => {
      const scaled = this.t();
      this.emit(`${scaled} = mul nsw i64 ${it}, ${s.step}`);
      this.emit(`${this.def(s.iv)} = add nsw i64 ${this.ref(s.lo)}, ${scaled}`);
      this.body(s.body);
    });
    this.emit("ret void");
    return this.finish();
  }

  private scalarBinary(op: "add" | "max" | "min", t: KType, a: string, b: string): string {
    const r = this.t();
    if (op === "add") {
      this.emit(`${r} = ${t.elem === "f32" ? "fadd" : "add"} ${llType(t)} ${a}, ${b}`);
      return r;
    }
    return this.minMax(op, t, a, b, r);
  }

  /** NaN-propagating max/min for floats (as the interpreter: a NaN operand wins); signed for ints. */
  private minMax(op: "max" | "min", t: KType, a: string, b: string, result: string): string {
    const ty = llType(t);
    const cmpTy = t.width === 1 ? "i1" : `<${t.width} x i1>`;
    if (t.elem === "f32") {
      // b > a ? b : a is one x86 maxps/minps (it gives a when either is NaN, so a NaN a wins);
      // then a NaN b wins too. With b a constant (relu's 0) the NaN test folds away.
      const better = this.t();
      this.emit(`${better} = fcmp ${op === "max" ? "ogt" : "olt"} ${ty} ${b}, ${a}`);
      const pick = this.t();
      this.emit(`${pick} = select ${cmpTy} ${better}, ${ty} ${b}, ${ty} ${a}`);
      const bNaN = this.t();
      this.emit(`${bNaN} = fcmp uno ${ty} ${b}, ${b}`);
      this.emit(`${result} = select ${cmpTy} ${bNaN}, ${ty} ${b}, ${ty} ${pick}`);
      return result;
    }
    const c = this.t();
    this.emit(`${c} = icmp ${op === "max" ? "sgt" : "slt"} ${ty} ${a}, ${b}`);
    this.emit(`${result} = select ${cmpTy} ${c}, ${ty} ${a}, ${ty} ${b}`);
    return result;
  }

  private intrinsic(name: string, t: KType, args: string[]): string {
    const ty = llType(t);
    const fn = `@llvm.${name}.${suffix(t)}`;
    this.mod.declare(`declare ${ty} ${fn}(${args.map(() => ty).join(", ")})`);
    const r = this.t();
    this.emit(`${r} = call ${ty} ${fn}(${args.map((a) => `${ty} ${a}`).join(", ")})`);
    return r;
  }

  private prim(result: KValue, prim: KPrim, args: readonly KValue[]): void {
    const t = args[0]!.type;
    const ty = llType(t);
    const a = args.map((x) => this.ref(x));
    const out = this.def(result);
    const isFloat = t.elem === "f32";
    const cmpTy = t.width === 1 ? "i1" : `<${t.width} x i1>`;
    const assign = (expr: string) => this.emit(`${out} = ${expr}`);
    const alias = (name: string): void => {
      this.names.set(result, name);
    };
    switch (prim) {
      case "add": return assign(`${isFloat ? "fadd" : "add"} ${ty} ${a[0]}, ${a[1]}`);
      case "sub": return assign(`${isFloat ? "fsub" : "sub"} ${ty} ${a[0]}, ${a[1]}`);
      case "mul": return assign(`${isFloat ? "fmul" : "mul"} ${ty} ${a[0]}, ${a[1]}`);
      case "div":
        if (isFloat) return assign(`fdiv ${ty} ${a[0]}, ${a[1]}`);
        return alias(this.floorDiv(t, a[0]!, a[1]!, false));
      case "rem":
        return alias(this.floorDiv(t, a[0]!, a[1]!, true));
      case "neg": return assign(isFloat ? `fneg ${ty} ${a[0]}` : `sub ${ty} ${t.width === 1 ? "0" : "zeroinitializer"}, ${a[0]}`);
      case "abs":
        if (isFloat) return alias(this.intrinsic("fabs", t, [a[0]!]));
        {
          const neg = this.t();
          this.emit(`${neg} = sub ${ty} ${t.width === 1 ? "0" : "zeroinitializer"}, ${a[0]}`);
          const c = this.t();
          this.emit(`${c} = icmp slt ${ty} ${a[0]}, ${t.width === 1 ? "0" : "zeroinitializer"}`);
          return assign(`select ${cmpTy} ${c}, ${ty} ${neg}, ${ty} ${a[0]}`);
        }
      case "max":
      case "min":
        this.minMax(prim, t, a[0]!, a[1]!, out);
        return;
      case "sqrt": return alias(this.intrinsic("sqrt", t, [a[0]!]));
      case "exp": return alias(this.intrinsic("exp", t, [a[0]!]));
      case "log": return alias(this.intrinsic("log", t, [a[0]!]));
      case "floor": return alias(this.intrinsic("floor", t, [a[0]!]));
      case "fma": return alias(this.intrinsic("fmuladd", t, [a[0]!, a[1]!, a[2]!]));
      case "pow":
        if (isFloat) return alias(this.intrinsic("pow", t, [a[0]!, a[1]!]));
        return alias(this.intPow(t, a[0]!, a[1]!));
      case "tanh": return alias(this.perLane(t, a[0]!, "tanhf"));
      case "eq": case "ne": case "lt": case "le": case "gt": case "ge": {
        const f = { eq: "oeq", ne: "une", lt: "olt", le: "ole", gt: "ogt", ge: "oge" }[prim];
        // bools compare as 0 < 1 (unsigned); i32 and index are signed.
        const i = (t.elem === "bool" ? { eq: "eq", ne: "ne", lt: "ult", le: "ule", gt: "ugt", ge: "uge" } : { eq: "eq", ne: "ne", lt: "slt", le: "sle", gt: "sgt", ge: "sge" })[prim];
        return assign(isFloat ? `fcmp ${f} ${ty} ${a[0]}, ${a[1]}` : `icmp ${i} ${ty} ${a[0]}, ${a[1]}`);
      }
      case "and": return assign(`and ${ty} ${a[0]}, ${a[1]}`);
      case "or": return assign(`or ${ty} ${a[0]}, ${a[1]}`);
      case "not": return assign(`xor ${ty} ${a[0]}, ${t.width === 1 ? "true" : `<${Array.from({ length: t.width }, () => "i1 true").join(", ")}>`}`);
      case "select": {
        const vt = llType(args[1]!.type);
        return assign(`select ${llType(args[0]!.type)} ${a[0]}, ${vt} ${a[1]}, ${vt} ${a[2]}`);
      }
      case "cast":
        return alias(this.cast(t, result.type, a[0]!));
    }
  }

  /** Floor division / modulo for i32 (x / 0 = 0, as the interpreter); index operands are non-negative. */
  private floorDiv(t: KType, x: string, y: string, remainder: boolean): string {
    const ty = llType(t);
    const zero = t.width === 1 ? "0" : "zeroinitializer";
    if (t.elem === "index") {
      const r = this.t();
      this.emit(`${r} = ${remainder ? "srem" : "sdiv"} ${ty} ${x}, ${y}`);
      return r;
    }
    const cmpTy = t.width === 1 ? "i1" : `<${t.width} x i1>`;
    const one = t.width === 1 ? "1" : `<${Array.from({ length: t.width }, () => "i32 1").join(", ")}>`;
    const isZero = this.t();
    this.emit(`${isZero} = icmp eq ${ty} ${y}, ${zero}`);
    // INT_MIN / -1 traps in hardware; the interpreter wraps it to INT_MIN (remainder 0): divide by 1 there.
    const minInt = t.width === 1 ? "-2147483648" : `<${Array.from({ length: t.width }, () => "i32 -2147483648").join(", ")}>`;
    const minusOne = t.width === 1 ? "-1" : `<${Array.from({ length: t.width }, () => "i32 -1").join(", ")}>`;
    const xMin = this.t();
    this.emit(`${xMin} = icmp eq ${ty} ${x}, ${minInt}`);
    const yNeg = this.t();
    this.emit(`${yNeg} = icmp eq ${ty} ${y}, ${minusOne}`);
    const overflow = this.t();
    this.emit(`${overflow} = and ${cmpTy} ${xMin}, ${yNeg}`);
    const unsafe = this.t();
    this.emit(`${unsafe} = or ${cmpTy} ${isZero}, ${overflow}`);
    const safe = this.t();
    this.emit(`${safe} = select ${cmpTy} ${unsafe}, ${ty} ${one}, ${ty} ${y}`);
    const q = this.t();
    this.emit(`${q} = sdiv ${ty} ${x}, ${safe}`);
    const r = this.t();
    this.emit(`${r} = srem ${ty} ${x}, ${safe}`);
    const rNonZero = this.t();
    this.emit(`${rNonZero} = icmp ne ${ty} ${r}, ${zero}`);
    const signs = this.t();
    this.emit(`${signs} = xor ${ty} ${r}, ${safe}`);
    const differ = this.t();
    this.emit(`${differ} = icmp slt ${ty} ${signs}, ${zero}`);
    const adjust = this.t();
    this.emit(`${adjust} = and ${cmpTy} ${rNonZero}, ${differ}`);
    const fixed = this.t();
    if (remainder) this.emit(`${fixed} = add ${ty} ${r}, ${safe}`);
    else this.emit(`${fixed} = sub ${ty} ${q}, ${one}`);
    const result = this.t();
    this.emit(`${result} = select ${cmpTy} ${adjust}, ${ty} ${fixed}, ${ty} ${remainder ? r : q}`);
    const final = this.t();
    this.emit(`${final} = select ${cmpTy} ${isZero}, ${ty} ${zero}, ${ty} ${result}`);
    return final;
  }

  /** i32 x^y as the interpreter computes it: in doubles, truncated (lane by lane for vectors). */
  private intPow(t: KType, x: string, y: string): string {
    this.mod.declare("declare double @llvm.pow.f64(double, double)");
    const one = (a: string, b: string): string => {
      const fx = this.t();
      this.emit(`${fx} = sitofp i32 ${a} to double`);
      const fy = this.t();
      this.emit(`${fy} = sitofp i32 ${b} to double`);
      const p = this.t();
      this.emit(`${p} = call double @llvm.pow.f64(double ${fx}, double ${fy})`);
      const r = this.t();
      this.emit(`${r} = fptosi double ${p} to i32`);
      return r;
    };
    if (t.width === 1) return one(x, y);
    let acc = "undef";
    for (let i = 0; i < t.width; i++) {
      const a = this.t();
      this.emit(`${a} = extractelement ${llType(t)} ${x}, i32 ${i}`);
      const b = this.t();
      this.emit(`${b} = extractelement ${llType(t)} ${y}, i32 ${i}`);
      const next = this.t();
      this.emit(`${next} = insertelement ${llType(t)} ${acc}, i32 ${one(a, b)}, i32 ${i}`);
      acc = next;
    }
    return acc;
  }

  /** A libm function applied lane by lane. */
  private perLane(t: KType, x: string, fn: string): string {
    this.mod.declare(`declare float @${fn}(float)`);
    if (t.width === 1) {
      const r = this.t();
      this.emit(`${r} = call float @${fn}(float ${x})`);
      return r;
    }
    let acc = "undef";
    for (let i = 0; i < t.width; i++) {
      const lane = this.t();
      this.emit(`${lane} = extractelement ${llType(t)} ${x}, i32 ${i}`);
      const r = this.t();
      this.emit(`${r} = call float @${fn}(float ${lane})`);
      const next = this.t();
      this.emit(`${next} = insertelement ${llType(t)} ${acc}, float ${r}, i32 ${i}`);
      acc = next;
    }
    return acc;
  }

  private cast(from: KType, to: KType, x: string): string {
    const src = llType(from);
    const dst = llType(to);
    const r = this.t();
    const zero = from.width === 1 ? (from.elem === "f32" ? "0.0" : "0") : "zeroinitializer";
    const key = `${from.elem}->${to.elem}`;
    switch (key) {
      case "f32->i32": case "f32->index": this.emit(`${r} = fptosi ${src} ${x} to ${dst}`); break;
      case "i32->f32": case "index->f32": this.emit(`${r} = sitofp ${src} ${x} to ${dst}`); break;
      case "bool->f32": this.emit(`${r} = uitofp ${src} ${x} to ${dst}`); break;
      case "bool->i32": case "bool->index": this.emit(`${r} = zext ${src} ${x} to ${dst}`); break;
      case "i32->index": this.emit(`${r} = sext ${src} ${x} to ${dst}`); break;
      case "index->i32": this.emit(`${r} = trunc ${src} ${x} to ${dst}`); break;
      case "f32->bool": this.emit(`${r} = fcmp une ${src} ${x}, ${zero}`); break;
      case "i32->bool": case "index->bool": this.emit(`${r} = icmp ne ${src} ${x}, ${zero}`); break;
      default:
        if (from.elem === to.elem) return x;
        throw new TfcError("TFC6020", `LLVM emitter: no cast from ${from.elem} to ${to.elem}`);
    }
    return r;
  }
}


export interface EmitOptions {
  /** Prefix of every symbol (`mnist_cnn_avx2`), so several versions link into one library. */
  readonly prefix: string;
  /** Target triple (default x86_64-unknown-linux-gnu). Its data layout is written into the module,
   *  so that opt folds struct offsets (outlined loop contexts) exactly as llc lays them out. */
  readonly triple?: string;
}

const DATA_LAYOUTS: Record<string, string> = {
  x86_64: "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-f80:128-n8:16:32:64-S128",
  aarch64: "e-m:e-i8:8:32-i16:16:32-i64:64-i128:128-n32:64-S128",
};

export function normalizeTriple(triple: string | undefined): string {
  if (!triple) return "x86_64-unknown-linux-gnu";
  const [arch, ...rest] = triple.split("-");
  return rest.length >= 2 ? triple : `${arch}-unknown-${rest.join("-") || "linux-gnu"}`;
}

function dataLayout(triple: string): string {
  const arch = triple.split("-")[0]!;
  const layout = DATA_LAYOUTS[arch];
  if (!layout) throw new TfcError("TFC6006", `tfc has no data layout for target '${triple}' (supported: ${Object.keys(DATA_LAYOUTS).join(", ")})`);
  return layout;
}

/** The whole LLVM module for one program: kernels, outlined bodies and `<prefix>_run`. */
export function emitProgram(program: KProgram, opts: EmitOptions): string {
  const mod = new ModuleWriter(opts.prefix);
  for (const kernel of program.kernels) {
    const w = new FunctionWriter(mod, kernel, "%ex");
    const params = ["i8* %ex"];
    for (const p of kernel.params) {
      if (p.kind === "buffer") {
        const name = `%p_${p.name}`;
        w.bindBuffer(p, name);
        params.push(`${MEM[p.elem]}* noalias ${name}`);
      } else {
        const name = `%s_${p.name}`;
        w.bindValue(p.value, name);
        params.push(`${llType(p.value.type)} ${name}`);
      }
    }
    w.body(kernel.body);
    const text = w.finish();
    mod.functions.push(`define internal void @${opts.prefix}_${kernel.name}(${params.join(", ")}) #0 {\n${text}\n  ret void\n}`);
  }
  // The entry points: buffer pointers from an array (program.buffers order), kernels in launch
  // order; `<prefix>_prepare` runs the prepare launches (packed weights), `<prefix>_run` the rest.
  const entry = (fnName: string, launches: readonly KLaunch[]): string => {
    const run: string[] = [];
    program.buffers.forEach((b, i) => {
      if (!launches.some((l) => l.buffers.includes(b))) return;
      run.push(`  %bp${i} = getelementptr inbounds i8*, i8** %bufs, i64 ${i}`, `  %braw${i} = load i8*, i8** %bp${i}`);
      run.push(`  %b${i} = bitcast i8* %braw${i} to ${MEM[b.elem]}*`);
    });
    for (const launch of launches) {
      const args = ["i8* %ex"];
      const bufs = launch.kernel.buffers();
      if (bufs.length !== launch.buffers.length) {
        throw new TfcError("TFC6020", `launch of ${launch.kernel.name} binds ${launch.buffers.length} buffers, the kernel takes ${bufs.length}`);
      }
      let k = 0;
      for (const p of launch.kernel.params) {
        if (p.kind === "buffer") {
          const b = launch.buffers[k++]!;
          args.push(`${MEM[b.elem]}* %b${program.buffers.indexOf(b)}`);
        } else {
          if (p.name !== "n") throw new TfcError("TFC6020", `kernel ${launch.kernel.name} takes scalar '${p.name}'; only the batch size 'n' is bound at launch`);
          args.push("i64 %n");
        }
      }
      run.push(`  call void @${opts.prefix}_${launch.kernel.name}(${args.join(", ")})`);
    }
    run.push("  ret void");
    return `define void @${opts.prefix}_${fnName}(i8* %ex, i8** %bufs, i64 %n) #0 {\nentry:\n${run.join("\n")}\n}`;
  };
  const triple = normalizeTriple(opts.triple);
  return [
    `; tfc: program @${program.name}, ${program.kernels.length} kernels`,
    `target datalayout = "${dataLayout(triple)}"`,
    `target triple = "${triple}"`,
    "declare void @tfc_parallel_for(i8*, void (i8*, i64, i64)*, i8*, i64, i64)",
    "declare void @tfc_fail(i8*, i32)",
    ...[...mod.declarations].sort(),
    "",
    ...mod.functions,
    entry("run", program.launches),
    entry("prepare", program.prepare),
    "",
    "attributes #0 = { nounwind }",
    "",
  ].join("\n");
}
