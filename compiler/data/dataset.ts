// tf.data for tfc: lazy, async-iterable datasets with TF.js's semantics (array, zip, generator,
// batch, shuffle, map, …) plus TF Python's fromTensorSlices. Datasets hold concrete (eager)
// tensors and feed training loops; they are never traced into a compiled function.

import { TfcError, type SourceLoc } from "../../ir/errors.js";
import { allocData, flattenNested, hostTensor, type HostTensor } from "../../ir/tensor.js";
import type { DType } from "../../ir/types.js";
import { Tensor } from "../api/tensor.js";
import { convert } from "../api/ops.js";
import { currentUserLoc } from "../frontend/location.js";

type TypedArray = Float32Array | Int32Array | Uint8Array;

/** True when T holds a Tensor or an object inside arrays: such arrays are structures, not tensors. */
type HoldsStructure<T> = T extends Tensor ? true : T extends readonly (infer E)[] ? HoldsStructure<E> : T extends TypedArray ? false : T extends object ? true : false;

/**
 * An element with every tensor-like leaf (Tensor, number, boolean, typed array, nested numeric
 * array) replaced by a Tensor: what batch() yields for elements of type T, and what
 * fromTensorSlices() yields for a structure of type T.
 */
export type AsTensors<T> = T extends Tensor | number | boolean | TypedArray
  ? Tensor
  : T extends readonly (infer E)[]
    ? true extends HoldsStructure<E>
      ? { -readonly [K in keyof T]: AsTensors<T[K]> }
      : Tensor
    : T extends object
      ? { -readonly [K in keyof T]: AsTensors<T[K]> }
      : never;

/** What iterator() returns, as in TF.js: `await it.next()` gives `{ value, done }`. */
export interface DatasetIterator<T> {
  next(): Promise<IteratorResult<T, void>>;
}

type Source<T> = () => AsyncGenerator<T, void, undefined>;

/**
 * A lazy stream of elements, re-run from the start by each iteration. `size` is the number of
 * elements when it is known without iterating (Infinity for endless streams), else null — the
 * same rules as TF.js.
 */
export class Dataset<T> implements AsyncIterable<T> {
  readonly size: number | null;
  private readonly source: Source<T>;

  /** @internal Datasets are made by tf.data.array/zip/generator/csv/fromTensorSlices. */
  constructor(source: Source<T>, size: number | null) {
    this.source = source;
    this.size = size;
  }

  /** A fresh iterator over the elements (TF.js: `const it = await ds.iterator()`). */
  async iterator(): Promise<DatasetIterator<T>> {
    return this.source();
  }

  [Symbol.asyncIterator](): AsyncIterator<T, void, undefined> {
    return this.source();
  }

  /** Groups consecutive elements into batches: each leaf is stacked into a tensor with a leading batch dim. */
  batch(batchSize: number, smallLastBatch = true): Dataset<AsTensors<T>> {
    checkCount("batch", "batchSize", batchSize, 1);
    const loc = currentUserLoc();
    const base = this;
    const size = this.size === null || this.size === Infinity ? this.size : smallLastBatch ? Math.ceil(this.size / batchSize) : Math.floor(this.size / batchSize);
    return new Dataset(async function* () {
      let rows: T[] = [];
      for await (const element of base) {
        rows.push(element);
        if (rows.length === batchSize) {
          yield stackElements(rows, "", loc) as AsTensors<T>;
          rows = [];
        }
      }
      if (rows.length > 0 && smallLastBatch) yield stackElements(rows, "", loc) as AsTensors<T>;
    }, size);
  }

  /** This dataset's elements followed by `other`'s. */
  concatenate(other: Dataset<T>): Dataset<T> {
    const base = this;
    const size = this.size === Infinity || other.size === Infinity ? Infinity : this.size !== null && other.size !== null ? this.size + other.size : null;
    return new Dataset(async function* () {
      yield* base;
      yield* other;
    }, size);
  }

  /** The elements for which `predicate` (which may be async) is true. */
  filter(predicate: (value: T) => boolean | Promise<boolean>): Dataset<T> {
    const base = this;
    return new Dataset(async function* () {
      for await (const element of base) if (await predicate(element)) yield element;
    }, this.size === Infinity ? Infinity : null);
  }

  /** Calls `f` on each element in order, awaiting it if it returns a promise. */
  async forEachAsync(f: (value: T) => void | Promise<void>): Promise<void> {
    for await (const element of this) await f(element);
  }

  map<O>(transform: (value: T) => O): Dataset<O> {
    const base = this;
    return new Dataset(async function* () {
      for await (const element of base) yield transform(element);
    }, this.size);
  }

