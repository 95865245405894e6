// Logistic regression: a Dense layer with a sigmoid gives the probability of the positive class.
// Two input features, as in the tutorial's binary classification example.
import * as tf from "tfc";

const model = tf.sequential({
  layers: [tf.layers.dense({ units: 1, inputShape: [2], activation: "sigmoid" })],
});

export default model;
