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

// Layers
export { Layer, SymbolicTensor, Node, type CallOptions, type LayerArgs, type InputSpec, type AddWeightOptions, type LayerWeight, type LayerClass } from './engine/layer.js';
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
export { setLayerSeed } from './layers/random-context.js';

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

// Saving and loading
export { loadModelFromArtifacts, modelToArtifacts, MODEL_FORMAT_VERSION, type ModelArtifacts, type ModelJson, type WeightSpec, type LoadOptions } from './io/artifacts.js';
export { registerLayer, deserializeLayer, type LayerConfig } from './io/registry.js';
// The safetensors reader/writer lives in @tessera/data; re-exported here so `@tessera/nn` keeps its API.
export { parseSafetensors, serializeSafetensors, toHostArray, fromHostArray, type SafeTensor, type SafeDType, type SafetensorsFile } from '@tessera/data';
export { crc32 } from './io/crc32.js';

// Utilities
export { clearSession, type Shape } from './util.js';

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
