// Convolution and pooling to kernel IR. conv2d is the GEMM template: an unpadded convolution as an
// implicit GEMM reading its input through the taps (a 1×1, stride-1 one reads the NHWC input as
// the matrix), a padded one through an im2col scratch matrix. depthwise_conv2d and the
// pools are direct loop nests vectorized over channels, with bounds checks only for 'same' padding.

import { KBuilder } from "../../ir/kernel/builder.js";
import type { Op } from "../../ir/ir.js";
import type { KBufferParam, KValue } from "../../ir/kernel/kir.js";
import { windowAxis } from "../../ir/ops/nn.js";
import { BATCH, type TensorType } from "../../ir/types.js";
import { dimValue, type TemplateContext } from "./context.js";
import { emitGemmKernel, gemmEpilogue, launchGemm, type AGather } from "./matmul.js";

type Padding = "same" | "valid";

interface Window {
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly dh: number;
  readonly dw: number;
  readonly oh: number;
  readonly ow: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
  /** Whether some tap can fall outside the image (then taps are checked). */
  readonly padded: boolean;
  /** The batch dimension of the input: a size, or BATCH. */
  readonly batch: number;
}

function windowOf(x: TensorType, k: readonly number[], strides: readonly number[], dilations: readonly number[], padding: Padding): Window {
  const [h, w, c] = [x.shape[1]!, x.shape[2]!, x.shape[3]!];
  const rows = windowAxis("lower", "height", h, k[0]!, strides[0]!, dilations[0]!, padding);
  const cols = windowAxis("lower", "width", w, k[1]!, strides[1]!, dilations[1]!, padding);
  const padded = padding === "same" && (rows.padBefore > 0 || cols.padBefore > 0 || (rows.out - 1) * strides[0]! + (k[0]! - 1) * dilations[0]! - rows.padBefore >= h || (cols.out - 1) * strides[1]! + (k[1]! - 1) * dilations[1]! - cols.padBefore >= w);
  return { kh: k[0]!, kw: k[1]!, sh: strides[0]!, sw: strides[1]!, dh: dilations[0]!, dw: dilations[1]!, oh: rows.out, ow: cols.out, padTop: rows.padBefore, padLeft: cols.padBefore, h, w, c, padded, batch: x.shape[0]! };
}

/**
 * For each output pixel (batch·OH·OW of them, in parallel) and each tap: `visit(inBase, valid)`
 * with the input offset of the tap's first channel; `valid` is undefined when no tap can be padding.
 */
function forEachTap(
  b: KBuilder,
  win: Window,
  n: KValue,
  perPixel: (pixel: KValue, taps: (visit: (tap: number, inBase: KValue, valid: KValue | undefined) => void) => void) => void,
): void {
  const pixels = b.ix(dimValue(b, win.batch, n), "*", win.oh * win.ow);
  b.for(0, pixels, { parallel: true, name: "p" }, (p) => {
    const batch = b.ix(p, "/", win.oh * win.ow);
    const within = b.ix(p, "%", win.oh * win.ow);
    const oy = b.ix(within, "/", win.ow);
    const ox = b.ix(within, "%", win.ow);
    perPixel(p, (visit) => {
      for (let ky = 0; ky < win.kh; ky++) {
        for (let kx = 0; kx < win.kw; kx++) {
          const iy = b.ix(b.ix(oy, "*", win.sh), "+", ky * win.dh - win.padTop);
          const ix = b.ix(b.ix(ox, "*", win.sw), "+", kx * win.dw - win.padLeft);
          const inBase = b.ix(b.add(b.ix(b.add(b.ix(batch, "*", win.h), iy), "*", win.w), ix), "*", win.c);
          let valid: KValue | undefined;
          if (win.padded) {
            const inside = (v: KValue, size: number) => b.prim("and", [b.prim("ge", [v, b.index(0)]), b.lt(v, b.index(size))]);
            valid = b.prim("and", [inside(iy, win.h), inside(ix, win.w)]);
          }
          visit(ky * win.kw + kx, inBase, valid);
        }
      }
    });
  });
}

