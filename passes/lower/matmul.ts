// matmul to kernel IR: a register-blocked, explicitly vectorized, multi-threaded GEMM.
// C[M,N] = A[M,K]·B[K,N] (row-major) is cut into tiles of MB rows × NB columns, run in parallel;
// each tile walks K in blocks of KC (so its slice of B stays in L1) and computes MR×(NV·w)
// micro-tiles with MR·NV vector accumulators: one broadcast of A and NV vector loads of B feed
// MR·NV fused multiply-adds per k. Edges use narrower micro-tiles, never scalar-only loops.
// Transposed operands are materialized first; batch dimensions (with broadcasting) loop outside.

import { KBuilder } from "../../ir/kernel/builder.js";
import { kType, type KBufferParam, type KFunc, type KProgramBuffer, type KValue, type KVar } from "../../ir/kernel/kir.js";
import { BATCH, type TensorType } from "../../ir/types.js";
import { TfcError } from "../../ir/errors.js";
import { dimValue, dimsProduct, sizeOf, type TemplateContext } from "./context.js";
import { emitTransposeKernel } from "./data.js";

export interface GemmShape {
  /** Rows: a static count, times the batch size when `mBatch`. */
  readonly mFixed: number;
  readonly mBatch: boolean;
  /** Contraction length; BATCH when it is the batch size (weight gradients contract over the batch). */
  readonly k: number;
  readonly n: number;
}

interface Blocking {
  readonly mr: number; // rows per micro-tile
  readonly nv: number; // vectors per micro-tile row
  readonly mb: number; // rows per parallel tile
  readonly kc: number; // K block
}

export function blockingFor(width: number): Blocking {
  const override = process.env["TFC_GEMM_BLOCKING"]; // "mr,nv,mb,kc": for tuning experiments only
  if (override) {
    const [mr, nv, mb, kc] = override.split(",").map(Number);
    return { mr: mr!, nv: nv!, mb: mb!, kc: kc! };
  }
  // 16 vector registers on AVX2 and SSE/NEON: MR·NV accumulators + NV B vectors + 1 broadcast.
  return width >= 8 ? { mr: 6, nv: 2, mb: 48, kc: 256 } : { mr: 4, nv: 3, mb: 32, kc: 256 };
}

/** What a GEMM kernel needs besides its operands: a scratch buffer for packed panels of B. */
export interface GemmKernel {
  readonly kernel: KFunc;
  /** f32 elements of the packing scratch (0: the kernel takes no scratch buffer). */
  readonly scratchElements: number;
}

/**
 * Emit a GEMM kernel `name(a, b, c[, bpack], n)`; `batch` adds an outer loop over a batch of
 * matrices with per-operand offsets (0 for broadcast operands).
 *
 * Two paths, chosen at run time by the number of rows M:
 * - packed (M >= 2·MR and at least two full column panels): for each K block, the full panels of
 *   B are packed in parallel into contiguous KC×NB slabs (one cache line per k, no TLB misses),
 *   then row blocks run in parallel, each sweeping every panel with its rows of A hot in L2;
 * - direct (small M, e.g. batch-1 inference): MB×NB tiles in parallel reading B in place, since
 *   packing would triple the memory traffic of a matrix-vector product.
 * A partial last panel (N not a multiple of NB) always reads B in place with narrower micro-tiles.
 */
