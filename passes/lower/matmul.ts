// matmul to kernel IR: a register-blocked, explicitly vectorized, multi-threaded GEMM.
// C[M,N] = A[M,K]·B[K,N] (row-major) is cut into tiles of MB rows × NB columns, run in parallel;
// each tile walks K in blocks of KC (so its slice of B stays in L1) and computes MR×(NV·w)
// micro-tiles with MR·NV vector accumulators: one broadcast of A and NV vector loads of B feed
// MR·NV fused multiply-adds per k. Edges use narrower micro-tiles, never scalar-only loops.
// A rank-2 Bᵀ is read through the packing loop and a rank-2 Aᵀ through a gather; other transposed
// operands are materialized first; batch dimensions (with broadcasting) loop outside. Weights
// are packed once by prepare launches (GemmOptions.prepacked). Narrow products (fewer columns
// than a panel: classifier heads) of a weight or of a given Bᵀ run as dot products along K
// instead (emitDotGemmKernel), over Bᵀ as given or packed once.

import { KBuilder } from "../../ir/kernel/builder.js";
import { INDEX, kType, type KBufferParam, type KFunc, type KProgramBuffer, type KSize, type KValue, type KVar } from "../../ir/kernel/kir.js";
import { BATCH, formatType, type TensorType } from "../../ir/types.js";
import { TfcError } from "../../ir/errors.js";
import { dimValue, dimsProduct, sizeOf, type TemplateContext } from "./context.js";
import { emitTransposeKernel } from "./data.js";
import { broadcastStrides, emitSExpr } from "./elementwise.js";
import type { SExpr } from "../../ir/scalar.js";

export interface GemmShape {
  /** Rows: a static count, times the batch size when `mBatch`. */
  readonly mFixed: number;
  readonly mBatch: boolean;
  /** Contraction length; BATCH when it is the batch size (weight gradients contract over the batch). */
  readonly k: number;
  readonly n: number;
}

/** Columns of a micro-tile: an offset from its first column and a width (w lanes, or 1). */
interface Column {
  readonly offset: number;
  readonly lanes: number;
}

/** One block of the contraction: k in [k0, k1); `first` reads C as zero, `last` applies the epilogue. */
interface KBlock {
  readonly k0: KValue;
  readonly k1: KValue;
  readonly first: KValue | true;
  readonly last: KValue | true;
}

/**
 * The widest panel of any target (8 lanes × 2 vectors). Decisions that add buffers — packing,
 * prepacking, the narrow dot-product path — and those buffers' sizes depend on the shape and this,
 * never on the vector width: the CPU variants of one build (AVX2, baseline) share a buffer layout.
 */
const LAYOUT_PANEL = 16;

/** Panels per block of a matrix-vector product: one row of 4·NV vector accumulators. */
const GEMV_PANELS = 4;

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

/**
 * Elementwise work applied to C's elements as the kernel stores them for the last time (bias,
 * activation, residual add: a fused epilogue, see passes/fuse.ts). `expr` reads input 0 as the
 * product and input k+1 as operand k, an extra buffer parameter read at (row, column) as element
 * `row·rowStride + column·colStride`.
 */
export interface KernelEpilogue {
  readonly expr: SExpr;
  readonly operands: readonly EpilogueOperand[];
}

export interface EpilogueOperand {
  readonly elem: "f32" | "i32" | "bool";
  readonly rowStride: number;
  /** 1: a row of the operand lies along C's row; 0: one value per row. */
  readonly colStride: 0 | 1;
}

/**
 * How an operand of shape `leaf` that broadcasts to `out` is read at (row, column) of `out` seen
 * as a matrix (leading dimensions flattened into rows): its strides, or undefined when the leading
 * dimensions do not flatten to one row stride or the column stride is not 0 or 1.
 */
export function epilogueStrides(leaf: readonly number[], out: readonly number[]): { rowStride: number; colStride: 0 | 1 } | undefined {
  if (leaf.length > out.length || out.length === 0) return undefined;
  const s = broadcastStrides(leaf, out);
  const last = out.length - 1;
  const colStride = s[last]!;
  if (colStride !== 0 && colStride !== 1) return undefined;
  const rowStride = last > 0 ? s[last - 1]! : 0;
  let rows = 1; // rows spanned by one step of dimension d
  for (let d = last - 1; d >= 0; d--) {
    if (out[d] !== 1 && s[d] !== rowStride * rows) return undefined;
    rows *= out[d] === BATCH ? 1 : out[d]!;
  }
  return { rowStride, colStride };
}

/**
 * A read of A's element (row, k) as `a[rowBase(row) + offset(k)]` instead of `a[row·K + k]`: an
 * implicit GEMM, where A is never materialized (a convolution reads its input image through the
 * taps: row = output pixel, k = (tap, input channel)). `offset` is computed once per k for all rows.
 */
