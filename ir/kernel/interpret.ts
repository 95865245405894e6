// The kernel IR interpreter: runs one kernel on typed arrays, or a whole program (arena, consts,
// launches in order) on inputs and parameters. Its arithmetic is ir/scalar.ts's compileScalar,
// op for op, so it is the oracle that lowering tests and backends are compared with, and a safety
// net: out-of-range accesses, races between parallel iterations and tfc_fail raise TfcErrors.
//
// Semantics beyond compileScalar: `index` is an exact integer (|x| < 2^53, else TFC4114);
// div floors and rem is the matching floor-mod (its sign is the divisor's), so x = div·y + rem;
// i32 div by 0 gives 0 (as compileScalar), i32 rem by 0 gives x, index div/rem by 0 throws;
// i32 pow is Math.pow wrapped like compileScalar (index pow must stay an exact integer); fma rounds
// a·b + c once; cast f32→index truncates (nan/inf throw); k.reduce folds lanes left to right;
// bool lanes loaded from memory read nonzero bytes as true; parallel loops run in order.

import type { KBufferParam, KElem, KFunc, KPrim, KProgram, KProgramBuffer, KSize, KStmt, KValue, KVar } from "./kir.js";
import { verifyKFunc, verifyKProgram, ELEM_BYTES } from "./verify.js";
import { kernelNames, printKStmtHead } from "./print.js";
import { TfcError } from "../errors.js";

export type KBufferData = Float32Array | Int32Array | Uint8Array;

export interface KInterpretOptions {
  /** Record every buffer access inside parallel loops and report iterations that conflict (default true). */
  readonly checkRaces?: boolean;
}

/**
 * Run a kernel. `buffers` holds every buffer parameter by name (Float32Array for f32, Int32Array
 * for i32, Uint8Array for bool); stores write into them. `scalars` holds every scalar parameter.
 */
export function interpretKFunc(
  fn: KFunc,
  buffers: ReadonlyMap<string, KBufferData>,
  scalars: ReadonlyMap<string, number>,
  opts: KInterpretOptions = {},
): void {
  verifyKFunc(fn);
  runKernel(fn, buffers, scalars, opts);
}

/**
 * Run a program with batch size `batch`: `inputs` in signature order, `params` by parameter name
 * (kernels may update them in place, as train steps do). Temps are views into one arena of the
 * planned size, so a wrong memory plan shows; the arena and the outputs start filled with 0xFF
 * bytes (f32 NaN, i32 -1) so reading what no kernel wrote shows too. Every scalar parameter of a
 * launched kernel receives the batch size. The prepare launches (packed weights) run first, on
 * every call. Returns the outputs in signature order.
 */
export function interpretKProgram(
  p: KProgram,
  inputs: readonly KBufferData[],
  params: ReadonlyMap<string, KBufferData>,
  batch: number,
  opts: KInterpretOptions = {},
): KBufferData[] {
  verifyKProgram(p);
  if (!Number.isSafeInteger(batch) || batch < 0) throw new TfcError("TFC4111", `the batch size must be a non-negative integer, got ${batch}`);
  const atBatch = (s: KSize) => s.constant + s.perBatch * batch;
  const arena = new ArrayBuffer(atBatch(p.arenaBytes));
  new Uint8Array(arena).fill(0xff);
  const data = new Map<KProgramBuffer, KBufferData>();
  const outputs: KBufferData[] = [];
  const inputCount = p.buffers.filter((b) => b.role === "input").length;
  if (inputs.length !== inputCount) throw new TfcError("TFC4111", `@${p.name} takes ${inputCount} input${inputCount === 1 ? "" : "s"}, got ${inputs.length}`);
  for (const b of p.buffers) {
    const length = atBatch(b.size);
    let array: KBufferData;
    switch (b.role) {
      case "input":
        array = checkArray(inputs[b.ref as number]!, b.elem, length, `input ${b.ref as number} (%${b.name}) of @${p.name}`);
        break;
      case "param": {
        const given = params.get(b.ref as string);
        if (!given) throw new TfcError("TFC4111", `@${p.name} needs parameter "${b.ref as string}"`);
        array = checkArray(given, b.elem, length, `parameter "${b.ref as string}"`);
        break;
      }
      case "const":
        array = b.data!;
        break;
      case "temp":
        array = view(b.elem, arena, atBatch(b.offset!), length);
        break;
      case "output":
        array = view(b.elem, new ArrayBuffer(length * ELEM_BYTES[b.elem]), 0, length);
        new Uint8Array(array.buffer).fill(0xff);
        outputs[b.ref as number] = array;
        break;
      case "packed": // computed by the prepare launches, which run first on every call here
        array = view(b.elem, new ArrayBuffer(length * ELEM_BYTES[b.elem]), 0, length);
        new Uint8Array(array.buffer).fill(0xff);
        break;
    }
    data.set(b, array);
  }
  for (const launch of [...p.prepare, ...p.launches]) {
    const bound = new Map<string, KBufferData>();
    launch.kernel.buffers().forEach((param, i) => bound.set(param.name, data.get(launch.buffers[i]!)!));
    const scalars = new Map(launch.kernel.scalars().map((s) => [s.name, batch]));
    runKernel(launch.kernel, bound, scalars, opts);
  }
  return outputs;
}

