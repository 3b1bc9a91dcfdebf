import {
  add,
  ArgumentError,
  arange,
  dispose,
  DisposedTensorError,
  memory,
  mul,
  reshape,
  scalar,
  ShapeError,
  tensor,
  Tensor,
  tidy,
  tidyAsync,
} from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Dataset } from '../src/index.js';
import { expectNoLeak, live, useJs, values } from './setup.js';

beforeAll(() => {
  useJs();
});

/** Rows of a [n, 2] tensor with row i = [i, 10 i]; labels i. */
function table(n: number): { xs: Tensor; ys: Tensor } {
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = 10 * i;
  }
  return { xs: tensor(x, [n, 2]), ys: tensor(Int32Array.from({ length: n }, (_, i) => i), [n], 'int32') };
}

/** The first-column values of every yielded batch, flattened (and the batches disposed). */
async function order(ds: Dataset<{ xs: Tensor; ys: Tensor }>): Promise<number[]> {
  const out: number[] = [];
  for await (const { xs, ys } of ds) {
    const y = values(ys);
    const x = values(xs);
    y.forEach((v, k) => expect(x[2 * k]).toBe(v));
    out.push(...y);
    dispose([xs, ys]);
  }
  return out;
}

async function numbers(ds: Dataset<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const v of ds) out.push(v);
  return out;
}

function isPermutation(xs: number[], n: number): boolean {
  return xs.length === n && [...xs].sort((a, b) => a - b).every((v, i) => v === i);
}

describe('Dataset.fromTensorSlices', () => {
  it('yields rows along axis 0 of a tensor, with a known size', async () => {
    const x = tensor([[1, 2], [3, 4], [5, 6]]);
    const ds = Dataset.fromTensorSlices(x);
    expect(ds.size).toBe(3);
    const rows = await ds.toArray();
    expect(rows.map((r) => r.shape)).toEqual([[2], [2], [2]]);
    expect(rows.map((r) => r.arraySync())).toEqual([[1, 2], [3, 4], [5, 6]]);
    dispose(rows);
    x.dispose();
  });

  it('slices objects and arrays of tensors together', async () => {
    const { xs, ys } = table(4);
    const rows = await Dataset.fromTensorSlices({ xs, ys, pair: [ys, xs] }).toArray();
    expect(rows).toHaveLength(4);
    expect(rows[2]!.xs.arraySync()).toEqual([2, 20]);
    expect(rows[2]!.ys.arraySync()).toBe(2);
    expect(rows[2]!.ys.dtype).toBe('int32');
    expect(rows[3]!.pair[1].arraySync()).toEqual([3, 30]);
    dispose(rows);
    dispose([xs, ys]);
  });

  it('leaves the source tensors to the caller and alive', async () => {
    const { xs, ys } = table(5);
    const ds = Dataset.fromTensorSlices({ xs, ys }).batch(2);
    await expectNoLeak(async () => {
      dispose(await ds.toArray());
    });
    expect(xs.isDisposed || ys.isDisposed).toBe(false);
    dispose([xs, ys]);
  });

  it('rejects mismatched first dimensions, scalars, non-tensors and disposed tensors', () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([[1], [2]]);
    expect(() => Dataset.fromTensorSlices({ a, b })).toThrow(ShapeError);
    expect(() => Dataset.fromTensorSlices({ a, b })).toThrow(/same first dimension: data.a \[3\] but data.b \[2,1\]/);
    const s = tensor(1);
    expect(() => Dataset.fromTensorSlices(s)).toThrow(/scalar/);
    expect(() => Dataset.fromTensorSlices({ a, n: 3 as unknown as Tensor })).toThrow(ArgumentError);
    expect(() => Dataset.fromTensorSlices({})).toThrow(/no tensors/);
    b.dispose();
    expect(() => Dataset.fromTensorSlices(b)).toThrow(DisposedTensorError);
    dispose([a, s]);
  });

  it('reports a source disposed before iteration', async () => {
    const a = tensor([1, 2, 3]);
    const ds = Dataset.fromTensorSlices(a).batch(2);
    a.dispose();
    await expect(ds.toArray()).rejects.toThrow(DisposedTensorError);
  });
});