export interface AGather {
  /** Bases of rows row, row+1, …, row+rows-1 (one call per micro-tile, so they may share work). */
  rowBases(b: KBuilder, row: KValue, rows: number): KValue[];
  offset(b: KBuilder, k: KValue): KValue;
  /**
   * offset(k) for every k when K is static: the kernel then reads it from this table (a const
   * buffer) — one load per k instead of the tap and channel arithmetic in the innermost loop.
   */
  readonly offsets?: Int32Array;
}

/** What a GEMM kernel does besides C = A·B. */
export interface GemmOptions {
  /** A batch of matrices: per-operand strides along the batch dimensions (0 where broadcast). */
  readonly batch?: { aStride: number[]; bStride: number[]; dims: number[] };
  readonly epilogue?: KernelEpilogue;
  /** A read through an index function (implicit GEMM) instead of as a matrix. */
  readonly gather?: AGather;
  /** Rows come in pooling windows of this many; C gets each window's maximum. */
  readonly pool?: { readonly window: number };
  /**
   * B is given as Bᵀ (an N×K matrix): the packing loop transposes it on the way, so no transposed
   * copy is materialized (training's dX = dY·Wᵀ). Such a kernel always packs.
   */
  readonly bTransposed?: boolean;
  /**
   * B is a weight packed once, outside the call (TemplateContext.stable): its full panels come in
   * a read-only `bpack` that a prepare launch of emitPackKernel fills, so the kernel never packs.
   * Ignored for batched products and for K the batch size.
   */
  readonly prepacked?: boolean;
}

/** What a GEMM kernel needs besides its operands: a scratch buffer for packed panels of B, or B packed once. */
export interface GemmKernel {
  readonly kernel: KFunc;
  /** f32 elements of the packing scratch, `a + b·N` (N when K is the batch; 0: no scratch buffer). */
  readonly scratchElements: KSize;
  /** The gather's offset table, bound after the epilogue operands (GemmOptions.gather.offsets). */
  readonly offsetTable?: Int32Array;
  /** Prepacked B: the packed buffer's elements and layout key, and the kernel that packs it (emitPackKernel). */
  readonly prepacked?: { readonly elements: number; readonly key: string; readonly kernel: (name: string) => KFunc };
}

/**
 * Emit a GEMM kernel `name(a, b, c[, bpack], n)`; `batch` adds an outer loop over a batch of
 * matrices with per-operand offsets (0 for broadcast operands).
 *
 * Three paths, chosen at run time by the number of rows M:
 * - packed (M >= 2·MR and at least two full column panels): the full panels of B are packed once,
 *   in parallel, into contiguous K×NB slabs (one cache line per k, no TLB misses) — or were packed
 *   before the call (`prepacked`: a weight, by a prepare launch, and then one panel suffices); then tiles of
 *   MB rows × one panel run in parallel, each over all of K in blocks of KC (its block of C stays
 *   in L1; a row block's tiles come in a row, so its A stays hot);
 * - matrix-vector (M = 1, batch-1 inference): blocks of 4 panels in parallel, streaming B in place;
 * - direct (other small M): tiles reading B in place, since packing would cost more memory
 *   traffic than it saves when few rows reuse B.
 * A partial last panel (N not a multiple of NB) always reads B in place, its vectors and single
 * columns in one micro-tile (each element of A loaded once for all of them).
 */
