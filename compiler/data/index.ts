// `tf.data`: what a model file sees as tf.data.array, tf.data.zip, tf.data.csv, …
// (loadMnist and csvTensors are for the CLI and examples, imported from their own files.)

export { Dataset, array, zip, generator, fromTensorSlices } from "./dataset.js";
export type { AsTensors, DatasetIterator, DatasetContainer, Zipped, TensorStructure } from "./dataset.js";
export { csv, CSVDataset } from "./csv.js";
export type { CSVConfig, ColumnConfig, CsvValue, CsvRow, LabeledCsvRow, CsvElement } from "./csv.js";
