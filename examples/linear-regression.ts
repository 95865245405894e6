// Linear regression y = x·W + b as a one-unit Dense layer: the "hello world" of the tutorial.
//   npx tfc inspect examples/linear-regression.ts
//   npx tfc compile examples/linear-regression.ts --emit ir
//   npx tfc run examples/linear-regression.ts      # trains on the tutorial's points, predicts x = 6
import * as tf from "tfc";

const model = tf.sequential();
model.add(tf.layers.dense({ units: 1, inputShape: [1] }));
model.compile({ optimizer: "sgd", loss: "meanSquaredError" });

/** The tutorial's `model.fit(xs, ys, epochs=500)` and `model.predict([6])` (≈ 6). */
export async function main(): Promise<void> {
  const xs = tf.tensor2d([1, 2, 3, 4, 5], [5, 1]);
  const ys = tf.tensor2d([1, 2, 3, 4, 5], [5, 1]);
  await model.fit(xs, ys, { epochs: 500 });
  (model.predict(tf.tensor2d([[6]])) as tf.Tensor).print();
}

export default model;
