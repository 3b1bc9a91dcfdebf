import type { WindowParams } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { F, empty, expectClose, flipped, rand, read, tensor, viewOf } from './helpers.js';

interface Case { n: number; h: number; w: number; c: number; kh: number; kw: number; co: number; p: WindowParams }

function outSize(h: number, k: number, s: number, d: number, a: number, b: number): number {
  return Math.floor((h + a + b - d * (k - 1) - 1) / s) + 1;
}

function dims(c: Case) {
  const oh = outSize(c.h, c.kh, c.p.strides[0], c.p.dilations[0], c.p.pads[0], c.p.pads[1]);
  const ow = outSize(c.w, c.kw, c.p.strides[1], c.p.dilations[1], c.p.pads[2], c.p.pads[3]);
  return { oh, ow };
}

/** Visits every (output, tap) pair of a convolution with a real input cell. */
function forTaps(c: Case, fn: (xi: number, fi: number, yi: number) => void): void {
  const { oh, ow } = dims(c);
  for (let b = 0; b < c.n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++)
    for (let ky = 0; ky < c.kh; ky++) for (let kx = 0; kx < c.kw; kx++) {
      const iy = oy * c.p.strides[0] - c.p.pads[0] + ky * c.p.dilations[0];
      const ix = ox * c.p.strides[1] - c.p.pads[2] + kx * c.p.dilations[1];
      if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
      for (let ci = 0; ci < c.c; ci++) for (let co = 0; co < c.co; co++) {
        fn(((b * c.h + iy) * c.w + ix) * c.c + ci, ((ky * c.kw + kx) * c.c + ci) * c.co + co, ((b * oh + oy) * ow + ox) * c.co + co);
      }
    }
}

function params(k: [number, number], s: [number, number], pads: [number, number, number, number], d: [number, number]): WindowParams {
  return { window: k, strides: s, pads, dilations: d };
}

const cases: [string, Case][] = [
  ['3x3 same', { n: 2, h: 5, w: 6, c: 3, kh: 3, kw: 3, co: 4, p: params([3, 3], [1, 1], [1, 1, 1, 1], [1, 1]) }],
  ['3x3 valid stride 2', { n: 1, h: 7, w: 8, c: 2, kh: 3, kw: 3, co: 5, p: params([3, 3], [2, 2], [0, 0, 0, 0], [1, 1]) }],
  ['2x3 asymmetric pads, strides (2,1), dilation (2,1)', { n: 2, h: 9, w: 7, c: 3, kh: 2, kw: 3, co: 2, p: params([2, 3], [2, 1], [1, 0, 2, 1], [2, 1]) }],
  ['1x1 pointwise', { n: 2, h: 4, w: 3, c: 5, kh: 1, kw: 1, co: 6, p: params([1, 1], [1, 1], [0, 0, 0, 0], [1, 1]) }],
  ['1x1 stride 2', { n: 1, h: 5, w: 5, c: 3, kh: 1, kw: 1, co: 2, p: params([1, 1], [2, 2], [0, 0, 0, 0], [1, 1]) }],
  ['5x5 dilated 2, big pads', { n: 1, h: 6, w: 6, c: 1, kh: 5, kw: 5, co: 3, p: params([5, 5], [1, 1], [4, 4, 4, 4], [2, 2]) }],
  ['wide channels', { n: 3, h: 8, w: 8, c: 16, kh: 3, kw: 3, co: 20, p: params([3, 3], [1, 1], [1, 1, 1, 1], [1, 1]) }],
];

