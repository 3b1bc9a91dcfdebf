/**
 * Creating tensors from JS values and from shapes.
 * @module
 */
import type { DataArray, DType } from '../backend/types.js';
import { checkDType, dtypeOfArray, toDataArray } from '../dtype.js';
import { getBackend } from '../engine.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { checkShape, fmtShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { expectNumber, live, output } from './util.js';

/** Nested JS arrays of numbers or booleans. */
export type NestedValues = number | boolean | readonly NestedValues[];
/** What {@link tensor} accepts. */
export type TensorValues = NestedValues | ArrayLike<number> | DataArray | Float64Array;

function inferShape(values: unknown, op: string): number[] {
  const shape: number[] = [];
  let v = values;
  while (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const n = (v as ArrayLike<unknown>).length;
    shape.push(n);
    if (n === 0 || ArrayBuffer.isView(v)) break;
    v = (v as unknown[])[0];
  }
  if (shape.length === 0 && typeof values !== 'number' && typeof values !== 'boolean') {
    throw new ArgumentError(op, `expected a number, boolean, (nested) array or typed array, got ${values === null ? 'null' : typeof values}`);
  }
  return shape;
}

function flatten(values: unknown, shape: number[], op: string): (number | boolean)[] {
  const out: (number | boolean)[] = [];
  const walk = (v: unknown, axis: number, path: string): void => {
    if (axis === shape.length) {
      if (typeof v !== 'number' && typeof v !== 'boolean') {
        throw new ShapeError(op, `ragged or non-numeric value at ${path || 'top'}: expected a number, got ${Array.isArray(v) ? 'an array' : typeof v}`);
      }
      out.push(v);
      return;
    }
    if (!(Array.isArray(v) || ArrayBuffer.isView(v)) || (v as ArrayLike<unknown>).length !== shape[axis]) {
      throw new ShapeError(op, `ragged nested array at ${path || 'top'}: expected length ${shape[axis]} (inferred shape ${fmtShape(shape)}), got ${Array.isArray(v) || ArrayBuffer.isView(v) ? (v as ArrayLike<unknown>).length : typeof v}`);
    }
    const arr = v as ArrayLike<unknown>;
    for (let i = 0; i < arr.length; i++) walk(arr[i], axis + 1, `${path}[${i}]`);
  };
  walk(values, 0, '');
  return out;
}

/**
 * A tensor from nested arrays, a typed array or a number. The shape is inferred from nesting
 * unless given (a flat array plus a shape is reshaped); the dtype is inferred (booleans →
 * bool, Int32Array → int32, otherwise float32) unless given.
 * @example
 * tensor([[1, 2], [3, 4]]);                    // float32 [2, 2]
 * tensor(new Int32Array([1, 2, 3]), [3]);       // int32 [3]
 * tensor([1, 2, 3, 4, 5, 6], [2, 3], 'int32');  // int32 [2, 3]
 */
export function tensor(values: TensorValues, shape?: readonly number[], dtype?: DType): Tensor {
  const op = 'tensor';
  if (dtype !== undefined) checkDType(dtype, op);
  let flat: ArrayLike<number | boolean>;
  let inferred: number[];
  if (ArrayBuffer.isView(values)) {
    flat = values as unknown as ArrayLike<number>;
    inferred = [flat.length];
    dtype ??= dtypeOfArray(values) ?? 'float32';
    if (values instanceof Uint8Array && dtype === 'bool') {
      for (let i = 0; i < values.length; i++) {
        if (values[i]! > 1) { flat = Array.from(values, (v) => v !== 0); break; }
      }
    }
  } else {
    inferred = inferShape(values, op);
    flat = inferred.length === 0 ? [values as number | boolean] : flatten(values, inferred, op);
    dtype ??= typeof flat[0] === 'boolean' ? 'bool' : 'float32';
  }
  let finalShape = inferred;
  if (shape !== undefined) {
    checkShape(shape, op);
    if (sizeOf(shape) !== flat.length) {
      throw new ShapeError(op, `shape ${fmtShape(shape)} holds ${sizeOf(shape)} values but ${flat.length} were given (inferred shape ${fmtShape(inferred)})`);
    }
    finalShape = shape.slice();
  }
  // A typed array of the target type goes to the backend as it is (upload copies it).
  const data = flat instanceof Float32Array && dtype === 'float32' ? flat
    : flat instanceof Int32Array && dtype === 'int32' ? flat
      : toDataArray(flat, dtype);
  const be = getBackend();
  return new Tensor(be, be.storage.upload(dtype, data), dtype, finalShape);
}

