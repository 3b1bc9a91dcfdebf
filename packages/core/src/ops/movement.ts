/**
 * Movement: reshape, transpose, slices, broadcasting and flips are strided views that share
 * storage (no copy); concat, pad, tile, gather and scatter copy through kernels.
 * @module
 */
import type { View } from '../backend/types.js';
import { ArgumentError, DTypeError, IndexError, ShapeError } from '../errors.js';
import { broadcastShapes, checkShape, fmtShape, normAxes, normAxis, shapesEqual, sizeOf, stridesOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { cast, contiguous, equal, where } from './elementwise.js';
import { backendOf, constantOn, expectInts, expectNumber, input, live, output, record, recorded, releaseTemps, view } from './util.js';

/**
 * Same values, new shape; one axis may be -1 (inferred). A view when `x` is contiguous.
 * @example reshape(arange(6), [2, -1]) // int32 [2, 3]
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  live(x, 'reshape');
  const target = inferShape(shape, x.size, x.shape);
  return recorded('reshape', [x], { shape: x.shape }, () => {
    if (x.isContiguous) return view(x, target, stridesOf(target), x.offset);
    const c = contiguous(x);
    const v = view(c, target, stridesOf(target), 0);
    c.dispose();
    return v;
  });
}

function inferShape(shape: readonly number[], size: number, from: readonly number[]): number[] {
  if (!Array.isArray(shape)) throw new ArgumentError('reshape', `shape must be an array, got ${String(shape)}`);
  let infer = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === -1) {
      if (infer >= 0) throw new ArgumentError('reshape', `shape ${fmtShape(shape)} has more than one -1`);
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new ArgumentError('reshape', `shape ${fmtShape(shape)} must hold non-negative integers or one -1`);
    } else known *= d;
  }
  const out = shape.slice();
  if (infer >= 0) {
    if (known === 0 || size % known !== 0) {
      throw new ShapeError('reshape', `cannot reshape ${fmtShape(from)} (${size} elements) to ${fmtShape(shape)}`);
    }
    out[infer] = size / known;
  } else if (known !== size) {
    throw new ShapeError('reshape', `cannot reshape ${fmtShape(from)} (${size} elements) to ${fmtShape(shape)} (${known} elements)`);
  }
  return out;
}

/**
 * Permutes axes (default: reverses them). A view.
 * @example transpose(zeros([2, 3, 4]), [2, 0, 1]).shape // [4, 2, 3]
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  live(x, 'transpose');
  const rank = x.rank;
  const p = perm === undefined ? Array.from({ length: rank }, (_, i) => rank - 1 - i) : perm.map((a) => normAxis(a, rank, 'transpose'));
  if (p.length !== rank || new Set(p).size !== rank) {
    throw new ArgumentError('transpose', `perm ${JSON.stringify(perm)} is not a permutation of ${rank} axes`);
  }
  const out = view(x, p.map((a) => x.shape[a]!), p.map((a) => x.strides[a]!), x.offset);
  record('transpose', [x], out, { perm: p });
  return out;
}

/**
 * Inserts a size-1 axis at `axis` (negative counts from the end of the result).
 * @example expandDims(zeros([3]), 0).shape // [1, 3]
 */
export function expandDims(x: Tensor, axis = 0): Tensor {
  live(x, 'expandDims');
  const a = normAxis(axis, x.rank + 1, 'expandDims');
  const shape = x.shape.slice();
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/**
 * Removes size-1 axes (all of them, or those listed).
 * @example squeeze(zeros([1, 3, 1])).shape // [3]
 */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  live(x, 'squeeze');
  const drop = axes === undefined ? x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0) : normAxes(axes, x.rank, 'squeeze');
  for (const a of drop) {
    if (x.shape[a] !== 1) throw new ShapeError('squeeze', `axis ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, expected 1`);
  }
  return reshape(x, x.shape.filter((_, i) => !drop.includes(i)));
}

/** Python-style slice bounds of one axis: the first index, step and length. */
function sliceAxis(dim: number, start: number | null | undefined, stop: number | null | undefined, step: number): [number, number] {
  let b: number;
  let e: number;
  if (step > 0) {
    b = start == null ? 0 : start < 0 ? Math.max(0, start + dim) : Math.min(start, dim);
    e = stop == null ? dim : stop < 0 ? Math.max(0, stop + dim) : Math.min(stop, dim);
  } else {
    b = start == null ? dim - 1 : start < 0 ? Math.max(-1, start + dim) : Math.min(start, dim - 1);
    e = stop == null ? -1 : stop < 0 ? Math.max(-1, stop + dim) : Math.min(stop, dim - 1);
  }
  return [b, Math.max(0, Math.ceil((e - b) / step))];
}

