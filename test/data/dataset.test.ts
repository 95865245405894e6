// tf.data against TF.js: each pipeline is written once and run on both, giving the same `size`
// and the same elements (dtype, shape and values of every tensor). Then what TF.js leaves open or
// does not have: shuffle's guarantees, prefetch, fromTensorSlices, and the error codes.

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tfjs from "@tensorflow/tfjs";
import * as tfc from "../../compiler/api/index.js";
import * as data from "../../compiler/data/index.js";
import { isTfcError } from "../util.js";

before(async () => {
  await tfjs.setBackend("cpu");
});

const ours = { ...tfc, data };
const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);

/** Elements as plain data: tensors (of either library) become {dtype, shape, values}. */
function plain(x: any): unknown {
  if (x && typeof x.dataSync === "function" && Array.isArray(x.shape)) return { dtype: x.dtype, shape: x.shape, values: Array.from(x.dataSync()) };
  if (Array.isArray(x)) return x.map(plain);
  if (x && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
}

async function elements(ds: { toArray(): Promise<unknown[]> }): Promise<unknown[]> {
  return (await ds.toArray()).map(plain);
}

const CASES: Record<string, (tf: any) => any> = {
  "numbers batched by 4": (tf) => tf.data.array(range(8)).batch(4),
  "small last batch kept": (tf) => tf.data.array(range(10)).batch(4),
  "small last batch dropped": (tf) => tf.data.array(range(10)).batch(4, false),
  "arrays become rows of a 2-D batch": (tf) => tf.data.array(range(8).map((x) => [x])).batch(3),
  "nested arrays become a 3-D batch": (tf) => tf.data.array([[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]]).batch(2),
  "objects batch key by key": (tf) => tf.data.array(range(8).map((a) => ({ a, b: a + 10 }))).batch(4),
  "nested objects and arrays": (tf) => tf.data.array(range(5).map((i) => ({ x: { p: i, q: [i, -i] }, y: i * 2 }))).batch(2),
  "booleans batch to bool": (tf) => tf.data.array([true, false, true]).batch(2),
  "tensors are stacked": (tf) => tf.data.array([tf.tensor1d([1, 2]), tf.tensor1d([3, 4]), tf.tensor1d([5, 6])]).batch(2),
  "int32 tensors stay int32": (tf) => tf.data.array([tf.tensor2d([[1, 2]], [1, 2], "int32"), tf.tensor2d([[3, 4]], [1, 2], "int32")]).batch(2),
  "zip of an object": (tf) => tf.data.zip({ a: tf.data.array([1, 2, 3]), b: tf.data.array([4, 5, 6]) }),
  "zip of an array, batched": (tf) => tf.data.zip([tf.data.array([1, 2, 3]), tf.data.array([4, 5, 6])]).batch(2),
  "zip of {xs, ys}, batched": (tf) => tf.data.zip({ xs: tf.data.array([[1, 2], [3, 4], [5, 6]]), ys: tf.data.array([0, 1, 0]) }).batch(2),
  "zip of zips": (tf) => tf.data.zip({ a: tf.data.array([1, 2]), b: tf.data.zip({ c: tf.data.array([3, 4]), d: tf.data.zip([tf.data.array([5, 6])]) }) }),
  "filter, map, skip, take in order": (tf) => tf.data.array(range(10)).filter((x: number) => x % 2 === 0).map((x: number) => x * x).skip(1).take(3),
  "repeat a number of times": (tf) => tf.data.array([1, 2, 3]).repeat(3),
  "repeat forever, then take": (tf) => tf.data.array([1, 2, 3]).repeat().take(7),
  "concatenate": (tf) => tf.data.array([1, 2]).concatenate(tf.data.array([3, 4, 5])),
  "take more than there is": (tf) => tf.data.array([1, 2, 3]).take(10),
  "skip more than there is": (tf) => tf.data.array([1, 2, 3]).skip(5),
  "take(0) and repeat(0)": (tf) => tf.data.array([1, 2, 3]).take(0).concatenate(tf.data.array([4]).repeat(0)),
  "batches of an endless dataset": (tf) => tf.data.array([1, 2, 3]).repeat().batch(2).take(3),
  "filter of an endless dataset": (tf) => tf.data.array(range(6)).repeat().filter((x: number) => x > 4).take(4),
  "mapAsync": (tf) => tf.data.array([1, 2, 3]).mapAsync(async (x: number) => x + 0.5),
  "generator, mapped and batched": (tf) =>
    tf.data
      .generator(function* () {
        yield* [1, 2, 3];
      })
      .map((x: number) => [x, x * 2])
      .batch(2),
  "prefetch keeps the order": (tf) => tf.data.array(range(5)).prefetch(2).batch(5),
};

for (const [name, make] of Object.entries(CASES)) {
  test(`dataset vs TF.js: ${name}`, async () => {
    const mine = make(ours);
    const theirs = make(tfjs);
    assert.equal(mine.size, theirs.size, "size");
    assert.deepEqual(await elements(mine), await elements(theirs));
  });
}

test("the TF.js cases check something: batch shapes and values are the expected ones", async () => {
  const [first, last] = await elements(data.array(range(10)).batch(4).skip(1));
  assert.deepEqual(first, { dtype: "float32", shape: [4], values: [5, 6, 7, 8] });
  assert.deepEqual(last, { dtype: "float32", shape: [2], values: [9, 10] });
  const [xy] = await data.zip({ xs: data.array([[1, 2], [3, 4]]), ys: data.array([7, 8]) }).batch(2).toArray();
  assert.deepEqual(xy!.xs.shape, [2, 2]);
  assert.deepEqual(Array.from(xy!.ys.dataSync()), [7, 8]);
});

test("iterator(): next() gives {value, done} until done; datasets are async iterables and re-iterable", async () => {
  const ds = data.array(["a", "b"]);
  const it = await ds.iterator();
  assert.deepEqual(await it.next(), { value: "a", done: false });
  assert.deepEqual(await it.next(), { value: "b", done: false });
  assert.equal((await it.next()).done, true);
  const seen: string[] = [];
  for await (const x of ds) seen.push(x);
  for await (const x of ds) seen.push(x);
  assert.deepEqual(seen, ["a", "b", "a", "b"]);
});

test("generator(): called again for each iteration; take() pulls no more than it needs", async () => {
  let calls = 0;
  let pulled = 0;
  const ds = data.generator(function* () {
    calls++;
    for (let i = 0; ; i++) {
      pulled++;
      yield i;
    }
  });
  assert.equal(ds.size, null);
  assert.deepEqual(await ds.take(3).toArray(), [0, 1, 2]);
  assert.deepEqual(await ds.take(2).toArray(), [0, 1]);
  assert.equal(calls, 2);
  assert.equal(pulled, 5);
});

test("generator(): async iterators work too", async () => {
  const ds = data.generator(async function* () {
    yield 1;
    await new Promise((r) => setTimeout(r, 1));
    yield 2;
  });
  assert.deepEqual(await ds.toArray(), [1, 2]);
});

test("prefetch(n) requests elements ahead of the consumer and passes errors on in order", async () => {
  let pulled = 0;
  const source = data.generator(function* () {
    for (let i = 0; i < 10; i++) {
      pulled++;
      yield i;
    }
  });
  const it = await source.prefetch(4).iterator();
  assert.deepEqual(await it.next(), { value: 0, done: false });
  await new Promise((r) => setImmediate(r));
  assert.ok(pulled >= 4, `pulled ${pulled} elements, expected at least 4`);
  const failing = data.generator(function* () {
    yield 1;
    throw new Error("source failed");
  });
  const got: number[] = [];
  await assert.rejects(failing.prefetch(3).forEachAsync((x) => void got.push(x)), /source failed/);
  assert.deepEqual(got, [1]);
});

test("forEachAsync visits elements in order and awaits each call", async () => {
  const log: string[] = [];
  await data.array([1, 2, 3]).forEachAsync(async (x) => {
    await new Promise((r) => setTimeout(r, 4 - x));
    log.push(`done ${x}`);
  });
  assert.deepEqual(log, ["done 1", "done 2", "done 3"]);
});

test("zip: ends with the shortest stream when sizes are unknown or endless", async () => {
  const endless = data.array([0]).repeat();
  const z = data.zip({ a: data.array([1, 2]), b: endless });
  assert.equal(z.size, 2);
  assert.deepEqual(await z.toArray(), [{ a: 1, b: 0 }, { a: 2, b: 0 }]);
  // A nested structure of datasets zips like nested zips (TF.js gives it size NaN; tfc counts it).
  const nested = data.zip({ a: data.array([1, 2]), b: { c: data.array([3, 4]), d: [data.array([5, 6])] } });
  assert.equal(nested.size, 2);
  assert.deepEqual(await nested.toArray(), [{ a: 1, b: { c: 3, d: [5] } }, { a: 2, b: { c: 4, d: [6] } }]);
  const unknown = data.zip([data.array([1, 2, 3]).filter(() => true), data.array([4, 5])]);
  assert.equal(unknown.size, null);
  assert.deepEqual(await unknown.toArray(), [[1, 4], [2, 5]]);
});

test("batch: arrays of tensors batch element-wise (as TF Python does with tuples)", async () => {
  const ds = data.zip([data.array([tfc.tensor1d([1, 2]), tfc.tensor1d([3, 4])]), data.array([tfc.scalar(5, "int32"), tfc.scalar(6, "int32")])]).batch(2);
  const [[x, y]] = (await ds.toArray()) as [tfc.Tensor, tfc.Tensor][];
  assert.deepEqual(plain(x), { dtype: "float32", shape: [2, 2], values: [1, 2, 3, 4] });
  assert.deepEqual(plain(y), { dtype: "int32", shape: [2], values: [5, 6] });
});

// shuffle

async function epochs<T>(ds: data.Dataset<T>, n: number): Promise<T[][]> {
  const out: T[][] = [];
  for (let i = 0; i < n; i++) out.push(await ds.toArray());
  return out;
}
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

test("shuffle: every element exactly once; the same seed gives the same order, other seeds other orders", async () => {
  const items = range(50, 0);
  const a = await data.array(items).shuffle(50, 7).toArray();
  const b = await data.array(items).shuffle(50, 7).toArray();
  const c = await data.array(items).shuffle(50, 8).toArray();
  const d = await data.array(items).shuffle(50, "seven").toArray();
  assert.deepEqual(sorted(a), items);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a, d);
  assert.notDeepEqual(a, items);
  assert.equal(data.array(items).shuffle(10).size, 50);
});