/**
 * A 0-d tensor.
 * @example scalar(3.5); scalar(7, 'int32');
 */
export function scalar(value: number | boolean, dtype?: DType): Tensor {
  if (typeof value !== 'number' && typeof value !== 'boolean') throw new ArgumentError('scalar', `expected a number or boolean, got ${typeof value}`);
  return tensor(value, [], dtype);
}

/**
 * A tensor of `shape` with every element `value`.
 * @example fill([2, 3], 7) // float32 [2, 3] of 7s
 */
export function fill(shape: readonly number[], value: number | boolean, dtype?: DType): Tensor {
  checkShape(shape, 'fill');
  if (typeof value !== 'boolean') expectNumber('fill', 'value', value);
  const d = dtype === undefined ? (typeof value === 'boolean' ? 'bool' : 'float32') : checkDType(dtype, 'fill');
  const be = getBackend();
  const out = output(be, d, shape.slice());
  if (out.size > 0) be.kernels.fill(out, +value);
  return out;
}

/** Zeros. @example zeros([2, 2]) */
export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return fill(shape, 0, dtype);
}

/** Ones. @example ones([3], 'int32') */
export function ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return fill(shape, 1, dtype);
}

/** Zeros with `x`'s shape and dtype (on `x`'s backend). @example zerosLike(x) */
export function zerosLike(x: Tensor): Tensor {
  return fillLike(x, 0, 'zerosLike');
}

/** Ones with `x`'s shape and dtype (on `x`'s backend). @example onesLike(x) */
export function onesLike(x: Tensor): Tensor {
  return fillLike(x, 1, 'onesLike');
}

function fillLike(x: Tensor, v: number, op: string): Tensor {
  live(x, op);
  const out = output(x.backend, x.dtype, x.shape);
  if (out.size > 0) x.backend.kernels.fill(out, v);
  return out;
}

/**
 * Evenly spaced values in `[start, stop)`. With one argument, `[0, start)`. int32 when every
 * argument is an integer, unless `dtype` says otherwise.
 * @example arange(5) // int32 [0, 1, 2, 3, 4]; arange(0, 1, 0.25) // float32 [0, .25, .5, .75]
 */
export function arange(start: number, stop?: number, step = 1, dtype?: DType): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  for (const [k, v] of [['start', start], ['stop', stop], ['step', step]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError('arange', `${k} must be a finite number, got ${String(v)}`);
  }
  if (step === 0) throw new ArgumentError('arange', 'step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const d = dtype ?? (Number.isInteger(start) && Number.isInteger(step) ? 'int32' : 'float32');
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = start + i * step;
  const be = getBackend();
  return new Tensor(be, be.storage.upload(d, toDataArray(values, d)), d, [n]);
}

/**
 * `num` evenly spaced float32 values from `start` to `stop` inclusive.
 * @example linspace(0, 1, 5) // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(start: number, stop: number, num: number): Tensor {
  expectNumber('linspace', 'start', start);
  expectNumber('linspace', 'stop', stop);
  if (!Number.isInteger(num) || num < 0) throw new ArgumentError('linspace', `num must be a non-negative integer, got ${num}`);
  const values = new Float32Array(num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) values[i] = i === num - 1 && num > 1 ? stop : start + i * step;
  const be = getBackend();
  return new Tensor(be, be.storage.upload('float32', values), 'float32', [num]);
}

/**
 * An `n × m` matrix with ones on the diagonal.
 * @example eye(3) // float32 identity [3, 3]
 */
export function eye(n: number, m = n, dtype: DType = 'float32'): Tensor {
  checkShape([n, m], 'eye');
  const values = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  const be = getBackend();
  return new Tensor(be, be.storage.upload(dtype, toDataArray(values, dtype)), dtype, [n, m]);
}
