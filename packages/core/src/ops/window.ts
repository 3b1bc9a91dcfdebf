/**
 * Sliding windows over NHWC images: resolving `same`/`valid` padding the TensorFlow way,
 * extracting patches (im2col) and accumulating them back (col2im). Convolution and pooling
 * decompositions are built on these two ops.
 * @module
 */
import type { WindowParams } from '../backend/types.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { checkShape, fmtShape, show } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { contiguous } from './elementwise.js';
import { pad, reshape, scatterAdd, slice } from './movement.js';
import { constantOn, expectDType, expectNumber, filledOn, live, recorded, view } from './util.js';

/** Padding of a window op: a mode, or explicit `[[top, bottom], [left, right]]`. */
export type Padding = 'same' | 'valid' | readonly [readonly [number, number], readonly [number, number]];

/** User-facing options of convolution and pooling. */
export interface WindowOptions {
  /** Step between windows: one number or [sh, sw]. Default 1 (pooling: the window). */
  strides?: number | readonly [number, number];
  /** Default 'valid'. */
  padding?: Padding;
  /** Dilation of the window: one number or [dh, dw]. Default 1. */
  dilations?: number | readonly [number, number];
}

function pair(op: string, what: string, v: number | readonly [number, number]): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : [NaN, NaN];
  if (p.some((d) => !Number.isInteger(d) || d < 1)) throw new ArgumentError(op, `${what} must be a positive integer or a pair of them, got ${show(v)}`);
  return p;
}

/**
 * Resolves window options against an input of height `h`, width `w`, into explicit
 * parameters and the output size, the TensorFlow way (`same` puts the odd padding cell at the
 * bottom/right). For layers and tests that call the explicit-window ops (`conv2dWith`,
 * `pool2dWith`, the backprops). Throws an ArgumentError naming `op` for bad sizes or
 * options, a ShapeError when the window does not fit.
 * @example resolveWindow('conv2d', 8, 8, [3, 3], { strides: 2, padding: 'same' }) // pads [0,1,0,1], out 4x4
 */