describe('conv2d and gradients', () => {
  for (const [name, c] of cases) {
    const { oh, ow } = dims(c);
    const xv = rand(c.n * c.h * c.w * c.c, 1), fv = rand(c.kh * c.kw * c.c * c.co, 2), dyv = rand(c.n * oh * ow * c.co, 3);
    it(`conv2d ${name}`, () => {
      const ref = new Array(c.n * oh * ow * c.co).fill(0);
      forTaps(c, (xi, fi, yi) => { ref[yi] += xv[xi] * fv[fi]; });
      const out = empty([c.n, oh, ow, c.co]);
      F.conv2d!(tensor(xv, [c.n, c.h, c.w, c.c]), tensor(fv, [c.kh, c.kw, c.c, c.co]), c.p, out);
      expectClose(read(out), ref.map(Math.fround), 1e-5, 1e-5);
    });
    it(`conv2dBackpropInput ${name}`, () => {
      const ref = new Array(c.n * c.h * c.w * c.c).fill(0);
      forTaps(c, (xi, fi, yi) => { ref[xi] += dyv[yi] * fv[fi]; });
      const out = empty([c.n, c.h, c.w, c.c]);
      F.conv2dBackpropInput!(tensor(dyv, [c.n, oh, ow, c.co]), tensor(fv, [c.kh, c.kw, c.c, c.co]), c.p, out);
      expectClose(read(out), ref.map(Math.fround), 1e-5, 1e-5);
    });
    it(`conv2dBackpropFilter ${name}`, () => {
      const ref = new Array(c.kh * c.kw * c.c * c.co).fill(0);
      forTaps(c, (xi, fi, yi) => { ref[fi] += xv[xi] * dyv[yi]; });
      const out = empty([c.kh, c.kw, c.c, c.co]);
      F.conv2dBackpropFilter!(tensor(xv, [c.n, c.h, c.w, c.c]), tensor(dyv, [c.n, oh, ow, c.co]), c.p, out);
      expectClose(read(out), ref.map(Math.fround), 1e-5, 1e-5);
    });
  }

  it('accepts strided x and filter and writes a strided out', () => {
    const c = cases[0][1];
    const { oh, ow } = dims(c);
    const xv = rand(c.n * c.h * c.w * c.c, 5), fv = rand(c.kh * c.kw * c.c * c.co, 6);
    const ref = new Array(c.n * oh * ow * c.co).fill(0);
    forTaps(c, (xi, fi, yi) => { ref[yi] += xv[xi] * fv[fi]; });
    // x stored with h flipped, read through a negative stride
    const xt = tensor(read(flipped(tensor(xv, [c.n, c.h, c.w, c.c]), 1)), [c.n, c.h, c.w, c.c]);
    const big = tensor(new Array(2 * ref.length).fill(7), [c.n, oh, ow, 2 * c.co]);
    const outView = viewOf(big, [c.n, oh, ow, c.co], [oh * ow * 2 * c.co, ow * 2 * c.co, 2 * c.co, 1], 0);
    F.conv2d!(flipped(xt, 1), tensor(fv, [c.kh, c.kw, c.c, c.co]), c.p, outView);
    expectClose(read(outView), ref.map(Math.fround), 1e-5, 1e-5);
    expect(read(big)[c.co]).toBe(7);
  });

  it('size-0 batch and empty gradients', () => {
    const p = params([3, 3], [1, 1], [1, 1, 1, 1], [1, 1]);
    const out = empty([0, 4, 4, 2]);
    F.conv2d!(empty([0, 4, 4, 1]), empty([3, 3, 1, 2]), p, out);
    const dw = tensor(new Array(18).fill(5), [3, 3, 1, 2]);
    F.conv2dBackpropFilter!(empty([0, 4, 4, 1]), empty([0, 4, 4, 2]), p, dw);
    expect(read(dw)).toEqual(new Array(18).fill(0));
  });
});

