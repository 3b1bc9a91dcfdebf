/**
 * `@tessera/nn`: layers, models, training, callbacks, metrics and model files — Keras's
 * API in TypeScript, on top of `@tessera/core`, `@tessera/autograd`, `@tessera/losses` and
 * `@tessera/optim`.
 *
 * @example
 * import { init } from '@tessera/core';
 * import { sequential, layers } from '@tessera/nn';
 * await init();
 * const model = sequential([
 *   layers.flatten({ inputShape: [28, 28] }),
 *   layers.dense({ units: 128, activation: 'relu' }),
 *   layers.dense({ units: 10, activation: 'softmax' }),
 * ]);
 * model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
 * await model.fit(xTrain, yTrain, { epochs: 10, batchSize: 32, validationSplit: 0.2 });
 * @packageDocumentation
 */
import type { Model } from './engine/model.js';
import type { LoadOptions } from './io/artifacts.js';
import type { Layer } from './engine/layer.js';
import type { LoadStateDictOptions, StateDictReport } from './io/pytorch.js';

// Layers
export { Layer, SymbolicTensor, Node, type CallOptions, type CommonCallOptions, type LayerArgs, type InputSpec, type AddWeightOptions, type LayerWeight, type LayerClass } from './engine/layer.js';
export * as layers from './layers/factories.js';
// The layers of the classic example at the top level too, as in `sequential([flatten(...), dense(128, 'relu')])`
// (the other factories stay under `layers.*`, where they cannot clash with core ops such as `reshape`).
export { dense, dropout, flatten } from './layers/factories.js';
export {
  input,
  InputLayer,
  Dense,
  Flatten,
  Reshape,
  Dropout,
  Activation,
  Embedding,
  Add,
  Concatenate,
  type InputOptions,
  type DenseArgs,
  type ReshapeArgs,
  type DropoutArgs,
  type ActivationArgs,
  type EmbeddingArgs,
} from './layers/core.js';
export { BatchNormalization, LayerNormalization, type BatchNormalizationArgs, type LayerNormalizationArgs } from './layers/normalization.js';
export {
  Conv2D,
  DepthwiseConv2D,
  MaxPooling2D,
  AveragePooling2D,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  type Conv2DArgs,
  type DepthwiseConv2DArgs,
  type Pooling2DArgs,
  type GlobalPooling2DArgs,
  type PaddingMode,
} from './layers/convolutional.js';
export { setLayerSeed, layerSeedState, restoreLayerSeedState } from './layers/random-context.js';
export {
  loraAdapter,
  loraAdapterOf,
  loraTargets,
  applyLora,
  saveLoraAdapters,
  loadLoraAdapters,
  LoraAdapter,
  type LoraOptions,
  type ApplyLoraOptions,
  type LoraState,
  type SavedLoraAdapter,
} from './layers/lora.js';
export { MultiHeadAttention, type MultiHeadAttentionArgs, type AttentionCallOptions } from './layers/attention.js';
export { KVCache, KVCacheEntry } from './layers/kv-cache.js';
export { CompositeLayer } from './layers/composite.js';
export { TransformerEncoder, TransformerDecoder, type TransformerArgs, type TransformerCallOptions } from './layers/transformer.js';
export {
  PositionEmbedding,
  SinusoidalPositionEncoding,
  TokenAndPositionEmbedding,
  RotaryEmbedding,
  applyRotary,
  type RotaryEmbeddingArgs,
  type PositionEmbeddingArgs,
  type SinusoidalPositionEncodingArgs,
  type TokenAndPositionEmbeddingArgs,
  type PositionCallOptions,
} from './layers/position.js';

// Activations, initializers, regularizers, metrics
export { getActivation, activationNames, type ActivationName, type ActivationFn, type ActivationIdentifier } from './activations.js';
export * as initializers from './initializers.js';
export { Initializer, getInitializer, type InitializerIdentifier, type SerializedObject } from './initializers.js';
export * as regularizers from './regularizers.js';
export { Regularizer, getRegularizer, type RegularizerIdentifier } from './regularizers.js';
export * as metrics from './metrics.js';
export { Metric, getMetric, type MetricIdentifier } from './metrics.js';

