/**
 * The small models and seeded synthetic data the long-running reliability tests train: an
 * MLP and a CNN sized so that 1,000 steps fit CI's time budget on every backend.
 */
import { tensor, type Tensor } from '@tessera/core';
import { initializers, layers, type Model, sequential } from '@tessera/nn';
import { rng } from '../../../../scripts/test-helpers.mjs';

export { rng };

/**
 * `n` samples of shape `shape` in [-1, 1) and one-hot labels over `classes`, where the label
 * depends on the sign pattern of the input (so the models can learn something).
 */
export function syntheticData(n: number, shape: readonly number[], classes: number, seed: number): { x: Tensor; y: Tensor } {
  const r = rng(seed);
  const per = shape.reduce((a, b) => a * b, 1);
  const xs = new Float32Array(n * per);
  const ys = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < per; j++) {
      const v = r() * 2 - 1;
      xs[i * per + j] = v;
      if (j < classes) s += v > 0 ? 1 : 0;
    }
    ys[i * classes + (s % classes)] = 1;
  }
  return { x: tensor(xs, [n, ...shape]), y: tensor(ys, [n, classes]) };
}

const init = (seed: number) => initializers.glorotUniform({ seed });

/** Flatten → Dense 16 relu → Dropout 0.25 → Dense `classes` softmax, on `[8, 8]` inputs. */
export function smallMlp(classes = 4, seed = 1): Model {
  return sequential([
    layers.flatten({ inputShape: [8, 8] }),
    layers.dense(16, 'relu', { kernelInitializer: init(seed) }),
    layers.dropout(0.25),
    layers.dense(classes, 'softmax', { kernelInitializer: init(seed + 1) }),
  ]);
}

/** Conv2D 4@3x3 relu → MaxPool 2 → BatchNorm → Flatten → Dense `classes` softmax, on `[8, 8, 1]` inputs. */
export function smallCnn(classes = 4, seed = 1): Model {
  return sequential([
    layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', padding: 'same', inputShape: [8, 8, 1], kernelInitializer: init(seed) }),
    layers.maxPooling2d({ poolSize: 2 }),
    layers.batchNormalization(),
    layers.flatten(),
    layers.dense(classes, 'softmax', { kernelInitializer: init(seed + 1) }),
  ]);
}