describe('pool2d', () => {
  function refPool(kind: 'max' | 'avg', x: number[], n: number, h: number, w: number, c: number, p: WindowParams) {
    const oh = outSize(h, p.window[0], p.strides[0], p.dilations[0], p.pads[0], p.pads[1]);
    const ow = outSize(w, p.window[1], p.strides[1], p.dilations[1], p.pads[2], p.pads[3]);
    const y: number[] = [], arg: number[] = [], counts: number[] = [];
    for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let ci = 0; ci < c; ci++) {
      let best = -Infinity, at = -1, sum = 0, cnt = 0;
      for (let ky = 0; ky < p.window[0]; ky++) for (let kx = 0; kx < p.window[1]; kx++) {
        const iy = oy * p.strides[0] - p.pads[0] + ky * p.dilations[0], ix = ox * p.strides[1] - p.pads[2] + kx * p.dilations[1];
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
        const i = ((b * h + iy) * w + ix) * c + ci;
        cnt++;
        sum += x[i];
        if (at < 0 || (!Number.isNaN(best) && (x[i] > best || Number.isNaN(x[i])))) { best = x[i]; at = i; }
      }
      y.push(kind === 'max' ? best : sum / cnt);
      arg.push(at);
      counts.push(cnt);
    }
    return { y, arg, counts, oh, ow };
  }

  const pcases: [string, number[], WindowParams][] = [
    ['2x2 stride 2', [2, 4, 6, 3], params([2, 2], [2, 2], [0, 0, 0, 0], [1, 1])],
    ['3x3 stride 1 same pads', [1, 5, 5, 2], params([3, 3], [1, 1], [1, 1, 1, 1], [1, 1])],
    ['3x2 stride (2,1), asymmetric pads, dilation (1,2)', [2, 7, 6, 1], params([3, 2], [2, 1], [0, 2, 1, 1], [1, 2])],
  ];
  for (const [name, [n, h, w, c], p] of pcases) {
    for (const kind of ['max', 'avg'] as const) {
      it(`${kind} ${name}: forward and backward`, () => {
        const xv = rand(n * h * w * c, 17).map((v) => Math.round(v * 3) / 2); // ties on purpose
        const ref = refPool(kind, xv, n, h, w, c, p);
        const x = tensor(xv, [n, h, w, c]);
        const out = empty([n, ref.oh, ref.ow, c]);
        F.pool2d!(kind, x, p, out);
        expectClose(read(out), ref.y.map(Math.fround), 1e-6, 1e-7);
        const dyv = rand(out.size, 18);
        const dx = empty([n, h, w, c]);
        F.pool2dBackward!(kind, x, tensor(dyv, out.shape), p, dx);
        const refDx = new Array(xv.length).fill(0);
        if (kind === 'max') ref.arg.forEach((a, i) => { refDx[a] += dyv[i]; });
        else {
          // spread evenly over real cells
          let i = 0;
          for (let b = 0; b < n; b++) for (let oy = 0; oy < ref.oh; oy++) for (let ox = 0; ox < ref.ow; ox++) for (let ci = 0; ci < c; ci++, i++) {
            for (let ky = 0; ky < p.window[0]; ky++) for (let kx = 0; kx < p.window[1]; kx++) {
              const iy = oy * p.strides[0] - p.pads[0] + ky * p.dilations[0], ix = ox * p.strides[1] - p.pads[2] + kx * p.dilations[1];
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              refDx[((b * h + iy) * w + ix) * c + ci] += dyv[i] / ref.counts[i];
            }
          }
        }
        expectClose(read(dx), refDx.map(Math.fround), 1e-5, 1e-6);
      });
    }
  }

  it('max propagates NaN and routes its gradient to the first NaN; ties to the first max', () => {
    const p = params([2, 2], [2, 2], [0, 0, 0, 0], [1, 1]);
    const x = tensor([1, NaN, 5, 2, 3, NaN, 1, 5], [1, 2, 4, 1]);
    const out = empty([1, 1, 2, 1]);
    F.pool2d!('max', x, p, out);
    expect(read(out)).toEqual([NaN, 5]);
    const dx = empty([1, 2, 4, 1]);
    F.pool2dBackward!('max', x, tensor([1, 2], [1, 1, 2, 1]), p, dx);
    expect(read(dx)).toEqual([0, 1, 2, 0, 0, 0, 0, 0]);
  });

  it('a window with no real cell gives -Inf (max) and NaN (avg)', () => {
    const p = params([1, 1], [1, 1], [1, 0, 0, 0], [1, 1]);
    const x = tensor([3], [1, 1, 1, 1]);
    const out = empty([1, 2, 1, 1]);
    F.pool2d!('max', x, p, out);
    expect(read(out)).toEqual([-Infinity, 3]);
    F.pool2d!('avg', x, p, out);
    expect(read(out)).toEqual([NaN, 3]);
  });

  it('accepts a strided input', () => {
    const p = params([2, 2], [1, 1], [0, 0, 0, 0], [1, 1]);
    const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    const t = viewOf(x, [1, 2, 2, 1], [4, 1, 2, 1], 0); // swap h and w
    const out = empty([1, 1, 1, 1]);
    F.pool2d!('avg', t, p, out);
    expect(read(out)).toEqual([2.5]);
  });
});