export function emitGemmKernel(name: string, shape: GemmShape, width: number, opts: GemmOptions = {}): GemmKernel {
  const { batch, epilogue, gather, pool, bTransposed = false } = opts;
  if (batch && (epilogue || gather)) throw new TfcError("TFC6011", "internal: a batched GEMM takes no epilogue and reads A as a matrix");
  const w = Math.max(1, width);
  const blocking = blockingFor(w);
  const { nv, kc: kcMax } = blocking;
  // Pooling: micro-tiles of exactly one window's rows, whose maximum is the stored row of C.
  const mr = pool ? pool.window : blocking.mr;
  const mb = pool ? Math.max(mr, Math.floor(blocking.mb / mr) * mr) : blocking.mb;
  if (pool && (shape.k === BATCH || shape.k > kcMax || pool.window > blocking.mr)) {
    throw new TfcError("TFC6011", `internal: a pooled GEMM needs one K block (K = ${shape.k}) and a window of at most ${blocking.mr} rows`);
  }
  // K blocks of equal length (784 = 4 × 196, not 3 × 256 + 16: a short last block pays a whole
  // micro-tile's loads and stores for a few steps).
  const kc = shape.k === BATCH ? kcMax : Math.ceil(shape.k / Math.ceil(shape.k / kcMax));
  const nb = nv * w;
  const N = shape.n;
  // K is static, or the batch size (a product contracting over the batch, as weight gradients do).
  const kSymbolic = shape.k === BATCH;
  const fullPanels = Math.floor(N / nb);
  const panels = Math.ceil(N / nb);
  // Packed once outside the call, packing is free: every product with a full panel reads packed slabs.
  // (fullPanels ≥ 1 holds whenever N ≥ LAYOUT_PANEL; it matters only under TFC_GEMM_BLOCKING.)
  const prepacked = opts.prepacked === true && !kSymbolic && !batch && N >= LAYOUT_PANEL && fullPanels >= 1;
  const packing = prepacked || (fullPanels >= 1 && (bTransposed ? N >= LAYOUT_PANEL : N >= 2 * LAYOUT_PANEL && (kSymbolic || shape.k >= 8)));
  if (bTransposed && (batch || pool)) throw new TfcError("TFC6011", "internal: a GEMM reading Bᵀ takes no batch or pooling");
  const b = new KBuilder(name);
  const A = b.buffer("a", "f32");
  const B = b.buffer("b", "f32");
  const C = b.buffer("c", "f32", true);
  const P = packing ? b.buffer("bpack", "f32", !prepacked) : undefined;
  const E = (epilogue?.operands ?? []).map((o, k) => ({ ...o, buffer: b.buffer(`e${k}`, o.elem) }));
  const table = gather?.offsets && !kSymbolic && gather.offsets.length === shape.k ? b.buffer("koffsets", "i32") : undefined;
  const n = b.scalarParam("n");
  const K: KValue = kSymbolic ? n : b.index(shape.k);
  const M = shape.mBatch ? (shape.mFixed === 1 ? n : b.ix(n, "*", shape.mFixed)) : b.index(shape.mFixed);
  const rowBlocks = b.ix(b.ix(M, "+", mb - 1), "/", mb);
  const batches = batch ? dimsProduct(b, batch.dims, n) : b.index(1);

  /**
   * Where a micro-tile reads its column `offset` (lanes wide) of B: element `base + k·stride` at
   * step k. Bases are computed once per micro-tile, outside its k loop, so the loop body is loads
   * and FMAs only.
   */
  type BSource = (offset: number, lanes: number) => { buffer: KBufferParam; base: KValue; stride: number };
  /** A panel's columns in micro-tiles: nv vectors. */
  const panelColumns: Column[] = Array.from({ length: nv }, (_, v) => ({ offset: v * w, lanes: w }));

  const applyEpilogue = (value: KValue, row: KValue, col: KValue, lanes: number): KValue => epilogueValue(b, epilogue!, E, value, row, col, lanes);

  /**
   * One micro-tile: `rows` rows from `row`, and the columns `cols` (offsets from `col`: vectors of
   * w lanes and single columns). Every row's element of A is loaded once per k and feeds all of them.
   */
  const micro = (aBase: KValue, cBase: KValue, source: BSource, row: KValue, col: KValue, kb: KBlock, rows: number, cols: readonly Column[]): void => {
    const { k0, k1, first } = kb;
    const cRow = (r: number): KValue => (pool ? b.ix(row, "/", pool.window) : b.ix(row, "+", r)); // a window's rows share one row of C
    const cIndex = (r: number, c: Column): KValue => b.add(cBase, b.add(b.ix(cRow(r), "*", N), c.offset === 0 ? col : b.ix(col, "+", c.offset)));
    const accs: KVar[][] = [];
    for (let r = 0; r < rows; r++) accs.push(cols.map((c, j) => b.var(c.lanes > 1 ? b.broadcast(b.f32(0), c.lanes) : b.f32(0), `acc${r}_${j}`)));
    // Continue from C when this is not the first K block.
    if (first !== true) {
      b.if(b.prim("not", [first]), () => {
        for (let r = 0; r < rows; r++) cols.forEach((c, j) => b.set(accs[r]![j]!, b.load(C, cIndex(r, c), c.lanes)));
      });
    }
    const bSources = cols.map((c) => source(c.offset, c.lanes));
    const aRows = gather ? gather.rowBases(b, row, rows) : Array.from({ length: rows }, (_, r) => b.add(aBase, b.mul(b.ix(row, "+", r), K)));
    const anyVector = cols.some((c) => c.lanes > 1);
    b.for(k0, k1, { name: "k" }, (k) => {
      const offsets = new Map<number, KValue>(); // k·stride, once per stride
      const offset = (stride: number): KValue => {
        let o = offsets.get(stride);
        if (!o) offsets.set(stride, (o = stride === 1 ? k : b.ix(k, "*", stride)));
        return o;
      };
      const bv = bSources.map((src, j) => b.load(src.buffer, b.add(src.base, offset(src.stride)), cols[j]!.lanes));
      const aOffset = table ? b.cast(b.load(table, k), INDEX) : gather ? gather.offset(b, k) : k;
      for (let r = 0; r < rows; r++) {
        const aScalar = b.load(A, b.add(aRows[r]!, aOffset));
        const av = anyVector ? b.broadcast(aScalar, w) : aScalar;
        cols.forEach((c, j) => b.set(accs[r]![j]!, b.fma(c.lanes > 1 ? av : aScalar, bv[j]!, b.get(accs[r]![j]!))));
      }
    });
    const store = (finished: boolean): void => {
      if (pool) {
        // One K block, so the sums are final: each window row through the epilogue, then their maximum.
        cols.forEach((c, j) => {
          const at = c.offset === 0 ? col : b.ix(col, "+", c.offset);
          const values = accs.map((acc, r) => (epilogue ? applyEpilogue(b.get(acc[j]!), b.ix(row, "+", r), at, c.lanes) : b.get(acc[j]!)));
          b.store(C, cIndex(0, c), values.reduce((m, v) => b.max(m, v)));
        });
        return;
      }
      for (let r = 0; r < rows; r++) {
        cols.forEach((c, j) => {
          const acc = b.get(accs[r]![j]!);
          b.store(C, cIndex(r, c), finished ? applyEpilogue(acc, b.ix(row, "+", r), c.offset === 0 ? col : b.ix(col, "+", c.offset), c.lanes) : acc);
        });
      }
    };
    // With one K block the epilogue runs on the accumulators; with several, sweepEpilogue runs it
    // over the finished tile (in L1), so micro-tiles need no second, epilogue-applying store.
    store((epilogue !== undefined || pool !== undefined) && kb.last === true);
  };

  /** Apply the epilogue to C's finished rows [row0, rowEnd), columns col + `cols`. */
  const sweepEpilogue = (cBase: KValue, row0: KValue, rowEnd: KValue, col: KValue, cols: readonly Column[]): void => {
    b.for(row0, rowEnd, { name: "er" }, (row) => {
      for (const c of cols) {
        const at = c.offset === 0 ? col : b.ix(col, "+", c.offset);
        const index = b.add(cBase, b.add(b.ix(row, "*", N), at));
        b.store(C, index, applyEpilogue(b.load(C, index, c.lanes), row, at, c.lanes));
      }
    });
  };
  /** After a tile's last K block (several blocks only): its epilogue sweep, for a full panel or the partial one. */
  const tileEpilogue = (cBase: KValue, row0: KValue, rowEnd: KValue, panel: KValue, last: KValue | true): void => {
    if (!epilogue || (!kSymbolic && shape.k <= kc)) return;
    const full = () => sweepEpilogue(cBase, row0, rowEnd, b.ix(panel, "*", nb), panelColumns);
    const partial = () => sweepEpilogue(cBase, row0, rowEnd, b.index(col0), partialColumns);
    const sweep = () => {
      if (fullPanels === panels) full();
      else if (fullPanels === 0) partial();
      else b.if(b.lt(panel, b.index(fullPanels)), full, partial);
    };
    if (last === true) sweep();
    else b.if(last, sweep);
  };

  /** The K block from k0: its end, and whether it is the first and the last (statically true when K fits one block). */
  const kBlock = (k0: KValue): KBlock => {
    const single = !kSymbolic && shape.k <= kc;
    const k1 = single ? K : b.min(b.ix(k0, "+", kc), K);
    return { k0, k1, first: b.prim("eq", [k0, b.index(0)]), last: single ? true : b.prim("eq", [k1, K]) };
  };

  /** Rows [row0, rowEnd) of one panel: MR rows at a time, then the rest in tiles of 4, 2, 1 rows. */
  const rowsOf = (row0: KValue, rowEnd: KValue, tile: (row: KValue, rows: number) => void, step = mr): void => {
    const fullRows = b.ix(row0, "+", b.ix(b.ix(b.sub(rowEnd, row0), "/", step), "*", step));
    b.for(row0, fullRows, { step, name: "i" }, (row) => tile(row, step));
    // The rest (fewer than `step` rows) as one tile per binary digit: 5 rows = 4 + 1, not five single
    // rows. Pooled rows come in whole windows, so there is no rest.
    if (pool) return;
    const rest = b.sub(rowEnd, fullRows);
    for (let bit = 1 << Math.floor(Math.log2(Math.max(1, step - 1))); bit >= 1; bit >>= 1) {
      if (bit >= step) continue;
      const below = b.ix(rest, "%", 2 * bit); // this digit and the lower ones
      b.if(b.prim("ge", [below, b.index(bit)]), () => tile(b.add(fullRows, b.sub(rest, below)), bit));
    }
  };

  // Matrix-vector products take GEMV_PANELS panels per block: accumulators for 4 panels' width.
  const gemvWidth = GEMV_PANELS * nb;
  const gemvBlocks = batch ? 0 : Math.floor(N / gemvWidth);
  const gemvColumns: Column[] = Array.from({ length: GEMV_PANELS * nv }, (_, v) => ({ offset: v * w, lanes: w }));

  /** The last, partial panel (its width is static): whole vectors and single columns in one micro-tile, B in place. */
  const col0 = fullPanels * nb;
  // Bᵀ read in place gives one column at a time (contiguous along k), so only single columns.
  const partialVectors = bTransposed ? 0 : Math.floor((N - col0) / w);
  const partialColumns: Column[] = [
    ...Array.from({ length: partialVectors }, (_, v) => ({ offset: v * w, lanes: w })),
    ...Array.from({ length: N - col0 - partialVectors * w }, (_, s) => ({ offset: partialVectors * w + s, lanes: 1 })),
  ];
  /** Rows per partial micro-tile: as many as keep its accumulators within a panel's MR·NV registers. */
  const partialRows = pool ? mr : Math.max(1, Math.min(mr, Math.floor((mr * nv) / Math.max(1, partialColumns.length))));
  const partialPanel = (aBase: KValue, cBase: KValue, inPlace: (col: KValue) => BSource, row: KValue, kb: KBlock, rows: number): void => {
    const col = b.index(col0);
    micro(aBase, cBase, inPlace(col), row, col, kb, rows, partialColumns);
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
    const inPlace = (col: KValue): BSource => (offset) =>
      bTransposed
        ? { buffer: B, base: b.add(bBase, b.mul(offset === 0 ? col : b.ix(col, "+", offset), K)), stride: 1 } // column j of B is row j of Bᵀ
        : { buffer: B, base: b.add(bBase, offset === 0 ? col : b.ix(col, "+", offset)), stride: N };

    const direct = (): void => {
      // With few panels, rows are cut finer (down to MR) so that there are some 8 tiles to share out.
      const rowTiles = Math.ceil(8 / panels);
      const perTile = b.ix(b.ix(M, "+", rowTiles - 1), "/", rowTiles); // ⌈M / rowTiles⌉
      const rounded = b.ix(b.ix(b.ix(perTile, "+", mr - 1), "/", mr), "*", mr); // up to a multiple of MR
      const rowsPerTile = panels >= 8 ? b.index(mb) : b.min(b.index(mb), b.max(b.index(mr), rounded));
      const tiles = b.ix(b.ix(b.add(M, b.ix(rowsPerTile, "-", 1)), "/", rowsPerTile), "*", panels);
      b.for(0, tiles, { parallel: true, name: "tile" }, (t) => {
        const rb = b.ix(t, "/", panels);
        const panel = b.ix(t, "%", panels);
        const row0 = b.mul(rb, rowsPerTile);
        const rowEnd = b.min(M, b.add(row0, rowsPerTile));
        const col0 = b.ix(panel, "*", nb);
        b.for(0, K, { step: kc, name: "kb" }, (k0) => {
          const kb = kBlock(k0);
          const full = () => rowsOf(row0, rowEnd, (row, rows) => micro(aBase, cBase, inPlace(col0), row, col0, kb, rows, panelColumns));
          const partial = () => rowsOf(row0, rowEnd, (row, rows) => partialPanel(aBase, cBase, inPlace, row, kb, rows), partialRows);
          if (fullPanels === panels) full();
          else if (fullPanels === 0) partial();
          else b.if(b.lt(panel, b.index(fullPanels)), full, partial);
        });
        tileEpilogue(cBase, row0, rowEnd, panel, true); // after the tile's K loop
      });
    };

    /**
     * One row (batch-1 inference): a matrix-vector product. Blocks of GEMV_PANELS panels run in
     * parallel, each streaming its slice of every row of B (whole cache lines, in order) into one
     * row of accumulators over all of K; the columns past the last block go panel by panel.
     */
    const gemv = (): void => {
      const all: KBlock = { k0: b.index(0), k1: K, first: true, last: true };
      b.for(0, gemvBlocks, { parallel: true, name: "gemv" }, (blk) => {
        const col = b.ix(blk, "*", gemvWidth);
        micro(aBase, cBase, inPlace(col), b.index(0), col, all, 1, gemvColumns);
      });
      b.for(gemvBlocks * GEMV_PANELS, fullPanels, { name: "panel" }, (p) => {
        const col = b.ix(p, "*", nb);
        micro(aBase, cBase, inPlace(col), b.index(0), col, all, 1, panelColumns);
      });
      if (fullPanels < panels) partialPanel(aBase, cBase, inPlace, b.index(0), all, 1);
    };
    const small = (): void => (gemvBlocks > 0 && !pool ? b.if(b.prim("eq", [M, b.index(1)]), gemv, direct) : direct());

    if (!P) return small();
    const packedPath = (): void => {
      if (!prepacked) packPanels(b, B, P, bBase, K, N, w, nv, fullPanels, bTransposed);
      const packed = (p: KValue): BSource => (offset) => ({ buffer: P, base: b.ix(b.ix(b.mul(p, K), "*", nb), "+", offset), stride: nb });
      // Tiles of MB rows × one panel, in parallel, each walking all of K (its block of C stays in L1);
      // consecutive tiles share their rows of A, so a thread's run of tiles finds them in cache.
      b.for(0, b.ix(rowBlocks, "*", panels), { parallel: true, name: "tile" }, (t) => {
        const rb = b.ix(t, "/", panels);
        const p = b.ix(t, "%", panels);
        const row0 = b.ix(rb, "*", mb);
        const rowEnd = b.min(M, b.ix(row0, "+", mb));
        b.for(0, K, { step: kc, name: "kb" }, (k0) => {
          const kb = kBlock(k0);
          const full = () => rowsOf(row0, rowEnd, (row, rows) => micro(aBase, cBase, packed(p), row, b.ix(p, "*", nb), kb, rows, panelColumns));
          if (fullPanels === panels) full();
          else b.if(b.lt(p, b.index(fullPanels)), full, () => rowsOf(row0, rowEnd, (row, rows) => partialPanel(aBase, cBase, inPlace, row, kb, rows), partialRows));
        });
        tileEpilogue(cBase, row0, rowEnd, p, true);
      });
    };
    // Bᵀ has no in-place vector reads, so every M packs.
    if (bTransposed) packedPath();
    else b.if(b.lt(M, b.index(2 * mr)), small, packedPath);
  });
  // Room for all N columns (the full panels use fullPanels·NB of them): the same at every width.
  const packedElements = N;
  const offsetTable = table ? { offsetTable: gather!.offsets! } : {};
  if (prepacked) {
    const kernel = (packName: string) => emitPackKernel(packName, shape.k, N, w, bTransposed);
    return { kernel: b.finish(), scratchElements: { constant: 0, perBatch: 0 }, ...offsetTable, prepacked: { elements: packedElements * shape.k, key: `panels ${nb}x${shape.k}${bTransposed ? "t" : ""}`, kernel } };
  }
  return { kernel: b.finish(), ...offsetTable, scratchElements: !packing ? { constant: 0, perBatch: 0 } : kSymbolic ? { constant: 0, perBatch: packedElements } : { constant: packedElements * shape.k, perBatch: 0 } };
}