/** Run `body` over channels [0, c) as whole vectors of `width` lanes, then single channels. */
function channels(b: KBuilder, c: number, width: number, body: (ch: KValue, lanes: number) => void): void {
  const vectors = width > 1 ? Math.floor(c / width) : 0;
  if (vectors > 0) b.for(0, vectors, { name: "cv" }, (v) => body(b.ix(v, "*", width), width));
  if (vectors * width < c) b.for(vectors * width, c, { name: "c" }, (ch) => body(ch, 1));
}

/**
 * Where the implicit GEMM of an unpadded convolution finds A(pixel, k): the pixel's first tap at
 * `((image·H + oy·sh)·W + ox·sw)·C`, plus the offset of tap k / C and channel k % C.
 */
function imageGather(win: Window): AGather {
  const rowBase = (b: KBuilder, pixel: KValue): KValue => {
    const image = b.ix(pixel, "/", win.oh * win.ow);
    const within = b.ix(pixel, "%", win.oh * win.ow);
    return pixelOffset(b, win, image, b.ix(within, "/", win.ow), b.ix(within, "%", win.ow));
  };
  return {
    rowBases: (b, row, rows) => Array.from({ length: rows }, (_, r) => rowBase(b, b.ix(row, "+", r))),
    offset: (b, k) => {
      const tap = win.c === 1 ? k : b.ix(k, "/", win.c);
      const channel = win.c === 1 ? undefined : b.ix(k, "%", win.c);
      const ky = b.ix(tap, "/", win.kw);
      const kx = b.ix(tap, "%", win.kw);
      const pixels = b.add(b.ix(ky, "*", win.dh * win.w), b.ix(kx, "*", win.dw));
      return channel ? b.add(b.ix(pixels, "*", win.c), channel) : pixels;
    },
    // The same offsets as a table, read once per k by the GEMM's innermost loop.
    offsets: Int32Array.from({ length: win.kh * win.kw * win.c }, (_, k) => {
      const tap = Math.floor(k / win.c);
      return ((Math.floor(tap / win.kw) * win.dh * win.w + (tap % win.kw) * win.dw) * win.c) + (k % win.c);
    }),
  };
}

/** Offset of the input pixel under output pixel (oy, ox)'s first tap, channel 0. */
function pixelOffset(b: KBuilder, win: Window, image: KValue, oy: KValue, ox: KValue): KValue {
  return b.ix(b.add(b.ix(b.add(b.ix(image, "*", win.h), b.ix(oy, "*", win.sh)), "*", win.w), b.ix(ox, "*", win.sw)), "*", win.c);
}

/**
 * The implicit GEMM's rows for a conv followed by a ph×pw max pool with strides equal to its window
 * and no padding: row r is position r % (ph·pw) of pooling window r / (ph·pw), so each window's
 * conv outputs are consecutive rows of one micro-tile.
 */
function pooledImageGather(win: Window, ph: number, pw: number): AGather {
  const taps = imageGather(win); // the same offset of each k as an unpooled conv
  const across = Math.floor(win.ow / pw);
  const perImage = Math.floor(win.oh / ph) * across;
  return {
    // A micro-tile is one whole window: its first pixel once, the others at static offsets.
    rowBases: (b, row, rows) => {
      const windowIndex = b.ix(row, "/", ph * pw);
      const image = b.ix(windowIndex, "/", perImage);
      const within = b.ix(windowIndex, "%", perImage);
      const first = pixelOffset(b, win, image, b.ix(b.ix(within, "/", across), "*", ph), b.ix(b.ix(within, "%", across), "*", pw));
      return Array.from({ length: rows }, (_, t) => b.ix(first, "+", (Math.floor(t / pw) * win.sh * win.w + (t % pw) * win.sw) * win.c));
    },
    offset: taps.offset,
    offsets: taps.offsets!,
  };
}