  mapAsync<O>(transform: (value: T) => Promise<O>): Dataset<O> {
    const base = this;
    return new Dataset(async function* () {
      for await (const element of base) yield await transform(element);
    }, this.size);
  }

  /** Requests up to `bufferSize` elements ahead of the consumer, so slow sources overlap with training. */
  prefetch(bufferSize: number): Dataset<T> {
    checkCount("prefetch", "bufferSize", bufferSize, 1);
    const base = this;
    return new Dataset(async function* () {
      const upstream = base.source();
      const pending: Promise<IteratorResult<T, void>>[] = [];
      try {
        for (;;) {
          while (pending.length < bufferSize) {
            const next = upstream.next();
            next.catch(() => {}); // rejections surface when awaited below, in order
            pending.push(next);
          }
          const result = await pending.shift()!;
          if (result.done) return;
          yield result.value;
        }
      } finally {
        await upstream.return();
      }
    }, this.size);
  }

  /** Repeats the dataset `count` times; forever when `count` is undefined or negative (TF.js). */
  repeat(count?: number): Dataset<T> {
    if (count !== undefined && !(count < 0)) checkCount("repeat", "count", count, 0);
    const forever = count === undefined || count < 0;
    const base = this;
    let size: number | null;
    if (this.size === 0 || count === 0) size = 0;
    else if (this.size === null) size = null;
    else size = forever ? Infinity : this.size * count!;
    return new Dataset(async function* () {
      for (let round = 0; forever || round < count!; round++) {
        let any = false;
        for await (const element of base) {
          any = true;
          yield element;
        }
        if (!any) return; // repeating an empty dataset forever is still empty
      }
    }, size);
  }

  /** All but the first `count` elements. */
  skip(count: number): Dataset<T> {
    checkCount("skip", "count", count, 0);
    const base = this;
    return new Dataset(async function* () {
      let seen = 0;
      for await (const element of base) if (seen++ >= count) yield element;
    }, this.size === null ? null : Math.max(0, this.size - count));
  }

  /**
   * A buffered shuffle: keeps `bufferSize` elements and emits a random one of them each step, so
   * with bufferSize >= size the order is a uniform random permutation. The same `seed` gives the
   * same order; with `reshuffleEachIteration` each iteration (epoch) draws a new order, else all
   * iterations repeat the first one.
   */
  shuffle(bufferSize: number, seed?: string | number, reshuffleEachIteration = true): Dataset<T> {
    checkCount("shuffle", "bufferSize", bufferSize, 1);
    if (seed !== undefined && typeof seed !== "string" && !(typeof seed === "number" && Number.isFinite(seed))) {
      throw new TfcError("TFC7001", `shuffle(): seed must be a string or a finite number, got ${describe(seed)}`, { loc: currentUserLoc() });
    }
    const seedText = seed === undefined ? String(Math.random()) : String(seed);
    const base = this;
    let iterations = 0;
    return new Dataset(async function* () {
      const random = new Random(`${seedText}#${reshuffleEachIteration ? iterations++ : 0}`);
      const buffer: T[] = [];
      for await (const element of base) {
        if (buffer.length < bufferSize) {
          buffer.push(element);
          continue;
        }
        const i = random.below(bufferSize);
        const chosen = buffer[i]!;
        buffer[i] = element;
        yield chosen;
      }
      while (buffer.length > 0) {
        const i = random.below(buffer.length);
        const chosen = buffer[i]!;
        buffer[i] = buffer[buffer.length - 1]!;
        buffer.pop();
        yield chosen;
      }
    }, this.size);
  }

  /** The first `count` elements; never pulls more than that from upstream. */
  take(count: number): Dataset<T> {
    checkCount("take", "count", count, 0, true);
    const base = this;
    return new Dataset(async function* () {
      if (count === 0) return;
      let taken = 0;
      for await (const element of base) {
        yield element;
        if (++taken >= count) return;
      }
    }, this.size === null ? null : Math.min(this.size, count));
  }

  async toArray(): Promise<T[]> {
    if (this.size === Infinity) {
      throw new TfcError("TFC7005", "toArray() on an endless dataset (size Infinity) would never finish", {
        loc: currentUserLoc(),
        notes: ["take(n) first to collect a finite prefix"],
      });
    }
    const out: T[] = [];
    for await (const element of this) out.push(element);
    return out;
  }
}

