/**
 * Dtypes on the host: the dtype list and check, typed arrays, inference from JS values.
 * @module
 */
import type { DataArray, DType } from './backend/types.js';
import { DTypeError } from './errors.js';

/** Every dtype a tensor may have. @example DTYPES.includes('int32') // true */
export const DTYPES: readonly DType[] = ['float32', 'int32', 'bool'];

/** Throws a DTypeError unless `d` is a known dtype. */
export function checkDType(d: unknown, op: string): DType {
  if (d === 'float32' || d === 'int32' || d === 'bool') return d;
  throw new DTypeError(op, `unknown dtype ${JSON.stringify(d)} (expected 'float32', 'int32' or 'bool')`);
}

/**
 * A new zeroed host array for `size` elements of `dtype`.
 * @example makeArray('int32', 3) // Int32Array [0, 0, 0]
 */
export function makeArray(dtype: DType, size: number): DataArray {
  return dtype === 'float32' ? new Float32Array(size) : dtype === 'int32' ? new Int32Array(size) : new Uint8Array(size);
}

/** The dtype a typed array holds, or undefined for other arrays. */
export function dtypeOfArray(a: unknown): DType | undefined {
  if (a instanceof Float32Array || a instanceof Float64Array) return 'float32';
  if (a instanceof Int32Array || a instanceof Int16Array || a instanceof Int8Array || a instanceof Uint16Array) return 'int32';
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return 'bool';
  return undefined;
}

/** Converts any numeric array-like into the host array of `dtype` (copying). */
export function toDataArray(values: ArrayLike<number | boolean>, dtype: DType): DataArray {
  const out = makeArray(dtype, values.length);
  if (dtype === 'bool') {
    for (let i = 0; i < values.length; i++) out[i] = values[i] ? 1 : 0;
  } else if (dtype === 'int32') {
    for (let i = 0; i < values.length; i++) {
      const v = Number(values[i]);
      out[i] = Number.isNaN(v) ? 0 : Math.trunc(v);
    }
  } else {
    for (let i = 0; i < values.length; i++) out[i] = Number(values[i]);
  }
  return out;
}