describe('batch', () => {
  it('batches sliced data as views of the source (no copy) in order', async () => {
    const { xs, ys } = table(10);
    const ds = Dataset.fromTensorSlices({ xs, ys }).batch(4);
    expect(ds.size).toBe(3);
    const bytes = memory().numBytes;
    const batches = await ds.toArray();
    expect(memory().numBytes).toBe(bytes); // views share the source storage
    expect(batches.map((b) => b.xs.shape)).toEqual([[4, 2], [4, 2], [2, 2]]);
    expect(batches.map((b) => values(b.ys))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(batches[1]!.xs.arraySync()).toEqual([[4, 40], [5, 50], [6, 60], [7, 70]]);
    dispose(batches);
    dispose([xs, ys]);
  });

  it('drops the remainder on request', async () => {
    const { xs, ys } = table(10);
    const ds = Dataset.fromTensorSlices({ xs, ys }).batch(4, { dropRemainder: true });
    expect(ds.size).toBe(2);
    expect(await order(ds)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Dataset.fromArray([1, 2, 3]).batch(2, { dropRemainder: true }).size).toBe(1);
    expect(await Dataset.fromArray([1, 2, 3]).batch(2, { dropRemainder: true }).toArray().then((b) => b.map(values))).toEqual([[1, 2]]);
    dispose([xs, ys]);
  });

  it('stacks streamed elements: tensors, numbers, booleans, strings, nested structures', async () => {
    await expectNoLeak(async () => {
      const items = [0, 1, 2].map((i) => ({ x: tensor([i, i + 0.5]), n: i, ok: i % 2 === 0, name: `s${i}`, deep: [scalar(i * 2, 'int32'), { z: i }] as [Tensor, { z: number }] }));
      const [b] = await Dataset.fromArray(items).batch(3).toArray();
      expect(b!.x.shape).toEqual([3, 2]);
      expect(b!.x.arraySync()).toEqual([[0, 0.5], [1, 1.5], [2, 2.5]]);
      expect(b!.n.dtype).toBe('float32');
      expect(values(b!.n)).toEqual([0, 1, 2]);
      expect(b!.ok.dtype).toBe('bool');
      expect(b!.ok.arraySync()).toEqual([true, false, true]);
      expect(b!.name).toEqual(['s0', 's1', 's2']);
      expect(b!.deep[0].dtype).toBe('int32');
      expect(values(b!.deep[0])).toEqual([0, 2, 4]);
      expect(values(b!.deep[1].z)).toEqual([0, 1, 2]);
      dispose(b);
      for (const it of items) dispose([it.x, it.deep[0] as Tensor]);
    });
  });

  it('rejects elements of different shapes or structures, without leaking', async () => {
    await expectNoLeak(async () => {
      const ds = Dataset.fromGenerator(function* () {
        yield tensor([1, 2]);
        yield tensor([1, 2, 3]);
      }).batch(2);
      await expect(ds.toArray()).rejects.toThrow(/element is float32 \[2\] in the batch's element 0 but float32 \[3\] in element 1/);
      await expect(ds.toArray()).rejects.toThrow(ShapeError);
    });
    await expect(Dataset.fromArray([{ a: 1 }, { b: 1 }]).batch(2).toArray()).rejects.toThrow(/keys \{a\}.*\{b\}/);
    await expect(Dataset.fromArray<unknown>([1, 'x']).batch(2).toArray()).rejects.toThrow(ArgumentError);
    expect(() => Dataset.fromArray([1]).batch(0)).toThrow(/positive integer/);
  });

  it('batches an empty dataset into nothing', async () => {
    const ds = Dataset.fromTensorSlices(tensor([], [0, 3])).batch(4);
    expect(ds.size).toBe(0);
    expect(await ds.toArray()).toEqual([]);
  });
});

describe('shuffle', () => {
  it('is deterministic with a seed and covers every element once per epoch', async () => {
    const { xs, ys } = table(100);
    const make = () => Dataset.fromTensorSlices({ xs, ys }).shuffle('all', { seed: 42 }).batch(16);
    const a = await order(make());
    const b = await order(make());
    expect(a).toEqual(b);
    expect(isPermutation(a, 100)).toBe(true);
    expect(a).not.toEqual([...Array(100).keys()]);
    const other = await order(Dataset.fromTensorSlices({ xs, ys }).shuffle('all', { seed: 43 }).batch(16));
    expect(other).not.toEqual(a);
    dispose([xs, ys]);
  });

  it('reshuffles each iteration with a derived seed, reproducibly', async () => {
    const { xs, ys } = table(50);
    const ds1 = Dataset.fromTensorSlices({ xs, ys }).shuffle('all', { seed: 7 }).batch(50);
    const ds2 = Dataset.fromTensorSlices({ xs, ys }).shuffle('all', { seed: 7 }).batch(50);
    const e1 = [await order(ds1), await order(ds1), await order(ds1)];
    const e2 = [await order(ds2), await order(ds2), await order(ds2)];
    expect(e1).toEqual(e2);
    expect(e1[0]).not.toEqual(e1[1]);
    expect(e1[1]).not.toEqual(e1[2]);
    const fixed = Dataset.fromTensorSlices({ xs, ys }).shuffle('all', { seed: 7, reshuffleEachIteration: false }).batch(50);
    const f = await order(fixed);
    expect(await order(fixed)).toEqual(f);
    expect(f).toEqual(e1[0]);
    dispose([xs, ys]);
  });

  it('gives the same order for in-memory slices and for any other source', async () => {
    const { xs, ys } = table(40);
    for (const buffer of ['all', 8, 1] as const) {
      const sliced = await order(Dataset.fromTensorSlices({ xs, ys }).shuffle(buffer, { seed: 3 }).batch(5));
      const streamed = await numbers(Dataset.fromArray([...Array(40).keys()]).shuffle(buffer, { seed: 3 }));
      expect(streamed).toEqual(sliced);
      if (buffer === 1) expect(streamed).toEqual([...Array(40).keys()]);
    }
    dispose([xs, ys]);
  });

  it('with a small buffer keeps elements near their position', async () => {
    const out = await numbers(Dataset.fromArray([...Array(200).keys()]).shuffle(10, { seed: 1 }));
    expect(isPermutation(out, 200)).toBe(true);
    out.forEach((v, pos) => expect(pos).toBeGreaterThanOrEqual(v - 10));
    expect(await numbers(Dataset.fromArray([...Array(200).keys()]).shuffle(10, { seed: 1 }))).toEqual(out);
  });

  it('shuffles batches of a stream and disposes its buffer when stopped early', async () => {
    await expectNoLeak(async () => {
      const ds = Dataset.fromGenerator(function* () {
        for (let i = 0; i < 30; i++) yield tensor([i]);
      }).shuffle(10, { seed: 5 });
      let seen = 0;
      for await (const t of ds) {
        t.dispose();
        if (++seen === 3) break;
      }
      const all = await ds.toArray();
      expect(isPermutation(all.map((t) => t.arraySync() as number[]).flat(), 30)).toBe(true);
      dispose(all);
    });
  });

  it('rejects bad arguments', () => {
    const ds = Dataset.fromArray([1]);
    expect(() => ds.shuffle(0)).toThrow(/bufferSize/);
    expect(() => ds.shuffle(1.5)).toThrow(/bufferSize/);
    expect(() => ds.shuffle('all', { seed: 0.5 })).toThrow(/seed must be a safe integer/);
  });
});

describe('map, mapAsync and filter', () => {
  it('maps elements, freeing intermediates and unused inputs', async () => {
    const { xs, ys } = table(6);
    await expectNoLeak(async () => {
      const ds = Dataset.fromTensorSlices({ xs, ys })
        .map(({ xs: x, ys: y }) => ({ x2: add(mul(x, 2), 1), y }))
        .batch(3);
      const batches = await ds.toArray();
      expect(batches.map((b) => b.x2.arraySync())).toEqual([
        [[1, 1], [3, 21], [5, 41]],
        [[7, 61], [9, 81], [11, 101]],
      ]);
      expect(values(batches[1]!.y)).toEqual([3, 4, 5]);
      dispose(batches);
    });
    dispose([xs, ys]);
  });

  it('maps after batch (the usual place for per-batch work)', async () => {
    const { xs, ys } = table(8);
    await expectNoLeak(async () => {
      const ds = Dataset.fromTensorSlices({ xs, ys }).shuffle('all', { seed: 1 }).batch(4).map(({ xs: x, ys: y }) => ({ x: reshape(x, [-1]), y }));
      expect(ds.size).toBe(2);
      const bs = await ds.toArray();
      expect(bs[0]!.x.shape).toEqual([8]);
      dispose(bs);
    });
    dispose([xs, ys]);
  });

  it('disposes the element when fn throws, and rejects async fns', async () => {
    const { xs, ys } = table(3);
    await expectNoLeak(async () => {
      const ds = Dataset.fromTensorSlices({ xs, ys }).map(({ ys: y }) => {
        if (y.arraySync() === 1) throw new Error('bad row');
        return y;
      });
      await expect(ds.toArray()).rejects.toThrow('bad row');
      await expect(Dataset.fromTensorSlices(xs).map(async (x) => x).toArray()).rejects.toThrow(/use mapAsync/);
    });
    dispose([xs, ys]);
  });

  it('mapAsync awaits fn and disposes unused inputs', async () => {
    await expectNoLeak(async () => {
      const ds = Dataset.fromGenerator(async function* () {
        for (let i = 0; i < 4; i++) yield { a: tensor([i]), b: tensor([-i]) };
      }).mapAsync(async ({ a }) => {
        await new Promise((r) => setTimeout(r, 1));
        return a;
      });
      const out = await ds.toArray();
      expect(out.map((t) => values(t)[0])).toEqual([0, 1, 2, 3]);
      dispose(out);
    });
  });

  it('filter keeps matching elements and disposes the rest', async () => {
    await expectNoLeak(async () => {
      const ds = Dataset.fromGenerator(function* () {
        for (let i = 0; i < 6; i++) yield scalar(i, 'int32');
      }).filter((t) => (t.arraySync() as number) % 3 === 0);
      expect(ds.size).toBeUndefined();
      const out = await ds.toArray();
      expect(out.map((t) => t.arraySync())).toEqual([0, 3]);
      dispose(out);
    });
  });
});

describe('take, skip, repeat', () => {
  it('take and skip on sliced data and on streams, with sizes', async () => {
    const { xs, ys } = table(10);
    const base = Dataset.fromTensorSlices({ xs, ys });
    expect(base.take(3).size).toBe(3);
    expect(base.skip(8).size).toBe(2);
    expect(base.skip(20).size).toBe(0);
    expect(base.take(20).size).toBe(10);
    expect(await order(base.skip(2).take(5).batch(2))).toEqual([2, 3, 4, 5, 6]);
    expect(await order(base.take(0).batch(2))).toEqual([]);
    await expectNoLeak(async () => {
      const gen = Dataset.fromGenerator(function* () {
        for (let i = 0; i < 10; i++) yield tensor([i]);
      });
      expect(gen.size).toBeUndefined();
      const out = await gen.skip(3).take(4).toArray();
      expect(out.map((t) => values(t)[0])).toEqual([3, 4, 5, 6]);
      dispose(out);
    });
    expect(() => base.take(-1)).toThrow(ArgumentError);
    dispose([xs, ys]);
  });

  it('repeat counts passes, reshuffles each pass and stops on an empty dataset', async () => {
    const { xs, ys } = table(5);
    const ds = Dataset.fromTensorSlices({ xs, ys }).shuffle('all', { seed: 9 }).repeat(3);
    expect(ds.size).toBe(15);
    const all = await order(ds.batch(5));
    const passes = [all.slice(0, 5), all.slice(5, 10), all.slice(10)];
    for (const p of passes) expect(isPermutation(p, 5)).toBe(true);
    expect(new Set(passes.map((p) => p.join())).size).toBeGreaterThan(1);
    // The same seed reproduces the epochs of a fresh pipeline iterated the same way.
    const fresh = Dataset.fromTensorSlices({ xs, ys }).shuffle('all', { seed: 9 }).batch(5);
    expect([await order(fresh), await order(fresh), await order(fresh)]).toEqual(passes);

    const forever = Dataset.fromArray([1, 2]).repeat();
    expect(forever.size).toBe(Infinity);
    expect(await numbers(forever.take(5))).toEqual([1, 2, 1, 2, 1]);
    await expect(forever.toArray()).rejects.toThrow(/infinite/);
    expect(await numbers(Dataset.fromArray<number>([]).repeat())).toEqual([]);
    expect(await numbers(Dataset.fromArray([1]).filter(() => false).repeat())).toEqual([]);
    expect(Dataset.fromTensorSlices(xs).repeat(0).size).toBe(0);
    dispose([xs, ys]);
  });
});

describe('prefetch', () => {
  it('keeps order and size', async () => {
    const ds = Dataset.fromArray([...Array(20).keys()]).prefetch(4);
    expect(ds.size).toBe(20);
    expect(await numbers(ds)).toEqual([...Array(20).keys()]);
    expect(await numbers(ds)).toEqual([...Array(20).keys()]);
  });

  it('works ahead of a slow consumer', async () => {
    let produced = 0;
    const ds = Dataset.fromGenerator(async function* () {
      for (let i = 0; i < 5; i++) {
        produced++;
        yield i;
      }
    }).prefetch(3);
    const it = ds[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe(0);
    await new Promise((r) => setTimeout(r, 10));
    expect(produced).toBe(4); // one consumed + three ahead
    await it.return!();
  });

  it('disposes prefetched tensors when the consumer stops early', async () => {
    const { xs, ys } = table(64);
    await expectNoLeak(async () => {
      const ds = Dataset.fromTensorSlices({ xs, ys }).shuffle('all', { seed: 2 }).batch(4).prefetch(3);
      let k = 0;
      for await (const b of ds) {
        dispose(b);
        await new Promise((r) => setTimeout(r, 2));
        if (++k === 2) break;
      }
    });
    dispose([xs, ys]);
  });

  it('passes upstream errors through in order', async () => {
    const ds = Dataset.fromGenerator(function* () {
      yield 1;
      yield 2;
      throw new Error('upstream failed');
    }).prefetch(2);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const v of ds) seen.push(v);
      })(),
    ).rejects.toThrow('upstream failed');
    expect(seen).toEqual([1, 2]);
  });
});