// Models and training
export { Model, Sequential, model, sequential, type FitArgs, type EvaluateArgs, type PredictArgs, type TrainOnBatchArgs, type Verbosity, type SequentialArgs } from './engine/model.js';
export type { FunctionalArgs } from './engine/container.js';
export type { CompileArgs, LossIdentifier, OptimizerLike, OptimizerIdentifier } from './engine/compile-utils.js';
export type { TensorData, BatchDataset } from './engine/data-adapter.js';
export type { SummaryOptions } from './engine/summary.js';

// Callbacks
export { Callback, History, LambdaCallback, resolveLogs, type Logs, type TrainingParams, type CallbackHooks } from './callbacks/base.js';
export { ProgressBar, type ProgressBarOptions, type ProgressStream } from './callbacks/progress.js';
export {
  EarlyStopping,
  ModelCheckpoint,
  ReduceLROnPlateau,
  TerminateOnNaN,
  CSVLogger,
  LearningRateScheduler,
  formatPath,
  type EarlyStoppingOptions,
  type ModelCheckpointOptions,
  type ReduceLROnPlateauOptions,
  type CSVLoggerOptions,
} from './callbacks/builtin.js';
export { TrainingCurves, trainingCurvesSvg, type CurvesOptions } from './callbacks/curves.js';
export { BackupAndRestore, type BackupAndRestoreOptions } from './callbacks/backup.js';

// Saving and loading
export { loadModelFromArtifacts, modelToArtifacts, MODEL_FORMAT_VERSION, type ModelArtifacts, type ModelJson, type WeightSpec, type LoadOptions, type SaveOptions } from './io/artifacts.js';
export { registerLayer, deserializeLayer, type LayerConfig } from './io/registry.js';
// The safetensors reader/writer lives in @tessera/data; re-exported here so `@tessera/nn` keeps its API.
export { parseSafetensors, serializeSafetensors, toHostArray, fromHostArray, type SafeTensor, type SafeDType, type SafetensorsFile } from '@tessera/data';
export { crc32 } from './io/crc32.js';
export { loadStateDict, type StateDictSource, type StateDictMapping, type LoadStateDictOptions, type StateDictReport } from './io/pytorch.js';

// Text generation (sampling and the decoding loop)
export {
  TokenSampler,
  greedy,
  topKFilter,
  topPFilter,
  pickToken,
  topKRow,
  topPRow,
  softmaxRow,
  argmaxRow,
  generate,
  type SamplingOptions,
  type TokenSamplerOptions,
  type GenerateOptions,
  type StepContext,
  type StepFn,
} from './generation/index.js';

// Utilities
export { clearSession, hostRng, type Shape } from './util.js';

/**
 * Loads a model saved with `model.save(dir)` (Node). The file-system code is imported on
 * demand, so browser bundles never include `node:fs`. Truncated or corrupt files raise a
 * FormatError.
 * @example const model = await loadModel('./mnist-model');
 */
export async function loadModel(path: string, opts: LoadOptions = {}): Promise<Model> {
  const node = await import('./io/node.js');
  return node.loadModel(path, opts);
}

/**
 * {@link loadStateDict} from a `.safetensors` file on disk (Node; `node:fs` is imported on
 * demand). Reads the whole file, so its size bounds what is allocated.
 * @example const report = await loadStateDictFile(model, './torch-mlp.safetensors', { strict: false });
 */
export async function loadStateDictFile(model: Layer, path: string, opts: LoadStateDictOptions = {}): Promise<StateDictReport> {
  const { readFile } = await import('node:fs/promises');
  const { loadStateDict } = await import('./io/pytorch.js');
  return loadStateDict(model, new Uint8Array(await readFile(path)), opts);
}