export function emitGemmKernel(name: string, shape: GemmShape, width: number, batch?: { aStride: number[]; bStride: number[]; dims: number[] }): GemmKernel {
  const w = Math.max(1, width);
  const { mr, nv, mb, kc } = blockingFor(w);
  const nb = nv * w;
  const N = shape.n;
  // K is static, or the batch size (a product contracting over the batch, as weight gradients do).
  const kSymbolic = shape.k === BATCH;
  const fullPanels = Math.floor(N / nb);
  const panels = Math.ceil(N / nb);
  const packing = fullPanels >= 2 && (kSymbolic || shape.k >= 8);
  const b = new KBuilder(name);
  const A = b.buffer("a", "f32");
  const B = b.buffer("b", "f32");
  const C = b.buffer("c", "f32", true);
  const P = packing ? b.buffer("bpack", "f32", true) : undefined;
  const n = b.scalarParam("n");
  const K: KValue = kSymbolic ? n : b.index(shape.k);
  const M = shape.mBatch ? (shape.mFixed === 1 ? n : b.ix(n, "*", shape.mFixed)) : b.index(shape.mFixed);
  const rowBlocks = b.ix(b.ix(M, "+", mb - 1), "/", mb);
  const batches = batch ? dimsProduct(b, batch.dims, n) : b.index(1);

  /**
   * Where a micro-tile reads vector `v` of B: element `base + k·stride` at step k. Bases are
   * computed once per micro-tile, outside its k loop, so the loop body is loads and FMAs only.
   */
  type BSource = (v: number, lanes: number) => { buffer: KBufferParam; base: KValue; stride: number };

  /** One micro-tile: `rows` rows from `row`, columns from `col`: `vecs` vectors of w lanes, or one scalar column. */
  const micro = (aBase: KValue, cBase: KValue, source: BSource, row: KValue, col: KValue, k0: KValue, k1: KValue, first: KValue, rows: number, vecs: number): void => {
    const lanes = vecs === 0 ? 1 : w;
    const count = vecs === 0 ? 1 : vecs;
    const cIndex = (r: number, v: number): KValue => b.add(cBase, b.add(b.ix(b.ix(row, "+", r), "*", N), b.ix(col, "+", v * lanes)));
    const zero = lanes > 1 ? b.broadcast(b.f32(0), lanes) : b.f32(0);
    const accs: KVar[][] = [];
    for (let r = 0; r < rows; r++) {
      accs.push([]);
      for (let v = 0; v < count; v++) accs[r]!.push(b.var(zero, `acc${r}_${v}`));
    }
    // Continue from C when this is not the first K block.
    b.if(b.prim("not", [first]), () => {
      for (let r = 0; r < rows; r++) for (let v = 0; v < count; v++) b.set(accs[r]![v]!, b.load(C, cIndex(r, v), lanes));
    });
    const bSources = Array.from({ length: count }, (_, v) => source(v, lanes));
    const aRows = Array.from({ length: rows }, (_, r) => b.add(aBase, b.mul(b.ix(row, "+", r), K)));
    b.for(k0, k1, { name: "k" }, (k) => {
      const offsets = new Map<number, KValue>(); // k·stride, once per stride
      const offset = (stride: number): KValue => {
        let o = offsets.get(stride);
        if (!o) offsets.set(stride, (o = stride === 1 ? k : b.ix(k, "*", stride)));
        return o;
      };
      const bv = bSources.map((src) => b.load(src.buffer, b.add(src.base, offset(src.stride)), lanes));
      for (let r = 0; r < rows; r++) {
        const aScalar = b.load(A, b.add(aRows[r]!, k));
        const av = lanes > 1 ? b.broadcast(aScalar, lanes) : aScalar;
        for (let v = 0; v < count; v++) b.set(accs[r]![v]!, b.fma(av, bv[v]!, b.get(accs[r]![v]!)));
      }
    });
    for (let r = 0; r < rows; r++) for (let v = 0; v < count; v++) b.store(C, cIndex(r, v), b.get(accs[r]![v]!));
  };

  /** Rows [row0, rowEnd) of one panel: MR rows at a time, then single rows. */
  const rowsOf = (row0: KValue, rowEnd: KValue, tile: (row: KValue, rows: number) => void): void => {
    const fullRows = b.ix(row0, "+", b.ix(b.ix(b.sub(rowEnd, row0), "/", mr), "*", mr));
    b.for(row0, fullRows, { step: mr, name: "i" }, (row) => tile(row, mr));
    b.for(fullRows, rowEnd, { name: "r" }, (row) => tile(row, 1));
  };

  /** The last, partial panel (its width is static): whole vectors, then single columns, B in place. */
  const partialPanel = (aBase: KValue, cBase: KValue, inPlace: (col: KValue) => BSource, row: KValue, k0: KValue, k1: KValue, first: KValue, rows: number): void => {
    const col0 = fullPanels * nb;
    const vecs = Math.floor((N - col0) / w);
    for (let v = 0; v < vecs; v++) {
      const col = b.index(col0 + v * w);
      micro(aBase, cBase, inPlace(col), row, col, k0, k1, first, rows, 1);
    }
    for (let c = col0 + vecs * w; c < N; c++) {
      const col = b.index(c);
      micro(aBase, cBase, inPlace(col), row, col, k0, k1, first, rows, 0);
    }
  };

  b.for(0, batches, { name: "batch" }, (bt) => {
    let aBase: KValue = b.index(0);
    let bBase: KValue = b.index(0);
    let cBase: KValue = b.index(0);
    if (batch) {
      // Decompose the flat batch index into the batch dims; broadcast dims contribute 0.
      let rem = bt;
      for (let d = 0; d < batch.dims.length; d++) {
        const inner = batch.dims.slice(d + 1).reduce((p, x) => p * x, 1);
        const idx = b.ix(rem, "/", inner);
        rem = b.ix(rem, "%", inner);
        if (batch.aStride[d]) aBase = b.add(aBase, b.ix(idx, "*", batch.aStride[d]!));
        if (batch.bStride[d]) bBase = b.add(bBase, b.ix(idx, "*", batch.bStride[d]!));
      }
      cBase = b.ix(bt, "*", shape.mFixed * N);
    }
    const inPlace = (col: KValue): BSource => (v, lanes) => ({ buffer: B, base: b.add(bBase, v === 0 ? col : b.ix(col, "+", v * lanes)), stride: N });

    const direct = (): void => {
      const tiles = b.ix(rowBlocks, "*", panels);
      b.for(0, tiles, { parallel: true, name: "tile" }, (t) => {
        const rb = b.ix(t, "/", panels);
        const panel = b.ix(t, "%", panels);
        const row0 = b.ix(rb, "*", mb);
        const rowEnd = b.min(M, b.ix(row0, "+", mb));
        const col0 = b.ix(panel, "*", nb);
        b.for(0, K, { step: kc, name: "kb" }, (k0) => {
          const k1 = b.min(b.ix(k0, "+", kc), K);
          const first = b.prim("eq", [k0, b.index(0)]);
          const full = () => rowsOf(row0, rowEnd, (row, rows) => micro(aBase, cBase, inPlace(col0), row, col0, k0, k1, first, rows, nv));
          const partial = () => rowsOf(row0, rowEnd, (row, rows) => partialPanel(aBase, cBase, inPlace, row, k0, k1, first, rows));
          if (fullPanels === panels) full();
          else if (fullPanels === 0) partial();
          else b.if(b.lt(panel, b.index(fullPanels)), full, partial);
        });
      });
    };

    if (!P) return direct();
    b.if(b.lt(M, b.index(2 * mr)), direct, () => {
      b.for(0, K, { step: kc, name: "kb" }, (k0) => {
        const k1 = b.min(b.ix(k0, "+", kc), K);
        const first = b.prim("eq", [k0, b.index(0)]);
        // Pack the full panels of this K block: slab p holds rows k0..k1 of columns p·NB..p·NB+NB.
        b.for(0, fullPanels, { parallel: true, name: "pack" }, (p) => {
          b.for(k0, k1, { name: "k" }, (k) => {
            const dst = b.ix(b.add(b.ix(p, "*", kc), b.sub(k, k0)), "*", nb);
            const src = b.add(bBase, b.add(b.ix(k, "*", N), b.ix(p, "*", nb)));
            for (let v = 0; v < nv; v++) b.store(P, b.ix(dst, "+", v * w), b.load(B, b.ix(src, "+", v * w), w));
          });
        });
        // Slab p, row k, vector v sits at (p·KC + k - k0)·NB + v·w.
        const packed = (p: KValue): BSource => (v) => ({ buffer: P, base: b.ix(b.ix(b.sub(b.ix(p, "*", kc), k0), "*", nb), "+", v * w), stride: nb });
        b.for(0, rowBlocks, { parallel: true, name: "rowblock" }, (rb) => {
          const row0 = b.ix(rb, "*", mb);
          const rowEnd = b.min(M, b.ix(row0, "+", mb));
          b.for(0, fullPanels, { name: "panel" }, (p) => {
            const col0 = b.ix(p, "*", nb);
            rowsOf(row0, rowEnd, (row, rows) => micro(aBase, cBase, packed(p), row, col0, k0, k1, first, rows, nv));
          });
          if (fullPanels < panels) rowsOf(row0, rowEnd, (row, rows) => partialPanel(aBase, cBase, inPlace, row, k0, k1, first, rows));
        });
      });
    });
  });
  return { kernel: b.finish(), scratchElements: packing ? fullPanels * nb * kc : 0 };
}

