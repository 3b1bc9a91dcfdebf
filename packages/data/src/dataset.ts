/**
 * `Dataset`: a lazy, re-iterable, async pipeline of elements (tensors, numbers, strings and
 * arrays/objects of them), with batching, seeded shuffling, mapping and prefetching.
 * @module
 */
import { ArgumentError, DisposedTensorError, fmtShape, gather, reshape, ShapeError, slice, tensor, Tensor, tidy } from '@tessera/core';
import { checkSeed, randomSeed, Rng, ShuffleBuffer } from './random.js';
import { adopt, aliasAll, batchElements, disposeAll, forEachTensor, isPlainObject, mapTensors, protect, tensorsIn } from './tree.js';

/**
 * Tensors nested in arrays and plain objects: what {@link Dataset.fromTensorSlices} slices.
 * @example
 * const data: TensorTree = { xs: images, ys: labels, extra: [weights] };
 */
export type TensorTree = Tensor | readonly TensorTree[] | { readonly [key: string]: TensorTree };

/**
 * The type of a batch of elements of type `T`: tensors gain a leading axis, numbers and
 * booleans become 1-D tensors, strings (and anything else) become arrays.
 * @example
 * type B = Batched<{ x: Tensor; label: number; name: string }>; // { x: Tensor; label: Tensor; name: string[] }
 */
export type Batched<T> = T extends Tensor | number | boolean
  ? Tensor
  : T extends string | null | undefined
    ? T[]
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: Batched<T[K]> }
      : T extends object
        ? { [K in keyof T]: Batched<T[K]> }
        : T[];

/**
 * Options of {@link Dataset.batch}.
 * @example
 * ds.batch(32, { dropRemainder: true });
 */
export interface BatchOptions {
  /** Drop a last, smaller batch instead of yielding it (default false). */
  dropRemainder?: boolean;
}

/**
 * Options of {@link Dataset.shuffle}.
 * @example
 * ds.shuffle(1000, { seed: 42, reshuffleEachIteration: true });
 */
export interface ShuffleOptions {
  /** Seed of the order; the same seed gives the same orders on every platform. Random if omitted. */
  seed?: number;
  /**
   * Draw a new order each time the dataset is iterated (each epoch, and each pass of a
   * later `repeat`), from a seed derived from `seed` and the iteration count (default true).
   */
  reshuffleEachIteration?: boolean;
}

/**
 * Options of {@link Dataset.fromGenerator}.
 * @example
 * Dataset.fromGenerator(makeRows, { size: 500 });
 */
export interface GeneratorOptions {
  /** The number of elements each iteration yields, if known (sets {@link Dataset.size}). */
  size?: number;
}

/**
 * What {@link Dataset.fromGenerator} accepts from its function: a (sync or async) iterator
 * or iterable.
 * @example
 * const src: ElementSource<number> = (async function* () { yield 1; })();
 */
export type ElementSource<T> = Iterator<T> | AsyncIterator<T> | Iterable<T> | AsyncIterable<T>;

type Open<T> = () => AsyncIterator<T>;