/**
 * Whether conv2d's kernel can take this max_pool too: non-overlapping windows of at most 4 pixels
 * (one micro-tile's rows on every target), no padding on either, one K block (K ≤ 256: the window's
 * sums finish in registers), and only per-channel epilogue operands (rows are in window order).
 */
export function convPools(conv: Op, pool: Op): boolean {
  if (pool.name !== "max_pool") return false;
  const [x, filter] = conv.operands.map((o) => o.type) as [TensorType, TensorType];
  const ksize = pool.attrs["ksize"] as number[];
  const strides = pool.attrs["strides"] as number[];
  const win = windowOf(x, filter.shape.slice(0, 2), conv.attrs["strides"] as number[], conv.attrs["dilations"] as number[], conv.attrs["padding"] as Padding);
  const k = filter.shape[0]! * filter.shape[1]! * filter.shape[2]!;
  return pool.attrs["padding"] === "valid" && ksize[0] === strides[0] && ksize[1] === strides[1] && ksize[0]! * ksize[1]! <= 4 && !win.padded && k <= 256;
}

export function lowerConv2d(ctx: TemplateContext): void {
  const [x, filter] = ctx.inTypes as [TensorType, TensorType];
  const win = windowOf(x, filter.shape.slice(0, 2), ctx.attrs["strides"] as number[], ctx.attrs["dilations"] as number[], ctx.attrs["padding"] as Padding);
  const outChannels = filter.shape[3]!;
  const kdim = win.kh * win.kw * win.c;
  const batched = win.batch === BATCH;
  const gemm = (name: string, gather?: AGather) => emitGemmKernel(name, { mFixed: (batched ? 1 : win.batch) * win.oh * win.ow, mBatch: batched, k: kdim, n: outChannels }, ctx.width, { epilogue: gemmEpilogue(ctx), prepacked: ctx.stable(ctx.inputs[1]!), ...(gather ? { gather } : {}) });
  if (ctx.pool) {
    // Rows in pooling-window order, each window's rows reduced to one output row in registers.
    const [ph, pw] = ctx.pool.attrs["ksize"] as number[];
    const pooled = Math.floor(win.oh / ph!) * Math.floor(win.ow / pw!);
    const shape = { mFixed: (batched ? 1 : win.batch) * pooled * ph! * pw!, mBatch: batched, k: kdim, n: outChannels };
    const kernel = emitGemmKernel(ctx.kernelName(), shape, ctx.width, { epilogue: gemmEpilogue(ctx), gather: pooledImageGather(win, ph!, pw!), pool: { window: ph! * pw! }, prepacked: ctx.stable(ctx.inputs[1]!) });
    launchGemm(ctx, kernel, ctx.inputs[0]!, ctx.inputs[1]!, ctx.out);
    return;
  }
  const pointwise = win.kh === 1 && win.kw === 1 && win.sh === 1 && win.sw === 1 && !win.padded;
  if (pointwise) {
    launchGemm(ctx, gemm(ctx.kernelName()), ctx.inputs[0]!, ctx.inputs[1]!, ctx.out);
    return;
  }
  if (!win.padded) {
    // Implicit GEMM: rows are output pixels, k = (tap, input channel), A read from the image itself.
    launchGemm(ctx, gemm(ctx.kernelName(), imageGather(win)), ctx.inputs[0]!, ctx.inputs[1]!, ctx.out);
    return;
  }
  const perImage = win.oh * win.ow * kdim;
  const cols = ctx.scratch("im2col", "f32", batched ? { constant: 0, perBatch: perImage } : { constant: win.batch * perImage, perBatch: 0 });
  const b = new KBuilder(ctx.kernelName("im2col"));
  const src = b.buffer("x", "f32");
  const dst = b.buffer("cols", "f32", true);
  const n = b.scalarParam("n");
  forEachTap(b, win, n, (pixel, taps) => {
    const rowBase = b.ix(pixel, "*", kdim);
    taps((tap, inBase, valid) => {
      const outBase = b.ix(rowBase, "+", tap * win.c);
      const copy = () => channels(b, win.c, ctx.width, (ch, lanes) => b.store(dst, b.add(outBase, ch), b.load(src, b.add(inBase, ch), lanes)));
      const zero = () => channels(b, win.c, ctx.width, (ch, lanes) => b.store(dst, b.add(outBase, ch), lanes > 1 ? b.broadcast(b.f32(0), lanes) : b.f32(0)));
      if (valid) b.if(valid, copy, zero);
      else copy();
    });
  });
  ctx.launch(b.finish(), [ctx.inputs[0]!, cols]);
  launchGemm(ctx, gemm(ctx.kernelName("gemm")), cols, ctx.inputs[1]!, ctx.out);
}