function view(elem: KProgramBuffer["elem"], buffer: ArrayBuffer, byteOffset: number, length: number): KBufferData {
  return elem === "f32" ? new Float32Array(buffer, byteOffset, length) : elem === "i32" ? new Int32Array(buffer, byteOffset, length) : new Uint8Array(buffer, byteOffset, length);
}

const ARRAY_CLASS = { f32: Float32Array, i32: Int32Array, bool: Uint8Array } as const;

function checkArray(a: KBufferData | undefined, elem: KProgramBuffer["elem"], length: number, what: string): KBufferData {
  const kind = ARRAY_CLASS[elem];
  if (!(a instanceof kind)) throw new TfcError("TFC4111", `${what} must be a ${kind.name} (${elem}), got ${a ? (a as object).constructor.name : "nothing"}`);
  if (length >= 0 && a.length !== length) throw new TfcError("TFC4111", `${what} must have ${length} elements, got ${a.length}`);
  return a;
}

// ---------------------------------------------------------------------------------------------
// Lane semantics: one function per primitive and element type, applied to each lane.

type Lane = (a: number, b: number, c: number) => number;
type Lanes = readonly number[];

const fround = Math.fround;

function indexResult(x: number): number {
  if (!Number.isSafeInteger(x)) throw new TfcError("TFC4114", `index arithmetic gives ${x}, beyond the exact range ±2^53`);
  return x + 0; // no -0
}

/** Floor-mod: the sign of the divisor, so that a = floorDiv(a, b)·b + floorMod(a, b). */
function floorMod(a: number, b: number): number {
  const r = a % b;
  return (r !== 0 && r < 0 !== b < 0 ? r + b : r) + 0;
}

function indexFloorDiv(a: number, b: number): number {
  if (b === 0) throw new TfcError("TFC4114", `index division of ${a} by zero`);
  return indexResult((a - floorMod(a, b)) / b);
}

const f64 = new Float64Array(1);
const bits = new BigUint64Array(f64.buffer);

/** a·b + c rounded once to f32. a·b of two f32s is exact in a double; the sum is rounded to odd, then to f32. */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  if (!Number.isFinite(s)) return fround(s);
  const cc = s - p;
  const err = p - (s - cc) + (c - cc); // s + err is exactly p + c (TwoSum)
  if (err === 0) return fround(s);
  f64[0] = s;
  if ((bits[0]! & 1n) === 0n) bits[0] = bits[0]! + (err > 0 === s > 0 ? 1n : -1n); // round to odd: step toward p + c
  return fround(f64[0]);
}

function byElem(prim: KPrim, elem: KElem, table: { readonly [E in KElem]?: Lane }): Lane {
  const lane = table[elem];
  if (!lane) throw new TfcError("TFC4101", `k.${prim} is not defined on ${elem}`);
  return lane;
}

const intMax: Lane = (a, b) => (a > b ? a : b);
const intMin: Lane = (a, b) => (a < b ? a : b);
const unaryF32 = (f: (x: number) => number) => (prim: KPrim, e: KElem): Lane => byElem(prim, e, { f32: (a) => fround(f(a)) });
const compare = (f: (a: number, b: number) => boolean) => (): Lane => (a, b) => (f(a, b) ? 1 : 0);