/** In-memory tensor data addressed by index: lets batching slice or gather instead of stacking. */
interface Slices {
  readonly data: TensorTree;
  /** Opens one pass over the indices, in order. */
  readonly order: () => Iterator<number>;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

function checkCount(op: string, what: string, v: unknown, allowInfinity = false): number {
  if (typeof v !== 'number' || !(Number.isSafeInteger(v) || (allowInfinity && v === Infinity)) || v < 0) {
    throw new ArgumentError(op, `${what} must be a non-negative integer${allowInfinity ? ' or Infinity' : ''}, got ${String(v)}`);
  }
  return v;
}

/**
 * A lazy pipeline of elements, iterated with `for await`. Each iteration runs the pipeline
 * afresh (a new epoch: shuffles draw a new order). Build one from in-memory tensors
 * ({@link Dataset.fromTensorSlices}), JS values ({@link Dataset.fromArray}) or a generator
 * ({@link Dataset.fromGenerator}), then chain `shuffle`, `map`, `batch`, `prefetch`, ….
 *
 * Memory: every tensor an iteration yields is new and belongs to the consumer — dispose it
 * (or iterate inside `tidyAsync`). Tensors the pipeline makes and does not yield (skipped
 * or filtered elements, shuffle buffers, batch components, index tensors) are disposed by
 * the pipeline, also when the consumer stops early. Source tensors given to `fromTensorSlices`,
 * `fromTensors` and `fromArray` stay the caller's; tensors yielded by a generator or returned
 * by a `map` function become the pipeline's.
 * @example
 * const ds = Dataset.fromTensorSlices({ xs: images, ys: labels })
 *   .shuffle('all', { seed: 42 })
 *   .batch(128)
 *   .prefetch(2);
 * for await (const { xs, ys } of ds) {
 *   trainStep(xs, ys);
 *   dispose([xs, ys]);
 * }
 */
export class Dataset<T> implements AsyncIterable<T> {
  /**
   * The number of elements an iteration yields: `Infinity` after `repeat()`, `undefined`
   * when unknown (generators without `size`, `filter`).
   */
  readonly size: number | undefined;
  /** @internal Opens a pass whose elements are protected from tidy scopes and not yet adopted. */
  private readonly open: Open<T>;
  /** @internal Present while the elements are still index slices of in-memory tensors. */
  private readonly slices: Slices | null;

  private constructor(open: Open<T>, size: number | undefined, slices: Slices | null = null) {
    this.open = open;
    this.size = size;
    this.slices = slices;
  }

  // ---------------------------------------------------------------- sources

  /**
   * Slices tensors along axis 0: element `i` holds row `i` of every tensor of `data` (a
   * tensor, or arrays/objects of tensors with equal first dimensions). Batches of such a
   * dataset are slices of the data (views, no copy) or, once shuffled, one `gather` per
   * tensor, so an epoch over large in-memory data is cheap. The tensors stay the caller's:
   * keep them alive while the dataset is in use.
   * @example
   * const ds = Dataset.fromTensorSlices({ xs: tensor([[1, 2], [3, 4], [5, 6]]), ys: tensor([0, 1, 0], [3], 'int32') });
   * for await (const { xs, ys } of ds) console.log(xs.shape, ys.shape); // [2] []  (three times)
   */
  static fromTensorSlices<T extends TensorTree>(data: T): Dataset<T> {
    const op = 'fromTensorSlices';
    let n = -1;
    let first = '';
    const walk = (x: unknown, path: string, depth: number): void => {
      if (x instanceof Tensor) {
        if (x.isDisposed) throw new DisposedTensorError(op, `${path} (tensor #${x.id} ${fmtShape(x.shape)}) was disposed`);
        if (x.rank === 0) throw new ShapeError(op, `${path} is a scalar; fromTensorSlices slices along axis 0 and needs rank >= 1 (use fromTensors for one element)`);
        if (n < 0) {
          n = x.shape[0]!;
          first = `${path} ${fmtShape(x.shape)}`;
        } else if (x.shape[0] !== n) {
          throw new ShapeError(op, `every tensor needs the same first dimension: ${first} but ${path} ${fmtShape(x.shape)}`);
        }
      } else if (depth < 32 && Array.isArray(x)) x.forEach((v, i) => walk(v, `${path}[${i}]`, depth + 1));
      else if (depth < 32 && isPlainObject(x)) for (const [k, v] of Object.entries(x)) walk(v, `${path}.${k}`, depth + 1);
      else throw new ArgumentError(op, `${path} must be a tensor or an array/object of tensors, got ${x === null ? 'null' : typeof x}`);
    };
    walk(data, 'data', 0);
    if (n < 0) throw new ArgumentError(op, 'data holds no tensors');
    const count = n;
    const slices: Slices = {
      data,
      order: function* () {
        for (let i = 0; i < count; i++) yield i;
      },
    };
    return Dataset.fromSlices<T>(slices, count);
  }

  /**
   * A dataset of one element: `data` itself (a tensor, or any structure holding tensors).
   * Each iteration yields fresh handles on the same tensors; `data` stays the caller's.
   * @example
   * const ds = Dataset.fromTensors({ x: tensor([1, 2, 3]) });
   * (await ds.toArray()).length // 1
   */
  static fromTensors<T>(data: T): Dataset<T> {
    return new Dataset<T>(
      async function* () {
        yield aliasAll(data);
      },
      1,
    );
  }