describe('fromGenerator, fromArray, fromTensors', () => {
  it('restarts the generator each iteration and closes it when stopped early', async () => {
    let starts = 0;
    let closes = 0;
    const ds = Dataset.fromGenerator(
      function* () {
        starts++;
        try {
          for (let i = 0; i < 4; i++) yield i;
        } finally {
          closes++;
        }
      },
      { size: 4 },
    );
    expect(ds.size).toBe(4);
    expect(await numbers(ds)).toEqual([0, 1, 2, 3]);
    for await (const v of ds) if (v === 1) break;
    expect([starts, closes]).toEqual([2, 2]);
  });

  it('accepts async generators, iterables and iterators', async () => {
    expect(
      await numbers(
        Dataset.fromGenerator(async function* () {
          yield 1;
          await Promise.resolve();
          yield 2;
        }),
      ),
    ).toEqual([1, 2]);
    expect(await numbers(Dataset.fromGenerator(() => [3, 4]))).toEqual([3, 4]);
    expect(await numbers(Dataset.fromGenerator(() => [5, 6][Symbol.iterator]()))).toEqual([5, 6]);
    expect(() => Dataset.fromGenerator(5 as unknown as () => Iterator<number>)).toThrow(ArgumentError);
    await expect(Dataset.fromGenerator(() => 5 as unknown as Iterator<number>).toArray()).rejects.toThrow(/iterator/);
  });

  it('fromTensors yields one element; fromArray its items; both leave tensors to the caller', async () => {
    const x = tensor([1, 2, 3]);
    await expectNoLeak(async () => {
      const one = Dataset.fromTensors({ x, tag: 'a' });
      expect(one.size).toBe(1);
      const [e] = await one.toArray();
      expect(e!.x).not.toBe(x);
      expect(values(e!.x)).toEqual([1, 2, 3]);
      expect(e!.tag).toBe('a');
      e!.x.dispose();
      const many = await Dataset.fromArray([x, x]).toArray();
      dispose(many);
    });
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });
});

