// Loss functions with TF.js's semantics, written only with tf ops so that they run eagerly, trace
// into IR, compile and differentiate like any model code. Two families, as in TF.js:
//   - `losses` is `tf.losses` (tfjs-core): (labels, predictions, weights?, …, reduction) → reduced.
//   - the Keras losses (tfjs-layers, what `model.compile({loss})` names): per example, averaged
//     over the last axis; `getLoss` resolves a name to one and takes the mean over the batch.

import { TfcError, closest } from "../../ir/errors.js";
import { BATCH, formatShape } from "../../ir/types.js";
import { currentUserLoc } from "../frontend/location.js";
import { Tensor, Variable } from "./tensor.js";
import { executingEagerly } from "./context.js";
import {
  abs, add, cast, convert, div, equal, exp, floor, log, logSoftmax, max, maximum, mean, minimum, mul, neg, notEqual, oneHot, relu, reshape,
  softplus, sqrt, square, squaredDifference, sub, sum, where, type TensorOrLike,
} from "./ops.js";

/** tfjs-layers' `epsilon()` on TF.js's CPU backend: the clip bound of the Keras cross-entropies. */
export const EPSILON = 1e-7;

// ---- helpers ------------------------------------------------------------------------------------

/** tf.clipByValue: x clamped to [min, max]; the gradient passes where min <= x <= max, as in TF.js. */
export function clipByValue(x: TensorOrLike, clipValueMin: number, clipValueMax: number): Tensor {
  if (!(clipValueMin <= clipValueMax)) {
    throw new TfcError("TFC7046", `clipByValue: min (${clipValueMin}) must be less than or equal to max (${clipValueMax})`, { loc: currentUserLoc() });
  }
  const t = convert(x);
  const clipped = minimum(maximum(t, clipValueMin), clipValueMax);
  return t.dtype === "int32" ? cast(clipped, "int32") : clipped;
}

/**
 * tf.log1p: log(1 + x), accurate for small x. With u = 1 + x rounded, log(u)·x/(u − 1) cancels
 * the rounding of u (Goldberg 1991, theorem 4), and its derivative through both u and u − 1 is
 * 1/(1 + x) up to (u − 1)·(relative rounding of u − 1) — accurate too. Where u rounds to 1 the
 * result is x; the denominator is kept nonzero there, so no untaken branch makes a NaN gradient.
 */
export function log1p(x: TensorOrLike): Tensor {
  const t = convert(x, "f32");
  const u = add(t, 1);
  const d = sub(u, 1);
  const tiny = equal(d, 0);
  const exact = equal(d, t); // the ratio is 1; also x = −1 and x = +∞, where x/d would be NaN
  const ratio = div(t, where(tiny, 1, d));
  return where(tiny, t, where(exact, log(u), mul(log(u), ratio)));
}

const shapeText = (shape: readonly number[]): string => `[${formatShape(shape)}]`;

/** Same rank and dims; a symbolic batch dimension (`?`) matches any size. */
function shapesMatch(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i] || d === BATCH || b[i] === BATCH);
}

/**
 * @internal Labels and predictions of one shape, as float32; otherwise a located error naming
 * both shapes. TF.js's tf.losses assert the same; its Keras losses would broadcast silently
 * (labels [n] against predictions [n,1] give an [n,n] loss), which tfc rejects instead.
 */
export function matchLabels(fnName: string, labels: TensorOrLike, predictions: TensorOrLike, labelsName = "labels", predictionsName = "predictions"): [Tensor, Tensor] {
  const l = convert(labels, undefined, labelsName);
  const p = convert(predictions, undefined, predictionsName);
  if (!shapesMatch(l.shape, p.shape)) {
    const notes: string[] = [];
    const last = p.shape[p.rank - 1];
    if (l.rank === p.rank - 1 && last === 1) notes.push(`add the trailing axis to the labels: tf.expandDims(${labelsName}, -1) has shape ${shapeText([...l.shape, 1])}`);
    else if ((l.rank === p.rank - 1 || (l.rank === p.rank && l.shape[l.rank - 1] === 1)) && last !== undefined && last > 1) {
      notes.push("for one integer class index per example, use sparseCategoricalCrossentropy (or one-hot encode the labels with tf.oneHot)");
    }
    throw new TfcError("TFC7040", `${fnName}: ${labelsName} of shape ${shapeText(l.shape)} do not match ${predictionsName} of shape ${shapeText(p.shape)}`, {
      loc: currentUserLoc(),
      notes,
    });
  }
  return [convert(l, "f32"), convert(p, "f32")];
}