/** tf.data.array: a dataset of the given items, in order. */
export function array<T>(items: readonly T[]): Dataset<T> {
  return new Dataset(async function* () {
    for (let i = 0; i < items.length; i++) yield items[i]!;
  }, items.length);
}

/**
 * tf.data.generator: a dataset whose every iteration calls `fn` for a new (sync or async)
 * iterator, e.g. a generator function. Its size is unknown (null).
 */
export function generator<T>(fn: () => Iterator<T> | AsyncIterator<T> | Promise<Iterator<T> | AsyncIterator<T>>): Dataset<T> {
  return new Dataset(async function* () {
    const it = await fn();
    let finished = false;
    try {
      for (;;) {
        const result = await it.next();
        if (result.done) {
          finished = true;
          return;
        }
        yield result.value;
      }
    } finally {
      if (!finished) await it.return?.();
    }
  }, null);
}

/** A nested array/object of datasets, as tf.data.zip takes them. */
export type DatasetContainer = Dataset<any> | readonly DatasetContainer[] | { readonly [key: string]: DatasetContainer };
/** The element type of zip(S): S with each dataset replaced by its element type. */
export type Zipped<S> = S extends Dataset<infer E> ? E : { -readonly [K in keyof S]: Zipped<S[K]> };

/**
 * tf.data.zip: elements of several datasets side by side, in the structure they were given in
 * (`zip({xs, ys})` yields `{xs: x, ys: y}`). Ends with the shortest dataset, as in TF.js; but
 * datasets whose sizes are known, finite and different are an error, since silently dropping
 * data is almost always a bug.
 */
export function zip<const S extends DatasetContainer>(datasets: S): Dataset<Zipped<S>> {
  const loc = currentUserLoc();
  const { leaves, rebuild } = flattenStructure(datasets, "datasets", (v) => v instanceof Dataset);
  if (leaves.length === 0) throw new TfcError("TFC7003", "zip() needs at least one dataset", { loc });
  for (const leaf of leaves) {
    if (!(leaf.value instanceof Dataset)) throw new TfcError("TFC7003", `zip(): ${leaf.path} is ${describe(leaf.value)}; the leaves of its argument must be Datasets`, { loc });
  }
  const sets = leaves.map((l) => ({ path: l.path, dataset: l.value as Dataset<unknown> }));
  const finite = sets.filter((s) => s.dataset.size !== null && s.dataset.size !== Infinity);
  const mismatch = finite.find((s) => s.dataset.size !== finite[0]!.dataset.size);
  if (mismatch) {
    throw new TfcError("TFC7002", `zip(): ${finite[0]!.path} has ${finite[0]!.dataset.size} elements but ${mismatch.path} has ${mismatch.dataset.size}`, {
      loc,
      notes: ["take(n) the longer ones first if dropping the extra elements is intended"],
    });
  }
  const sizes = sets.map((s) => s.dataset.size);
  const size = sizes.includes(null) ? null : Math.min(...(sizes as number[]));
  // Built untyped and cast: typing the generator as yielding Zipped<S> makes tsc expand Awaited<Zipped<S>> without end.
  return new Dataset<unknown>(async function* () {
    const iterators = sets.map((s) => s.dataset[Symbol.asyncIterator]());
    try {
      for (;;) {
        const results = await Promise.all(iterators.map((it) => it.next()));
        if (results.some((r) => r.done)) return;
        yield rebuild(results.map((r) => r.value));
      }
    } finally {
      await Promise.all(iterators.map((it) => it.return?.()));
    }
  }, size) as Dataset<Zipped<S>>;
}

/** A nested array/object whose leaves are tensors (or values tf.tensor accepts). */
export type TensorStructure = Tensor | number | boolean | TypedArray | readonly TensorStructure[] | { readonly [key: string]: TensorStructure };

/**
 * TF Python's Dataset.from_tensor_slices: element i holds row i (along axis 0) of every tensor in
 * `x`, in x's structure. All tensors must have the same number of rows.
 */
