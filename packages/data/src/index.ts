/**
 * @tessera/data: datasets and loaders. `Dataset` pipelines (batch, shuffle, map, prefetch,
 * …) over in-memory tensors, arrays and generators; `trainTestSplit` and `toCategorical`;
 * MNIST from IDX files; tabular data from CSV; the safetensors format (read and write);
 * tokenizers (character-level and byte-pair encoding).
 * @packageDocumentation
 */
export { Dataset, type Batched, type BatchOptions, type ElementSource, type GeneratorOptions, type ShuffleOptions, type TensorTree } from './dataset.js';
export { trainTestSplit, toCategorical, type Split, type SplitOptions } from './split.js';
export { readIdx, decodeMnist, type IdxArray, type MnistSplit } from './idx.js';
export { loadMnist, type Mnist, type MnistOptions } from './mnist.js';
export { parseCsv, loadCsv, type CsvColumn, type CsvColumnType, type CsvData, type CsvMissing, type CsvOptions, type CsvTable } from './csv.js';
export { parseSafetensors, serializeSafetensors, toHostArray, fromHostArray, type SafeTensor, type SafeDType, type SafetensorsFile } from './safetensors.js';
export * from './tokenizers/index.js';