  /**
   * A dataset of the items of an array (copied when called). Tensors inside the items stay
   * the caller's; each iteration yields fresh handles on them.
   * @example
   * const ds = Dataset.fromArray([{ x: 1, label: 'a' }, { x: 2, label: 'b' }]).batch(2);
   * const [b] = await ds.toArray(); // { x: Tensor [2] float32, label: ['a', 'b'] }
   */
  static fromArray<T>(items: readonly T[]): Dataset<T> {
    if (!Array.isArray(items)) throw new ArgumentError('fromArray', `expected an array, got ${typeof items}`);
    const copy = items.slice();
    return new Dataset<T>(
      async function* () {
        for (const item of copy) yield aliasAll(item);
      },
      copy.length,
    );
  }

  /**
   * A dataset whose elements come from a (sync or async) generator. `fn` is called once per
   * iteration, so each epoch restarts it. Tensors it yields become the pipeline's (yield new
   * ones each time). Give `size` when the count is known.
   * @example
   * const ds = Dataset.fromGenerator(function* () {
   *   for (let i = 0; i < 100; i++) yield { x: randomNormal([4], { seed: i }), y: i % 2 };
   * }, { size: 100 });
   */
  static fromGenerator<T>(fn: () => ElementSource<T>, opts: GeneratorOptions = {}): Dataset<T> {
    const op = 'fromGenerator';
    if (typeof fn !== 'function') throw new ArgumentError(op, `expected a function returning an iterator, got ${typeof fn}`);
    const size = opts.size === undefined ? undefined : checkCount(op, 'size', opts.size, true);
    return new Dataset<T>(async function* () {
      const src = fn() as unknown;
      let it: Iterator<T> | AsyncIterator<T>;
      if (src !== null && typeof src === 'object' && Symbol.asyncIterator in src) it = (src as AsyncIterable<T>)[Symbol.asyncIterator]();
      else if (src !== null && typeof src === 'object' && Symbol.iterator in src) it = (src as Iterable<T>)[Symbol.iterator]();
      else if (src !== null && typeof src === 'object' && typeof (src as Iterator<T>).next === 'function') it = src as Iterator<T>;
      else throw new ArgumentError(op, `fn must return an iterator or (async) iterable, got ${src === null ? 'null' : typeof src}`);
      let finished = false;
      try {
        for (;;) {
          const step = it.next();
          // A sync iterator's element is protected in the same synchronous step that made it.
          const r = step instanceof Promise ? await step : step;
          if (r.done) {
            finished = true;
            return;
          }
          yield protect(r.value);
        }
      } finally {
        if (!finished) await it.return?.();
      }
    }, size);
  }

  /** @internal */
  private static fromSlices<T>(slices: Slices, size: number): Dataset<T> {
    const { data } = slices;
    return new Dataset<T>(
      async function* () {
        const order = slices.order();
        for (let r = order.next(); !r.done; r = order.next()) {
          const i = r.value;
          yield protect(
            tidy(() =>
              mapTensors(data, (t) => {
                const row = slice(t, [i], [1]);
                return reshape(row, t.shape.slice(1));
              }),
            ) as T,
          );
        }
      },
      size,
      slices,
    );
  }

  // ---------------------------------------------------------------- transformations

