// `tf.metrics` with TF.js's semantics, and the metric names `model.compile({metrics})` accepts.
// Like the losses, every metric is written with tf ops only, so it traces and compiles.
//
// What a metric returns is what TF.js's returns: one value per example for the accuracies and the
// loss-like metrics (shape [batch] for [batch, k] inputs), a scalar over the whole batch for
// precision, recall and r2Score. TF.js's fit and evaluate reduce either with tf.mean to one value
// per batch, then average the batch values weighted by batch size over the epoch (BaseLogger);
// fit in tfc must do the same for its History to match.

import type { Tensor } from "./tensor.js";
import { add, argMax, cast, convert, div, equal, greater, logicalAnd, mean, square, sub, sum, where, type TensorOrLike } from "./ops.js";
import * as L from "./losses.js";

/** mean(yTrue == (yPred > threshold), −1): the fraction of labels matched per example. */
export function binaryAccuracy(yTrue: TensorOrLike, yPred: TensorOrLike, threshold = 0.5): Tensor {
  const [t, p] = L.matchLabels("binaryAccuracy", yTrue, yPred, "yTrue", "yPred");
  const predicted = cast(greater(p, threshold), "float32");
  return mean(equal(t, predicted), -1);
}

/** 1 where argMax(yTrue, −1) == argMax(yPred, −1), else 0, per example (ties pick the first index). */
export function categoricalAccuracy(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = L.matchLabels("categoricalAccuracy", yTrue, yPred, "yTrue", "yPred");
  return cast(equal(argMax(t, -1), argMax(p, -1)), "float32");
}

/** 1 where the class label (shape [batch] or [batch, 1]) equals argMax(yPred, −1), else 0, per example; compared in the labels' dtype, as TF.js does. */
export function sparseCategoricalAccuracy(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const p = convert(yPred, "f32", "yPred");
  const labels = L.sparseLabelsShaped("sparseCategoricalAccuracy", yTrue, p);
  return cast(equal(labels, cast(argMax(p, -1), labels.dtype)), "float32");
}

/** Count of elements where yTrue == a and yPred == b, as a float32 scalar. */
function countWhere(yTrue: Tensor, yPred: Tensor, a: number, b: number): Tensor {
  return sum(cast(logicalAnd(equal(yTrue, a), equal(yPred, b)), "float32"));
}

/**
 * tp / (tp + fp) over the whole batch, 0 when nothing is predicted positive: a scalar. As in
 * TF.js, a prediction counts only where it equals 1 exactly (threshold probabilities first).
 */
export function precision(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = L.matchLabels("precision", yTrue, yPred, "yTrue", "yPred");
  const tp = countWhere(t, p, 1, 1);
  const denominator = add(tp, countWhere(t, p, 0, 1));
  return where(greater(denominator, 0), div(tp, denominator), 0);
}

/** tp / (tp + fn) over the whole batch, 0 when there are no positive labels: a scalar (predictions compared with 1 exactly, as in TF.js). */
export function recall(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = L.matchLabels("recall", yTrue, yPred, "yTrue", "yPred");
  const tp = countWhere(t, p, 1, 1);
  const denominator = add(tp, countWhere(t, p, 1, 0));
  return where(greater(denominator, 0), div(tp, denominator), 0);
}

