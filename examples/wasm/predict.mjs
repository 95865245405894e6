// A plain Node script using a model compiled to WebAssembly — no tfc, no other dependency:
//   npx tfc compile examples/mnist-cnn.ts --target wasm -o out/
//   node examples/wasm/predict.mjs
// It draws a digit-like stroke, predicts, and prints the class probabilities.
import { load, signature } from "../../out/model.js";

const model = await load();
const [input] = signature.inputs;
const pixels = new Float32Array(input.shape.slice(1).reduce((a, b) => a * b, 1));
for (let row = 4; row < 24; row++) pixels[row * 28 + 14] = 1; // a vertical stroke, like a "1"
const probabilities = model.predict(pixels);
const best = probabilities.indexOf(Math.max(...probabilities));
console.log(JSON.stringify({ class: best, probabilities: Array.from(probabilities, (p) => Number(p.toFixed(6))) }));
model.dispose();