  /**
   * Groups `n` consecutive elements into one: tensors are stacked on a new axis 0, numbers
   * become a float32 tensor, booleans a bool tensor, strings an array. The last batch may be
   * smaller unless `dropRemainder`. On sliced in-memory data a batch is a slice (a view) or,
   * after a shuffle, a `gather`, never a stack of per-row tensors.
   * @example
   * const ds = Dataset.fromTensorSlices(arange(10)).batch(4); // [4], [4], [2]
   * Dataset.fromTensorSlices(arange(10)).batch(4, { dropRemainder: true }).size // 2
   */
  batch(n: number, opts: BatchOptions = {}): Dataset<Batched<T>> {
    const op = 'batch';
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new ArgumentError(op, `batch size must be a positive integer, got ${String(n)}`);
    const drop = opts.dropRemainder ?? false;
    const size = this.size === undefined ? undefined : this.size === Infinity ? Infinity : drop ? Math.floor(this.size / n) : Math.ceil(this.size / n);
    const slices = this.slices;
    if (slices !== null) {
      return new Dataset<Batched<T>>(async function* () {
        const order = slices.order();
        const idx = new Int32Array(n);
        for (;;) {
          let count = 0;
          while (count < n) {
            const r = order.next();
            if (r.done) break;
            idx[count++] = r.value;
          }
          if (count === 0 || (count < n && drop)) return;
          yield protect(batchSlices(slices.data, idx.subarray(0, count))) as Batched<T>;
          if (count < n) return;
        }
      }, size);
    }
    const open = this.open;
    return new Dataset<Batched<T>>(async function* () {
      const up = open();
      const items: T[] = [];
      let finished = false;
      try {
        for (;;) {
          const r = await up.next();
          if (r.done) {
            finished = true;
            break;
          }
          items.push(r.value);
          if (items.length === n) {
            const b = batchOf(items);
            items.length = 0;
            yield b;
          }
        }
        if (items.length > 0 && !drop) {
          const b = batchOf(items);
          items.length = 0;
          yield b;
        }
      } finally {
        for (const x of items) disposeAll(x);
        if (!finished) await up.return?.();
      }
    }, size);
  }

  /**
   * Shuffles with a buffer of `bufferSize` elements (`'all'` or `Infinity`: the whole
   * dataset, a uniform shuffle). With a `seed` the orders are deterministic; by default each
   * iteration (epoch) draws a new order from a seed derived from `seed` and the iteration
   * count. The same seed gives the same order for in-memory slices and for any other source.
   * @example
   * const ds = Dataset.fromTensorSlices(x).shuffle('all', { seed: 7 }).batch(32);
   * // epoch 1 and epoch 2 differ; rebuilding the pipeline repeats them exactly
   */
  shuffle(bufferSize: number | 'all', opts: ShuffleOptions = {}): Dataset<T> {
    const op = 'shuffle';
    const capacity = bufferSize === 'all' ? Infinity : bufferSize;
    if (typeof capacity !== 'number' || !(Number.isSafeInteger(capacity) || capacity === Infinity) || capacity < 1) {
      throw new ArgumentError(op, `bufferSize must be a positive integer, Infinity or 'all', got ${String(bufferSize)}`);
    }
    const seed = opts.seed === undefined ? randomSeed() : checkSeed(op, opts.seed);
    const reshuffle = opts.reshuffleEachIteration ?? true;
    let epoch = 0;
    const nextRng = (): Rng => new Rng(seed, reshuffle ? epoch++ : 0);
    const slices = this.slices;
    if (slices !== null) {
      const order = function* (): Iterator<number> {
        const buf = new ShuffleBuffer<number>(capacity, nextRng());
        const up = slices.order();
        for (;;) {
          const r = up.next();
          if (r.done) break;
          if (!buf.full) buf.push(r.value);
          else yield buf.draw({ value: r.value });
        }
        while (buf.items.length > 0) yield buf.draw();
      };
      return Dataset.fromSlices<T>({ data: slices.data, order }, this.size!);
    }
    const open = this.open;
    return new Dataset<T>(async function* () {
      const buf = new ShuffleBuffer<T>(capacity, nextRng());
      const up = open();
      let finished = false;
      try {
        for (;;) {
          const r = await up.next();
          if (r.done) {
            finished = true;
            break;
          }
          if (!buf.full) buf.push(r.value);
          else yield buf.draw({ value: r.value });
        }
        while (buf.items.length > 0) yield buf.draw();
      } finally {
        for (const x of buf.items) disposeAll(x);
        buf.items.length = 0;
        if (!finished) await up.return?.();
      }
    }, this.size);
  }