/**
 * NumPy-style slicing with steps: `begin`/`end` per axis (null = from the start / to the end
 * in the step's direction, negatives count from the end), `strides` default 1; axes not
 * listed are kept whole. A view.
 * @example stridedSlice(x, [0, null], [null, null], [2, -1]) // x[::2, ::-1]
 */
export function stridedSlice(x: Tensor, begin: readonly (number | null)[], end: readonly (number | null)[], strides?: readonly number[]): Tensor {
  live(x, 'stridedSlice');
  expectInts('stridedSlice', 'begin', begin, true);
  expectInts('stridedSlice', 'end', end, true);
  if (strides !== undefined && strides !== null) expectInts('stridedSlice', 'strides', strides);
  if (begin.length > x.rank || end.length > x.rank || (strides && strides.length > x.rank)) {
    throw new ArgumentError('stridedSlice', `begin/end/strides have more entries than x has axes (${fmtShape(x.shape)})`);
  }
  const shape: number[] = [];
  const st: number[] = [];
  const starts: number[] = [];
  const steps: number[] = [];
  let offset = x.offset;
  for (let i = 0; i < x.rank; i++) {
    const step = strides?.[i] ?? 1;
    if (!Number.isInteger(step) || step === 0) throw new ArgumentError('stridedSlice', `stride ${step} on axis ${i} must be a non-zero integer`);
    const [b, len] = sliceAxis(x.shape[i]!, begin[i], end[i], step);
    shape.push(len);
    st.push(x.strides[i]! * step);
    starts.push(b);
    steps.push(step);
    if (len > 0) offset += b * x.strides[i]!;
  }
  const out = view(x, shape, st, offset);
  record('stridedSlice', [x], out, { inShape: x.shape, starts, steps });
  return out;
}

/**
 * `size[i]` elements from `begin[i]` on each axis (size -1 = to the end). A view.
 * @example slice(x, [1, 0], [2, -1]) // rows 1..2, every column
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  live(x, 'slice');
  expectInts('slice', 'begin', begin);
  if (size !== undefined && size !== null) expectInts('slice', 'size', size);
  const b: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < begin.length; i++) {
    const dim = x.shape[i];
    if (dim === undefined) throw new ArgumentError('slice', `begin has ${begin.length} entries but x is ${fmtShape(x.shape)}`);
    const start = begin[i]! < 0 ? begin[i]! + dim : begin[i]!;
    const len = size?.[i] === undefined || size[i] === -1 ? dim - start : size[i]!;
    if (!Number.isInteger(start) || !Number.isInteger(len) || start < 0 || len < 0 || start + len > dim) {
      throw new ArgumentError('slice', `begin ${begin[i]} size ${size?.[i] ?? -1} on axis ${i} is out of range for ${fmtShape(x.shape)}`);
    }
    b.push(start);
    e.push(start + len);
  }
  return stridedSlice(x, b, e);
}

/**
 * The adjoint of a slice: a zero tensor of `inShape` with `dy` written where the slice
 * (first indices `starts`, steps `steps`) came from. Autograd's gradient of slice and
 * stridedSlice; also a scatter of a block into zeros.
 * @example unslice(ones([2]), [4], [1], [2]) // [0, 1, 0, 1]
 */
export function unslice(dy: Tensor, inShape: readonly number[], starts: readonly number[], steps: readonly number[]): Tensor {
  live(dy, 'unslice');
  checkShape(inShape, 'unslice');
  expectInts('unslice', 'starts', starts);
  expectInts('unslice', 'steps', steps);
  if (inShape.length !== dy.rank || starts.length !== dy.rank || steps.length !== dy.rank) {
    throw new ArgumentError('unslice', `dy ${fmtShape(dy.shape)}, inShape ${fmtShape(inShape)}, starts and steps must all have the same rank`);
  }
  for (let i = 0; i < dy.rank; i++) {
    const last = starts[i]! + (dy.shape[i]! - 1) * steps[i]!;
    if (dy.shape[i]! > 0 && (starts[i]! < 0 || starts[i]! >= inShape[i]! || last < 0 || last >= inShape[i]!)) {
      throw new ShapeError('unslice', `dy ${fmtShape(dy.shape)} written from ${JSON.stringify(starts)} with steps ${JSON.stringify(steps)} does not fit in ${fmtShape(inShape)}`);
    }
  }
  const be = dy.backend;
  const out = output(be, dy.dtype, inShape);
  if (out.size > 0) be.kernels.fill(out, 0);
  if (dy.size > 0) {
    const strides = stridesOf(inShape);
    let offset = 0;
    for (let i = 0; i < inShape.length; i++) offset += starts[i]! * strides[i]!;
    be.kernels.copy(input(dy, be), { buf: out.buf, dtype: out.dtype, shape: dy.shape, strides: strides.map((s, i) => s * steps[i]!), offset, size: dy.size });
    releaseTemps();
  }
  record('unslice', [dy], out, { inShape, starts, steps });
  return out;
}