describe('ownership and tidy scopes', () => {
  it('yields tensors in the consumer scope: tidyAsync around a step frees that step', async () => {
    const { xs, ys } = table(12);
    await expectNoLeak(async () => {
      const it = Dataset.fromTensorSlices({ xs, ys }).shuffle('all', { seed: 4 }).batch(3).prefetch(2)[Symbol.asyncIterator]();
      for (let step = 0; step < 4; step++) {
        const sum = await tidyAsync(async () => {
          const r = await it.next();
          expect(r.done).toBe(false);
          return values(r.value.ys).reduce((a, b) => a + b, 0);
        });
        expect(sum).toBeGreaterThanOrEqual(0);
      }
      expect((await it.next()).done).toBe(true);
    });
    dispose([xs, ys]);
  });

  it('buffered elements survive the consumer scopes they were made in', async () => {
    await expectNoLeak(async () => {
      const ds = Dataset.fromGenerator(function* () {
        for (let i = 0; i < 8; i++) yield tensor([i]);
      }).shuffle('all', { seed: 1 });
      const it = ds[Symbol.asyncIterator]();
      const got: number[] = [];
      for (let k = 0; k < 8; k++) {
        await tidyAsync(async () => {
          const r = await it.next();
          got.push(values(r.value as Tensor)[0]!);
        });
      }
      expect(isPermutation(got, 8)).toBe(true);
    });
  });

  it('an element collected inside tidy is freed by it; one returned from it survives', async () => {
    const { xs, ys } = table(4);
    const before = live();
    const arr = await Dataset.fromTensorSlices(xs).batch(2).toArray();
    const kept = tidy(() => {
      const y = add(arr[0]!, 1);
      return y;
    });
    expect(live().tensors).toBe(before.tensors + 3);
    dispose([arr, kept]);
    expect(live()).toEqual(before);
    dispose([xs, ys]);
  });
});