/**
 * @internal Class-index labels for predictions of shape [..., classes]: labels of shape [...] or
 * [..., 1], returned with shape [...] and their own dtype; otherwise a located error naming both
 * shapes. Concrete labels (eager) are checked to lie in [0, classes) after flooring; see
 * sparseCategoricalCrossentropy for what compiled code does with an index out of range.
 */
export function sparseLabelsShaped(fnName: string, labels: TensorOrLike, predictions: Tensor): Tensor {
  const l = convert(labels, undefined, "labels");
  const outer = predictions.shape.slice(0, -1);
  const classes = predictions.shape[predictions.rank - 1];
  const fits = shapesMatch(l.shape, outer) || shapesMatch(l.shape, [...outer, 1]);
  if (predictions.rank === 0 || classes === undefined || !fits) {
    throw new TfcError(
      "TFC7041",
      `${fnName}: sparse labels of shape ${shapeText(l.shape)} do not match predictions of shape ${shapeText(predictions.shape)}: expected one class index per example, labels of shape ${shapeText(outer)} or ${shapeText([...outer, 1])}`,
      { loc: currentUserLoc(), ...(shapesMatch(l.shape, predictions.shape) && l.rank > 0 ? { notes: ["labels shaped like the predictions are one-hot: use categoricalCrossentropy"] } : {}) },
    );
  }
  // A variable read in a trace may have been assigned earlier in it: only eagerly are its values known.
  const host = l instanceof Variable && !executingEagerly() ? undefined : l.host;
  if (host) {
    for (let i = 0; i < host.data.length; i++) {
      const k = Math.floor(Number(host.data[i]));
      if (!(k >= 0 && k < classes)) {
        throw new TfcError("TFC7042", `${fnName}: label ${host.data[i]} (element ${i} of labels ${shapeText(l.shape)}) is out of range [0, ${classes}) for predictions of shape ${shapeText(predictions.shape)}`, {
          loc: currentUserLoc(),
        });
      }
    }
  }
  return l.rank === predictions.rank ? reshape(l, l.shape.slice(0, -1)) : l;
}

/** @internal sparseLabelsShaped, as int32 class indices (float labels floored, as TF.js does). */
export function sparseLabels(fnName: string, labels: TensorOrLike, predictions: Tensor): Tensor {
  const l = sparseLabelsShaped(fnName, labels, predictions);
  return l.dtype === "int32" ? l : cast(floor(cast(l, "float32")), "int32");
}

// ---- tf.losses (tfjs-core) ----------------------------------------------------------------------

/** How tf.losses reduce the per-element losses; TF.js's enum, with its values. */
export enum Reduction {
  NONE = 0,
  MEAN = 1,
  SUM = 2,
  SUM_BY_NONZERO_WEIGHTS = 3,
}

type Weights = TensorOrLike | null | undefined;

/**
 * tf.losses.computeWeightedLoss. MEAN divides the weighted sum by the sum of the weights, and by
 * |losses|/|weights| when that is above 1; SUM_BY_NONZERO_WEIGHTS divides by the count of nonzero
 * weights (broadcast to the losses), or by the number of losses when there are no weights.
 * Counts are taken as means (sum(x)/n = mean(x)), which need no concrete batch size when traced.
 */