export function resolveWindow(op: string, h: number, w: number, window: readonly [number, number], opts: WindowOptions = {}, defaultStrides: number | readonly [number, number] = 1): { p: WindowParams; oh: number; ow: number } {
  if (typeof op !== 'string' || op.length === 0) op = 'resolveWindow';
  for (const [what, v] of [['h', h], ['w', w]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new ArgumentError(op, `input ${what} must be a non-negative integer, got ${show(v)}`);
  }
  const win = pair(op, 'window', window);
  if (opts === null || typeof opts !== 'object') throw new ArgumentError(op, `options must be an object ({ strides, padding, dilations }), got ${show(opts)}`);
  const strides = pair(op, 'strides', opts.strides ?? defaultStrides);
  const dilations = pair(op, 'dilations', opts.dilations ?? 1);
  const padding = opts.padding ?? 'valid';
  const eff = [(win[0] - 1) * dilations[0] + 1, (win[1] - 1) * dilations[1] + 1];
  let pads: [number, number, number, number];
  if (padding === 'valid') pads = [0, 0, 0, 0];
  else if (padding === 'same') {
    const oh = Math.ceil(h / strides[0]);
    const ow = Math.ceil(w / strides[1]);
    const th = Math.max((oh - 1) * strides[0] + eff[0]! - h, 0);
    const tw = Math.max((ow - 1) * strides[1] + eff[1]! - w, 0);
    pads = [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  } else if (Array.isArray(padding) && padding.length === 2 && Array.isArray(padding[0]) && Array.isArray(padding[1])) {
    pads = [padding[0][0], padding[0][1], padding[1][0], padding[1][1]];
    if (pads.some((d) => !Number.isInteger(d) || d < 0)) throw new ArgumentError(op, `explicit padding must be non-negative integers, got ${show(padding)}`);
  } else {
    throw new ArgumentError(op, `padding must be 'same', 'valid' or [[top, bottom], [left, right]], got ${show(padding)}`);
  }
  const oh = Math.floor((h + pads[0] + pads[1] - eff[0]!) / strides[0]) + 1;
  const ow = Math.floor((w + pads[2] + pads[3] - eff[1]!) / strides[1]) + 1;
  if (oh <= 0 || ow <= 0) {
    throw new ShapeError(op, `window ${win[0]}x${win[1]} (dilated ${eff[0]}x${eff[1]}) does not fit input ${h}x${w} with padding ${JSON.stringify(padding)}`);
  }
  return { p: { window: win, strides, pads, dilations }, oh, ow };
}

/**
 * Output height and width of a window op on an input of height h and width w.
 * @example windowOutput(28, 28, { window: [3, 3], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1] }) // [26, 26]
 */
export function windowOutput(h: number, w: number, p: WindowParams): [number, number] {
  const eh = (p.window[0] - 1) * p.dilations[0] + 1;
  const ew = (p.window[1] - 1) * p.dilations[1] + 1;
  return [Math.floor((h + p.pads[0] + p.pads[1] - eh) / p.strides[0]) + 1, Math.floor((w + p.pads[2] + p.pads[3] - ew) / p.strides[1]) + 1];
}

/** Throws a ShapeError naming `op` unless x is a rank-4 NHWC image batch. @example expectImage('conv2d', x) */
export function expectImage(op: string, x: Tensor, what = 'x'): void {
  if (x.rank !== 4) throw new ShapeError(op, `${what} must be NHWC [batch, height, width, channels], got ${fmtShape(x.shape)}`);
}

/**
 * Checks explicit window parameters and the tensors of the explicit-window ops (conv2dWith,
 * the conv/pool backprops, pool2dWith) before any kernel sees them: a backend's fused kernel
 * trusts its input, and a malformed one could hang a worker or read out of bounds. `image` is
 * the `[n, h, w, c]` the window slides over; `dy`, when given, must be `[n, oh, ow, dyChannels]`.
 * @internal
 */
export function checkWindowed(op: string, p: WindowParams, image: readonly number[], dy?: { t: Tensor; channels: number }): void {
  const pairs = p === null || typeof p !== 'object' ? null : [p.window, p.strides, p.dilations];
  if (pairs === null || pairs.some((v) => !Array.isArray(v) || v.length !== 2 || v.some((d) => !Number.isInteger(d) || d < 1)) || !Array.isArray(p.pads) || p.pads.length !== 4 || p.pads.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ArgumentError(op, `window parameters ${JSON.stringify(p)} must have positive integer window/strides/dilations pairs and 4 non-negative integer pads`);
  }
  checkShape(image, op);
  if (image.length !== 4) throw new ShapeError(op, `the image must be NHWC [batch, height, width, channels], got ${fmtShape(image)}`);
  const [oh, ow] = windowOutput(image[1]!, image[2]!, p);
  if (oh < 0 || ow < 0) throw new ShapeError(op, `a ${p.window.join('x')} window does not fit an image of ${fmtShape(image)}`);
  if (dy !== undefined) {
    live(dy.t, op, 'dy');
    expectImage(op, dy.t, 'dy');
    expectDType(op, dy.t, ['float32'], 'dy');
    const want = [image[0]!, oh, ow, dy.channels];
    if (dy.t.shape.some((d, i) => d !== want[i])) throw new ShapeError(op, `dy ${fmtShape(dy.t.shape)} does not match the window's output ${fmtShape(want)}`);
  }
}

/**
 * The windows of an NHWC image as `[n, oh, ow, kh, kw, c]` (im2col), padding with `padValue`.
 * The building block of the conv/pool decompositions and of autograd's window gradients
 * (and the adjoint of {@link accumulatePatches}).
 * @example extractPatches(x, p).shape // [n, oh, ow, kh, kw, c]
 */
export function extractPatches(x: Tensor, p: WindowParams, padValue = 0): Tensor {
  live(x, 'extractPatches');
  expectImage('extractPatches', x);
  expectNumber('extractPatches', 'padValue', padValue);
  checkWindowed('extractPatches', p, x.shape);
  return recorded('extractPatches', [x], { p }, () => {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const [oh, ow] = windowOutput(h, w, p);
    const padded = p.pads.some((d) => d > 0) ? pad(x, [[0, 0], [p.pads[0], p.pads[1]], [p.pads[2], p.pads[3]], [0, 0]], padValue) : x;
    const s = padded.strides;
    const win = view(
      padded,
      [n, oh, ow, p.window[0], p.window[1], c],
      [s[0]!, s[1]! * p.strides[0], s[2]! * p.strides[1], s[1]! * p.dilations[0], s[2]! * p.dilations[1], s[3]!],
      padded.offset,
    );
    const out = contiguous(win);
    win.dispose();
    if (padded !== x) padded.dispose();
    return out;
  });
}

/**
 * The adjoint of {@link extractPatches}: adds each window's values back into an image of
 * `inShape` (col2im). Padded cells are dropped. Autograd's gradient of extractPatches.
 * @example accumulatePatches(cols, [n, h, w, c], p)
 */
export function accumulatePatches(cols: Tensor, inShape: readonly number[], p: WindowParams): Tensor {
  live(cols, 'accumulatePatches');
  checkShape(inShape, 'accumulatePatches');
  // Checks p too: an unchecked window would size the index table below from garbage.
  checkWindowed('accumulatePatches', p, inShape);
  if (inShape.length !== 4 || cols.rank !== 6 || cols.shape[0] !== inShape[0] || cols.shape[5] !== inShape[3]) {
    throw new ShapeError('accumulatePatches', `cols ${fmtShape(cols.shape)} do not fit an image of shape ${fmtShape(inShape)} (expected [n, oh, ow, kh, kw, c])`);
  }
  return recorded('accumulatePatches', [cols], { p, inShape }, () => {
    const [n, h, w, c] = inShape as [number, number, number, number];
    const [oh, ow] = windowOutput(h, w, p);
    const hp = h + p.pads[0] + p.pads[1];
    const wp = w + p.pads[2] + p.pads[3];
    const [kh, kw] = p.window;
    if (cols.rank !== 6 || cols.shape[1] !== oh || cols.shape[2] !== ow || cols.shape[3] !== kh || cols.shape[4] !== kw) {
      throw new ShapeError('accumulatePatches', `cols ${fmtShape(cols.shape)} do not match [${n},${oh},${ow},${kh},${kw},${c}]`);
    }
    const idx = new Int32Array(oh * ow * kh * kw);
    let q = 0;
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let a = 0; a < kh; a++) {
          for (let b = 0; b < kw; b++) idx[q++] = (i * p.strides[0] + a * p.dilations[0]) * wp + j * p.strides[1] + b * p.dilations[1];
        }
      }
    }
    const indices = constantOn(cols.backend, 'int32', idx, [idx.length]);
    const flat = reshape(cols, [n, idx.length, c]);
    const base = filledOn(cols.backend, cols.dtype, [n, hp * wp, c], 0);
    const acc = scatterAdd(base, indices, flat, 1);
    const img = reshape(acc, [n, hp, wp, c]);
    const cut = slice(img, [0, p.pads[0], p.pads[2], 0], [n, h, w, c]);
    const out = contiguous(cut);
    for (const t of [indices, flat, base, acc, img, cut]) t.dispose();
    return out;
  });
}
