// Linear regression y = x·W + b as a one-unit Dense layer: the "hello world" of the tutorial.
//   npx tfc inspect examples/linear-regression.ts
//   npx tfc compile examples/linear-regression.ts --emit ir
import * as tf from "tfc";

const model = tf.sequential();
model.add(tf.layers.dense({ units: 1, inputShape: [1] }));

export default model;