export function computeWeightedLoss(losses: TensorOrLike, weights?: Weights, reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS): Tensor {
  const l = convert(losses, "f32", "losses");
  const w = weights == null ? undefined : convert(weights, "f32", "weights");
  const weighted = w ? mul(l, w) : l;
  switch (reduction) {
    case Reduction.NONE:
      return weighted;
    case Reduction.SUM:
      return sum(weighted);
    case Reduction.MEAN: {
      if (!w) return mean(weighted);
      if (!l.shape.includes(BATCH) && !w.shape.includes(BATCH)) {
        const factor = l.size / w.size;
        const result = div(sum(weighted), sum(w));
        return factor > 1 ? div(result, factor) : result;
      }
      // mean(l·w)/mean(w) = sum(l·w)/sum(w)·|w|/|l·w|: TF.js's value whenever the weights broadcast to the losses' shape.
      return div(mean(weighted), mean(w));
    }
    case Reduction.SUM_BY_NONZERO_WEIGHTS:
      if (!w) return mean(weighted);
      // sum(l·w)/count(w ≠ 0 over the broadcast shape) = mean(l·w)/mean(w ≠ 0): broadcasting repeats w evenly.
      return div(mean(weighted), mean(cast(notEqual(w, 0), "float32")));
  }
  throw new TfcError("TFC7045", `unknown reduction ${String(reduction)}: use tf.Reduction.NONE, MEAN, SUM or SUM_BY_NONZERO_WEIGHTS`, { loc: currentUserLoc() });
}

/** tf.losses.absoluteDifference: |labels − predictions|, weighted and reduced. */
export function absoluteDifference(labels: TensorOrLike, predictions: TensorOrLike, weights?: Weights, reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS): Tensor {
  const [l, p] = matchLabels("absoluteDifference", labels, predictions);
  return computeWeightedLoss(abs(sub(l, p)), weights, reduction);
}

/** tf.losses.meanSquaredError: (labels − predictions)², weighted and reduced. */
function weightedMeanSquaredError(labels: TensorOrLike, predictions: TensorOrLike, weights?: Weights, reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS): Tensor {
  const [l, p] = matchLabels("meanSquaredError", labels, predictions);
  return computeWeightedLoss(squaredDifference(l, p), weights, reduction);
}

/** tf.losses.huberLoss: ½·min(e, δ)² + δ·(e − min(e, δ)) with e = |predictions − labels|. */
export function huberLoss(labels: TensorOrLike, predictions: TensorOrLike, weights?: Weights, delta = 1.0, reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS): Tensor {
  const [l, p] = matchLabels("huberLoss", labels, predictions);
  return computeWeightedLoss(huberElementwise(l, p, delta), weights, reduction);
}

function huberElementwise(labels: Tensor, predictions: Tensor, delta: number): Tensor {
  const error = abs(sub(predictions, labels));
  const quadratic = minimum(error, delta);
  const linear = sub(error, quadratic);
  return add(mul(0.5, square(quadratic)), mul(delta, linear));
}

/** tf.losses.logLoss: −l·log(p + ε) − (1 − l)·log(1 − p + ε). */
export function logLoss(labels: TensorOrLike, predictions: TensorOrLike, weights?: Weights, epsilon = 1e-7, reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS): Tensor {
  const [l, p] = matchLabels("logLoss", labels, predictions);
  const l1 = neg(mul(l, log(add(p, epsilon))));
  const l2 = mul(sub(1, l), log(add(sub(1, p), epsilon)));
  return computeWeightedLoss(sub(l1, l2), weights, reduction);
}

/**
 * max(x, 0) − x·z + log(1 + e^−|x|): the logistic loss of logits x against labels z, overflow-free.
 * −|x| is written min(x, −x), whose gradient at x = 0 is 1 (the tie goes to x): with relu'(0) = 0
 * the gradient at x = 0 is then ½ − z = sigmoid(0) − z, the true one, as in TF.js (where abs'(0)
 * is −1). tfc's abs'(0) is 0, which would give −z there: zero logits are common at initialization.
 */
function sigmoidCrossEntropyWithLogits(labels: Tensor, logits: Tensor): Tensor {
  const negAbs = minimum(logits, neg(logits));
  return add(sub(relu(logits), mul(logits, labels)), log1p(exp(negAbs)));
}