  /**
   * Applies a synchronous `fn` to each element. `fn` runs inside `tidy`, so its
   * intermediate tensors are freed; tensors of the input that the output does not contain
   * are disposed, and the tensors it returns become the pipeline's. For async work use
   * {@link Dataset.mapAsync}.
   * @example
   * const ds = Dataset.fromTensorSlices({ xs: images, ys: labels })
   *   .map(({ xs, ys }) => ({ xs: reshape(xs, [784]), ys: oneHot(ys, 10) }));
   */
  map<U>(fn: (x: T) => U): Dataset<U> {
    const op = 'map';
    if (typeof fn !== 'function') throw new ArgumentError(op, `expected a function, got ${typeof fn}`);
    const open = this.open;
    return new Dataset<U>(
      async function* () {
        yield* transform(open(), (x) => {
          const out = tidy(() => {
            const y = fn(x);
            if (y instanceof Promise) {
              y.catch(() => undefined);
              throw new ArgumentError(op, 'fn returned a Promise; use mapAsync for async functions');
            }
            return y as never;
          }) as U;
          return out;
        });
      },
      this.size,
    );
  }

  /**
   * Applies an async `fn` to each element. Unlike {@link Dataset.map} it does not run in a
   * `tidy` scope (scopes cannot span `await` safely while other work runs), so `fn` must
   * free its own intermediate tensors; input tensors the output does not contain are
   * disposed, returned tensors become the pipeline's.
   * @example
   * const ds = Dataset.fromArray(paths).mapAsync(async (p) => decodeImage(await readFile(p)));
   */
  mapAsync<U>(fn: (x: T) => Promise<U> | U): Dataset<U> {
    if (typeof fn !== 'function') throw new ArgumentError('mapAsync', `expected a function, got ${typeof fn}`);
    const open = this.open;
    return new Dataset<U>(
      async function* () {
        yield* transform(open(), fn);
      },
      this.size,
    );
  }

  /**
   * Keeps the elements for which `predicate` is true (the others are disposed). The size
   * becomes unknown.
   * @example
   * const evens = Dataset.fromArray([1, 2, 3, 4]).filter((x) => x % 2 === 0); // 2, 4
   */
  filter(predicate: (x: T) => boolean | Promise<boolean>): Dataset<T> {
    if (typeof predicate !== 'function') throw new ArgumentError('filter', `expected a function, got ${typeof predicate}`);
    const open = this.open;
    return new Dataset<T>(
      async function* () {
        const up = open();
        let finished = false;
        try {
          for (;;) {
            const r = await up.next();
            if (r.done) {
              finished = true;
              return;
            }
            let ok: boolean;
            try {
              ok = await predicate(r.value);
            } catch (e) {
              disposeAll(r.value);
              throw e;
            }
            if (ok) yield r.value;
            else disposeAll(r.value);
          }
        } finally {
          if (!finished) await up.return?.();
        }
      },
      this.size === 0 ? 0 : undefined,
    );
  }

  /**
   * The first `n` elements (fewer if the dataset is shorter).
   * @example
   * const preview = await Dataset.fromTensorSlices(x).take(5).toArray();
   */
  take(n: number): Dataset<T> {
    checkCount('take', 'n', n, true);
    const size = this.size === undefined ? (n === 0 ? 0 : undefined) : Math.min(this.size, n);
    const slices = this.slices;
    if (slices !== null) {
      const order = function* (): Iterator<number> {
        if (n === 0) return;
        let k = 0;
        const up = slices.order();
        for (let r = up.next(); !r.done; r = up.next()) {
          yield r.value;
          if (++k >= n) return;
        }
      };
      return Dataset.fromSlices<T>({ data: slices.data, order }, size!);
    }
    const open = this.open;
    return new Dataset<T>(async function* () {
      if (n === 0) return;
      const up = open();
      let finished = false;
      let k = 0;
      try {
        for (;;) {
          const r = await up.next();
          if (r.done) {
            finished = true;
            return;
          }
          yield r.value;
          if (++k >= n) return;
        }
      } finally {
        if (!finished) await up.return?.();
      }
    }, size);
  }