test("shuffle: reshuffleEachIteration draws a new order per epoch, reproducibly; false repeats the first", async () => {
  const items = range(30, 0);
  const reshuffled = await epochs(data.array(items).shuffle(30, 1), 3);
  assert.notDeepEqual(reshuffled[0], reshuffled[1]);
  assert.notDeepEqual(reshuffled[1], reshuffled[2]);
  for (const e of reshuffled) assert.deepEqual(sorted(e), items);
  assert.deepEqual(await epochs(data.array(items).shuffle(30, 1), 3), reshuffled);
  const fixed = await epochs(data.array(items).shuffle(30, 1, false), 3);
  assert.deepEqual(fixed[1], fixed[0]);
  assert.deepEqual(fixed[2], fixed[0]);
  const unseeded = await epochs(data.array(items).shuffle(30, undefined, false), 2);
  assert.deepEqual(unseeded[0], unseeded[1]);
  // repeat() starts a new iteration of the shuffled dataset each round.
  const repeated = await data.array(items).shuffle(30, 1).repeat(2).toArray();
  assert.deepEqual(repeated, [...reshuffled[0]!, ...reshuffled[1]!]);
});

test("shuffle: a small buffer only reorders within reach (element k comes out at position >= k - bufferSize + 1)", async () => {
  const out = await data.array(range(40, 0)).shuffle(3, "buf").toArray();
  assert.deepEqual(sorted(out), range(40, 0));
  out.forEach((element, position) => assert.ok(element <= position + 2, `element ${element} came out at position ${position}`));
  assert.notDeepEqual(out, range(40, 0));
});