/**
 * Reverses the listed axes (all by default). A view with negative strides.
 * @example flip(tensor([1, 2, 3])) // [3, 2, 1]
 */
export function flip(x: Tensor, axes?: number | readonly number[]): Tensor {
  live(x, 'flip');
  const ax = normAxes(axes, x.rank, 'flip');
  const strides = x.strides.slice();
  let offset = x.offset;
  for (const a of ax) {
    if (x.shape[a]! > 0) offset += (x.shape[a]! - 1) * strides[a]!;
    strides[a] = -strides[a]!;
  }
  const out = view(x, x.shape, strides, offset);
  record('flip', [x], out, { axes: ax });
  return out;
}

/** Alias of {@link flip} (the TensorFlow name). @example reverse(x, 0) */
export const reverse = flip;

/**
 * Broadcasts to `shape` as a view (stride 0 on repeated axes).
 * @example broadcastTo(tensor([1, 2]), [3, 2]) // 3 rows of [1, 2]
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  live(x, 'broadcastTo');
  checkShape(shape, 'broadcastTo');
  const target = broadcastShapes(x.shape, shape, 'broadcastTo');
  if (!shapesEqual(target, shape)) {
    throw new ShapeError('broadcastTo', `cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  }
  const off = shape.length - x.rank;
  const strides = shape.map((_, i) => (i < off || x.shape[i - off] === 1 ? 0 : x.strides[i - off]!));
  const out = view(x, shape.slice(), strides, x.offset);
  record('broadcastTo', [x], out, { inShape: x.shape });
  return out;
}

/**
 * Joins tensors along an existing axis.
 * @example concat([zeros([2, 1]), ones([2, 2])], 1).shape // [2, 3]
 */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ArgumentError('concat', 'expected a non-empty array of tensors');
  xs.forEach((x, i) => live(x, 'concat', `xs[${i}]`));
  const first = xs[0]!;
  const a = normAxis(axis, Math.max(first.rank, 1), 'concat');
  if (first.rank === 0) throw new ShapeError('concat', 'cannot concatenate 0-d tensors (use stack)');
  for (const x of xs) {
    backendOf('concat', first, x);
    if (x.dtype !== first.dtype) throw new DTypeError('concat', `dtypes differ: ${first.dtype} and ${x.dtype}`);
    if (x.rank !== first.rank || x.shape.some((d: number, i: number) => i !== a && d !== first.shape[i])) {
      throw new ShapeError('concat', `shapes ${fmtShape(first.shape)} and ${fmtShape(x.shape)} differ outside axis ${a}`);
    }
  }
  const sizes = xs.map((x) => x.shape[a]!);
  const shape = first.shape.slice();
  shape[a] = sizes.reduce((s, d) => s + d, 0);
  const be = first.backend;
  const out = output(be, first.dtype, shape);
  const strides = out.strides;
  let pos = 0;
  for (const x of xs) {
    if (x.size > 0) {
      be.kernels.copy(input(x, be), { buf: out.buf, dtype: out.dtype, shape: x.shape, strides, offset: pos * strides[a]!, size: x.size });
    }
    pos += x.shape[a]!;
  }
  releaseTemps();
  record('concat', xs, out, { axis: a, sizes });
  return out;
}

/**
 * Joins tensors of one shape along a new axis.
 * @example stack([tensor([1, 2]), tensor([3, 4])]).shape // [2, 2]
 */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ArgumentError('stack', 'expected a non-empty array of tensors');
  xs.forEach((x, i) => live(x, 'stack', `xs[${i}]`));
  for (const x of xs) {
    if (!shapesEqual(x.shape, xs[0]!.shape)) throw new ShapeError('stack', `shapes ${fmtShape(xs[0]!.shape)} and ${fmtShape(x.shape)} differ`);
  }
  const a = normAxis(axis, xs[0]!.rank + 1, 'stack');
  const expanded = xs.map((x) => expandDims(x, a));
  try {
    return concat(expanded, a);
  } finally {
    for (const e of expanded) e.dispose();
  }
}

