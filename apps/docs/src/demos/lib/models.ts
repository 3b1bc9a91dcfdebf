/**
 * The models and training runs behind the live demos, written against the public `tessera`
 * API only (the same code the guides show). Each run reports progress through callbacks,
 * yields to the page between batches so it stays responsive, and can be stopped.
 */
import {
  adam, clearSession, dispose, EarlyStopping, layers, loadModelFromArtifacts,
  resolveLogs, sequential, setSeed, tensor, type Layer, type Logs, type Model, type Tensor,
} from 'tessera';
import { indicesWhere, toTensors, type RawSplit } from './data.js';

/** A point of a training curve. */
export interface Point {
  x: number;
  y: number;
}

/** The classic MNIST MLP: Flatten -> Dense(128, relu) -> Dense(10, softmax), Adam, cross-entropy. */
export function mnistMlp(seed = 0): Model {
  clearSession();
  setSeed(seed);
  const model = sequential([
    layers.flatten({ inputShape: [28, 28] }),
    layers.dense({ units: 128, activation: 'relu' }),
    layers.dense({ units: 10, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  return model;
}

/** Lets the page repaint and handle clicks, at most every `everyMs`. */
function yielder(everyMs = 50): () => Promise<void> {
  let last = performance.now();
  return async () => {
    const now = performance.now();
    if (now - last < everyMs) return;
    last = now;
    await new Promise((r) => setTimeout(r, 0));
  };
}

/** Progress of a run, reported every few batches. */
export interface Progress {
  epoch: number;
  epochs: number;
  batch: number;
  batchesPerEpoch: number;
  /** Running mean over the epoch so far. */
  loss: number;
  accuracy: number;
}

export interface MnistRunOptions {
  train: RawSplit;
  test: RawSplit;
  trainCount?: number;
  epochs?: number;
  batchSize?: number;
  /** Called every `reportEvery` batches and at each epoch's end. */
  onProgress?: (p: Progress) => void;
  onEpoch?: (epoch: number, logs: { loss: number; accuracy: number; testAccuracy: number }) => void;
  /** Polled between batches; true stops after the current batch. */
  shouldStop?: () => boolean;
  reportEvery?: number;
  seed?: number;
}

export interface MnistRunResult {
  model: Model;
  testAccuracy: number;
  testLoss: number;
  seconds: number;
  samplesPerSecond: number;
  stopped: boolean;
}

/** Demo 1: trains the MLP on the demo subset and evaluates it on the test images. */
export async function trainMnist(o: MnistRunOptions): Promise<MnistRunResult> {
  const epochs = o.epochs ?? 1;
  const batchSize = o.batchSize ?? 32;
  const count = Math.min(o.trainCount ?? o.train.n, o.train.n);
  const train = toTensors(o.train, Array.from({ length: count }, (_, i) => i));
  const test = toTensors(o.test);
  const model = mnistMlp(o.seed ?? 0);
  const batchesPerEpoch = Math.ceil(count / batchSize);
  const every = o.reportEvery ?? 10;
  const pause = yielder();
  let stopped = false;
  let epoch = 0;
  const t0 = performance.now();
  let seen = 0;
  try {
    await model.fit(train.x, train.y, {
      epochs, batchSize, shuffle: true, seed: o.seed ?? 0, verbose: 0,
      callbacks: [{
        onEpochBegin: (e: number) => { epoch = e; },
        onBatchEnd: async (batch: number, logs?: Logs) => {
          seen += batchSize;
          if (batch % every === every - 1 || batch === batchesPerEpoch - 1) {
            const l = await resolveLogs(logs);
            o.onProgress?.({ epoch, epochs, batch: batch + 1, batchesPerEpoch, loss: Number(l.loss), accuracy: Number(l.accuracy) });
          }
          if (o.shouldStop?.()) { stopped = true; model.stopTraining = true; }
          await pause();
        },
        onEpochEnd: async (e: number, logs?: Logs) => {
          const l = await resolveLogs(logs);
          const ev = await model.evaluate(test.x, test.y, { batchSize: 256 });
          o.onEpoch?.(e, { loss: Number(l.loss), accuracy: Number(l.accuracy), testAccuracy: Number(ev.accuracy) });
        },
      }],
    });
    const seconds = (performance.now() - t0) / 1000;
    const ev = await model.evaluate(test.x, test.y, { batchSize: 256 });
    return {
      model, testAccuracy: Number(ev.accuracy), testLoss: Number(ev.loss), seconds,
      samplesPerSecond: Math.min(seen, count * epochs) / seconds, stopped,
    };
  } finally {
    dispose([train.x, train.y, test.x, test.y]);
  }
}

/** Probabilities of the 10 digits for one 28x28 image with values in [0, 1]. */
export async function classify(model: Model, pixels: Float32Array): Promise<number[]> {
  const x = tensor(pixels, [1, 28, 28]);
  const p = model.predict(x) as Tensor;
  const probs = Array.from(await p.data());
  dispose([x, p]);
  return probs;
}

/** Index of the largest value. */
export function argmaxOf(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

// ---------------------------------------------------------------------------------------
// Demo 3: overfitting and its cures.

export type OverfitVariant = 'plain' | 'regularized';

export interface OverfitOptions {
  train: RawSplit;
  variant: OverfitVariant;
  /** Training examples (few, so the model can memorise them). Default 300. */
  trainCount?: number;
  /** Validation examples, taken from the end of the training subset. Default 1000. */
  valCount?: number;
  epochs?: number;
  onEpoch?: (epoch: number, logs: { loss: number; accuracy: number; valLoss: number; valAccuracy: number }) => void;
  shouldStop?: () => boolean;
  seed?: number;
}

export interface OverfitResult {
  epochsRun: number;
  /** Validation loss and accuracy of the weights the model ends with. */
  finalValLoss: number;
  finalValAccuracy: number;
  bestEpoch: number;
  /** The lowest validation loss seen at the end of an epoch. */
  bestValLoss: number;
  stoppedEarly: boolean;
}

/**
 * Trains a wide MLP on a few hundred images and validates on 1,000 others: `plain` memorises
 * the training set (training loss -> 0 while validation loss turns up); `regularized` adds
 * dropout and stops early, restoring the best weights. (An L2 penalty would help too, but it
 * enters the reported loss, which would make the two runs' curves incomparable.)
 */
export async function overfit(o: OverfitOptions): Promise<OverfitResult> {
  const n = o.trainCount ?? 300;
  const nv = o.valCount ?? 1000;
  const tr = toTensors(o.train, Array.from({ length: n }, (_, i) => i));
  const va = toTensors(o.train, Array.from({ length: nv }, (_, i) => o.train.n - nv + i));
  const reg = o.variant === 'regularized';
  clearSession();
  setSeed(o.seed ?? 1);
  const model = sequential([
    layers.flatten({ inputShape: [28, 28] }),
    layers.dense({ units: 256, activation: 'relu' }),
    ...(reg ? [layers.dropout({ rate: 0.5 })] : []),
    layers.dense({ units: 10, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  const early = new EarlyStopping({ monitor: 'val_loss', patience: 4, restoreBestWeights: true });
  const pause = yielder();
  let epochsRun = 0;
  let best = { epoch: 0, loss: Infinity };
  try {
    await model.fit(tr.x, tr.y, {
      epochs: o.epochs ?? 30, batchSize: 32, validationData: [va.x, va.y], shuffle: true, seed: o.seed ?? 1, verbose: 0,
      callbacks: [
        ...(reg ? [early] : []),
        {
          onBatchEnd: async () => {
            if (o.shouldStop?.()) model.stopTraining = true;
            await pause();
          },
          onEpochEnd: async (e: number, logs?: Logs) => {
            const l = await resolveLogs(logs);
            epochsRun = e + 1;
            if (Number(l.val_loss) < best.loss) best = { epoch: e + 1, loss: Number(l.val_loss) };
            o.onEpoch?.(e, { loss: Number(l.loss), accuracy: Number(l.accuracy), valLoss: Number(l.val_loss), valAccuracy: Number(l.val_accuracy) });
          },
        },
      ],
    });
    const ev = await model.evaluate(va.x, va.y, { batchSize: 256 });
    return { epochsRun, finalValLoss: Number(ev.loss), finalValAccuracy: Number(ev.accuracy), bestEpoch: best.epoch, bestValLoss: best.loss, stoppedEarly: reg && epochsRun < (o.epochs ?? 30) };
  } finally {
    dispose([tr.x, tr.y, va.x, va.y]);
    model.dispose();
  }
}

// ---------------------------------------------------------------------------------------
// Demo 4: fine-tuning the shipped model.

/** Loads a model saved as `model.json` + `weights.safetensors` under `url` (a folder URL). */
export async function fetchModel(url: string): Promise<Model> {
  const [json, weights] = await Promise.all([
    fetch(`${url}model.json`).then((r) => { if (!r.ok) throw new Error(`${url}model.json: HTTP ${r.status}`); return r.text(); }),
    fetch(`${url}weights.safetensors`).then(async (r) => { if (!r.ok) throw new Error(`${url}weights.safetensors: HTTP ${r.status}`); return new Uint8Array(await r.arrayBuffer()); }),
  ]);
  return loadModelFromArtifacts({ modelJson: json, weights });
}

export interface FinetuneOptions {
  /** The pretrained model (trained on digits 0-4); its head is replaced. */
  pretrained: Model;
  train: RawSplit;
  test: RawSplit;
  /** Labelled examples per new class (digits 5-9). Default 10. */
  perClass?: number;
  epochs?: number;
  /** false: train the same architecture from scratch, for comparison. */
  transfer?: boolean;
  /** Adam's learning rate (default 0.005). */
  learningRate?: number;
  onEpoch?: (epoch: number, logs: { loss: number; accuracy: number }) => void;
  seed?: number;
}

export interface FinetuneResult {
  trainCount: number;
  testCount: number;
  testAccuracy: number;
  trainableParams: number;
  frozenParams: number;
}

/** Few-shot examples: the first `perClass` of each digit in `digits`. */
export function fewShot(split: RawSplit, digits: readonly number[], perClass: number): number[] {
  const out: number[] = [];
  for (const d of digits) out.push(...indicesWhere(split, (l) => l === d, perClass));
  return out.sort((a, b) => a - b);
}

/**
 * Reuses the pretrained model's feature layer (frozen) under a new 5-way softmax head for
 * digits 5-9, trained on a few examples per digit; or (`transfer: false`) the same network
 * from scratch on the same examples.
 */
export async function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  const digits = [5, 6, 7, 8, 9];
  const trainIdx = fewShot(o.train, digits, o.perClass ?? 10);
  const testIdx = indicesWhere(o.test, (l) => l >= 5);
  const tr = toTensors(o.train, trainIdx, { classes: 5, labelOffset: -5 });
  const te = toTensors(o.test, testIdx, { classes: 5, labelOffset: -5 });
  setSeed(o.seed ?? 2);
  let model: Model;
  let head: Layer | null = null;
  if (o.transfer ?? true) {
    const base = o.pretrained.layers.slice(0, -1);   // everything but the old head
    for (const l of base) l.trainable = false;      // freeze: the optimizer never sees them
    head = layers.dense({ units: 5, activation: 'softmax', name: 'new_head' });
    model = sequential([...base, head]);
  } else {
    // The pretrained model's architecture, freshly initialised.
    model = sequential([
      layers.reshape({ targetShape: [28, 28, 1], inputShape: [28, 28] }),
      layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dense({ units: 5, activation: 'softmax' }),
    ]);
  }
  // A larger step than Adam's default: few examples, few steps, and (with transfer) a small head.
  const optimizer = adam({ learningRate: o.learningRate ?? 0.005 });
  model.compile({ optimizer, loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  try {
    await model.fit(tr.x, tr.y, {
      epochs: o.epochs ?? 30, batchSize: 16, shuffle: true, seed: o.seed ?? 2, verbose: 0,
      callbacks: [{
        onEpochEnd: async (e: number, logs?: Logs) => {
          const l = await resolveLogs(logs);
          o.onEpoch?.(e, { loss: Number(l.loss), accuracy: Number(l.accuracy) });
          await new Promise((r) => setTimeout(r, 0));
        },
      }],
    });
    const ev = await model.evaluate(te.x, te.y, { batchSize: 256 });
    const trainable = model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
    return { trainCount: trainIdx.length, testCount: testIdx.length, testAccuracy: Number(ev.accuracy), trainableParams: trainable, frozenParams: model.countParams() - trainable };
  } finally {
    dispose([tr.x, tr.y, te.x, te.y]);
    optimizer.dispose();
    // The transferred model shares its base with `pretrained` (the caller's); free only the head.
    if (head) head.dispose();
    else model.dispose();
  }
}