test("shuffle: with bufferSize >= size, all orders are equally likely (chi-square over 2400 epochs)", async () => {
  const ds = data.array([0, 1, 2, 3]).shuffle(8, "uniform");
  const counts = new Map<string, number>();
  for (const order of await epochs(ds, 2400)) counts.set(order.join(""), (counts.get(order.join("")) ?? 0) + 1);
  assert.equal(counts.size, 24, "every one of the 4! orders appears");
  const expected = 100;
  const chi2 = [...counts.values()].reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  // 23 degrees of freedom: P(chi2 > 49.7) = 0.001.
  assert.ok(chi2 < 49.7, `chi-square ${chi2.toFixed(1)} over 23 dof`);
});

test("shuffle: each element is equally likely at each position for a larger permutation", async () => {
  const n = 8;
  const ds = data.array(range(n, 0)).shuffle(n, 3);
  const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (const order of await epochs(ds, 1600)) order.forEach((element, position) => counts[element]![position]!++);
  const expected = 1600 / n;
  const chi2 = counts.flat().reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  // (n-1)^2 = 49 degrees of freedom: P(chi2 > 85.4) = 0.001.
  assert.ok(chi2 < 85.4, `chi-square ${chi2.toFixed(1)} over 49 dof`);
});

// fromTensorSlices

