/**
 * The MNIST command-line app: argument parsing, backend selection, the two models (MLP and
 * CNN), training with evaluation and saving, and prediction from a saved model.
 * @module
 */
import path from 'node:path';
import { intFlag, numberFlag, parseFlags, useBackend } from '@tessera/app-kit';
import {
  dispose,
  layers,
  loadMnist,
  loadModel,
  type Sequential,
  sequential,
  setSeed,
  type Tensor,
  toCategorical,
  TrainingCurves,
  argmax,
  type Logs,
} from 'tessera';

/** Options of {@link train}. */
export interface TrainOptions {
  /** Backend name to prefer (default `js`). */
  backend: string;
  /** Default 10. */
  epochs: number;
  /** Default 32. */
  batchSize: number;
  /** `mlp` (default) or `cnn`. */
  model: 'mlp' | 'cnn';
  /** Training images to use (default all 60,000). */
  trainSize: number;
  /** Test images to evaluate on (default all 10,000). */
  testSize: number;
  /** Where to save the model and the chart (default `./mnist-model`). */
  out: string;
  /** Fraction of the training images held out for validation (default 0.2). */
  validationSplit: number;
  /** Seeds initialisation, shuffling and dropout. */
  seed?: number;
  /** Progress output: `auto` (bar on a terminal, a line per epoch otherwise) or 0 for none. */
  verbose: 0 | 1 | 2 | 'auto';
  /** Where the app's own lines go (default console.log). */
  print: (line: string) => void;
}

/** Options of {@link predict}. */
export interface PredictOptions {
  backend: string;
  /** The saved model directory (default `./mnist-model`). */
  modelDir: string;
  /** How many test images to predict (default 20). */
  count: number;
  print: (line: string) => void;
}

/** What the command line asked for. */
export type Command = { command: 'train'; options: TrainOptions } | { command: 'predict'; options: PredictOptions } | { command: 'help' };

/** The usage text. */
export const USAGE = `Usage: mnist [train] [options]
       mnist predict [options]

Trains a classifier on MNIST, evaluates it on the test set and saves it with a chart of
its training curves; or predicts digits with a saved model.

Options (train):
  --backend <name>      backend to use (default js)
  --epochs <n>          epochs (default 10)
  --batch-size <n>      batch size (default 32)
  --model <mlp|cnn>     architecture (default mlp)
  --train-size <n>      training images to use (default 60000)
  --test-size <n>       test images to evaluate on (default 10000)
  --validation-split <f> fraction held out for validation (default 0.2)
  --seed <n>            seed of initialisation, shuffling and dropout (default 0: runs are reproducible)
  --out <dir>           where to save the model and curves.svg (default ./mnist-model)
  --quiet               no progress output
Options (predict):
  --backend <name>      backend to use (default js)
  --model-dir <dir>     saved model (default ./mnist-model)
  --count <n>           test images to predict (default 20)
  -h, --help            show this text`;

/**
 * Parses command-line arguments (a leading `--`, as `pnpm start -- …` passes it, is ignored).
 * @example parseArgs(['--epochs', '1', '--model', 'cnn'])
 */
export function parseArgs(argv: readonly string[], print: (line: string) => void = console.log): Command {
  const str = { type: 'string' } as const;
  const { values: v, positionals } = parseFlags(
    argv,
    {
      help: { type: 'boolean', short: 'h' },
      backend: str,
      epochs: str,
      'batch-size': str,
      model: str,
      'train-size': str,
      'test-size': str,
      'validation-split': str,
      seed: str,
      out: str,
      quiet: { type: 'boolean' },
      'model-dir': str,
      count: str,
    },
    USAGE,
    1,
  );
  if (v.help) return { command: 'help' };
  const command = positionals[0] ?? 'train';
  if (command !== 'train' && command !== 'predict') throw new Error(`unknown command ${JSON.stringify(command)} (train or predict)\n\n${USAGE}`);
  const train: TrainOptions = { backend: 'js', epochs: 10, batchSize: 32, model: 'mlp', trainSize: 60000, testSize: 10000, out: './mnist-model', validationSplit: 0.2, verbose: 'auto', seed: 0, print };
  const pred: PredictOptions = { backend: 'js', modelDir: './mnist-model', count: 20, print };
  if (v.backend !== undefined) {
    if (!v.backend) throw new Error('--backend needs a name (js, wasm, webgpu, native)');
    train.backend = pred.backend = v.backend;
  }
  if (v.epochs !== undefined) train.epochs = intFlag('--epochs', v.epochs, 1);
  if (v['batch-size'] !== undefined) train.batchSize = intFlag('--batch-size', v['batch-size'], 1);
  if (v.model !== undefined) {
    if (v.model !== 'mlp' && v.model !== 'cnn') throw new Error(`--model must be mlp or cnn, got ${JSON.stringify(v.model)}`);
    train.model = v.model;
  }
  if (v['train-size'] !== undefined) train.trainSize = intFlag('--train-size', v['train-size'], 10);
  if (v['test-size'] !== undefined) train.testSize = intFlag('--test-size', v['test-size'], 1);
  if (v['validation-split'] !== undefined) train.validationSplit = numberFlag('--validation-split', v['validation-split'], (x) => x >= 0 && x < 1, 'a number in [0, 1)');
  if (v.seed !== undefined) train.seed = intFlag('--seed', v.seed, 0);
  if (v.out !== undefined) train.out = v.out;
  if (v.quiet) train.verbose = 0;
  if (v['model-dir'] !== undefined) pred.modelDir = v['model-dir'];
  if (v.count !== undefined) pred.count = intFlag('--count', v.count, 1);
  return command === 'train' ? { command, options: train } : { command, options: pred };
}

