// A multi-layer perceptron for MNIST digits: 784 → 512 → 512 → 10 with ReLU, dropout and softmax.
//   npx tfc predict examples/mlp.ts --input digits.json
import * as tf from "tfc";

const model = tf.sequential();
model.add(tf.layers.dense({ units: 512, activation: "relu", inputShape: [784] }));
model.add(tf.layers.dropout({ rate: 0.2 }));
model.add(tf.layers.dense({ units: 512, activation: "relu" }));
model.add(tf.layers.dropout({ rate: 0.2 }));
model.add(tf.layers.dense({ units: 10, activation: "softmax" }));

export default model;