test("fromTensorSlices: a tensor's rows, in order, with dtype kept; batching them back gives the tensor", async () => {
  const x = tfc.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], "int32");
  const ds = data.fromTensorSlices(x);
  assert.equal(ds.size, 3);
  assert.deepEqual(await elements(ds), [
    { dtype: "int32", shape: [2], values: [1, 2] },
    { dtype: "int32", shape: [2], values: [3, 4] },
    { dtype: "int32", shape: [2], values: [5, 6] },
  ]);
  assert.deepEqual(await elements(ds.batch(3)), [plain(x)]);
  assert.deepEqual(await elements(ds.batch(2)), [plain(tfc.tensor2d([[1, 2], [3, 4]], [2, 2], "int32")), plain(tfc.tensor2d([[5, 6]], [1, 2], "int32"))]);
});

test("fromTensorSlices: objects and arrays of tensors slice together; number arrays are tensors", async () => {
  const xs = tfc.tensor3d([[[1], [2]], [[3], [4]]]);
  const ys = tfc.tensor1d([1, 0], "bool");
  const [first] = await data.fromTensorSlices({ xs, ys, w: [0.5, 2] }).toArray();
  assert.deepEqual(plain(first), {
    xs: { dtype: "float32", shape: [2, 1], values: [1, 2] },
    ys: { dtype: "bool", shape: [], values: [1] },
    w: { dtype: "float32", shape: [], values: [0.5] },
  });
  const pairs = await elements(data.fromTensorSlices([xs, ys]).skip(1));
  assert.deepEqual(pairs, [[{ dtype: "float32", shape: [2, 1], values: [3, 4] }, { dtype: "bool", shape: [], values: [0] }]]);
  // The same data through zip + array, as TF.js would write it, batches identically.
  const viaSlices = await elements(data.fromTensorSlices({ xs, ys }).batch(2));
  const viaZip = await elements(data.zip({ xs: data.array([[[1], [2]], [[3], [4]]]), ys: data.array([true, false]) }).batch(2));
  assert.deepEqual(viaSlices, viaZip);
});

