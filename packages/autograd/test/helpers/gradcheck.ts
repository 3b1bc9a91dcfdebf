/**
 * Gradient checks against central finite differences, accumulated in float64 on the host.
 * With a float64 reference (`ref`) the differences are taken on the reference itself (step
 * 1e-6, truncation error ~1e-12); without one the op is evaluated on the backend with the
 * perturbed float32 input and a larger step — used for ops that are linear or piecewise linear
 * in each input (movement, matmul, conv, pooling), where that is exact up to rounding.
 */
import { dispose, tensor, withFusedKernels, type DType, type Tensor } from '@tessera/core';
import { expect } from 'vitest';
import { noGrad, vjp } from '../../src/index.js';
import { snapshot } from '../../../../scripts/test-helpers.mjs';
import type { H } from './host.js';

export interface InputSpec {
  shape: number[];
  /** Explicit values (rounded to float32), else uniform in `range` avoiding `avoid` ± `gap`. */
  values?: number[];
  range?: [number, number];
  avoid?: number[];
  gap?: number;
  /** Minimum distance between any two generated values (default 1e-3: no ties). */
  sep?: number;
  dtype?: DType;
}

export interface GradCase {
  /** A label for the test. */
  name: string;
  /** The recorded op names the case must exercise. */
  ops: string[];
  fn: (...xs: Tensor[]) => Tensor;
  inputs: InputSpec[];
  /** Float64 reference of `fn` on the host. */
  ref?: (...xs: H[]) => H;
  /** Finite-difference step when there is no reference (default 0.05). */
  h?: number;
  rtol?: number;
  atol?: number;
  /** Skip the automatic variant with a broadcast first input (see cases.ts). */
  noBroadcastVariant?: boolean;
}

export function makeInputs(specs: InputSpec[], rand: () => number): H[] {
  return specs.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    let vals: number[];
    if (s.values) vals = s.values.slice();
    else {
      const [lo, hi] = s.range ?? [-2, 2];
      const gap = s.gap ?? 0.15;
      vals = [];
      while (vals.length < n) {
        const v = lo + (hi - lo) * rand();
        if ((s.avoid ?? []).some((a) => Math.abs(v - a) < gap)) continue;
        // distinct values (no ties for max/min/sort-like ops)
        if (vals.some((u) => Math.abs(u - v) < (s.sep ?? 1e-3))) continue;
        vals.push(s.dtype === 'int32' ? Math.floor(v) : v);
      }
    }
    const data = Float64Array.from(vals, (v) => (s.dtype === 'int32' || s.dtype === 'bool' ? v : Math.fround(v)));
    return { shape: s.shape.slice(), data };
  });
}

function toTensor(h: H, dtype: DType = 'float32'): Tensor {
  return tensor(dtype === 'float32' ? Float32Array.from(h.data) : dtype === 'int32' ? Int32Array.from(h.data) : Uint8Array.from(h.data), h.shape, dtype);
}

function evalF(c: GradCase, xs: H[]): Float64Array {
  return noGrad(() => {
    const ts = xs.map((x, i) => toTensor(x, c.inputs[i]!.dtype));
    const y = c.fn(...ts);
    const out = Float64Array.from(y.dataSync());
    dispose([...ts, y]);
    return out;
  });
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const ok = Math.abs(g - w) <= atol + rtol * Math.abs(w) || (Number.isNaN(g) && Number.isNaN(w));
    if (!ok) expect.fail(`${what}[${i}]: got ${g}, want ${w} (rtol ${rtol}, atol ${atol})\n got: ${Array.from(got).map((v) => v.toPrecision(6))}\nwant: ${Array.from(want).map((v) => v.toPrecision(6))}`);
  }
}

/**
 * Checks the forward pass against `ref` (when given), the gradients of
 * `sum(fn(...xs) * u)` against finite differences, and that the gradient call leaks nothing.
 */
export function checkGradCase(c: GradCase, rand: () => number, fused = true): void {
  withFusedKernels(fused, () => {
    const xs = makeInputs(c.inputs, rand);
    const y0 = evalF(c, xs);
    const ts = xs.map((x, i) => toTensor(x, c.inputs[i]!.dtype));
    const yShape = noGrad(() => {
      const y = c.fn(...ts);
      const s = y.shape.slice();
      y.dispose();
      return s;
    });
    if (c.ref) {
      const r = c.ref(...xs);
      expect(r.shape, `${c.name}: reference shape`).toEqual(yShape);
      close(y0, r.data, 1e-4, 1e-5, `${c.name} forward`);
    }
    const u: H = { shape: yShape, data: Float64Array.from({ length: y0.length }, () => Math.fround(rand() * 2 - 1)) };
    const ut = toTensor(u);

    // Autograd, with the leak check around the gradient call.
    const before = snapshot();
    const { value, grads } = vjp(c.fn, ts, ut);
    const got = grads.map((g) => Float64Array.from(g.dataSync()));
    expect(grads.map((g) => g.shape)).toEqual(ts.map((t) => t.shape));
    dispose([value, ...grads]);
    expect(snapshot(), `${c.name}: leak`).toEqual(before);
    dispose([...ts, ut]);

    // Finite differences.
    const L = (ys: ArrayLike<number>): number => {
      let s = 0;
      for (let i = 0; i < ys.length; i++) s += ys[i]! * u.data[i]!;
      return s;
    };
    xs.forEach((x, i) => {
      const dtype = c.inputs[i]!.dtype ?? 'float32';
      if (dtype !== 'float32') {
        close(got[i]!, new Float64Array(x.data.length), 0, 0, `${c.name} grad[${i}] (non-float input)`);
        return;
      }
      const num = new Float64Array(x.data.length);
      for (let j = 0; j < x.data.length; j++) {
        const v = x.data[j]!;
        const plus = xs.map((h) => ({ shape: h.shape, data: h.data.slice() }));
        const minus = xs.map((h) => ({ shape: h.shape, data: h.data.slice() }));
        if (c.ref) {
          const h = 1e-6 * Math.max(1, Math.abs(v));
          plus[i]!.data[j] = v + h;
          minus[i]!.data[j] = v - h;
          num[j] = (L(c.ref(...plus).data) - L(c.ref(...minus).data)) / (2 * h);
        } else {
          const h = c.h ?? 0.05;
          const vp = Math.fround(v + h);
          const vm = Math.fround(v - h);
          plus[i]!.data[j] = vp;
          minus[i]!.data[j] = vm;
          num[j] = (L(evalF(c, plus)) - L(evalF(c, minus))) / (vp - vm);
        }
      }
      close(got[i]!, num, c.rtol ?? (c.ref ? 1e-4 : 2e-3), c.atol ?? (c.ref ? 1e-5 : 2e-4), `${c.name} grad[${i}]`);
    });
  });
}