/** Each primitive's lane function for its operand element type (and, for cast, the target type). */
const PRIM_LANES: { readonly [P in KPrim]: (prim: P, elem: KElem, to: KElem) => Lane } = {
  add: (p, e) => byElem(p, e, { f32: (a, b) => fround(a + b), i32: (a, b) => (a + b) | 0, index: (a, b) => indexResult(a + b) }),
  sub: (p, e) => byElem(p, e, { f32: (a, b) => fround(a - b), i32: (a, b) => (a - b) | 0, index: (a, b) => indexResult(a - b) }),
  mul: (p, e) => byElem(p, e, { f32: (a, b) => fround(a * b), i32: Math.imul, index: (a, b) => indexResult(a * b) }),
  div: (p, e) => byElem(p, e, { f32: (a, b) => fround(a / b), i32: (a, b) => (b === 0 ? 0 : Math.floor(a / b) | 0), index: indexFloorDiv }),
  rem: (p, e) => byElem(p, e, {
    i32: (a, b) => (b === 0 ? a : floorMod(a, b) | 0),
    index: (a, b) => {
      if (b === 0) throw new TfcError("TFC4114", `index remainder of ${a} by zero`);
      return floorMod(a, b);
    },
  }),
  neg: (p, e) => byElem(p, e, { f32: (a) => fround(-a), i32: (a) => -a | 0, index: (a) => 0 - a }),
  abs: (p, e) => byElem(p, e, { f32: (a) => fround(Math.abs(a)), i32: (a) => Math.abs(a) | 0, index: Math.abs }),
  max: (p, e) => byElem(p, e, { f32: (a, b) => (a !== a || b !== b ? NaN : Math.max(a, b)), i32: intMax, index: intMax }),
  min: (p, e) => byElem(p, e, { f32: (a, b) => (a !== a || b !== b ? NaN : Math.min(a, b)), i32: intMin, index: intMin }),
  sqrt: unaryF32(Math.sqrt),
  exp: unaryF32(Math.exp),
  log: unaryF32(Math.log),
  tanh: unaryF32(Math.tanh),
  floor: unaryF32(Math.floor),
  pow: (p, e) => byElem(p, e, { f32: (a, b) => fround(Math.pow(a, b)), i32: (a, b) => Math.pow(a, b) | 0, index: (a, b) => indexResult(Math.pow(a, b)) }),
  fma: (p, e) => byElem(p, e, { f32: fmaF32 }),
  eq: compare((a, b) => a === b),
  ne: compare((a, b) => a !== b),
  lt: compare((a, b) => a < b),
  le: compare((a, b) => a <= b),
  gt: compare((a, b) => a > b),
  ge: compare((a, b) => a >= b),
  and: () => (a, b) => a & b,
  or: () => (a, b) => a | b,
  not: () => (a) => 1 - a,
  select: () => (c, a, b) => (c ? a : b),
  cast: (_, from, to) => {
    if (to === "bool") return (a) => (a !== 0 ? 1 : 0);
    if (to === "f32") return from === "f32" ? (a) => a : fround;
    if (to === "i32") return from === "f32" ? (a) => Math.trunc(a) | 0 : (a) => a | 0;
    if (from !== "f32") return (a) => a;
    return (a) => {
      if (!Number.isFinite(a)) throw new TfcError("TFC4114", `cast of ${a} to index`);
      return indexResult(Math.trunc(a));
    };
  },
};

/** The lane function of a primitive on operands of `elem` (for cast: converting to `to`). */
export function primLane(prim: KPrim, elem: KElem, to: KElem = elem): Lane {
  return (PRIM_LANES[prim] as (prim: KPrim, elem: KElem, to: KElem) => Lane)(prim, elem, to);
}

// ---------------------------------------------------------------------------------------------
// Running a kernel: statements compile to closures over slot-indexed values, then run once.

interface Frame {
  readonly values: Lanes[];
  readonly vars: Lanes[];
}
type Exec = (f: Frame) => void;

/** Accesses inside one run of a parallel loop, per element: which iteration wrote it, which read it. */
class ParallelAccesses {
  iteration = 0;
  readonly elements = new Map<KBufferData, Map<number, { writer: number; reader: number }>>();
  constructor(
    readonly loop: Extract<KStmt, { kind: "for" }>,
    readonly lo: number,
  ) {}
}
const NONE = -1;
const SEVERAL = -2;