  /**
   * Drops the first `n` elements (disposing them).
   * @example
   * const [train, val] = [ds.skip(1000), ds.take(1000)];
   */
  skip(n: number): Dataset<T> {
    checkCount('skip', 'n', n, true);
    const size = this.size === undefined ? undefined : this.size === Infinity ? (n === Infinity ? 0 : Infinity) : Math.max(0, this.size - n);
    const slices = this.slices;
    if (slices !== null) {
      const order = function* (): Iterator<number> {
        let k = 0;
        const up = slices.order();
        for (let r = up.next(); !r.done; r = up.next()) {
          if (k++ >= n) yield r.value;
        }
      };
      return Dataset.fromSlices<T>({ data: slices.data, order }, size!);
    }
    const open = this.open;
    return new Dataset<T>(async function* () {
      const up = open();
      let finished = false;
      let k = 0;
      try {
        for (;;) {
          const r = await up.next();
          if (r.done) {
            finished = true;
            return;
          }
          if (k++ >= n) yield r.value;
          else disposeAll(r.value);
        }
      } finally {
        if (!finished) await up.return?.();
      }
    }, size);
  }

  /**
   * Repeats the dataset `count` times, or forever when `count` is omitted. Each pass is a
   * new iteration of the upstream pipeline, so an upstream shuffle reshuffles every pass.
   * Repeating an empty dataset yields nothing (instead of looping forever).
   * @example
   * const ds = Dataset.fromTensorSlices(x).shuffle('all', { seed: 1 }).repeat(3).batch(32); // 3 epochs
   */
  repeat(count?: number): Dataset<T> {
    const times = count === undefined ? Infinity : checkCount('repeat', 'count', count, true);
    const size = this.size === undefined ? undefined : this.size === 0 || times === 0 ? 0 : this.size * times;
    const slices = this.slices;
    if (slices !== null) {
      const order = function* (): Iterator<number> {
        for (let pass = 0; pass < times; pass++) {
          let any = false;
          const up = slices.order();
          for (let r = up.next(); !r.done; r = up.next()) {
            any = true;
            yield r.value;
          }
          if (!any) return;
        }
      };
      return Dataset.fromSlices<T>({ data: slices.data, order }, size!);
    }
    const open = this.open;
    return new Dataset<T>(async function* () {
      for (let pass = 0; pass < times; pass++) {
        let any = false;
        const up = open();
        let finished = false;
        try {
          for (;;) {
            const r = await up.next();
            if (r.done) {
              finished = true;
              break;
            }
            any = true;
            yield r.value;
          }
        } finally {
          if (!finished) await up.return?.();
        }
        if (!any) return;
      }
    }, size);
  }

  /**
   * Produces up to `n` elements ahead of the consumer in the background, so that async
   * work upstream (reading files, decoding) overlaps with the consumer's. Prefetched
   * elements are disposed if the consumer stops early.
   * @example
   * for await (const batch of ds.batch(64).prefetch(2)) await step(batch);
   */
  prefetch(n: number): Dataset<T> {
    checkCount('prefetch', 'n', n);
    if (n === 0) return this;
    const open = this.open;
    return new Dataset<T>(() => new Prefetcher<T>(open(), n), this.size);
  }

  // ---------------------------------------------------------------- consuming

