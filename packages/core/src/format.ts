/**
 * NumPy-like printing of tensor values, with elision of long axes.
 * @module
 */
import type { DataArray, DType } from './backend/types.js';

const EDGE = 3;
const MAX_FULL = 1000;

function fmtNumber(v: number, dtype: DType, precision: number): string {
  if (dtype === 'bool') return v ? 'true' : 'false';
  if (dtype === 'int32') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.`;
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e8)) return v.toExponential(precision);
  return String(Number(v.toFixed(precision)));
}

/**
 * Renders values of a row-major array as nested brackets, eliding the middle of long axes
 * when the tensor has more than 1000 elements.
 * @example formatTensor(new Float32Array([1, 2, 3, 4]), [2, 2], 'float32') // "[[1., 2.],\n [3., 4.]]"
 */
export function formatTensor(data: DataArray, shape: readonly number[], dtype: DType): string {
  const elide = data.length > MAX_FULL;
  const cells: string[] = [];
  for (let i = 0; i < data.length && (!elide || cells.length < 10 * MAX_FULL); i++) cells.push(fmtNumber(data[i]!, dtype, 4));
  const width = cells.reduce((w, c) => Math.max(w, c.length), 0);
  if (shape.length === 0) return fmtNumber(data[0]!, dtype, 4);
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  const render = (axis: number, base: number, indent: string): string => {
    const n = shape[axis]!;
    const idx: (number | null)[] = [];
    if (elide && n > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) idx.push(i);
      idx.push(null);
      for (let i = n - EDGE; i < n; i++) idx.push(i);
    } else for (let i = 0; i < n; i++) idx.push(i);
    if (axis === shape.length - 1) {
      return `[${idx.map((i) => (i === null ? '...' : (cells[base + i] ?? fmtNumber(data[base + i]!, dtype, 4)).padStart(width))).join(', ')}]`;
    }
    const sep = `,${'\n'.repeat(shape.length - axis - 1)}${indent} `;
    return `[${idx.map((i) => (i === null ? '...' : render(axis + 1, base + i * strides[axis]!, `${indent} `))).join(sep)}]`;
  };
  return render(0, 0, '');
}