/** tf.losses.sigmoidCrossEntropy: logistic loss of logits; labelSmoothing pulls labels towards ½. */
export function sigmoidCrossEntropy(multiClassLabels: TensorOrLike, logits: TensorOrLike, weights?: Weights, labelSmoothing = 0, reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS): Tensor {
  const [l, x] = matchLabels("sigmoidCrossEntropy", multiClassLabels, logits, "multiClassLabels", "logits");
  const smoothed = labelSmoothing > 0 ? add(mul(l, 1 - labelSmoothing), 0.5 * labelSmoothing) : l;
  return computeWeightedLoss(sigmoidCrossEntropyWithLogits(smoothed, x), weights, reduction);
}

/**
 * tf.losses.softmaxCrossEntropy: −Σ labels·logSoftmax(logits) over the last axis, one loss per
 * row; labelSmoothing mixes in a uniform distribution over the classes. TF.js gives this op a
 * custom gradient, softmax − labels, which is the true gradient when each label row sums to 1
 * (as TF.js requires); tfc differentiates the formula, so other label rows get the true gradient.
 */
export function softmaxCrossEntropy(onehotLabels: TensorOrLike, logits: TensorOrLike, weights?: Weights, labelSmoothing = 0, reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS): Tensor {
  const [l, x] = matchLabels("softmaxCrossEntropy", onehotLabels, logits, "onehotLabels", "logits");
  const smoothed = labelSmoothing > 0 ? add(mul(l, 1 - labelSmoothing), labelSmoothing / l.shape[l.rank - 1]!) : l;
  return computeWeightedLoss(neg(sum(mul(smoothed, logSoftmax(x, -1)), -1)), weights, reduction);
}

/** tf.losses.hingeLoss: relu(1 − (2·labels − 1)·predictions), labels in {0, 1}. */
export function hingeLoss(labels: TensorOrLike, predictions: TensorOrLike, weights?: Weights, reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS): Tensor {
  const [l, p] = matchLabels("hingeLoss", labels, predictions);
  const signed = sub(mul(2, l), 1);
  return computeWeightedLoss(relu(sub(1, mul(signed, p))), weights, reduction);
}

/** tf.losses.cosineDistance: 1 − Σ labels·predictions along `axis` (kept); inputs assumed unit-normalized, as in TF.js. */
export function cosineDistance(labels: TensorOrLike, predictions: TensorOrLike, axis: number, weights?: Weights, reduction: Reduction = Reduction.SUM_BY_NONZERO_WEIGHTS): Tensor {
  const [l, p] = matchLabels("cosineDistance", labels, predictions);
  return computeWeightedLoss(sub(1, sum(mul(l, p), axis, true)), weights, reduction);
}

/** The `tf.losses` namespace, exactly TF.js's functions (and their reductions). */
export const losses = {
  absoluteDifference,
  computeWeightedLoss,
  cosineDistance,
  hingeLoss,
  huberLoss,
  logLoss,
  meanSquaredError: weightedMeanSquaredError,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
};

// ---- Keras losses (tfjs-layers): one value per example ----------------------------------------

/** A Keras-style loss or metric: labels and predictions in, one value per example (or a scalar) out. */
export type LossOrMetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** mean((yPred − yTrue)², −1) */
export function meanSquaredError(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = matchLabels("meanSquaredError", yTrue, yPred, "yTrue", "yPred");
  return mean(square(sub(p, t)), -1);
}

/** mean(|yPred − yTrue|, −1) */
export function meanAbsoluteError(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = matchLabels("meanAbsoluteError", yTrue, yPred, "yTrue", "yPred");
  return mean(abs(sub(p, t)), -1);
}

/** 100·mean(|(yTrue − yPred) / max(|yTrue|, ε)|, −1) */
export function meanAbsolutePercentageError(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = matchLabels("meanAbsolutePercentageError", yTrue, yPred, "yTrue", "yPred");
  const clippedTrue = clipByValue(abs(t), EPSILON, Number.MAX_VALUE);
  return mul(100, mean(abs(div(sub(t, p), clippedTrue)), -1));
}

/** mean((log(1 + max(yPred, ε)) − log(1 + max(yTrue, ε)))², −1) */
export function meanSquaredLogarithmicError(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = matchLabels("meanSquaredLogarithmicError", yTrue, yPred, "yTrue", "yPred");
  const firstLog = log(add(1, clipByValue(p, EPSILON, Number.MAX_VALUE)));
  const secondLog = log(add(1, clipByValue(t, EPSILON, Number.MAX_VALUE)));
  return mean(square(sub(firstLog, secondLog)), -1);
}

