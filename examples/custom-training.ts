// A custom training step, as in the tutorial's TensorFlow 2.0 section (@tf.function + GradientTape +
// optimizer.apply_gradients, looped over a tf.data pipeline) and its "optimizer.minimize" and
// "tf.metrics.accuracy" snippets.
//   npx tfc run examples/custom-training.ts                        # eager: steps run as they are called
//   npx tfc compile examples/custom-training.ts --export trainStep --target llvm -o out/
//     (the step compiles: weight and Adam-state updates become in-place parameter updates)
import * as tf from "tfc";

const model = tf.sequential({
  layers: [tf.layers.dense({ units: 16, activation: "relu", inputShape: [4] }), tf.layers.dense({ units: 1, activation: "sigmoid" })],
});
const optimizer = tf.train.adam(0.01);
const lossFn = (y: tf.Tensor, p: tf.Tensor): tf.Tensor => tf.mean(tf.metrics.binaryCrossentropy(y, p));

/** with tf.GradientTape() as tape: … ; optimizer.apply_gradients(zip(grads, vars)) */
export const trainStep = tf.function(
  (X: tf.Tensor, y: tf.Tensor) => {
    const { value, grads } = tf.variableGrads(() => lossFn(y, model.apply(X) as tf.Tensor));
    optimizer.applyGradients(grads);
    return value;
  },
  { inputSignature: [tf.tensorSpec([null, 4]), tf.tensorSpec([null, 1])] },
);

export async function main(): Promise<void> {
  // The label: do the first two features outweigh the last two?
  const X = tf.randomUniform([512, 4]);
  const y = tf.cast(tf.greater(tf.sub(tf.sum(tf.slice(X, [0, 0], [-1, 2]), 1, true), tf.sum(tf.slice(X, [0, 2], [-1, 2]), 1, true)), 0), "float32");
  // tf.data.Dataset.from_tensor_slices((X, y)).shuffle(500).batch(32)
  const batches = tf.data.fromTensorSlices({ xs: X, ys: y }).shuffle(500, 1).batch(32);
  for (let epoch = 1; epoch <= 5; epoch++) {
    let loss = 0;
    let steps = 0;
    await batches.forEachAsync(({ xs, ys }) => {
      loss += trainStep(xs, ys).dataSync()[0]!;
      steps++;
    });
    console.log(`epoch ${epoch}: mean loss ${(loss / steps).toFixed(4)}`);
  }
  // train_op = optimizer.minimize(cross_entropy): one more step, the loss as a closure.
  optimizer.minimize(() => lossFn(y, model.apply(X) as tf.Tensor));
  // accuracy = tf.metrics.accuracy(labels, predictions)
  const accuracy = tf.mean(tf.metrics.binaryAccuracy(y, model.predict(X) as tf.Tensor)).dataSync()[0]!;
  console.log(`training accuracy ${accuracy.toFixed(3)}`);
}

export default model;
