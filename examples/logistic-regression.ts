// Logistic regression: a Dense layer with a sigmoid gives the probability of the positive class
// (spam / not spam from four features, as in the tutorial).
import * as tf from "tfc";

const model = tf.sequential({
  layers: [tf.layers.dense({ units: 1, inputShape: [4], activation: "sigmoid" })],
});

export default model;
