/**
 * Max and average pooling over NHWC images and their gradients. Max pooling ignores padded
 * cells; average pooling divides by the number of real cells in each window.
 * @module
 */
import type { WindowParams } from '../backend/types.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { cast, div, equal, mul } from './elementwise.js';
import { broadcastTo, reshape } from './movement.js';
import { argmax, max, sum } from './reduce.js';
import { backendOf, constantOn, expectDType, input, live, output, recorded, tryFused } from './util.js';
import { accumulatePatches, checkWindowed, expectImage, extractPatches, resolveWindow, type Padding, windowOutput } from './window.js';

/** Options of {@link maxPool} and {@link avgPool}. */
export interface PoolOptions {
  /** Default: the pool size (non-overlapping windows). */
  strides?: number | readonly [number, number];
  /** Default 'valid'. */
  padding?: Padding;
}

function pool(kind: 'max' | 'avg', x: Tensor, poolSize: number | readonly [number, number], opts: PoolOptions): Tensor {
  const name = kind === 'max' ? 'maxPool' : 'avgPool';
  live(x, name);
  expectDType(name, x, ['float32']);
  expectImage(name, x);
  const size: [number, number] = typeof poolSize === 'number' ? [poolSize, poolSize] : [poolSize[0], poolSize[1]];
  const { p } = resolveWindow(name, x.shape[1]!, x.shape[2]!, size, { strides: opts.strides ?? size, padding: opts.padding ?? 'valid' });
  return pool2dWith(kind, x, p);
}

/** Max pooling. @example maxPool(x, 2) // 2x2 windows, stride 2 */
export const maxPool = (x: Tensor, poolSize: number | readonly [number, number] = 2, opts: PoolOptions = {}): Tensor => pool('max', x, poolSize, opts);
/** Average pooling. @example avgPool(x, [3, 3], { strides: 1, padding: 'same' }) */
export const avgPool = (x: Tensor, poolSize: number | readonly [number, number] = 2, opts: PoolOptions = {}): Tensor => pool('avg', x, poolSize, opts);

/** Number of real (unpadded) cells in each output window, as `[1, oh, ow, 1]`. */
function windowCounts(x: Tensor, p: WindowParams): Tensor {
  const [, h, w] = x.shape as [number, number, number, number];
  const [oh, ow] = windowOutput(h, w, p);
  const counts = new Float32Array(oh * ow);
  const span = (o: number, axis: 0 | 1, dim: number): number => {
    let c = 0;
    for (let k = 0; k < p.window[axis]; k++) {
      const pos = o * p.strides[axis] + k * p.dilations[axis] - p.pads[axis * 2]!;
      if (pos >= 0 && pos < dim) c++;
    }
    return c;
  };
  for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) counts[i * ow + j] = span(i, 0, h) * span(j, 1, w);
  return constantOn(x.backend, 'float32', counts, [1, oh, ow, 1]);
}

function checkKind(op: string, kind: unknown): void {
  if (kind !== 'max' && kind !== 'avg') throw new ArgumentError(op, `kind must be 'max' or 'avg', got ${JSON.stringify(kind)}`);
}

/**
 * Pooling with explicit window parameters ({@link resolveWindow} turns `same`/`valid` options
 * into them). A low-level entry point for autograd's pooling gradient and for layers or
 * backend tests that fix the padding themselves; `maxPool`/`avgPool` are the user-facing ops.
 * @example pool2dWith('max', x, { window: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1] })
 */
export function pool2dWith(kind: 'max' | 'avg', x: Tensor, p: WindowParams): Tensor {
  live(x, 'pool2d');
  checkKind('pool2d', kind);
  expectImage('pool2d', x);
  expectDType('pool2d', x, ['float32']);
  checkWindowed('pool2d', p, x.shape);
  return recorded('pool2d', [x], { kind, p }, () => {
    const be = x.backend;
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const [oh, ow] = windowOutput(h, w, p);
    const fused = tryFused(be, 'pool2d', [n, oh, ow, c], (out) => be.fused.pool2d!(kind, input(x, be), p, out));
    if (fused) return fused;
    const cols = extractPatches(x, p, kind === 'max' ? -Infinity : 0);
    if (kind === 'max') {
      const y = max(cols, [3, 4]);
      cols.dispose();
      return y;
    }
    const s = sum(cols, [3, 4]);
    const counts = windowCounts(x, p);
    const y = div(s, counts);
    for (const t of [cols, s, counts]) t.dispose();
    return y;
  });
}

/**
 * Gradient of pooling with respect to x: max routes each window's gradient to its first
 * maximal real cell; average spreads it over the window's real cells. Autograd's pooling
 * rule calls it; it has a fused kernel on every backend.
 * @example pool2dBackward('max', x, dy, p)
 */
export function pool2dBackward(kind: 'max' | 'avg', x: Tensor, dy: Tensor, p: WindowParams): Tensor {
  live(x, 'pool2dBackward');
  live(dy, 'pool2dBackward', 'dy');
  backendOf('pool2dBackward', x, dy);
  checkKind('pool2dBackward', kind);
  expectImage('pool2dBackward', x);
  expectDType('pool2dBackward', x, ['float32']);
  checkWindowed('pool2dBackward', p, x.shape, { t: dy, channels: x.shape[3]! });
  return recorded('pool2dBackward', [x, dy], { kind, p }, () => {
    const be = x.backend;
    const fused = tryFused(be, 'pool2dBackward', x.shape, (out) => be.fused.pool2dBackward!(kind, input(x, be), input(dy, be), p, out));
    if (fused) return fused;
    const [n, oh, ow, c] = dy.shape as [number, number, number, number];
    const [kh, kw] = p.window;
    const temps: Tensor[] = [];
    const keep = <T extends Tensor>(t: T): T => (temps.push(t), t);
    let contrib: Tensor;
    if (kind === 'avg') {
      const counts = keep(windowCounts(x, p));
      const g = keep(div(dy, counts));
      const g6 = keep(reshape(g, [n, oh, ow, 1, 1, c]));
      contrib = keep(broadcastTo(g6, [n, oh, ow, kh, kw, c]));
    } else {
      const cols = keep(extractPatches(x, p, -Infinity));
      const flat = keep(reshape(cols, [n, oh, ow, kh * kw, c]));
      const am = keep(argmax(flat, 3));
      const am5 = keep(reshape(am, [n, oh, ow, 1, c]));
      const ks = keep(constantOn(be, 'int32', Int32Array.from({ length: kh * kw }, (_, i) => i), [kh * kw]));
      const ks5 = keep(reshape(ks, [1, 1, 1, kh * kw, 1]));
      const mask = keep(equal(am5, ks5));
      const maskF = keep(cast(mask, 'float32'));
      const dy5 = keep(reshape(dy, [n, oh, ow, 1, c]));
      const m = keep(mul(maskF, dy5));
      contrib = keep(reshape(m, [n, oh, ow, kh, kw, c]));
    }
    const out = accumulatePatches(contrib, x.shape, p);
    for (const t of temps) t.dispose();
    return out;
  });
}