// Errors

test("errors: bad arguments to Dataset methods are TFC7001", () => {
  const ds = data.array([1, 2, 3]);
  assert.throws(() => ds.batch(0), isTfcError("TFC7001", /batch\(\): batchSize must be a positive integer, got number 0/));
  assert.throws(() => ds.batch(-2), isTfcError("TFC7001"));
  assert.throws(() => ds.batch(1.5), isTfcError("TFC7001"));
  assert.throws(() => ds.take(-1), isTfcError("TFC7001", /take\(\): count must be a non-negative integer, got number -1/));
  assert.throws(() => ds.skip(-1), isTfcError("TFC7001"));
  assert.throws(() => ds.repeat(2.5), isTfcError("TFC7001"));
  assert.throws(() => ds.shuffle(0), isTfcError("TFC7001", /shuffle\(\): bufferSize/));
  assert.throws(() => ds.shuffle(data.generator(function* () {}).size as number), isTfcError("TFC7001", /got null/));
  assert.throws(() => ds.prefetch(0), isTfcError("TFC7001", /prefetch\(\)/));
});

test("errors: mismatched lengths in fromTensorSlices and zip are TFC7002", () => {
  assert.throws(
    () => data.fromTensorSlices({ xs: tfc.zeros([4, 2]), ys: tfc.zeros([3]) }),
    isTfcError("TFC7002", /fromTensorSlices\(\): x\.xs has 4 rows \(axis 0\) but x\.ys has 3/),
  );
  assert.throws(() => data.fromTensorSlices([tfc.zeros([2]), tfc.zeros([5])]), isTfcError("TFC7002", /x\[0\] has 2 rows .* x\[1\] has 5/));
  assert.throws(() => data.zip({ a: data.array([1, 2]), b: data.array([1, 2, 3]) }), isTfcError("TFC7002", /zip\(\): datasets\.a has 2 elements but datasets\.b has 3/));
});

test("errors: bad structures are TFC7003", () => {
  assert.throws(() => data.fromTensorSlices(tfc.scalar(1)), isTfcError("TFC7003", /x is a scalar/));
  assert.throws(() => data.fromTensorSlices({}), isTfcError("TFC7003"));
  assert.throws(() => data.fromTensorSlices({ a: "text" } as never), isTfcError("TFC7003", /x\.a is the string "text"/));
  assert.throws(() => data.zip({ a: data.array([1]), b: 3 } as never), isTfcError("TFC7003", /datasets\.b is number 3/));
  assert.throws(() => data.zip([]), isTfcError("TFC7003"));
});

test("errors: elements that cannot be batched are TFC7004, found when iterating", async () => {
  await assert.rejects(data.array([[1, 2], [3]]).batch(2).toArray(), isTfcError("TFC7004", /differ in shape/));
  await assert.rejects(data.array([tfc.zeros([2]), tfc.zeros([3])]).batch(2).toArray(), isTfcError("TFC7004", /element 1 is f32\[3\], but in element 0 it is f32\[2\]/));
  await assert.rejects(data.array([{ a: 1 }, { b: 2 }]).batch(2).toArray(), isTfcError("TFC7004", /element 1 has keys \{b\}, but element 0 has \{a\}/));
  await assert.rejects(data.array([{ a: "x" }, { a: "y" }]).batch(2).toArray(), isTfcError("TFC7004", /a of element 0 is the string "x"/));
  await assert.rejects(data.array<unknown>([tfc.zeros([2]), 3]).batch(2).toArray(), isTfcError("TFC7004", /element 1 is number 3, but in element 0 it is a Tensor/));
});

test("errors: toArray() of an endless dataset is TFC7005", async () => {
  await assert.rejects(data.array([1]).repeat().toArray(), isTfcError("TFC7005"));
});
