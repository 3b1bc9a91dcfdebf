/**
 * Turns what `fit`, `evaluate` and `predict` accept (tensors, lists or maps of tensors, or a
 * `Dataset` of batches) into one stream of batches the training loop consumes and disposes.
 * @module
 */
import { ArgumentError, argmax, cast, gather, mul, reshape, slice, Tensor, tensor } from '@tessera/core';
import { fmtShapeN, hostRng, randomSeed } from '../util.js';

/** Model inputs or targets: one tensor, a list (one per input/output) or a map by name. */
export type TensorData = Tensor | readonly Tensor[] | Record<string, Tensor>;

/** One batch, owned by the consumer (dispose it after use). */
export interface Batch {
  xs: Tensor[];
  ys: Tensor[];
  sampleWeight: Tensor | null;
  size: number;
}

/** Anything iterable with `for await` (a `@tessera/data` Dataset). */
export type BatchDataset = AsyncIterable<unknown> & { readonly size?: number };

/** True for a Dataset-like source (async iterable, not a tensor). */
export function isDataset(x: unknown): x is BatchDataset {
  return x !== null && typeof x === 'object' && !(x instanceof Tensor) && typeof (x as Record<symbol, unknown>)[Symbol.asyncIterator] === 'function';
}

/**
 * Normalises tensors given for `names` (input or output names) into a list in that order.
 * @internal
 */
export function toTensorList(op: string, what: string, data: TensorData | undefined, names: readonly string[]): Tensor[] {
  if (data === undefined || data === null) throw new ArgumentError(op, `${what} is required`);
  let list: Tensor[];
  if (data instanceof Tensor) list = [data];
  else if (Array.isArray(data)) list = [...(data as Tensor[])];
  else if (typeof data === 'object') {
    const rec = data as Record<string, Tensor>;
    for (const k of Object.keys(rec)) if (!names.includes(k)) throw new ArgumentError(op, `${what} has an entry '${k}', but the model's names are ${names.join(', ')}`);
    list = names.map((n) => {
      const t = rec[n];
      if (t === undefined) throw new ArgumentError(op, `${what} has no entry for '${n}'`);
      return t;
    });
  } else throw new ArgumentError(op, `${what} must be a Tensor, a list of tensors or a map by name, got ${typeof data}`);
  list.forEach((t, i) => {
    if (!(t instanceof Tensor)) {
      throw new ArgumentError(op, `${what}${list.length > 1 ? `[${i}]` : ''} must be a Tensor, got ${t === null ? 'null' : Array.isArray(t) ? 'a nested array (wrap it with tensor())' : typeof t}`);
    }
    t.assertLive(op);
    if (t.rank === 0) throw new ArgumentError(op, `${what} must have a batch axis, got a scalar`);
  });
  if (list.length !== names.length) throw new ArgumentError(op, `the model has ${names.length} ${what === 'x' ? 'input' : 'output'}${names.length === 1 ? '' : 's'} (${names.join(', ')}) but ${what} holds ${list.length} tensors`);
  return list;
}

/** The common first dimension of every tensor, or an ArgumentError. */
export function sampleCount(op: string, groups: readonly [string, readonly Tensor[]][]): number {
  let n = -1;
  let first = '';
  for (const [what, ts] of groups) {
    ts.forEach((t, i) => {
      const d = t.shape[0]!;
      const label = `${what}${ts.length > 1 ? `[${i}]` : ''} ${fmtShapeN(t.shape)}`;
      if (n < 0) {
        n = d;
        first = label;
      } else if (d !== n) throw new ArgumentError(op, `every input and target needs the same number of samples: ${first} has ${n}, ${label} has ${d}`);
    });
  }
  return Math.max(n, 0);
}

/** Per-sample weights from class weights: the weight of each sample's class. */
export function classWeightsFor(op: string, y: Tensor, classWeight: Record<number, number>): Tensor {
  const entries = Object.entries(classWeight).map(([k, v]) => [Number(k), v] as const);
  if (entries.length === 0) throw new ArgumentError(op, 'classWeight is empty');
  for (const [k, v] of entries) {
    if (!Number.isInteger(k) || k < 0) throw new ArgumentError(op, `classWeight keys must be class indices (integers >= 0), got '${k}'`);
    if (typeof v !== 'number' || !(v >= 0)) throw new ArgumentError(op, `classWeight[${k}] must be a number >= 0, got ${String(v)}`);
  }
  const size = Math.max(...entries.map(([k]) => k)) + 1;
  const numClasses = y.rank > 1 && y.shape[y.rank - 1]! > 1 ? y.shape[y.rank - 1]! : size;
  const table = new Float32Array(Math.max(size, numClasses)).fill(1);
  for (const [k, v] of entries) table[k] = v;
  const t = tensor(table);
  let cls: Tensor;
  if (y.rank > 1 && y.shape[y.rank - 1]! > 1) cls = argmax(y, -1);
  else {
    const flat = y.rank > 1 ? reshape(y, [y.shape[0]!]) : y;
    cls = flat.dtype === 'int32' ? (flat === y ? reshape(flat, flat.shape) : flat) : cast(flat, 'int32');
    if (flat !== y && cls !== flat) flat.dispose();
  }
  const w = gather(t, cls, 0);
  t.dispose();
  cls.dispose();
  return w;
}