/** mean(max(0, 1 − yTrue·yPred)², −1), labels in {−1, 1} */
export function squaredHinge(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = matchLabels("squaredHinge", yTrue, yPred, "yTrue", "yPred");
  return mean(square(maximum(0, sub(1, mul(t, p)))), -1);
}

/** mean(max(0, 1 − yTrue·yPred), −1), labels in {−1, 1} */
export function hinge(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = matchLabels("hinge", yTrue, yPred, "yTrue", "yPred");
  return mean(maximum(0, sub(1, mul(t, p))), -1);
}

/** max(0, 1 + max((1 − yTrue)·yPred, −1) − Σ yTrue·yPred), one-hot labels */
export function categoricalHinge(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = matchLabels("categoricalHinge", yTrue, yPred, "yTrue", "yPred");
  const pos = sum(mul(t, p), -1);
  const negative = max(mul(sub(1, t), p), -1);
  return maximum(0, add(1, sub(negative, pos)));
}

/** mean(log(cosh(yPred − yTrue)), −1), computed as d + softplus(−2d) − log 2 */
export function logcosh(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = matchLabels("logcosh", yTrue, yPred, "yTrue", "yPred");
  const d = sub(p, t);
  return mean(sub(add(d, softplus(mul(-2, d))), Math.log(2)), -1);
}

/** Keras huber (δ = 1): mean over the last axis of ½e² where |e| ≤ 1, |e| − ½ elsewhere (tf.losses.huberLoss's formula). */
export function huber(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = matchLabels("huber", yTrue, yPred, "yTrue", "yPred");
  return mean(huberElementwise(t, p, 1), -1);
}

/**
 * Binary cross-entropy averaged over the last axis. From probabilities (TF.js): clipped to
 * [ε, 1 − ε], turned into logits log(p/(1 − p)) and scored with the logistic loss; with
 * fromLogits, yPred are logits and nothing is clipped (Keras's from_logits).
 */
export function binaryCrossentropy(yTrue: TensorOrLike, yPred: TensorOrLike, fromLogits = false): Tensor {
  const [t, p] = matchLabels("binaryCrossentropy", yTrue, yPred, "yTrue", "yPred");
  let logits = p;
  if (!fromLogits) {
    const y = clipByValue(p, EPSILON, 1 - EPSILON);
    logits = log(div(y, sub(1, y)));
  }
  return mean(sigmoidCrossEntropyWithLogits(t, logits), -1);
}

/** −Σ target·log(probabilities) over the last axis, from probabilities normalized to sum to 1 and clipped to [ε, 1 − ε] (TF.js). */
function crossentropyFromProbabilities(target: Tensor, output: Tensor): Tensor {
  const normalized = div(output, sum(output, -1, true));
  return neg(sum(mul(target, log(clipByValue(normalized, EPSILON, 1 - EPSILON))), -1));
}

/**
 * Categorical cross-entropy, one value per example. From probabilities as TF.js does (normalized
 * along the last axis, clipped to [ε, 1 − ε]); with fromLogits, −Σ target·logSoftmax(yPred),
 * which is exact where TF.js's softmax-then-clip caps each term at −log ε ≈ 16.1.
 */
export function categoricalCrossentropy(yTrue: TensorOrLike, yPred: TensorOrLike, fromLogits = false): Tensor {
  const [t, p] = matchLabels("categoricalCrossentropy", yTrue, yPred, "yTrue", "yPred");
  if (fromLogits) return neg(sum(mul(t, logSoftmax(p, -1)), -1));
  return crossentropyFromProbabilities(t, p);
}

/**
 * Categorical cross-entropy with integer class labels (shape [batch] or [batch, 1], floored if
 * float), one-hot encoded with tf.oneHot as TF.js does; probabilities are clipped before and after
 * normalizing, as in TF.js. With fromLogits, logits go through logSoftmax unclipped (TF.js clips
 * logits to [ε, 1 − ε] first, which is a bug there).
 *
 * Labels out of [0, classes): eagerly (concrete labels) a TFC7042 error. In traced and compiled
 * code the values are unknown until run time: oneHot gives such an example an all-zero row, so it
 * adds 0 to the loss and 0 to the gradient (TF.js computes the same), and no error is raised.
 */
