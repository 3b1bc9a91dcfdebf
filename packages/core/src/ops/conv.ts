/**
 * Convolutions over NHWC images, their two gradients, and depthwise convolution. Each uses
 * the backend's fused kernel when present, else the im2col decomposition (patches + matmul).
 * @module
 */
import type { WindowParams } from '../backend/types.js';
import { ShapeError } from '../errors.js';
import { checkShape, fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { mul } from './elementwise.js';
import { matmul } from './matmul.js';
import { reshape } from './movement.js';
import { sum } from './reduce.js';
import { backendOf, expectDType, input, live, output, recorded, tryFused } from './util.js';
import { accumulatePatches, checkWindowed, expectImage, extractPatches, resolveWindow, type WindowOptions, windowOutput } from './window.js';

function withBatch(x: Tensor, op: string): [Tensor, boolean] {
  if (x.rank === 3) return [reshape(x, [1, ...x.shape]), true];
  expectImage(op, x);
  return [x, false];
}

/**
 * 2-D convolution: x `[n, h, w, cin]` (or `[h, w, cin]`), filter `[kh, kw, cin, cout]`.
 * @example conv2d(images, filter, { strides: 1, padding: 'same' })
 */
export function conv2d(x: Tensor, filter: Tensor, opts: WindowOptions = {}): Tensor {
  live(x, 'conv2d');
  live(filter, 'conv2d', 'filter');
  expectDType('conv2d', x, ['float32']);
  expectDType('conv2d', filter, ['float32'], 'filter');
  const [xb, added] = withBatch(x, 'conv2d');
  if (filter.rank !== 4 || filter.shape[2] !== xb.shape[3]) {
    if (added) xb.dispose();
    throw new ShapeError('conv2d', `filter ${fmtShape(filter.shape)} does not fit x ${fmtShape(x.shape)} (expected [kh, kw, ${xb.shape[3]}, cout])`);
  }
  const { p } = resolveWindow('conv2d', xb.shape[1]!, xb.shape[2]!, [filter.shape[0]!, filter.shape[1]!], opts);
  const y = conv2dWith(xb, filter, p);
  if (!added) return y;
  xb.dispose();
  const r = reshape(y, y.shape.slice(1));
  y.dispose();
  return r;
}

/**
 * Convolution with explicit window parameters ({@link resolveWindow} turns `same`/`valid`
 * options into them). A low-level entry point for autograd's conv2d gradient and for layers
 * or backend tests that fix the padding themselves; `conv2d` is the user-facing op.
 * @example conv2dWith(x, filter, { window: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] })
 */
export function conv2dWith(x: Tensor, filter: Tensor, p: WindowParams): Tensor {
  live(x, 'conv2d');
  live(filter, 'conv2d', 'filter');
  backendOf('conv2d', x, filter);
  expectFilter('conv2d', filter, x.shape[3], undefined, p);
  expectImage('conv2d', x);
  expectDType('conv2d', x, ['float32']);
  checkWindowed('conv2d', p, x.shape);
  return recorded('conv2d', [x, filter], { p }, () => {
    const be = x.backend;
    const [n, h, w] = x.shape as [number, number, number, number];
    const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
    const [oh, ow] = windowOutput(h, w, p);
    const fused = tryFused(be, 'conv2d', [n, oh, ow, cout], (out) => be.fused.conv2d!(input(x, be), input(filter, be), p, out));
    if (fused) return fused;
    const cols = extractPatches(x, p);
    const c2 = reshape(cols, [n * oh * ow, kh * kw * cin]);
    const f2 = reshape(filter, [kh * kw * cin, cout]);
    const y2 = matmul(c2, f2);
    const out = reshape(y2, [n, oh, ow, cout]);
    for (const t of [cols, c2, f2, y2]) t.dispose();
    return out;
  });
}

/** Checks a conv filter: float32 `[kh, kw, cin, cout]` matching the window and the channels. */
function expectFilter(op: string, filter: Tensor, cin: number | undefined, cout: number | undefined, p: WindowParams): void {
  expectDType(op, filter, ['float32'], 'filter');
  const s = filter.shape;
  if (s.length !== 4 || s[2] !== cin || (cout !== undefined && s[3] !== cout) || s[0] !== p?.window?.[0] || s[1] !== p?.window?.[1]) {
    throw new ShapeError(op, `filter ${fmtShape(s)} does not fit (expected [${p?.window?.[0]}, ${p?.window?.[1]}, ${cin}, ${cout ?? 'cout'}])`);
  }
}

/**
 * Gradient of conv2d with respect to its input, for an input of `inShape`.
 * @example conv2dBackpropInput(dy, filter, x.shape, p)
 */
export function conv2dBackpropInput(dy: Tensor, filter: Tensor, inShape: readonly number[], p: WindowParams): Tensor {
  live(dy, 'conv2dBackpropInput', 'dy');
  live(filter, 'conv2dBackpropInput', 'filter');
  backendOf('conv2dBackpropInput', dy, filter);
  expectImage('conv2dBackpropInput', dy, 'dy');
  checkShape(inShape, 'conv2dBackpropInput');
  expectFilter('conv2dBackpropInput', filter, inShape[3], dy.shape[3], p);
  checkWindowed('conv2dBackpropInput', p, inShape, { t: dy, channels: filter.shape[3]! });
  return recorded('conv2dBackpropInput', [dy, filter], { p, inShape }, () => {
    const be = dy.backend;
    const fused = tryFused(be, 'conv2dBackpropInput', inShape, (out) => be.fused.conv2dBackpropInput!(input(dy, be), input(filter, be), p, out));
    if (fused) return fused;
    const [n, oh, ow, cout] = dy.shape as [number, number, number, number];
    const [kh, kw, cin] = filter.shape as [number, number, number, number];
    const d2 = reshape(dy, [n * oh * ow, cout]);
    const f2 = reshape(filter, [kh * kw * cin, cout]);
    const cols = matmul(d2, f2, { transposeB: true });
    const c6 = reshape(cols, [n, oh, ow, kh, kw, cin]);
    const out = accumulatePatches(c6, inShape, p);
    for (const t of [d2, f2, cols, c6]) t.dispose();
    return out;
  });
}

/**
 * Gradient of conv2d with respect to its filter, for a filter of `filterShape`.
 * @example conv2dBackpropFilter(x, dy, filter.shape, p)
 */
export function conv2dBackpropFilter(x: Tensor, dy: Tensor, filterShape: readonly number[], p: WindowParams): Tensor {
  live(x, 'conv2dBackpropFilter');
  live(dy, 'conv2dBackpropFilter', 'dy');
  backendOf('conv2dBackpropFilter', x, dy);
  expectImage('conv2dBackpropFilter', x);
  expectDType('conv2dBackpropFilter', x, ['float32']);
  checkShape(filterShape, 'conv2dBackpropFilter');
  if (filterShape.length !== 4 || filterShape[2] !== x.shape[3] || filterShape[0] !== p?.window?.[0] || filterShape[1] !== p?.window?.[1]) {
    throw new ShapeError('conv2dBackpropFilter', `filterShape ${fmtShape(filterShape)} does not fit x ${fmtShape(x.shape)} and window ${JSON.stringify(p?.window)}`);
  }
  checkWindowed('conv2dBackpropFilter', p, x.shape, { t: dy, channels: filterShape[3]! });
  return recorded('conv2dBackpropFilter', [x, dy], { p, filterShape }, () => {
    const be = x.backend;
    const fused = tryFused(be, 'conv2dBackpropFilter', filterShape, (out) => be.fused.conv2dBackpropFilter!(input(x, be), input(dy, be), p, out));
    if (fused) return fused;
    const [n, oh, ow, cout] = dy.shape as [number, number, number, number];
    const [kh, kw, cin] = filterShape as [number, number, number, number];
    const cols = extractPatches(x, p);
    const c2 = reshape(cols, [n * oh * ow, kh * kw * cin]);
    const d2 = reshape(dy, [n * oh * ow, cout]);
    const g = matmul(c2, d2, { transposeA: true });
    const out = reshape(g, filterShape);
    for (const t of [cols, c2, d2, g]) t.dispose();
    return out;
  });
}

/**
 * Depthwise convolution: filter `[kh, kw, cin, multiplier]`, output channel
 * `c * multiplier + m`. Composed from patches, so every backend differentiates it.
 * @example depthwiseConv2d(x, filter, { padding: 'same' })
 */
export function depthwiseConv2d(x: Tensor, filter: Tensor, opts: WindowOptions = {}): Tensor {
  live(x, 'depthwiseConv2d');
  live(filter, 'depthwiseConv2d', 'filter');
  expectDType('depthwiseConv2d', x, ['float32']);
  expectDType('depthwiseConv2d', filter, ['float32'], 'filter');
  backendOf('depthwiseConv2d', x, filter);
  const [xb, added] = withBatch(x, 'depthwiseConv2d');
  const [n, h, w, c] = xb.shape as [number, number, number, number];
  if (filter.rank !== 4 || filter.shape[2] !== c) {
    if (added) xb.dispose();
    throw new ShapeError('depthwiseConv2d', `filter ${fmtShape(filter.shape)} does not fit x ${fmtShape(x.shape)} (expected [kh, kw, ${c}, multiplier])`);
  }
  const [kh, kw, , m] = filter.shape as [number, number, number, number];
  const { p, oh, ow } = resolveWindow('depthwiseConv2d', h, w, [kh, kw], opts);
  const cols = extractPatches(xb, p);
  const c7 = reshape(cols, [n, oh, ow, kh, kw, c, 1]);
  const prod = mul(c7, filter);
  const s = sum(prod, [3, 4]);
  const y = reshape(s, added ? [oh, ow, c * m] : [n, oh, ow, c * m]);
  for (const t of [cols, c7, prod, s]) t.dispose();
  if (added) xb.dispose();
  return y;
}