/**
 * Splits into `n` equal parts, or parts of the given sizes, along `axis`. Views.
 * @example split(arange(6), 3) // three [2] tensors; split(x, [1, -1], 1)
 */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  live(x, 'split');
  const a = normAxis(axis, x.rank, 'split');
  const dim = x.shape[a]!;
  let parts: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0 || dim % sizes !== 0) {
      throw new ArgumentError('split', `cannot split axis ${a} of size ${dim} into ${sizes} equal parts`);
    }
    parts = new Array<number>(sizes).fill(dim / sizes);
  } else {
    if (!Array.isArray(sizes)) throw new ArgumentError('split', `sizes must be a number of equal parts or an array of sizes, got ${sizes === null ? 'null' : typeof sizes}`);
    parts = sizes.slice();
    const inferred = parts.indexOf(-1);
    if (inferred >= 0) parts[inferred] = dim - parts.reduce((s, d, i) => (i === inferred ? s : s + d), 0);
    if (parts.some((p) => !Number.isInteger(p) || p < 0) || parts.reduce((s, d) => s + d, 0) !== dim) {
      throw new ArgumentError('split', `sizes ${JSON.stringify(sizes)} do not add up to ${dim} (axis ${a} of ${fmtShape(x.shape)})`);
    }
  }
  const out: Tensor[] = [];
  let pos = 0;
  for (const p of parts) {
    const b = x.shape.map(() => 0);
    const s = x.shape.slice();
    b[a] = pos;
    s[a] = p;
    out.push(slice(x, b, s));
    pos += p;
  }
  return out;
}

/**
 * Pads with a constant: `paddings[i] = [before, after]` for every axis.
 * @example pad(tensor([1, 2]), [[1, 2]]) // [0, 1, 2, 0, 0]
 */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  live(x, 'pad');
  expectNumber('pad', 'value', value);
  if (!Array.isArray(paddings) || paddings.length !== x.rank) {
    throw new ArgumentError('pad', `expected ${x.rank} [before, after] pairs for ${fmtShape(x.shape)}, got ${JSON.stringify(paddings)}`);
  }
  for (const p of paddings) {
    if (!Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new ArgumentError('pad', `paddings must be pairs of non-negative integers, got ${JSON.stringify(paddings)}`);
    }
  }
  const shape = x.shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]);
  const be = x.backend;
  const out = output(be, x.dtype, shape);
  if (out.size > 0) be.kernels.fill(out, value);
  if (x.size > 0) {
    let offset = 0;
    for (let i = 0; i < x.rank; i++) offset += paddings[i]![0] * out.strides[i]!;
    be.kernels.copy(input(x, be), { buf: out.buf, dtype: out.dtype, shape: x.shape, strides: out.strides, offset, size: x.size });
    releaseTemps();
  }
  record('pad', [x], out, { paddings: paddings.map((p) => [p[0], p[1]]) });
  return out;
}

/**
 * Repeats the tensor `reps[i]` times along axis i.
 * @example tile(tensor([1, 2]), [2]) // [1, 2, 1, 2]
 */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  live(x, 'tile');
  if (!Array.isArray(reps) || reps.length !== x.rank || reps.some((r) => !Number.isInteger(r) || r < 0)) {
    throw new ArgumentError('tile', `reps must be ${x.rank} non-negative integers, got ${JSON.stringify(reps)}`);
  }
  const inter: number[] = [];
  const wide: number[] = [];
  x.shape.forEach((d, i) => {
    inter.push(1, d);
    wide.push(reps[i]!, d);
  });
  const outShape = x.shape.map((d, i) => d * reps[i]!);
  checkShape(outShape, 'tile');
  const r = reshape(x, inter);
  try {
    const b = broadcastTo(r, wide);
    try {
      return reshape(b, outShape);
    } finally {
      b.dispose();
    }
  } finally {
    r.dispose();
  }
}

/** Reads int32 indices synchronously when the backend allows, to report a bad one early. */
function checkIndices(op: string, indices: Tensor, limit: number, what: string): void {
  if (!indices.backend.caps.syncRead || indices.size === 0) return;
  const data = indices.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0 || v >= limit) throw new IndexError(op, `index ${v} at flat position ${i} is out of range [0, ${limit}) for ${what}`);
  }
}