  /**
   * Starts an iteration (an epoch). Each element's tensors are new handles created in the
   * caller's current `tidy` scope and belong to the caller.
   * @example
   * for await (const batch of ds) { use(batch); dispose(batch); }
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    const inner = this.open();
    let done = false;
    return {
      next: async (): Promise<IteratorResult<T>> => {
        if (done) return DONE;
        let r: IteratorResult<T>;
        try {
          r = await inner.next();
        } catch (e) {
          done = true;
          throw e;
        }
        if (r.done) {
          done = true;
          return DONE;
        }
        return { done: false, value: adopt(r.value) };
      },
      return: async (): Promise<IteratorResult<T>> => {
        if (!done) {
          done = true;
          await inner.return?.();
        }
        return DONE;
      },
    };
  }

  /**
   * Runs one iteration and collects the elements (which belong to the caller). Throws for
   * an infinite dataset.
   * @example
   * const batches = await Dataset.fromTensorSlices(x).batch(2).toArray();
   * dispose(batches);
   */
  async toArray(): Promise<T[]> {
    if (this.size === Infinity) throw new ArgumentError('toArray', 'the dataset is infinite (repeat() without a count); take(n) first');
    const out: T[] = [];
    try {
      for await (const x of this) out.push(x);
    } catch (e) {
      for (const x of out) disposeAll(x);
      throw e;
    }
    return out;
  }
}

/** A batch of rows `idx` of every tensor of `data`: a slice view for a contiguous run, else a gather. */
function batchSlices(data: TensorTree, idx: Int32Array): unknown {
  const count = idx.length;
  const start = idx[0]!;
  let contiguous = true;
  for (let k = 1; k < count; k++) {
    if (idx[k] !== start + k) {
      contiguous = false;
      break;
    }
  }
  return tidy(() => {
    if (contiguous) return mapTensors(data, (t) => slice(t, [start], [count]));
    const indices = tensor(idx, [count], 'int32');
    return mapTensors(data, (t) => gather(t, indices, 0));
  });
}

/** Stacks `items` into a protected batch and disposes them. */
function batchOf<T>(items: readonly T[]): Batched<T> {
  try {
    return protect(tidy(() => batchElements(items) as never)) as Batched<T>;
  } finally {
    for (const x of items) disposeAll(x);
  }
}

/**
 * Applies `fn` to each element of `up`: the output is protected, input tensors it does not
 * contain are disposed (also when `fn` throws).
 */
async function* transform<T, U>(up: AsyncIterator<T>, fn: (x: T) => U | Promise<U>): AsyncGenerator<U> {
  let finished = false;
  try {
    for (;;) {
      const r = await up.next();
      if (r.done) {
        finished = true;
        return;
      }
      const x = r.value;
      let y: U;
      try {
        y = await fn(x);
      } catch (e) {
        disposeAll(x);
        throw e;
      }
      protect(y);
      const keepSet = tensorsIn(y);
      forEachTensor(x, (t) => {
        if (!keepSet.has(t)) t.dispose();
      });
      yield y;
    }
  } finally {
    if (!finished) await up.return?.();
  }
}

type Slot<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'done' };

/** Pulls up to `n` elements ahead of the consumer; disposes what it holds when closed early. */
class Prefetcher<T> implements AsyncIterator<T> {
  private readonly queue: Slot<T>[] = [];
  private readonly waiters: ((s: Slot<T>) => void)[] = [];
  private running: Promise<void> | null = null;
  private closed = false;
  private upstreamDone = false;
  private finished = false;

  constructor(
    private readonly upstream: AsyncIterator<T>,
    private readonly n: number,
  ) {}

  private deliver(s: Slot<T>): void {
    const w = this.waiters.shift();
    if (w !== undefined) w(s);
    else this.queue.push(s);
  }

  private pump(): void {
    if (this.running !== null || this.closed || this.upstreamDone) return;
    this.running = (async () => {
      try {
        while (!this.closed && !this.upstreamDone && this.queue.length < this.n) {
          let r: IteratorResult<T>;
          try {
            r = await this.upstream.next();
          } catch (e) {
            this.upstreamDone = true;
            this.deliver({ kind: 'error', error: e });
            return;
          }
          if (r.done) {
            this.upstreamDone = true;
            this.deliver({ kind: 'done' });
            return;
          }
          if (this.closed) {
            disposeAll(r.value);
            return;
          }
          this.deliver({ kind: 'value', value: r.value });
        }
      } finally {
        this.running = null;
      }
    })();
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.finished) return DONE;
    let s = this.queue.shift();
    if (s === undefined) {
      const p = new Promise<Slot<T>>((resolve) => this.waiters.push(resolve));
      this.pump();
      s = await p;
    }
    if (s.kind === 'value') {
      this.pump();
      return { done: false, value: s.value };
    }
    this.finished = true;
    if (s.kind === 'error') throw s.error;
    return DONE;
  }

  async return(): Promise<IteratorResult<T>> {
    if (this.closed) return DONE;
    this.closed = true;
    this.finished = true;
    while (this.running !== null) await this.running;
    for (const s of this.queue) if (s.kind === 'value') disposeAll(s.value);
    this.queue.length = 0;
    for (const w of this.waiters.splice(0)) w({ kind: 'done' });
    if (!this.upstreamDone) await this.upstream.return?.();
    return DONE;
  }
}