export function lowerDepthwiseConv2d(ctx: TemplateContext): void {
  const [x, filter] = ctx.inTypes as [TensorType, TensorType];
  const win = windowOf(x, filter.shape.slice(0, 2), ctx.attrs["strides"] as number[], ctx.attrs["dilations"] as number[], ctx.attrs["padding"] as Padding);
  const mult = filter.shape[3]!;
  const outC = win.c * mult;
  const b = new KBuilder(ctx.kernelName());
  const src = b.buffer("x", "f32");
  const f = b.buffer("filter", "f32");
  const dst = b.buffer("out", "f32", true);
  const n = b.scalarParam("n");
  forEachTap(b, win, n, (pixel, taps) => {
    const outBase = b.ix(pixel, "*", outC);
    if (mult === 1) {
      channels(b, win.c, ctx.width, (ch, lanes) => {
        const zero = lanes > 1 ? b.broadcast(b.f32(0), lanes) : b.f32(0);
        const acc = b.var(zero, "acc");
        taps((tap, inBase, valid) => {
          const step = () => b.set(acc, b.fma(b.load(src, b.add(inBase, ch), lanes), b.load(f, b.ix(ch, "+", tap * win.c), lanes), b.get(acc)));
          if (valid) b.if(valid, step);
          else step();
        });
        b.store(dst, b.add(outBase, ch), b.get(acc));
      });
      return;
    }
    // A depth multiplier interleaves outputs (channel c, copy q at c·mult + q): scalar per output.
    b.for(0, win.c, { name: "c" }, (ch) =>
      b.for(0, mult, { name: "q" }, (q) => {
        const acc = b.var(b.f32(0), "acc");
        taps((tap, inBase, valid) => {
          const step = () => b.set(acc, b.fma(b.load(src, b.add(inBase, ch)), b.load(f, b.add(b.ix(b.ix(ch, "+", tap * win.c), "*", mult), q)), b.get(acc)));
          if (valid) b.if(valid, step);
          else step();
        });
        b.store(dst, b.add(outBase, b.add(b.ix(ch, "*", mult), q)), b.get(acc));
      }),
    );
  });
  ctx.launch(b.finish(), [ctx.inputs[0]!, ctx.inputs[1]!, ctx.out]);
}

export function lowerPool(ctx: TemplateContext, kind: "max" | "avg"): void {
  const x = ctx.inTypes[0]!;
  const win = windowOf(x, ctx.attrs["ksize"] as number[], ctx.attrs["strides"] as number[], [1, 1], ctx.attrs["padding"] as Padding);
  const b = new KBuilder(ctx.kernelName());
  const src: KBufferParam = b.buffer("x", "f32");
  const dst = b.buffer("out", "f32", true);
  const n = b.scalarParam("n");
  forEachTap(b, win, n, (pixel, taps) => {
    const outBase = b.ix(pixel, "*", win.c);
    channels(b, win.c, ctx.width, (ch, lanes) => {
      const splat = (v: number) => (lanes > 1 ? b.broadcast(b.f32(v), lanes) : b.f32(v));
      const acc = b.var(splat(kind === "max" ? -Infinity : 0), "acc");
      const count = b.var(b.f32(0), "count");
      taps((_, inBase, valid) => {
        const step = () => {
          const v = b.load(src, b.add(inBase, ch), lanes);
          b.set(acc, kind === "max" ? b.max(b.get(acc), v) : b.add(b.get(acc), v));
          if (kind === "avg") b.set(count, b.add(b.get(count), b.f32(1)));
        };
        if (valid) b.if(valid, step);
        else step();
      });
      let result = b.get(acc);
      if (kind === "avg") {
        const divisor = win.padded ? b.get(count) : b.f32(win.kh * win.kw);
        result = b.div(result, lanes > 1 ? b.broadcast(divisor, lanes) : divisor);
      }
      b.store(dst, b.add(outBase, ch), result);
    });
  });
  ctx.launch(b.finish(), [ctx.inputs[0]!, ctx.out]);
}