function runKernel(fn: KFunc, buffers: ReadonlyMap<string, KBufferData>, scalars: ReadonlyMap<string, number>, opts: KInterpretOptions): void {
  const arrays = new Map<KBufferParam, KBufferData>();
  const known = new Set(fn.params.map((p) => p.name));
  for (const name of [...buffers.keys(), ...scalars.keys()]) {
    if (!known.has(name)) throw new TfcError("TFC4111", `@${fn.name} has no parameter %${name}`);
  }
  for (const b of fn.buffers()) arrays.set(b, checkArray(buffers.get(b.name), b.elem, -1, `buffer %${b.name} of @${fn.name}`));
  const runner = new KernelRunner(fn, arrays, opts.checkRaces ?? true);
  const frame: Frame = { values: [], vars: [] };
  for (const s of fn.scalars()) {
    const v = scalars.get(s.name);
    if (v === undefined) throw new TfcError("TFC4111", `@${fn.name} needs scalar %${s.name}`);
    const elem = s.value.type.elem;
    const ok = elem === "index" ? Number.isSafeInteger(v) : elem === "i32" ? (v | 0) === v : elem === "bool" ? v === 0 || v === 1 : Number.isNaN(v) || fround(v) === v;
    if (!ok) throw new TfcError("TFC4111", `scalar %${s.name} of @${fn.name} is ${elem}, got ${v}`);
    frame.values[runner.slot(s.value)] = [v + 0];
  }
  const body = runner.block(fn.body);
  try {
    body(frame);
  } catch (e) {
    if (e instanceof TfcError && runner.current && !e.notes.some((n) => n.startsWith("in @"))) {
      e.notes.push(`in @${fn.name}: ${printKStmtHead(runner.current, kernelNames(fn))}`);
    }
    throw e;
  }
}

class KernelRunner {
  private readonly slots = new Map<KValue, number>();
  private readonly varSlots = new Map<KVar, number>();
  /** Parallel loops running now, outermost first. */
  private readonly parallel: ParallelAccesses[] = [];
  /** The statement that may throw next (for the error's note). */
  current: KStmt | undefined;

  constructor(
    private readonly fn: KFunc,
    private readonly arrays: ReadonlyMap<KBufferParam, KBufferData>,
    private readonly checkRaces: boolean,
  ) {}

  slot(v: KValue): number {
    let s = this.slots.get(v);
    if (s === undefined) this.slots.set(v, (s = this.slots.size));
    return s;
  }
  private varSlot(v: KVar): number {
    let s = this.varSlots.get(v);
    if (s === undefined) this.varSlots.set(v, (s = this.varSlots.size));
    return s;
  }

  block(stmts: readonly KStmt[]): Exec {
    const execs = stmts.map((s) => this.stmt(s));
    return (f) => {
      for (const e of execs) e(f);
    };
  }