/** A permutation of 0..n-1 (Fisher–Yates with a seeded host generator). */
export function permutation(n: number, seed: number): Int32Array {
  const rand = hostRng(seed);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = p[i]!;
    p[i] = p[j]!;
    p[j] = tmp;
  }
  return p;
}

/** Options of {@link tensorBatches}. */
export interface TensorBatchOptions {
  batchSize: number;
  /** Shuffle the sample order (a new order each call, from `seed` and `epoch`). */
  shuffle: boolean;
  seed: number | null;
  epoch: number;
  sampleWeight?: Tensor | null;
  classWeight?: Record<number, number> | null;
}

/**
 * Batches of in-memory tensors: slices (views, no copy) in order. When shuffled, each tensor
 * is gathered once per epoch into the new order and then sliced, so the epoch costs one
 * gather (and one index check) per tensor rather than one per batch.
 * @internal
 */
export function* tensorBatches(xs: readonly Tensor[], ys: readonly Tensor[], n: number, opts: TensorBatchOptions): Generator<Batch> {
  const owned: Tensor[] = [];
  let sx = xs;
  let sy = ys;
  let ssw = opts.sampleWeight ?? null;
  try {
    if (opts.shuffle && n > 1) {
      const order = permutation(n, ((opts.seed ?? randomSeed()) + opts.epoch * 1_000_003) % 2 ** 31);
      const idx = tensor(order, [n], 'int32');
      const g = (t: Tensor): Tensor => {
        const r = gather(t, idx, 0);
        owned.push(r);
        return r;
      };
      try {
        sx = xs.map(g);
        sy = ys.map(g);
        ssw = ssw === null ? null : g(ssw);
      } finally {
        idx.dispose();
      }
    }
    for (let start = 0; start < n; start += opts.batchSize) {
      const size = Math.min(opts.batchSize, n - start);
      const take = (t: Tensor): Tensor => slice(t, [start, ...t.shape.slice(1).map(() => 0)], [size, ...t.shape.slice(1)]);
      const bx = sx.map(take);
      const by = sy.map(take);
      let sw: Tensor | null = ssw === null ? null : take(ssw);
      if (opts.classWeight && by.length > 0) {
        const cw = classWeightsFor('fit', by[0]!, opts.classWeight);
        if (sw === null) sw = cw;
        else {
          const prod = mul(sw, cw);
          sw.dispose();
          cw.dispose();
          sw = prod;
        }
      }
      yield { xs: bx, ys: by, sampleWeight: sw, size };
    }
  } finally {
    for (const t of owned) t.dispose();
  }
}

/**
 * Normalises one dataset element into a batch: `{ xs, ys }`, `{ x, y }`, `[x, y]` or
 * `[x, y, sampleWeight]`, where x/y are tensors, lists or maps by name.
 * @internal
 */
export function datasetBatch(op: string, el: unknown, inputNames: readonly string[], outputNames: readonly string[], needY: boolean, classWeight?: Record<number, number> | null): Batch {
  let x: unknown;
  let y: unknown;
  let sw: unknown = null;
  if (Array.isArray(el)) [x, y, sw = null] = el;
  else if (el instanceof Tensor) x = el;
  else if (el !== null && typeof el === 'object') {
    const o = el as Record<string, unknown>;
    x = o.xs ?? o.x;
    y = o.ys ?? o.y;
    sw = o.sampleWeight ?? null;
  }
  if (x === undefined) throw new ArgumentError(op, 'dataset elements must be { xs, ys }, { x, y }, [x, y] or [x, y, sampleWeight] batches');
  const xs = toTensorList(op, 'x', x as TensorData, inputNames);
  const ys = needY || y !== undefined ? toTensorList(op, 'y', y as TensorData, outputNames) : [];
  let w = sw instanceof Tensor ? sw : null;
  if (classWeight && ys.length > 0) {
    const cw = classWeightsFor(op, ys[0]!, classWeight);
    if (w === null) w = cw;
    else {
      const prod = mul(w, cw);
      w.dispose();
      cw.dispose();
      w = prod;
    }
  }
  return { xs, ys, sampleWeight: w, size: xs[0]!.shape[0]! };
}