/**
 * max_pool_grad: parallel over images (each writes only its own slice of dx, so windows that
 * overlap never race); per image, zero dx, then for each window and channel find the first
 * maximum tap and add dy there. A window holding a NaN adds nothing.
 */
export function lowerMaxPoolGrad(ctx: TemplateContext): void {
  const x = ctx.inTypes[0]!;
  const win = windowOf(x, ctx.attrs["ksize"] as number[], ctx.attrs["strides"] as number[], [1, 1], ctx.attrs["padding"] as Padding);
  const b = new KBuilder(ctx.kernelName());
  const src = b.buffer("x", "f32");
  const dy = b.buffer("dy", "f32");
  const dst = b.buffer("dx", "f32", true);
  const n = b.scalarParam("n");
  const plane = win.h * win.w * win.c;
  b.for(0, dimValue(b, win.batch, n), { parallel: true, name: "img" }, (img) => {
    const base = b.ix(img, "*", plane);
    b.for(0, plane, { name: "z" }, (i) => b.store(dst, b.add(base, i), b.f32(0)));
    b.for(0, win.oh, { name: "oy" }, (oy) => {
      b.for(0, win.ow, { name: "ox" }, (ox) => {
        const dyBase = b.ix(b.ix(b.ix(b.ix(img, "*", win.oh), "+", oy), "*", win.ow), "+", ox);
        b.for(0, win.c, { name: "c" }, (ch) => {
          const best = b.var(b.f32(0), "best");
          const at = b.var(b.index(-1), "at");
          const nan = b.var(b.index(0), "nan");
          for (let ky = 0; ky < win.kh; ky++) {
            for (let kx = 0; kx < win.kw; kx++) {
              const iy = b.ix(b.ix(oy, "*", win.sh), "+", ky - win.padTop);
              const ix = b.ix(b.ix(ox, "*", win.sw), "+", kx - win.padLeft);
              const visit = () => {
                const idx = b.add(b.ix(b.add(b.ix(b.add(b.ix(img, "*", win.h), iy), "*", win.w), ix), "*", win.c), ch);
                const v = b.load(src, idx);
                b.if(b.prim("ne", [v, v]), () => b.set(nan, b.index(1)));
                b.if(b.prim("or", [b.lt(b.get(at), b.index(0)), b.prim("gt", [v, b.get(best)])]), () => {
                  b.set(best, v);
                  b.set(at, idx);
                });
              };
              if (win.padded) {
                const inside = (v: KValue, size: number) => b.prim("and", [b.prim("ge", [v, b.index(0)]), b.lt(v, b.index(size))]);
                b.if(b.prim("and", [inside(iy, win.h), inside(ix, win.w)]), visit);
              } else visit();
            }
          }
          b.if(b.prim("and", [b.prim("eq", [b.get(nan), b.index(0)]), b.prim("ge", [b.get(at), b.index(0)])]), () => {
            const target = b.get(at);
            b.store(dst, target, b.add(b.load(dst, target), b.load(dy, b.add(b.ix(dyBase, "*", win.c), ch))));
          });
        });
      });
    });
  });
  ctx.launch(b.finish(), [ctx.inputs[0]!, ctx.inputs[1]!, ctx.out]);
}