  private stmt(s: KStmt): Exec {
    switch (s.kind) {
      case "const": {
        const r = this.slot(s.result);
        const e = s.result.type.elem;
        const lanes: Lanes = new Array<number>(s.result.type.width).fill(e === "i32" ? s.value | 0 : e === "index" ? s.value + 0 : s.value);
        return (f) => void (f.values[r] = lanes);
      }
      case "prim": {
        const r = this.slot(s.result);
        const [a, b, c] = s.args.map((x) => this.slot(x));
        const lane = primLane(s.prim, s.args[0]!.type.elem, s.result.type.elem);
        const width = s.result.type.width;
        return (f) => {
          this.current = s;
          const x = f.values[a!]!;
          const y = b === undefined ? x : f.values[b]!;
          const z = c === undefined ? x : f.values[c]!;
          const out = new Array<number>(width);
          for (let l = 0; l < width; l++) out[l] = lane(x[l]!, y[l]!, z[l]!);
          f.values[r] = out;
        };
      }
      case "broadcast": {
        const [r, a, width] = [this.slot(s.result), this.slot(s.arg), s.result.type.width];
        return (f) => void (f.values[r] = new Array<number>(width).fill(f.values[a]![0]!));
      }
      case "reduce": {
        const [r, a] = [this.slot(s.result), this.slot(s.arg)];
        const lane = primLane(s.op, s.arg.type.elem);
        return (f) => {
          const x = f.values[a]!;
          let acc = x[0]!;
          for (let l = 1; l < x.length; l++) acc = lane(acc, x[l]!, acc);
          f.values[r] = [acc];
        };
      }
      case "load": {
        const [r, ix, width, array] = [this.slot(s.result), this.slot(s.index), s.result.type.width, this.arrays.get(s.buffer)!];
        const bool = s.buffer.elem === "bool";
        return (f) => {
          this.current = s;
          const i = f.values[ix]![0]!;
          this.access(s.buffer, array, i, width, false);
          const out = new Array<number>(width);
          for (let l = 0; l < width; l++) out[l] = bool ? (array[i + l] !== 0 ? 1 : 0) : array[i + l]!;
          f.values[r] = out;
        };
      }
      case "store": {
        const [ix, v, width, array] = [this.slot(s.index), this.slot(s.value), s.value.type.width, this.arrays.get(s.buffer)!];
        return (f) => {
          this.current = s;
          const i = f.values[ix]![0]!;
          this.access(s.buffer, array, i, width, true);
          const x = f.values[v]!;
          for (let l = 0; l < width; l++) array[i + l] = x[l]!;
        };
      }
      case "var": {
        const [slot, init] = [this.varSlot(s.var), this.slot(s.init)];
        return (f) => void (f.vars[slot] = f.values[init]!);
      }
      case "get": {
        const [r, slot] = [this.slot(s.result), this.varSlot(s.var)];
        return (f) => void (f.values[r] = f.vars[slot]!);
      }
      case "set": {
        const [slot, v] = [this.varSlot(s.var), this.slot(s.value)];
        return (f) => void (f.vars[slot] = f.values[v]!);
      }
      case "for": {
        const [iv, lo, hi, step] = [this.slot(s.iv), this.slot(s.lo), this.slot(s.hi), s.step];
        const body = this.block(s.body);
        const track = s.parallel && this.checkRaces;
        return (f) => {
          const first = f.values[lo]![0]!;
          const end = f.values[hi]![0]!;
          if (!track) {
            for (let i = first; i < end; i += step) {
              f.values[iv] = [i];
              body(f);
            }
            return;
          }
          const accesses = new ParallelAccesses(s, first);
          this.parallel.push(accesses);
          try {
            for (let i = first, k = 0; i < end; i += step, k++) {
              accesses.iteration = k;
              f.values[iv] = [i];
              body(f);
            }
          } finally {
            this.parallel.pop();
          }
        };
      }
      case "if": {
        const [cond, then, otherwise] = [this.slot(s.cond), this.block(s.then), this.block(s.else)];
        return (f) => (f.values[cond]![0] ? then : otherwise)(f);
      }
      case "call": {
        const args = s.args.map((a) => this.slot(a));
        return (f) => {
          this.current = s;
          const values = args.map((a) => f.values[a]![0]);
          throw new TfcError("TFC6100", `@${this.fn.name} called ${s.fn}(${values.join(", ")})`, { notes: [`error code ${values[0]}`] });
        };
      }
    }
  }

  /** Range check, then (inside parallel loops) the race check of elements [i, i + width). */
  private access(buffer: KBufferParam, array: KBufferData, i: number, width: number, write: boolean): void {
    if (!(i >= 0 && i + width <= array.length)) {
      const what = width === 1 ? `element ${i}` : `elements ${i}…${i + width - 1}`;
      throw new TfcError("TFC4110", `@${this.fn.name}: k.${write ? "store" : "load"} ${write ? "into" : "from"} %${buffer.name} at index ${i}: ${what} out of range (%${buffer.name} has ${array.length})`);
    }
    for (const loop of this.parallel) {
      let elements = loop.elements.get(array);
      if (!elements) loop.elements.set(array, (elements = new Map()));
      const it = loop.iteration;
      for (let e = i; e < i + width; e++) {
        const rec = elements.get(e);
        if (!rec) {
          elements.set(e, write ? { writer: it, reader: NONE } : { writer: NONE, reader: it });
          continue;
        }
        if (rec.writer !== NONE && rec.writer !== it) throw this.race(loop, buffer, e, write, rec.writer, "wrote");
        if (write && rec.reader !== NONE && rec.reader !== it) throw this.race(loop, buffer, e, write, rec.reader, "read");
        if (write) rec.writer = it;
        else rec.reader = rec.reader === NONE || rec.reader === it ? it : SEVERAL;
      }
    }
  }

  private race(loop: ParallelAccesses, buffer: KBufferParam, element: number, write: boolean, other: number, otherDid: string): TfcError {
    const names = kernelNames(this.fn);
    const ivAt = (k: number) => loop.lo + k * loop.loop.step;
    const otherWhat = other === SEVERAL ? "other iterations" : `iteration ${names.value(loop.loop.iv)} = ${ivAt(other)}`;
    return new TfcError(
      "TFC4107",
      `data race in @${this.fn.name}: iteration ${names.value(loop.loop.iv)} = ${ivAt(loop.iteration)} of a parallel loop ${write ? "writes" : "reads"} %${buffer.name}[${element}], which ${otherWhat} ${otherDid}`,
      { notes: ["iterations of a parallel loop must touch disjoint elements unless all of them only read"] },
    );
  }
}