/** Launch a GEMM kernel, adding its packing scratch when it has one. */
export function launchGemm(ctx: TemplateContext, gemm: GemmKernel, a: KProgramBuffer, bMatrix: KProgramBuffer, c: KProgramBuffer): void {
  const buffers = [a, bMatrix, c];
  if (gemm.scratchElements > 0) buffers.push(ctx.scratch("bpack", "f32", { constant: gemm.scratchElements, perBatch: 0 }));
  ctx.launch(gemm.kernel, buffers);
}

/** Lower `matmul`: transposes materialized, batch dims looped, the core as emitGemmKernel. */
export function lowerMatmul(ctx: TemplateContext): void {
  let [aBuf, bBuf] = ctx.inputs as [KProgramBuffer, KProgramBuffer];
  let [aType, bType] = ctx.inTypes as [TensorType, TensorType];
  const materialize = (buf: KProgramBuffer, t: TensorType, label: string): [KProgramBuffer, TensorType] => {
    const r = t.shape.length;
    const perm = [...t.shape.keys()];
    [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
    const outType: TensorType = { dtype: t.dtype, shape: perm.map((p) => t.shape[p]!) };
    const scratch = ctx.scratch(label, t.dtype, sizeOf(outType));
    ctx.launch(emitTransposeKernel(ctx.kernelName(label), t, perm), [buf, scratch]);
    return [scratch, outType];
  };
  if (ctx.attrs["transpose_a"]) [aBuf, aType] = materialize(aBuf, aType, "at");
  if (ctx.attrs["transpose_b"]) [bBuf, bType] = materialize(bBuf, bType, "bt");
  if (ctx.outType.dtype !== "f32") return lowerIntMatmul(ctx, aBuf, aType, bBuf, bType);

  const out = ctx.outType.shape;
  const K = aType.shape[aType.shape.length - 1]!;
  const N = out[out.length - 1]!;
  if (bType.shape.length === 2) {
    // One (possibly tall) GEMM: A's leading dimensions fold into M.
    const fixed = aType.shape.slice(0, -1).reduce((p, d) => (d === BATCH ? p : p * d), 1);
    const shape: GemmShape = { mFixed: fixed, mBatch: aType.shape.slice(0, -1).includes(BATCH), k: K, n: N };
    launchGemm(ctx, emitGemmKernel(ctx.kernelName(), shape, ctx.width), aBuf, bBuf, ctx.out);
    return;
  }
  // A batch of GEMMs; operands broadcast along batch dimensions of size 1.
  const dims = out.slice(0, -2);
  const strideOf = (t: TensorType): number[] => {
    const bd = [...new Array<number>(dims.length - (t.shape.length - 2)).fill(1), ...t.shape.slice(0, -2)];
    const strides: number[] = [];
    let s = t.shape[t.shape.length - 2]! * t.shape[t.shape.length - 1]!;
    for (let d = bd.length - 1; d >= 0; d--) {
      strides[d] = bd[d] === 1 && dims[d] !== 1 ? 0 : s;
      s *= bd[d] === BATCH ? 1 : bd[d]!;
    }
    return strides;
  };
  const shape: GemmShape = { mFixed: out[out.length - 2]!, mBatch: false, k: K, n: N };
  launchGemm(ctx, emitGemmKernel(ctx.kernelName(), shape, ctx.width, { aStride: strideOf(aType), bStride: strideOf(bType), dims }), aBuf, bBuf, ctx.out);
}

/** i32 matmul (rank 2): a plain triple loop; there is no vector integer FMA to block for. */
function lowerIntMatmul(ctx: TemplateContext, aBuf: KProgramBuffer, aType: TensorType, bBuf: KProgramBuffer, bType: TensorType): void {
  if (aType.shape.length !== 2 || bType.shape.length !== 2) {
    throw new TfcError("TFC6010", "i32 matmul is compiled for rank-2 operands only; cast to float32 for batched products", { ...(ctx.op.loc ? { loc: ctx.op.loc } : {}) });
  }
  const K = aType.shape[1]!;
  const N = bType.shape[1]!;
  const b = new KBuilder(ctx.kernelName());
  const A = b.buffer("a", "i32");
  const B = b.buffer("b", "i32");
  const C = b.buffer("c", "i32", true);
  const n = b.scalarParam("n");
  const M = dimValue(b, aType.shape[0]!, n);
  b.for(0, M, { name: "i" }, (i) =>
    b.for(0, N, { name: "j" }, (j) => {
      const acc = b.var(b.const(0, kType("i32")), "acc");
      b.for(0, K, { name: "k" }, (k) => {
        const prod = b.mul(b.load(A, b.add(b.ix(i, "*", K), k)), b.load(B, b.add(b.ix(k, "*", N), j)));
        b.set(acc, b.add(b.get(acc), prod));
      });
      b.store(C, b.add(b.ix(i, "*", N), j), b.get(acc));
    }),
  );
  ctx.launch(b.finish(), [aBuf, bBuf, ctx.out]);
}
