/**
 * Turning a built input into a core tensor: upload the base, then apply the view recipe
 * with core's own view ops (transpose, stridedSlice, flip, broadcastTo, slice).
 * @module
 */
import type { DataArray, DType } from '@tessera/core';
import type { CoreApi, Tensor } from './api.js';
import type { BuiltInput } from './cases.js';
import type { HostTensor } from './host.js';

/**
 * The host typed array for a host tensor's values.
 * @example
 * toTyped(host('int32', [2], [1, -1])); // Int32Array [1, -1]
 */
export function toTyped(t: HostTensor): DataArray {
  return typedFor(t.dtype, t.data);
}

/**
 * A typed array of `dtype` holding `values`.
 * @example
 * typedFor('bool', [0, 1]); // Uint8Array [0, 1]
 */
export function typedFor(dtype: DType, values: ArrayLike<number>): DataArray {
  return dtype === 'float32'
    ? Float32Array.from(values)
    : dtype === 'int32'
      ? Int32Array.from(values)
      : Uint8Array.from(values);
}

/**
 * Makes the tensor a case input describes. Every tensor created (base and view) is pushed
 * to `made` so the caller can dispose them all. A `disposed` input is returned disposed.
 * @example
 * const made: Tensor[] = [];
 * const x = makeInput(api, built.inputs[0], made);
 * // ... run the op ...
 * for (const t of made) t.dispose();
 */
export function makeInput(api: CoreApi, b: BuiltInput, made: Tensor[]): Tensor {
  const base = api.tensor(toTyped(b.base), b.base.shape, b.base.dtype);
  made.push(base);
  const v = b.view;
  const shape = b.logical.shape;
  let x = base;
  if (v) {
    switch (v.kind) {
      case 'transpose':
        x = api.transpose(base, v.perm);
        break;
      case 'step':
        x = api.stridedSlice(base, shape.map(() => 1), shape.map((n) => 1 + n * v.step), shape.map(() => v.step));
        break;
      case 'flip':
        x = api.flip(base, v.axes);
        break;
      case 'broadcast':
        x = api.broadcastTo(base, shape);
        break;
      case 'offset':
        x = api.slice(base, shape.map((_, i) => (i === 0 ? 1 : 0)), shape);
        break;
    }
    made.push(x);
  }
  if (b.disposed) x.dispose();
  return x;
}