/**
 * Pack every full panel of B (K×N, or Bᵀ N×K) into P, in parallel: slab p holds columns
 * p·NB..p·NB+NB of all K rows, row k's vector v at (p·K + k)·NB + v·w — one cache line per k,
 * read in order by the micro-tiles.
 */
function packPanels(b: KBuilder, B: KBufferParam, P: KBufferParam, bBase: KValue, K: KValue, N: number, w: number, nv: number, fullPanels: number, bTransposed: boolean): void {
  const nb = nv * w;
  b.for(0, fullPanels, { parallel: true, name: "pack" }, (p) => {
    if (bTransposed) {
      // Row p·NB + j of Bᵀ, read along k, is column j of the slab.
      for (let j = 0; j < nb; j++) {
        const src = b.add(bBase, b.mul(b.ix(b.ix(p, "*", nb), "+", j), K));
        b.for(0, K, { name: "k" }, (k) => b.store(P, b.ix(b.ix(b.add(b.mul(p, K), k), "*", nb), "+", j), b.load(B, b.add(src, k))));
      }
      return;
    }
    b.for(0, K, { name: "k" }, (k) => {
      const dst = b.ix(b.add(b.mul(p, K), k), "*", nb);
      const src = b.add(bBase, b.add(b.ix(k, "*", N), b.ix(p, "*", nb)));
      for (let v = 0; v < nv; v++) b.store(P, b.ix(dst, "+", v * w), b.load(B, b.ix(src, "+", v * w), w));
    });
  });
}

