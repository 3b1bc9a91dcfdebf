/**
 * Float64 host arrays and the few reference ops the gradient checks need: element-wise maps
 * with NumPy broadcasting, reductions, matmul and last-axis row functions. Plain loops.
 */

export interface H {
  shape: number[];
  data: Float64Array;
}

export const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

export function strides(s: readonly number[]): number[] {
  const r = new Array<number>(s.length);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    r[i] = acc;
    acc *= s[i]!;
  }
  return r;
}

export const hArr = (shape: readonly number[], data: ArrayLike<number>): H => ({ shape: [...shape], data: Float64Array.from(data) });

export function bshape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const k = rank - s.length + i;
      const d = s[i]!;
      if (out[k] === 1) out[k] = d;
      else if (d !== 1 && d !== out[k]) throw new Error(`bshape: ${JSON.stringify(shapes)}`);
    }
  }
  return out;
}

/** `x` broadcast to `shape` (copied). */
export function bcast(x: H, shape: readonly number[]): H {
  const out = new Float64Array(sizeOf(shape));
  const st = strides(x.shape);
  const off = shape.length - x.shape.length;
  const idx = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < out.length; n++) {
    let src = 0;
    for (let i = 0; i < x.shape.length; i++) if (x.shape[i] !== 1) src += idx[i + off]! * st[i]!;
    out[n] = x.data[src]!;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (++idx[i]! < shape[i]!) break;
      idx[i] = 0;
    }
  }
  return { shape: [...shape], data: out };
}

export function map(x: H, f: (v: number) => number): H {
  return { shape: x.shape, data: x.data.map(f) };
}

export function zip(a: H, b: H, f: (x: number, y: number) => number): H {
  const s = bshape(a.shape, b.shape);
  const A = bcast(a, s);
  const B = bcast(b, s);
  return { shape: s, data: A.data.map((v, i) => f(v, B.data[i]!)) };
}

export function zip3(a: H, b: H, c: H, f: (x: number, y: number, z: number) => number): H {
  const s = bshape(a.shape, b.shape, c.shape);
  const A = bcast(a, s);
  const B = bcast(b, s);
  const C = bcast(c, s);
  return { shape: s, data: A.data.map((v, i) => f(v, B.data[i]!, C.data[i]!)) };
}

function normAxes(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  return (typeof axes === 'number' ? [axes] : [...axes]).map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
}

/** Reduces `axes` with `f` over each group (values in row-major order). */
export function reduce(x: H, axes: number | readonly number[] | undefined, keep: boolean, f: (vals: number[]) => number): H {
  const ax = normAxes(axes, x.shape.length);
  const outShape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  const st = strides(outShape);
  const idx = new Array<number>(x.shape.length).fill(0);
  for (let n = 0; n < x.data.length; n++) {
    let o = 0;
    for (let i = 0; i < idx.length; i++) if (!ax.includes(i)) o += idx[i]! * st[i]!;
    let g = groups.get(o);
    if (!g) groups.set(o, (g = []));
    g.push(x.data[n]!);
    for (let i = idx.length - 1; i >= 0; i--) {
      if (++idx[i]! < x.shape[i]!) break;
      idx[i] = 0;
    }
  }
  const size = sizeOf(outShape);
  const data = new Float64Array(size);
  for (let o = 0; o < size; o++) data[o] = f(groups.get(o) ?? []);
  return { shape: keep ? outShape : x.shape.filter((_, i) => !ax.includes(i)), data };
}

export const hsum = (x: H, axes?: number | number[], keep = false): H => reduce(x, axes, keep, (v) => v.reduce((a, b) => a + b, 0));

/** Applies `f` to every 1-D lane along `axis` (same length in and out). */
export function lanes(x: H, axis: number, f: (lane: number[]) => number[]): H {
  const a = axis < 0 ? axis + x.shape.length : axis;
  const st = strides(x.shape);
  const n = x.shape[a]!;
  const out = new Float64Array(x.data.length);
  for (let base = 0; base < x.data.length; base++) {
    if (Math.floor(base / st[a]!) % n !== 0) continue;
    const lane = Array.from({ length: n }, (_, k) => x.data[base + k * st[a]!]!);
    const r = f(lane);
    for (let k = 0; k < n; k++) out[base + k * st[a]!] = r[k]!;
  }
  return { shape: x.shape, data: out };
}

/** NumPy matmul (batch broadcast, 1-D operands), after optional transposes of the last two axes. */
export function hmatmul(a: H, b: H, ta = false, tb = false): H {
  let A = a;
  let B = b;
  const vecA = a.shape.length === 1;
  const vecB = b.shape.length === 1;
  if (vecA) A = { shape: [1, a.shape[0]!], data: a.data };
  else if (ta) A = swapLast(A);
  if (vecB) B = { shape: [b.shape[0]!, 1], data: b.data };
  else if (tb) B = swapLast(B);
  const m = A.shape[A.shape.length - 2]!;
  const k = A.shape[A.shape.length - 1]!;
  const n = B.shape[B.shape.length - 1]!;
  const batch = bshape(A.shape.slice(0, -2), B.shape.slice(0, -2));
  const Ab = bcast(A, [...batch, m, k]);
  const Bb = bcast(B, [...batch, k, n]);
  const nb = sizeOf(batch);
  const out = new Float64Array(nb * m * n);
  for (let q = 0; q < nb; q++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += Ab.data[q * m * k + i * k + p]! * Bb.data[q * k * n + p * n + j]!;
        out[q * m * n + i * n + j] = s;
      }
    }
  }
  let shape = [...batch, m, n];
  if (vecB) shape = shape.slice(0, -1);
  if (vecA) shape.splice(shape.length - (vecB ? 1 : 2), 1);
  return { shape, data: out };
}

export function swapLast(x: H): H {
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return htranspose(x, perm);
}

export function htranspose(x: H, perm: readonly number[]): H {
  const shape = perm.map((p) => x.shape[p]!);
  const st = strides(x.shape);
  const out = new Float64Array(x.data.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < out.length; n++) {
    let src = 0;
    for (let i = 0; i < shape.length; i++) src += idx[i]! * st[perm[i]!]!;
    out[n] = x.data[src]!;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (++idx[i]! < shape[i]!) break;
      idx[i] = 0;
    }
  }
  return { shape, data: out };
}

export function softmaxLane(l: number[]): number[] {
  const m = Math.max(...l);
  const e = l.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export function logSoftmaxLane(l: number[]): number[] {
  const m = Math.max(...l);
  const s = Math.log(l.reduce((a, v) => a + Math.exp(v - m), 0)) + m;
  return l.map((v) => v - s);
}

/** erf to ~1e-15 (series / continued fraction). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series
    let sum = 0;
    let term = x;
    for (let n = 0; n < 200; n++) {
      const t = term / (2 * n + 1);
      sum += t;
      term *= (-x * x) / (n + 1);
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz)
  let f = ax;
  let C = ax;
  let D = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    D = ax + an * D;
    D = 1 / D;
    C = ax + an / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}
