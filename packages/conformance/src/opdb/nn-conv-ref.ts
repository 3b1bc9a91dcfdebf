/**
 * Float64 references for NHWC convolution and pooling and their gradients, written from
 * the definitions with TensorFlow's `same`/`valid` padding.
 * @module
 */
import { host, sizeOf, type HostTensor } from '../host.js';
import type { ConvOptions, WindowParams } from '../api.js';

/** Pooling geometry as the pooling cases describe it (`maxPool(x, poolSize, { strides, padding })`). */
export interface PoolGeometry {
  poolSize: number | readonly [number, number];
  strides?: number | readonly [number, number];
  padding?: ConvOptions['padding'];
}

/** Window geometry after resolving padding. */
export interface Geometry {
  outH: number;
  outW: number;
  /** [top, bottom, left, right] */
  pads: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
}

const pair = (v: number | readonly [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

/**
 * Output size and padding of a window op, as TensorFlow defines `same` and `valid`.
 * @example
 * geometry(8, 8, 3, 3, { strides: 2, padding: 'same' }).pads; // [0, 1, 0, 1]
 */
export function geometry(
  inH: number, inW: number, kh: number, kw: number,
  o: { strides?: ConvOptions['strides']; padding?: ConvOptions['padding']; dilations?: ConvOptions['dilations'] },
): Geometry {
  const strides = pair(o.strides, 1);
  const dilations = pair(o.dilations, 1);
  const ekh = (kh - 1) * dilations[0] + 1;
  const ekw = (kw - 1) * dilations[1] + 1;
  const padding = o.padding ?? 'valid';
  if (padding === 'same') {
    const outH = Math.ceil(inH / strides[0]);
    const outW = Math.ceil(inW / strides[1]);
    const th = Math.max((outH - 1) * strides[0] + ekh - inH, 0);
    const tw = Math.max((outW - 1) * strides[1] + ekw - inW, 0);
    const pads: Geometry['pads'] = [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
    return { outH, outW, pads, strides, dilations };
  }
  const pads: Geometry['pads'] = padding === 'valid' ? [0, 0, 0, 0] : [padding[0][0], padding[0][1], padding[1][0], padding[1][1]];
  const outH = Math.floor((inH + pads[0] + pads[1] - ekh) / strides[0]) + 1;
  const outW = Math.floor((inW + pads[2] + pads[3] - ekw) / strides[1]) + 1;
  return { outH: Math.max(outH, 0), outW: Math.max(outW, 0), pads, strides, dilations };
}

/**
 * Core's explicit window parameters for the same geometry (what the backward ops take).
 * @example
 * windowParams(8, 8, 3, 3, { strides: 2, padding: 'same' }).pads; // [0, 1, 0, 1]
 */
export function windowParams(
  inH: number, inW: number, kh: number, kw: number, o: ConvOptions,
): WindowParams {
  const g = geometry(inH, inW, kh, kw, o);
  return { window: [kh, kw], strides: g.strides, pads: g.pads, dilations: g.dilations };
}

/**
 * The options that reproduce explicit window parameters.
 * @example
 * optionsOf({ window: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] }).padding; // [[1, 1], [1, 1]]
 */
export function optionsOf(p: WindowParams): ConvOptions {
  return {
    strides: [p.strides[0], p.strides[1]],
    dilations: [p.dilations[0], p.dilations[1]],
    padding: [[p.pads[0], p.pads[1]], [p.pads[2], p.pads[3]]],
  };
}

/** Calls `f(oy, ox, iy, ix, i, j)` for every (output cell, window cell) pair inside the image. */
function eachTap(
  g: Geometry, inH: number, inW: number, kh: number, kw: number,
  f: (oy: number, ox: number, iy: number, ix: number, i: number, j: number) => void,
): void {
  for (let oy = 0; oy < g.outH; oy++) {
    for (let ox = 0; ox < g.outW; ox++) {
      for (let i = 0; i < kh; i++) {
        const iy = oy * g.strides[0] + i * g.dilations[0] - g.pads[0];
        if (iy < 0 || iy >= inH) continue;
        for (let j = 0; j < kw; j++) {
          const ix = ox * g.strides[1] + j * g.dilations[1] - g.pads[2];
          if (ix < 0 || ix >= inW) continue;
          f(oy, ox, iy, ix, i, j);
        }
      }
    }
  }
}

/**
 * NHWC conv2d: x `[n,h,w,cin]`, filter `[kh,kw,cin,cout]`.
 * @example
 * conv2dRef(x, f, { padding: 'same' }).shape; // [n, h, w, cout]
 */
export function conv2dRef(x: HostTensor, f: HostTensor, o: ConvOptions): HostTensor {
  const [n, h, w, cin] = x.shape;
  const [kh, kw, , cout] = f.shape;
  const g = geometry(h, w, kh, kw, o);
  const out = new Float64Array(n * g.outH * g.outW * cout);
  for (let b = 0; b < n; b++) {
    eachTap(g, h, w, kh, kw, (oy, ox, iy, ix, i, j) => {
      const xo = ((b * h + iy) * w + ix) * cin;
      const oo = ((b * g.outH + oy) * g.outW + ox) * cout;
      for (let c = 0; c < cin; c++) {
        const fo = ((i * kw + j) * cin + c) * cout;
        for (let k = 0; k < cout; k++) out[oo + k] += x.data[xo + c] * f.data[fo + k];
      }
    });
  }
  return host('float32', [n, g.outH, g.outW, cout], out);
}

/**
 * Depthwise NHWC conv: filter `[kh,kw,cin,mult]`, output channel `c·mult + m`.
 * @example
 * depthwiseConv2dRef(x, f, { padding: 'valid' });
 */
export function depthwiseConv2dRef(x: HostTensor, f: HostTensor, o: ConvOptions): HostTensor {
  const [n, h, w, cin] = x.shape;
  const [kh, kw, , mult] = f.shape;
  const g = geometry(h, w, kh, kw, o);
  const cout = cin * mult;
  const out = new Float64Array(n * g.outH * g.outW * cout);
  for (let b = 0; b < n; b++) {
    eachTap(g, h, w, kh, kw, (oy, ox, iy, ix, i, j) => {
      const xo = ((b * h + iy) * w + ix) * cin;
      const oo = ((b * g.outH + oy) * g.outW + ox) * cout;
      for (let c = 0; c < cin; c++) {
        for (let m = 0; m < mult; m++) out[oo + c * mult + m] += x.data[xo + c] * f.data[((i * kw + j) * cin + c) * mult + m];
      }
    });
  }
  return host('float32', [n, g.outH, g.outW, cout], out);
}

/**
 * Gradient of conv2d with respect to x, for upstream `dy`.
 * @example
 * conv2dBackpropInputRef(dy, f, [1, 5, 5, 2], { padding: 'same' }).shape; // [1, 5, 5, 2]
 */
export function conv2dBackpropInputRef(dy: HostTensor, f: HostTensor, xShape: readonly number[], o: ConvOptions): HostTensor {
  const [n, h, w, cin] = xShape;
  const [kh, kw, , cout] = f.shape;
  const g = geometry(h, w, kh, kw, o);
  const dx = new Float64Array(sizeOf(xShape));
  for (let b = 0; b < n; b++) {
    eachTap(g, h, w, kh, kw, (oy, ox, iy, ix, i, j) => {
      const xo = ((b * h + iy) * w + ix) * cin;
      const oo = ((b * g.outH + oy) * g.outW + ox) * cout;
      for (let c = 0; c < cin; c++) {
        const fo = ((i * kw + j) * cin + c) * cout;
        for (let k = 0; k < cout; k++) dx[xo + c] += dy.data[oo + k] * f.data[fo + k];
      }
    });
  }
  return host('float32', xShape, dx);
}

/**
 * Gradient of conv2d with respect to the filter.
 * @example
 * conv2dBackpropFilterRef(x, dy, [3, 3, 2, 4], { padding: 'same' }).shape; // [3, 3, 2, 4]
 */
export function conv2dBackpropFilterRef(x: HostTensor, dy: HostTensor, fShape: readonly number[], o: ConvOptions): HostTensor {
  const [n, h, w, cin] = x.shape;
  const [kh, kw, , cout] = fShape;
  const g = geometry(h, w, kh, kw, o);
  const df = new Float64Array(sizeOf(fShape));
  for (let b = 0; b < n; b++) {
    eachTap(g, h, w, kh, kw, (oy, ox, iy, ix, i, j) => {
      const xo = ((b * h + iy) * w + ix) * cin;
      const oo = ((b * g.outH + oy) * g.outW + ox) * cout;
      for (let c = 0; c < cin; c++) {
        const fo = ((i * kw + j) * cin + c) * cout;
        for (let k = 0; k < cout; k++) df[fo + k] += x.data[xo + c] * dy.data[oo + k];
      }
    });
  }
  return host('float32', fShape, df);
}

/**
 * Pool window size from options.
 * @example
 * poolWindow({ poolSize: 3 }); // [3, 3]
 */
export function poolWindow(o: PoolGeometry): [number, number] {
  return pair(o.poolSize, 1);
}

/**
 * Max or average pooling: max ignores padded cells, average divides by the real cells.
 * @example
 * pool2dRef('max', x, { poolSize: 2, strides: 2 });
 */
export function pool2dRef(kind: 'max' | 'avg', x: HostTensor, o: PoolGeometry): HostTensor {
  const [n, h, w, c] = x.shape;
  const [kh, kw] = poolWindow(o);
  const g = geometry(h, w, kh, kw, { strides: o.strides ?? o.poolSize, padding: o.padding });
  const cells = n * g.outH * g.outW * c;
  const acc = new Float64Array(cells).fill(kind === 'max' ? -Infinity : 0);
  const count = new Float64Array(cells);
  for (let b = 0; b < n; b++) {
    eachTap(g, h, w, kh, kw, (oy, ox, iy, ix) => {
      const oo = ((b * g.outH + oy) * g.outW + ox) * c;
      const xo = ((b * h + iy) * w + ix) * c;
      for (let k = 0; k < c; k++) {
        const v = x.data[xo + k];
        if (kind === 'max') acc[oo + k] = Number.isNaN(v) || Number.isNaN(acc[oo + k]) ? NaN : Math.max(acc[oo + k], v);
        else acc[oo + k] += v;
        count[oo + k]++;
      }
    });
  }
  if (kind === 'avg') for (let i = 0; i < cells; i++) acc[i] /= count[i];
  return host('float32', [n, g.outH, g.outW, c], acc);
}

/**
 * Gradient of pooling with respect to x: max routes each window's `dy` to its first
 * maximal real cell (row-major within the window); average spreads it over the real cells.
 * @example
 * pool2dBackwardRef('max', dy, x, { poolSize: 2 });
 */
export function pool2dBackwardRef(kind: 'max' | 'avg', dy: HostTensor, x: HostTensor, o: PoolGeometry): HostTensor {
  const [n, h, w, c] = x.shape;
  const [kh, kw] = poolWindow(o);
  const g = geometry(h, w, kh, kw, { strides: o.strides ?? o.poolSize, padding: o.padding });
  const dx = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < g.outH; oy++) {
      for (let ox = 0; ox < g.outW; ox++) {
        for (let k = 0; k < c; k++) {
          const taps: number[] = [];
          const sub: Geometry = { ...g, outH: 1, outW: 1, pads: [g.pads[0] - oy * g.strides[0], 0, g.pads[2] - ox * g.strides[1], 0] };
          eachTap(sub, h, w, kh, kw, (_a, _b, iy, ix) => taps.push(((b * h + iy) * w + ix) * c + k));
          const d = dy.data[((b * g.outH + oy) * g.outW + ox) * c + k];
          if (kind === 'avg') {
            for (const t of taps) dx[t] += d / taps.length;
          } else if (taps.length) {
            let best = taps[0];
            for (const t of taps) if (x.data[t] > x.data[best]) best = t;
            dx[best] += d;
          }
        }
      }
    }
  }
  return host('float32', x.shape, dx);
}