/**
 * Takes slices of `x` along `axis` at int32 `indices` (any shape).
 * @example gather(tensor([[1, 2], [3, 4], [5, 6]]), tensor([2, 0], [2], 'int32')) // [[5, 6], [1, 2]]
 */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  live(x, 'gather');
  live(indices, 'gather', 'indices');
  backendOf('gather', x, indices);
  if (indices.dtype !== 'int32') throw new DTypeError('gather', `indices have dtype ${indices.dtype}; expected int32`);
  const a = normAxis(axis, x.rank, 'gather');
  checkIndices('gather', indices, x.shape[a]!, `axis ${a} of ${fmtShape(x.shape)}`);
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  const be = x.backend;
  const out = output(be, x.dtype, shape);
  if (out.size > 0) {
    be.kernels.gather(input(x, be), input(indices, be), a, out);
    releaseTemps();
  }
  record('gather', [x, indices], out, { axis: a });
  return out;
}

/**
 * `x` plus `updates` added at `indices` along `axis` (repeated indices accumulate): the
 * adjoint of {@link gather}. `updates` is shaped like `gather(x, indices, axis)`.
 * @example scatterAdd(zeros([3]), tensor([0, 0, 2], [3], 'int32'), tensor([1, 2, 3])) // [3, 0, 3]
 */
export function scatterAdd(x: Tensor, indices: Tensor, updates: Tensor, axis = 0): Tensor {
  live(x, 'scatterAdd');
  live(indices, 'scatterAdd', 'indices');
  live(updates, 'scatterAdd', 'updates');
  backendOf('scatterAdd', x, indices, updates);
  if (indices.dtype !== 'int32') throw new DTypeError('scatterAdd', `indices have dtype ${indices.dtype}; expected int32`);
  if (updates.dtype !== x.dtype) throw new DTypeError('scatterAdd', `updates have dtype ${updates.dtype}; expected ${x.dtype} like x`);
  const a = normAxis(axis, x.rank, 'scatterAdd');
  const want = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  if (!shapesEqual(want, updates.shape)) {
    throw new ShapeError('scatterAdd', `updates have shape ${fmtShape(updates.shape)}; expected ${fmtShape(want)} (x ${fmtShape(x.shape)}, indices ${fmtShape(indices.shape)}, axis ${a})`);
  }
  checkIndices('scatterAdd', indices, x.shape[a]!, `axis ${a} of ${fmtShape(x.shape)}`);
  const be = x.backend;
  const out = output(be, x.dtype, x.shape);
  if (out.size > 0) {
    be.kernels.copy(x, out);
    if (updates.size > 0) be.kernels.scatterAdd(input(indices, be), input(updates, be), a, out);
    releaseTemps();
  }
  record('scatterAdd', [x, indices, updates], out, { axis: a });
  return out;
}

/**
 * One-hot encoding of int32 labels: a new last axis of `depth` (float32 unless `dtype`).
 * Labels outside `[0, depth)` raise an IndexError where the backend can check them.
 * @example oneHot(tensor([0, 2], [2], 'int32'), 3) // [[1, 0, 0], [0, 0, 1]]
 */
export function oneHot(indices: Tensor, depth: number, onValue = 1, offValue = 0): Tensor {
  live(indices, 'oneHot', 'indices');
  if (indices.dtype !== 'int32') throw new DTypeError('oneHot', `indices have dtype ${indices.dtype}; expected int32`);
  if (!Number.isInteger(depth) || depth < 1) throw new ArgumentError('oneHot', `depth must be a positive integer, got ${depth}`);
  expectNumber('oneHot', 'onValue', onValue);
  expectNumber('oneHot', 'offValue', offValue);
  checkIndices('oneHot', indices, depth, `depth ${depth}`);
  const e = reshape(indices, [...indices.shape, 1]);
  const r = constantOn(indices.backend, 'int32', Int32Array.from({ length: depth }, (_, i) => i), [depth]);
  let mask: Tensor;
  try {
    mask = equal(e, r);
  } finally {
    e.dispose();
    r.dispose();
  }
  let out: Tensor;
  try {
    out = where(mask, onValue, offValue);
  } finally {
    mask.dispose();
  }
  const f = out.dtype === 'float32' ? out : cast(out, 'float32');
  if (f !== out) out.dispose();
  return f;
}