export function sparseCategoricalCrossentropy(yTrue: TensorOrLike, yPred: TensorOrLike, fromLogits = false): Tensor {
  const p = convert(yPred, "f32", "yPred");
  const labels = sparseLabels("sparseCategoricalCrossentropy", yTrue, p);
  const target = oneHot(labels, p.shape[p.rank - 1]!, 1, 0, "float32");
  if (fromLogits) return neg(sum(mul(target, logSoftmax(p, -1)), -1));
  return crossentropyFromProbabilities(target, clipByValue(p, EPSILON, 1 - EPSILON));
}

/** Σ yTrue·log(clip(yTrue, ε, 1)/clip(yPred, ε, 1)) over the last axis */
export function kullbackLeiblerDivergence(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = matchLabels("kullbackLeiblerDivergence", yTrue, yPred, "yTrue", "yPred");
  return sum(mul(t, log(div(clipByValue(t, EPSILON, 1), clipByValue(p, EPSILON, 1)))), -1);
}

/** mean(yPred − yTrue·log(yPred + ε), −1) */
export function poisson(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = matchLabels("poisson", yTrue, yPred, "yTrue", "yPred");
  return mean(sub(p, mul(t, log(add(EPSILON, p)))), -1);
}

/** x / sqrt(max(Σ x², ε)) along `axis` (tfjs-layers' l2Normalize). */
function l2Normalize(x: Tensor, axis: number): Tensor {
  return div(x, sqrt(maximum(sum(square(x), axis, true), EPSILON)));
}

/** −Σ l2Normalize(yTrue)·l2Normalize(yPred) over the last axis: −cos(yTrue, yPred) */
export function cosineProximity(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = matchLabels("cosineProximity", yTrue, yPred, "yTrue", "yPred");
  return neg(sum(mul(l2Normalize(t, -1), l2Normalize(p, -1)), -1));
}

export { meanSquaredError as mse, meanSquaredError as MSE, meanAbsoluteError as mae, meanAbsoluteError as MAE };
export { meanAbsolutePercentageError as mape, meanAbsolutePercentageError as MAPE, meanSquaredLogarithmicError as msle, meanSquaredLogarithmicError as MSLE };
export { kullbackLeiblerDivergence as kld, kullbackLeiblerDivergence as KLD, cosineProximity as cosine };

/** TF.js's lossesMap (the names `model.compile({loss})` accepts there), plus Keras's huber. */
const KERAS_LOSSES: Record<string, LossOrMetricFn> = {
  meanSquaredError,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredLogarithmicError,
  squaredHinge,
  hinge,
  categoricalHinge,
  logcosh,
  categoricalCrossentropy,
  sparseCategoricalCrossentropy,
  binaryCrossentropy,
  kullbackLeiblerDivergence,
  poisson,
  cosineProximity,
  huber,
};

/** Short and Keras (snake_case) names. Lookup ignores case and underscores, so Keras class names ('MeanSquaredError') resolve too. */
const LOSS_ALIASES: Record<string, string> = {
  mse: "meanSquaredError",
  mae: "meanAbsoluteError",
  mape: "meanAbsolutePercentageError",
  msle: "meanSquaredLogarithmicError",
  kld: "kullbackLeiblerDivergence",
  kl_divergence: "kullbackLeiblerDivergence",
  log_cosh: "logcosh",
  huber_loss: "huber",
  cosine: "cosineProximity",
  cosine_similarity: "cosineProximity",
};

const normalizeName = (s: string): string => s.toLowerCase().replace(/_/g, "");
const LOSS_BY_NORMALIZED = new Map<string, string>([
  ...Object.keys(KERAS_LOSSES).map((k): [string, string] => [normalizeName(k), k]),
  ...Object.entries(LOSS_ALIASES).map(([alias, k]): [string, string] => [normalizeName(alias), k]),
]);

