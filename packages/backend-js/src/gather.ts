/**
 * Indexing kernels: `gather` along one axis and its adjoint `scatterAdd`.
 * @module
 */
import type { View } from '@tessera/core';
import { dataOf, hostView, newArray } from './storage.js';
import { collapse, isContiguous, offsetsOf } from './strided.js';
import { copy, materialize } from './elementwise.js';

type A = Float32Array | Int32Array | Uint8Array;

/** Rows of the axes after `axis`: per-row start offsets for each stride set, row length and steps. */
function innerRows(shape: readonly number[], strides: readonly (readonly number[])[]) {
  const c = collapse(shape, strides);
  const nd = c.shape.length;
  const outer = c.shape.slice(0, nd - 1);
  return {
    n: c.shape[nd - 1],
    steps: c.strides.map((s) => s[nd - 1]),
    rows: c.strides.map((s) => offsetsOf(outer, s.slice(0, nd - 1), 0)),
  };
}

/**
 * `out = x` indexed along `axis` by the int32 `indices`; out's shape is
 * `x.shape[:axis] ++ indices.shape ++ x.shape[axis+1:]`. Indices outside `[0, x.shape[axis])`
 * give zeros.
 *
 * @example
 * gather(x, idx, 0, out);   // x = [[1, 2], [3, 4], [5, 6]], idx = [2, 0]  →  out = [[5, 6], [1, 2]]
 */
export function gather(x: View, indices: View, axis: number, out: View): void {
  if (out.size === 0) return;
  if (!isContiguous(out)) {
    const tmp = hostView(newArray(out.dtype, out.size), out.dtype, out.shape);
    gather(x, indices, axis, tmp);
    copy(tmp, out);
    return;
  }
  const X = dataOf(x), O = dataOf(out);
  const idx = materialize(indices);
  const len = x.shape[axis], sAxis = x.strides[axis];
  const outer = offsetsOf(x.shape.slice(0, axis), x.strides.slice(0, axis), x.offset);
  const inner = innerRows(x.shape.slice(axis + 1), [x.strides.slice(axis + 1)]);
  const rows = inner.rows[0], rn = inner.n, rs = inner.steps[0];
  const blockN = rows.length * rn;
  const ni = idx.length;
  let q = out.offset;
  for (let o = 0; o < outer.length; o++) {
    const xo = outer[o];
    for (let t = 0; t < ni; t++) {
      const j = idx[t];
      if (j < 0 || j >= len) {
        O.fill(0, q, q + blockN);
        q += blockN;
        continue;
      }
      const base = xo + j * sAxis;
      for (let r = 0; r < rows.length; r++) {
        let p = base + rows[r];
        if (rs === 1) for (let i = 0; i < rn; i++) O[q + i] = X[p + i];
        else for (let i = 0; i < rn; i++, p += rs) O[q + i] = X[p];
        q += rn;
      }
    }
  }
}

/**
 * Adds `updates` (shaped like a gather output) into `out` (shaped like the gathered x, already
 * holding the base values, possibly strided) at `indices` along `axis`. Repeated indices
 * accumulate; out-of-range ones are dropped. bool accumulates with `or`.
 *
 * @example
 * scatterAdd(idx, upd, 0, out);   // out = [0, 0, 0], idx = [2, 2, 0], upd = [1, 2, 3]  →  out = [3, 0, 3]
 */
export function scatterAdd(indices: View, updates: View, axis: number, out: View): void {
  if (updates.size === 0 || out.size === 0) return;
  const O = dataOf(out), U = dataOf(updates);
  const idx = materialize(indices);
  const ir = indices.shape.length;
  const len = out.shape[axis], sAxis = out.strides[axis];
  const outerShape = out.shape.slice(0, axis);
  const outerO = offsetsOf(outerShape, out.strides.slice(0, axis), out.offset);
  const outerU = offsetsOf(outerShape, updates.strides.slice(0, axis), updates.offset);
  const idxU = offsetsOf(indices.shape, updates.strides.slice(axis, axis + ir), 0);
  const inner = innerRows(out.shape.slice(axis + 1), [out.strides.slice(axis + 1), updates.strides.slice(axis + ir)]);
  const rowsO = inner.rows[0], rowsU = inner.rows[1], rn = inner.n;
  const so = inner.steps[0], su = inner.steps[1];
  const kind = out.dtype === 'float32' ? 0 : out.dtype === 'int32' ? 1 : 2;
  const ni = idx.length;
  for (let o = 0; o < outerO.length; o++) {
    for (let t = 0; t < ni; t++) {
      const j = idx[t];
      if (j < 0 || j >= len) continue;
      const bo = outerO[o] + j * sAxis, bu = outerU[o] + idxU[t];
      for (let r = 0; r < rowsO.length; r++) addRow(kind, O, bo + rowsO[r], so, U, bu + rowsU[r], su, rn);
    }
  }
}

function addRow(kind: number, O: A, q: number, so: number, U: A, p: number, su: number, n: number): void {
  if (kind === 0) for (let i = 0; i < n; i++, q += so, p += su) O[q] += U[p];
  else if (kind === 1) for (let i = 0; i < n; i++, q += so, p += su) O[q] = (O[q] + U[p]) | 0;
  else for (let i = 0; i < n; i++, q += so, p += su) O[q] = O[q] !== 0 || U[p] !== 0 ? 1 : 0;
}