export function fromTensorSlices<const S extends TensorStructure>(x: S): Dataset<AsTensors<S>> {
  const loc = currentUserLoc();
  const { leaves, rebuild } = flattenStructure(x, "x", (v) => !isStructure(v));
  if (leaves.length === 0) throw new TfcError("TFC7003", "fromTensorSlices() needs at least one tensor", { loc });
  const columns = leaves.map((leaf) => {
    if (!(leaf.value instanceof Tensor || isNumeric(leaf.value))) {
      throw new TfcError("TFC7003", `fromTensorSlices(): ${leaf.path} is ${describe(leaf.value)}, expected a tensor`, { loc });
    }
    const host = convert(leaf.value as Tensor, undefined, leaf.path).concrete("fromTensorSlices");
    if (host.shape.length === 0) throw new TfcError("TFC7003", `fromTensorSlices(): ${leaf.path} is a scalar; it has no axis 0 to slice`, { loc });
    return { path: leaf.path, host };
  });
  const rows = columns[0]!.host.shape[0]!;
  for (const c of columns) {
    if (c.host.shape[0] !== rows) {
      throw new TfcError("TFC7002", `fromTensorSlices(): ${columns[0]!.path} has ${rows} rows (axis 0) but ${c.path} has ${c.host.shape[0]}`, { loc });
    }
  }
  return new Dataset<unknown>(async function* () {
    for (let i = 0; i < rows; i++) yield rebuild(columns.map((c) => sliceRow(c.host, i)));
  }, rows) as Dataset<AsTensors<S>>;
}

function sliceRow(h: HostTensor, i: number): Tensor {
  const inner = h.shape.slice(1);
  const n = inner.reduce((a, b) => a * b, 1);
  return Tensor.fromHost(hostTensor(h.dtype, inner, h.data.slice(i * n, (i + 1) * n)));
}

// Structures: nested arrays and objects whose leaves are tensors, numbers, datasets, …

/** Tensor-like values that hold no structure: numbers, booleans, typed arrays, nested number arrays. */
function isNumeric(v: unknown): boolean {
  return typeof v === "number" || typeof v === "boolean" || ArrayBuffer.isView(v) || (Array.isArray(v) && !v.some(holdsStructure));
}

/** Whether v holds a tensor or an object: then an array is a structure to recurse into, not a tensor. */
function holdsStructure(v: unknown): boolean {
  if (v instanceof Tensor) return true;
  if (Array.isArray(v)) return v.some(holdsStructure);
  return typeof v === "object" && v !== null && !ArrayBuffer.isView(v);
}

/** An array or object to recurse into (as opposed to a leaf that becomes one tensor). */
function isStructure(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(holdsStructure);
  return typeof v === "object" && v !== null && !(v instanceof Tensor) && !ArrayBuffer.isView(v);
}

interface Leaf {
  readonly value: unknown;
  readonly path: string;
}

/** The leaves of a nested structure in a fixed order, and a function building the structure back from new leaves. */
function flattenStructure(root: unknown, rootName: string, isLeaf: (v: unknown) => boolean): { leaves: Leaf[]; rebuild: (values: unknown[]) => unknown } {
  const leaves: Leaf[] = [];
  const walk = (v: unknown, path: string): void => {
    if (isLeaf(v) || typeof v !== "object" || v === null) leaves.push({ value: v, path });
    else if (Array.isArray(v)) v.forEach((e, i) => walk(e, `${path}[${i}]`));
    else for (const [k, e] of Object.entries(v)) walk(e, `${path}.${k}`);
  };
  walk(root, rootName);
  const rebuild = (values: unknown[]): unknown => {
    let next = 0;
    const build = (v: unknown): unknown => {
      if (isLeaf(v) || typeof v !== "object" || v === null) return values[next++];
      if (Array.isArray(v)) return v.map(build);
      return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, build(e)]));
    };
    return build(root);
  };
  return { leaves, rebuild };
}

// Batching

/** Where in a batch a value sits: `xs.a of element 3`, or `element 3` for whole elements. */
const where = (path: string, i: number): string => (path ? `${path} of element ${i}` : `element ${i}`);

/** Stack rows that share one structure: recurse into arrays/objects, make each leaf a batched tensor. */
function stackElements(rows: unknown[], path: string, loc: SourceLoc | undefined): unknown {
  const first = rows[0];
  if (!isStructure(first)) return stackLeaves(rows, path, loc);
  const mismatch = (i: number, why: string) =>
    new TfcError("TFC7004", `batch(): ${where(path, i)} ${why} (the elements of a batch must have one structure)`, { loc });
  if (Array.isArray(first)) {
    rows.forEach((r, i) => {
      if (!Array.isArray(r) || r.length !== first.length) throw mismatch(i, `is ${describe(r)}, but in element 0 it is an array of length ${first.length}`);
    });
    return first.map((_, k) => stackElements(rows.map((r) => (r as unknown[])[k]), `${path}[${k}]`, loc));
  }
  const keys = Object.keys(first as object);
  rows.forEach((r, i) => {
    if (!isStructure(r) || Array.isArray(r)) throw mismatch(i, `is ${describe(r)}, but in element 0 it is an object`);
    const rk = Object.keys(r as object);
    if (rk.length !== keys.length || !keys.every((k) => k in (r as object))) throw mismatch(i, `has keys {${rk.join(", ")}}, but element 0 has {${keys.join(", ")}}`);
  });
  return Object.fromEntries(keys.map((k) => [k, stackElements(rows.map((r) => (r as Record<string, unknown>)[k]), path ? `${path}.${k}` : k, loc)]));
}