/** The Keras loss functions by their TF.js names (per example). */
export const lossFunctions: Readonly<Record<string, LossOrMetricFn>> = { ...KERAS_LOSSES };

/**
 * TF.js's fit rejects categoricalCrossentropy against targets with one column (its loss would be
 * 0 whatever the model predicts: one probability normalized to 1).
 */
function checkCategoricalTargets(yTrue: Tensor): void {
  if (yTrue.rank > 0 && yTrue.shape[yTrue.rank - 1] === 1) {
    throw new TfcError("TFC7047", `loss 'categoricalCrossentropy' expects one-hot targets of shape [samples, classes], got targets of shape ${shapeText(yTrue.shape)}`, {
      loc: currentUserLoc(),
      notes: ["for one output use 'binaryCrossentropy'; for integer class labels use 'sparseCategoricalCrossentropy'"],
    });
  }
}

/** Batch-mean wrappers, one per name, so that `getLoss(x) === getLoss(x)` (getMetric compares them). */
const batchMeans = new Map<string, LossOrMetricFn>();
const namesOfBatchMeans = new Map<LossOrMetricFn, string>();

function batchMean(name: string): LossOrMetricFn {
  let fn = batchMeans.get(name);
  if (!fn) {
    const perExample = KERAS_LOSSES[name]!;
    fn = (yTrue, yPred) => {
      if (name === "categoricalCrossentropy") checkCategoricalTargets(yTrue);
      return mean(perExample(yTrue, yPred));
    };
    Object.defineProperty(fn, "name", { value: name });
    batchMeans.set(name, fn);
    namesOfBatchMeans.set(fn, name);
  }
  return fn;
}

/** The canonical TF.js name of a loss given by name or as one of tfc's loss functions; undefined for other functions. */
export function lossName(identifier: string | ((yTrue: Tensor, yPred: Tensor) => Tensor)): string | undefined {
  if (typeof identifier === "string") return LOSS_BY_NORMALIZED.get(normalizeName(identifier));
  const wrapped = namesOfBatchMeans.get(identifier);
  if (wrapped) return wrapped;
  return Object.keys(KERAS_LOSSES).find((k) => KERAS_LOSSES[k] === identifier);
}

/**
 * The loss `model.compile({loss})` names: a TF.js name ('meanSquaredError'), a short or Keras
 * name ('mse', 'binary_crossentropy', 'kl_divergence') or a function (yTrue, yPred) → per-example
 * losses. The result is (yTrue, yPred) → scalar, the per-example loss averaged over everything
 * (TF.js's training loop takes tf.mean of the loss function's result).
 */
export function getLoss(identifier: string | ((yTrue: Tensor, yPred: Tensor) => Tensor)): LossOrMetricFn {
  const name = lossName(identifier);
  if (name) return batchMean(name);
  if (typeof identifier === "function") {
    const fn: LossOrMetricFn = (yTrue, yPred) => mean(identifier(yTrue, yPred));
    Object.defineProperty(fn, "name", { value: identifier.name });
    return fn;
  }
  throw unknownName("loss", identifier, [...Object.keys(KERAS_LOSSES), ...Object.keys(LOSS_ALIASES)], "TFC7043");
}

/** @internal An unknown loss or metric name: "did you mean", or the list of names. */
export function unknownName(kind: "loss" | "metric", name: unknown, known: readonly string[], code: string): TfcError {
  const text = String(name);
  const notes: string[] = [];
  const normalized = normalizeName(text);
  if (normalized.includes("softmaxcrossentropy")) notes.push("use 'categoricalCrossentropy' as the string name for tf.losses.softmaxCrossEntropy");
  else if (normalized.includes("sigmoidcrossentropy")) notes.push("use 'binaryCrossentropy' as the string name for tf.losses.sigmoidCrossEntropy");
  else {
    const hint = typeof name === "string" ? closest(text, known) : undefined;
    notes.push(hint ? `did you mean '${hint}'?` : `known ${kind} names: ${known.join(", ")}`);
  }
  return new TfcError(code, `unknown ${kind} ${typeof name === "string" ? `'${text}'` : text}`, { loc: currentUserLoc(), notes });
}