describe('leaks', () => {
  it('a full pipeline over many epochs, with early stops, leaves memory flat', async () => {
    const { xs, ys } = table(257);
    await expectNoLeak(async () => {
      const ds = Dataset.fromTensorSlices({ xs, ys })
        .shuffle(64, { seed: 11 })
        .map(({ xs: x, ys: y }) => ({ x: mul(x, 0.5), y }))
        .batch(32)
        .prefetch(2);
      for (let epoch = 0; epoch < 3; epoch++) {
        let k = 0;
        for await (const b of ds) {
          expect(b.x.shape[1]).toBe(2);
          dispose(b);
          if (epoch === 1 && ++k === 3) break;
        }
      }
      const fast = Dataset.fromTensorSlices({ xs, ys }).shuffle('all', { seed: 1 }).batch(10, { dropRemainder: true }).repeat(2).skip(3).take(20);
      dispose(await fast.toArray());
    });
    dispose([xs, ys]);
  });

  it('an epoch over a large in-memory set is fast (gathered batches, no per-row tensors)', async () => {
    const n = 60000;
    const images = tidy(() => reshape(arange(n * 16), [n, 16]));
    const labels = tidy(() => arange(0, n, 1, 'int32'));
    await expectNoLeak(async () => {
      const ds = Dataset.fromTensorSlices({ images, labels }).shuffle('all', { seed: 0 }).batch(128);
      const t0 = performance.now();
      let rows = 0;
      for await (const b of ds) {
        rows += b.images.shape[0]!;
        dispose(b);
      }
      expect(rows).toBe(n);
      expect(performance.now() - t0).toBeLessThan(3000);
    });
    dispose([images, labels]);
  });
});