/** The kernel `name(b, bpack)` packing a weight once (a prepare launch) for GEMMs with GemmOptions.prepacked. */
export function emitPackKernel(name: string, k: number, n: number, width: number, bTransposed: boolean): KFunc {
  const w = Math.max(1, width);
  const { nv } = blockingFor(w);
  const b = new KBuilder(name);
  const B = b.buffer("b", "f32");
  const P = b.buffer("bpack", "f32", true);
  packPanels(b, B, P, b.index(0), b.index(k), n, w, nv, Math.floor(n / (nv * w)), bTransposed);
  return b.finish();
}

/**
 * The epilogue applied to `value`, finished C elements at (row, col..col+lanes), reading each
 * operand (its kernel buffer in `operands`) at its row and column strides.
 */
function epilogueValue(b: KBuilder, epilogue: KernelEpilogue, operands: readonly (EpilogueOperand & { buffer: KBufferParam })[], value: KValue, row: KValue, col: KValue, lanes: number): KValue {
  const loads = operands.map((o) => {
    const at = b.add(o.rowStride === 0 ? b.index(0) : b.ix(row, "*", o.rowStride), o.colStride === 0 ? b.index(0) : col);
    if (o.colStride === 1) return b.load(o.buffer, at, lanes);
    const one = b.load(o.buffer, at);
    return lanes > 1 ? b.broadcast(one, lanes) : one;
  });
  return emitSExpr(b, epilogue.expr, [value, ...loads], lanes);
}

