// Logistic regression: a Dense layer with a sigmoid gives the probability of the positive class
// (spam / not spam from four features, as in the tutorial).
//   npx tfc run examples/logistic-regression.ts    # fits 1000 random examples for 5 epochs
import * as tf from "tfc";

const model = tf.sequential({
  layers: [tf.layers.dense({ units: 1, inputShape: [4], activation: "sigmoid" })],
});
model.compile({ optimizer: "rmsprop", loss: "binaryCrossentropy", metrics: ["accuracy"] });

/** The tutorial's `model.fit(X, y, epochs=5)` on random data, then `model.predict(X_new)`. */
export async function main(): Promise<void> {
  const X = tf.randomUniform([1000, 4]);
  const y = tf.cast(tf.greater(tf.randomUniform([1000, 1]), 0.5), "float32");
  await model.fit(X, y, { epochs: 5, verbose: 1 });
  (model.predict(tf.randomUniform([2, 4])) as tf.Tensor).print();
}

export default model;