/**
 * The classic models: `mlp` is Flatten → Dense(128, relu) → Dense(10, softmax); `cnn` is
 * Conv2D(32, 3×3, relu) → MaxPool → Conv2D(64, 3×3, relu) → MaxPool → Flatten → Dropout(0.5)
 * → Dense(10, softmax).
 * @example buildModel('cnn').summary()
 */
export function buildModel(kind: 'mlp' | 'cnn'): Sequential {
  if (kind === 'mlp') {
    return sequential({
      name: 'mnist_mlp',
      layers: [layers.flatten({ inputShape: [28, 28] }), layers.dense({ units: 128, activation: 'relu' }), layers.dense({ units: 10, activation: 'softmax' })],
    });
  }
  return sequential({
    name: 'mnist_cnn',
    layers: [
      layers.reshape({ targetShape: [28, 28, 1], inputShape: [28, 28] }),
      layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dropout({ rate: 0.5 }),
      layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

/** What {@link train} reports. */
export interface TrainResult {
  backend: string;
  history: Record<string, number[]>;
  testLoss: number;
  testAccuracy: number;
  secondsPerEpoch: number;
  modelDir: string;
  curves: string;
}

/**
 * Trains, evaluates on the test set, saves the model and the curves chart.
 * @example await train({ ...parseArgs([]).options, epochs: 1 })
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const backend = await useBackend(o.backend);
  if (o.seed !== undefined) setSeed(o.seed);
  o.print(`Backend: ${backend}. Loading MNIST (${o.trainSize} training, ${o.testSize} test images)…`);
  const data = await loadMnist({ train: o.trainSize, test: o.testSize });
  const yTrain = toCategorical(data.train.labels, 10);
  const yTest = toCategorical(data.test.labels, 10);
  const model = buildModel(o.model);
  try {
    model.summary(o.print);
    model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    const curves = path.join(o.out, 'curves.svg');
    const epochTimes: number[] = [];
    let t0 = 0;
    const timer = { onEpochBegin: () => void (t0 = performance.now()), onEpochEnd: (_e: number, _l?: Logs) => void epochTimes.push((performance.now() - t0) / 1000) };
    const history = await model.fit(data.train.images, yTrain, {
      epochs: o.epochs,
      batchSize: o.batchSize,
      validationSplit: o.validationSplit,
      verbose: o.verbose,
      seed: o.seed,
      callbacks: [timer, new TrainingCurves(curves, { title: `MNIST ${o.model.toUpperCase()} (${backend} backend)` })],
    });
    const test = await model.evaluate(data.test.images, yTest, { batchSize: 256 });
    const secondsPerEpoch = epochTimes.reduce((a, b) => a + b, 0) / Math.max(1, epochTimes.length);
    o.print(`Test loss: ${test.loss!.toFixed(4)} - test accuracy: ${test.accuracy!.toFixed(4)} (${secondsPerEpoch.toFixed(2)} s/epoch on ${backend})`);
    await model.save(o.out);
    o.print(`Saved the model to ${o.out} and the training curves to ${curves}`);
    return { backend, history: history.history, testLoss: test.loss!, testAccuracy: test.accuracy!, secondsPerEpoch, modelDir: o.out, curves };
  } finally {
    model.dispose();
    dispose([yTrain, yTest, data.train.images, data.train.labels, data.test.images, data.test.labels]);
  }
}

/** What {@link predict} reports. */
export interface PredictResult {
  predictions: number[];
  labels: number[];
  accuracy: number;
}

/**
 * Predicts the first `count` test digits with a saved model and prints them with the truth.
 * @example await predict({ backend: 'js', modelDir: './mnist-model', count: 10, print: console.log })
 */
export async function predict(o: PredictOptions): Promise<PredictResult> {
  await useBackend(o.backend);
  const model = await loadModel(o.modelDir);
  const data = await loadMnist({ train: 0, test: o.count });
  try {
    const probs = model.predict(data.test.images) as Tensor;
    const best = argmax(probs, -1);
    const predictions = Array.from(best.dataSync());
    const labels = Array.from(data.test.labels.dataSync());
    const conf = probs.arraySync() as number[][];
    dispose([probs, best]);
    let right = 0;
    o.print(`Model ${model.name} from ${o.modelDir}; the first ${o.count} test images:`);
    predictions.forEach((p, i) => {
      const ok = p === labels[i];
      if (ok) right++;
      o.print(`  #${String(i).padStart(4)}  predicted ${p} (${(conf[i]![p]! * 100).toFixed(1)}%)  label ${labels[i]}  ${ok ? 'ok' : 'WRONG'}`);
    });
    const accuracy = right / predictions.length;
    o.print(`Accuracy on these ${predictions.length}: ${(accuracy * 100).toFixed(1)}%`);
    return { predictions, labels, accuracy };
  } finally {
    model.dispose();
    dispose([data.train.images, data.train.labels, data.test.images, data.test.labels]);
  }
}