/** The context's fused epilogue in the form the GEMM kernel reads it (rows: every dimension but the last). */
export function gemmEpilogue(ctx: TemplateContext): KernelEpilogue | undefined {
  const e = ctx.epilogue;
  if (!e) return undefined;
  const operands = e.operands.map((o) => {
    const strides = epilogueStrides(o.type.shape, ctx.outType.shape);
    if (!strides) throw new TfcError("TFC6011", `internal: a ${formatType(o.type)} operand cannot be read by the epilogue of a ${formatType(ctx.outType)} product`);
    return { elem: o.buffer.elem, ...strides };
  });
  return { expr: e.expr, operands };
}

/**
 * Launch a GEMM kernel, adding its packing scratch or its packed B (packed by a prepare launch)
 * when it has one, and the context's epilogue operands.
 */
export function launchGemm(ctx: TemplateContext, gemm: GemmKernel, a: KProgramBuffer, bMatrix: KProgramBuffer, c: KProgramBuffer): void {
  const buffers = [a, bMatrix, c];
  const pre = gemm.prepacked;
  if (pre) buffers.push(ctx.packed(bMatrix, pre.key, pre.elements, () => pre.kernel(ctx.kernelName("pack"))));
  else if (gemm.scratchElements.constant > 0 || gemm.scratchElements.perBatch > 0) buffers.push(ctx.scratch("bpack", "f32", gemm.scratchElements));
  buffers.push(...(ctx.epilogue?.operands ?? []).map((o) => o.buffer));
  if (gemm.offsetTable) buffers.push(ctx.constant("koffsets", gemm.offsetTable));
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
  // A rank-2 Aᵀ ([K, M], M static) is read in place through a gather: A(row, k) = Aᵀ[k·M + row]
  // (weight gradients Xᵀ·dY read X as it is); other transposed A operands are materialized.
  const aRows = aType.shape[aType.shape.length - 1]!;
  const aTransposed = ctx.attrs["transpose_a"] === true && aType.shape.length === 2 && bType.shape.length === 2 && aRows !== BATCH && ctx.outType.dtype === "f32";
  if (ctx.attrs["transpose_a"] && !aTransposed) [aBuf, aType] = materialize(aBuf, aType, "at");
  if (aTransposed) aType = { dtype: aType.dtype, shape: [aType.shape[1]!, aType.shape[0]!] };
  // A rank-2 f32 Bᵀ is read by the GEMM's packing loop as it is; other transposed operands are materialized.
  const bTransposed = ctx.attrs["transpose_b"] === true && bType.shape.length === 2 && aType.shape.length >= 2 && ctx.outType.dtype === "f32";
  if (ctx.attrs["transpose_b"] && !bTransposed) [bBuf, bType] = materialize(bBuf, bType, "bt");
  if (bTransposed) bType = { dtype: bType.dtype, shape: [bType.shape[1]!, bType.shape[0]!] };
  if (ctx.outType.dtype !== "f32") return lowerIntMatmul(ctx, aBuf, aType, bBuf, bType);

  const out = ctx.outType.shape;
  const K = aType.shape[aType.shape.length - 1]!;
  const N = out[out.length - 1]!;
  if (bType.shape.length === 2) {
    // One (possibly tall) GEMM: A's leading dimensions fold into M.
    const fixed = aType.shape.slice(0, -1).reduce((p, d) => (d === BATCH ? p : p * d), 1);
    const shape: GemmShape = { mFixed: fixed, mBatch: aType.shape.slice(0, -1).includes(BATCH), k: K, n: N };
    const gather: AGather | undefined = aTransposed
      ? { rowBases: (b, row, rows) => Array.from({ length: rows }, (_, r) => (r === 0 ? row : b.ix(row, "+", r))), offset: (b, k) => b.ix(k, "*", aRows) }
      : undefined;
    if (narrowProduct(shape) && !gather && (bTransposed || ctx.stable(bBuf))) {
      // Few columns (a classifier head): dot products along K, B read as Bᵀ (given so, or packed once).
      const bt = bTransposed ? bBuf : ctx.packed(bBuf, "transposed", K * N, () => emitTransposePackKernel(ctx.kernelName("pack"), K, N));
      launchGemm(ctx, { kernel: emitDotGemmKernel(ctx.kernelName(), shape, ctx.width, gemmEpilogue(ctx)), scratchElements: { constant: 0, perBatch: 0 } }, aBuf, bt, ctx.out);
      return;
    }
    const opts: GemmOptions = { epilogue: gemmEpilogue(ctx), bTransposed, prepacked: ctx.stable(bBuf), ...(gather ? { gather } : {}) };
    launchGemm(ctx, emitGemmKernel(ctx.kernelName(), shape, ctx.width, opts), aBuf, bBuf, ctx.out);
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
  launchGemm(ctx, emitGemmKernel(ctx.kernelName(), shape, ctx.width, { batch: { aStride: strideOf(aType), bStride: strideOf(bType), dims } }), aBuf, bBuf, ctx.out);
}

/** Rows × columns of a dot-product tile: R·J accumulators + R vectors of A + 1 of Bᵀ ≤ 16 registers. */
const DOT_ROWS = 3;
const DOT_COLUMNS = 4;

/**
 * Whether a product is narrow enough for emitDotGemmKernel: fewer columns than the widest GEMM
 * panel (the GEMM would run them as single columns), K static and long enough to vectorize along.
 */
export function narrowProduct(shape: GemmShape): boolean {
  return shape.k !== BATCH && shape.n < LAYOUT_PANEL && shape.k >= 2 * LAYOUT_PANEL;
}

/**
 * C = A·B for few columns N, vectorized along K instead of N: `name(a, bt, c[, e…], n)` reads B
 * as Bᵀ (N×K, rows contiguous along k). Tiles of DOT_ROWS rows × DOT_COLUMNS columns keep one
 * vector accumulator per (row, column) over all of K, then reduce it across lanes; A's rows and
 * Bᵀ's rows stream in order. Rows are shared out in parallel; the epilogue applies per element.
 */
export function emitDotGemmKernel(name: string, shape: GemmShape, width: number, epilogue?: KernelEpilogue): KFunc {
  const w = Math.max(1, width);
  const K = shape.k;
  const N = shape.n;
  const b = new KBuilder(name);
  const A = b.buffer("a", "f32");
  const BT = b.buffer("bt", "f32");
  const C = b.buffer("c", "f32", true);
  const E = (epilogue?.operands ?? []).map((o, k) => ({ ...o, buffer: b.buffer(`e${k}`, o.elem) }));
  const n = b.scalarParam("n");
  const M = shape.mBatch ? (shape.mFixed === 1 ? n : b.ix(n, "*", shape.mFixed)) : b.index(shape.mFixed);
  const kVector = Math.floor(K / w) * w;

  /** Rows row..row+rows-1, every column: per column chunk, vector dot products then the scalar tail. */
  const tile = (row: KValue, rows: number): void => {
    const aBase = Array.from({ length: rows }, (_, r) => b.ix(r === 0 ? row : b.ix(row, "+", r), "*", K));
    for (let c0 = 0; c0 < N; c0 += DOT_COLUMNS) {
      const cols = Math.min(DOT_COLUMNS, N - c0);
      const zero = () => (w > 1 ? b.broadcast(b.f32(0), w) : b.f32(0));
      const accs = Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, j) => b.var(zero(), `acc${r}_${j}`)));
      b.for(0, kVector, { step: w, name: "k" }, (k) => {
        const av = aBase.map((base) => b.load(A, b.add(base, k), w));
        for (let j = 0; j < cols; j++) {
          const bv = b.load(BT, b.add(b.index((c0 + j) * K), k), w);
          for (let r = 0; r < rows; r++) b.set(accs[r]![j]!, b.fma(av[r]!, bv, b.get(accs[r]![j]!)));
        }
      });
      const sums = accs.map((row) => row.map((acc) => b.var(b.reduce("add", b.get(acc)), "sum")));
      if (kVector < K) {
        b.for(kVector, K, { name: "kt" }, (k) => {
          const as = aBase.map((base) => b.load(A, b.add(base, k)));
          for (let j = 0; j < cols; j++) {
            const bs = b.load(BT, b.add(b.index((c0 + j) * K), k));
            for (let r = 0; r < rows; r++) b.set(sums[r]![j]!, b.fma(as[r]!, bs, b.get(sums[r]![j]!)));
          }
        });
      }
      for (let r = 0; r < rows; r++) {
        const rowIndex = r === 0 ? row : b.ix(row, "+", r);
        for (let j = 0; j < cols; j++) {
          const col = b.index(c0 + j);
          const sum = b.get(sums[r]![j]!);
          b.store(C, b.add(b.ix(rowIndex, "*", N), col), epilogue ? epilogueValue(b, epilogue, E, sum, rowIndex, col, 1) : sum);
        }
      }
    }
  };
  const tiles = b.ix(M, "/", DOT_ROWS);
  b.for(0, tiles, { parallel: true, name: "tile" }, (t) => tile(b.ix(t, "*", DOT_ROWS), DOT_ROWS));
  // The last M mod DOT_ROWS rows one at a time.
  b.for(b.ix(tiles, "*", DOT_ROWS), M, { name: "row" }, (row) => tile(row, 1));
  return b.finish();
}

/** The kernel `name(b, bt)` writing B (K×N) transposed, once (a prepare launch for emitDotGemmKernel). */
export function emitTransposePackKernel(name: string, k: number, n: number): KFunc {
  const b = new KBuilder(name);
  const B = b.buffer("b", "f32");
  const BT = b.buffer("bt", "f32", true);
  b.for(0, n, { parallel: true, name: "j" }, (j) => b.for(0, k, { name: "k" }, (kk) => b.store(BT, b.add(b.ix(j, "*", k), kk), b.load(B, b.add(b.ix(kk, "*", n), j)))));
  return b.finish();
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