/** One batched tensor from leaves: tensors are stacked, numbers and arrays become a tensor as tf.tensor would make them. */
function stackLeaves(rows: unknown[], path: string, loc: SourceLoc | undefined): Tensor {
  if (rows[0] instanceof Tensor) {
    const hosts = rows.map((r, i) => {
      if (!(r instanceof Tensor)) throw new TfcError("TFC7004", `batch(): ${where(path, i)} is ${describe(r)}, but in element 0 it is a Tensor`, { loc });
      return r.concrete("batch");
    });
    const { dtype, shape } = hosts[0]!;
    hosts.forEach((h, i) => {
      if (h.dtype !== dtype || h.shape.length !== shape.length || h.shape.some((d, j) => d !== shape[j])) {
        throw new TfcError("TFC7004", `batch(): ${where(path, i)} is ${h.dtype}[${h.shape}], but in element 0 it is ${dtype}[${shape}]; a batch stacks tensors of one dtype and shape`, { loc });
      }
    });
    const inner = hosts[0]!.data.length;
    const data = allocData(dtype, inner * hosts.length);
    hosts.forEach((h, i) => data.set(h.data, i * inner));
    return Tensor.fromHost(hostTensor(dtype, [hosts.length, ...shape], data));
  }
  for (let i = 0; i < rows.length; i++) {
    if (!isNumeric(rows[i])) {
      const notes =
        typeof rows[i] === "string"
          ? ["tfc tensors hold numbers: map strings to numbers before batch(), or give the CSV column a numeric dtype"]
          : rows[i] === undefined
            ? ["an empty CSV value reads as undefined unless its column has a default"]
            : [];
      throw new TfcError("TFC7004", `batch(): ${where(path, i)} is ${describe(rows[i])}, which cannot be made into a tensor`, { loc, notes });
    }
  }
  let flat: { shape: number[]; values: number[] };
  try {
    flat = flattenNested(rows, "elements");
  } catch (e) {
    if (!(e instanceof TfcError)) throw e;
    throw new TfcError("TFC7004", `batch(): ${path || "the elements"} differ in shape: ${e.message}`, { loc });
  }
  return Tensor.fromHost(hostTensor(leafDType(rows), flat.shape, flat.values));
}

/** The dtype tf.tensor infers: bool for booleans, int32 for Int32Arrays, else float32. */
function leafDType(rows: unknown[]): DType {
  let v: unknown = rows;
  while (Array.isArray(v)) v = v[0];
  if (typeof v === "boolean") return "bool";
  return rows.every((r) => r instanceof Int32Array) ? "i32" : "f32";
}

// Argument checks and randomness

/** A count argument must be an integer >= min (Infinity allowed where `infinite` says so). */
function checkCount(method: string, name: string, value: unknown, min: number, infinite = false): void {
  const ok = typeof value === "number" && value >= min && (Number.isInteger(value) || (infinite && value === Infinity));
  if (!ok) {
    const want = min === 1 ? "a positive integer" : "a non-negative integer";
    throw new TfcError("TFC7001", `${method}(): ${name} must be ${want}, got ${describe(value)}`, { loc: currentUserLoc() });
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (v instanceof Tensor) return `a ${v.dtype} Tensor of shape [${v.shape}]`;
  if (v instanceof Dataset) return "a Dataset";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + "…" : v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

/** A seeded PRNG: sfc32 with its 128-bit state hashed from a string (cyrb128). */
class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string) {
    let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
    for (let i = 0; i < seed.length; i++) {
      const k = seed.charCodeAt(i);
      h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
      h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
      h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
      h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
    }
    h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
    h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
    h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
    h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
    h1 ^= h2 ^ h3 ^ h4;
    this.a = h1;
    this.b = h2 ^ h1;
    this.c = h3 ^ h1;
    this.d = h4 ^ h1;
    for (let i = 0; i < 12; i++) this.uint32(); // mix the state before use
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform integer in [0, n), without modulo bias (rejection sampling). */
  below(n: number): number {
    const limit = 2 ** 32 - (2 ** 32 % n);
    let r = this.uint32();
    while (r >= limit) r = this.uint32();
    return r % n;
  }
}