/** 1 − Σ(yTrue − yPred)² / Σ(yTrue − mean(yTrue))² over the whole batch: a scalar. */
export function r2Score(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor {
  const [t, p] = L.matchLabels("r2Score", yTrue, yPred, "yTrue", "yPred");
  const residuals = sum(square(sub(t, p)));
  const total = sum(square(sub(t, mean(t))));
  return sub(1, div(residuals, total));
}

// The loss-like metrics are the Keras losses (per example). Each is its own named function, as
// TF.js's exports are, so that a function passed to compile gets its History key from its name.
export function meanSquaredError(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor { return L.meanSquaredError(yTrue, yPred); }
export function MSE(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor { return L.meanSquaredError(yTrue, yPred); }
export function mse(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor { return L.meanSquaredError(yTrue, yPred); }
export function meanAbsoluteError(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor { return L.meanAbsoluteError(yTrue, yPred); }
export function MAE(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor { return L.meanAbsoluteError(yTrue, yPred); }
export function mae(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor { return L.meanAbsoluteError(yTrue, yPred); }
export function meanAbsolutePercentageError(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor { return L.meanAbsolutePercentageError(yTrue, yPred); }
export function MAPE(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor { return L.meanAbsolutePercentageError(yTrue, yPred); }
export function mape(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor { return L.meanAbsolutePercentageError(yTrue, yPred); }
export function binaryCrossentropy(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor { return L.binaryCrossentropy(yTrue, yPred); }
export function categoricalCrossentropy(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor { return L.categoricalCrossentropy(yTrue, yPred); }
export function sparseCategoricalCrossentropy(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor { return L.sparseCategoricalCrossentropy(yTrue, yPred); }
export function cosineProximity(yTrue: TensorOrLike, yPred: TensorOrLike): Tensor { return L.cosineProximity(yTrue, yPred); }

/** Metric names compile accepts: TF.js's metricsMap, the rest of tf.metrics, and Keras spellings. */
const METRICS: Record<string, L.LossOrMetricFn> = {
  binaryAccuracy,
  categoricalAccuracy,
  sparseCategoricalAccuracy,
  precision,
  recall,
  r2Score,
  meanSquaredError,
  mse,
  MSE,
  meanAbsoluteError,
  mae,
  MAE,
  meanAbsolutePercentageError,
  mape,
  MAPE,
  binaryCrossentropy,
  categoricalCrossentropy,
  sparseCategoricalCrossentropy,
  cosineProximity,
  cosine: cosineProximity,
};

const normalizeName = (s: string): string => s.toLowerCase().replace(/_/g, "");
const METRIC_BY_NORMALIZED = new Map(Object.keys(METRICS).map((k) => [normalizeName(k), METRICS[k]!]));

/** Names that pick their function from the loss and the output shape (tfjs-layers' training.ts). */
const ACCURACY = ["accuracy", "acc"];
const CROSSENTROPY = ["crossentropy", "ce"];

export interface ResolvedMetric {
  /** The History key: the string as given ('acc' for 'accuracy', 'ce' for 'crossentropy'), or the function's name. */
  readonly name: string;
  /** Per-example values or a scalar, as the TF.js metric returns; fit takes tf.mean of it per batch. */
  readonly fn: L.LossOrMetricFn;
}

/**
 * A metric of `model.compile({metrics})`, as TF.js resolves it. 'accuracy'/'acc' (and
 * 'crossentropy'/'ce') become binary when the output's last dimension is 1 or the loss is
 * binaryCrossentropy, sparse categorical when the loss is sparseCategoricalCrossentropy, and
 * categorical otherwise; their History keys are 'acc' and 'ce'. Other strings name a metric
 * (or, as in Keras, a loss) and are their own History key; a function is keyed by its loss name
 * if it is one of tfc's losses, else by its JavaScript name.
 */
export function getMetric(
  identifier: string | L.LossOrMetricFn,
  lossIdentifier?: string | L.LossOrMetricFn,
  outputShape?: readonly number[],
): ResolvedMetric {
  if (typeof identifier === "function") return { name: L.lossName(identifier) ?? (identifier.name || "metric"), fn: identifier };
  if (typeof identifier !== "string") throw L.unknownName("metric", identifier, Object.keys(METRICS), "TFC7044");
  const isAccuracy = ACCURACY.includes(identifier);
  if (isAccuracy || CROSSENTROPY.includes(identifier)) {
    const loss = lossIdentifier === undefined ? undefined : L.lossName(lossIdentifier);
    const last = outputShape?.[outputShape.length - 1];
    let fn: L.LossOrMetricFn;
    if (last === 1 || loss === "binaryCrossentropy") fn = isAccuracy ? binaryAccuracy : binaryCrossentropy;
    else if (loss === "sparseCategoricalCrossentropy") fn = isAccuracy ? sparseCategoricalAccuracy : sparseCategoricalCrossentropy;
    else fn = isAccuracy ? categoricalAccuracy : categoricalCrossentropy;
    return { name: isAccuracy ? "acc" : "ce", fn };
  }
  const fn = METRIC_BY_NORMALIZED.get(normalizeName(identifier)) ?? (L.lossName(identifier) ? L.lossFunctions[L.lossName(identifier)!] : undefined);
  if (!fn) throw L.unknownName("metric", identifier, [...Object.keys(METRICS), ...ACCURACY, ...CROSSENTROPY], "TFC7044");
  return { name: identifier, fn };
}
