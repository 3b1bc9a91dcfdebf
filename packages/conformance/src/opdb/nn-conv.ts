/**
 * NHWC images: `conv2d`, `depthwiseConv2d`, `maxPool`, `avgPool` and the backward ops
 * `conv2dBackpropInput`, `conv2dBackpropFilter`, `maxPoolBackward`, `avgPoolBackward`.
 * @module
 */
import type { ConvOptions, WindowParams } from '../api.js';
import { grid, uniform } from '../domains.js';
import { input, shapeText, viewTag } from '../shapes.js';
import { accumulating, EXACT, F32 } from '../tolerance.js';
import type { CaseDef, OpSpec, Tag, ViewRecipe } from '../types.js';
import { disposedCase } from './helpers.js';
import {
  conv2dBackpropFilterRef, conv2dBackpropInputRef, conv2dRef, depthwiseConv2dRef, geometry,
  pool2dBackwardRef, pool2dRef, poolWindow, windowParams, type PoolGeometry,
} from './nn-conv-ref.js';

interface C {
  label: string;
  x: number[];
  f: number[];
  o: ConvOptions;
  xView?: ViewRecipe;
  tags?: Tag[];
  values?: [number[], number[]];
}

const CONV_CASES: readonly C[] = [
  { label: 'valid', x: [1, 5, 5, 1], f: [3, 3, 1, 1], o: { padding: 'valid' } },
  { label: 'same', x: [2, 7, 7, 3], f: [3, 3, 3, 4], o: { padding: 'same' } },
  { label: 'same-s2', x: [2, 8, 8, 3], f: [3, 3, 3, 5], o: { padding: 'same', strides: 2 } },
  { label: 'valid-dil2', x: [1, 9, 9, 2], f: [3, 3, 2, 2], o: { padding: 'valid', dilations: 2 } },
  { label: 'explicit-pads', x: [1, 6, 7, 2], f: [2, 3, 2, 3], o: { padding: [[1, 0], [2, 1]] } },
  { label: 'one', x: [1, 1, 1, 1], f: [1, 1, 1, 1], o: { padding: 'valid' }, tags: ['size1'] },
  { label: 'same-odd-s2x3', x: [1, 17, 13, 3], f: [5, 5, 3, 7], o: { padding: 'same', strides: [2, 3] }, tags: ['odd'] },
  { label: 'pointwise', x: [1, 5, 5, 4], f: [1, 1, 4, 8], o: { padding: 'valid' } },
  { label: 'batch0', x: [0, 5, 5, 2], f: [3, 3, 2, 3], o: { padding: 'same' }, tags: ['size0'] },
  { label: 'kernel-larger-than-image', x: [1, 2, 2, 1], f: [3, 3, 1, 1], o: { padding: 'same' } },
  { label: 'valid-s3', x: [1, 7, 7, 2], f: [2, 2, 2, 2], o: { padding: 'valid', strides: 3 } },
  { label: 'x-from-nchw', x: [1, 5, 6, 2], f: [3, 3, 2, 2], o: { padding: 'same' }, xView: { kind: 'transpose', perm: [0, 2, 3, 1] } },
  { label: 'large', x: [1, 32, 32, 8], f: [3, 3, 8, 16], o: { padding: 'same' }, tags: ['large'] },
  { label: 'unbatched', x: [5, 5, 2], f: [3, 3, 2, 3], o: { padding: 'same' } },
  {
    label: 'special', x: [1, 3, 3, 1], f: [2, 2, 1, 1], o: { padding: 'valid' }, tags: ['special'],
    values: [[1, 2, 3, 4, NaN, 6, 7, 8, Infinity], [1, 1, 1, 1]],
  },
];

const convTol = (c: CaseDef) => {
  const f = c.inputs[1].shape;
  return accumulating(F32, f[0] * f[1] * f[2], 1);
};

const convCase = (c: C): CaseDef => ({
  label: `${c.label}-${shapeText(c.x)}x${shapeText(c.f)}`,
  inputs: [
    input(c.x, 'float32', { view: c.xView, values: c.values?.[0] }),
    input(c.f, 'float32', { values: c.values?.[1] }),
  ],
  attrs: { o: c.o },
  tags: [...(c.tags ?? []), ...viewTag(c.xView)],
});

const conv2d: OpSpec = {
  name: 'conv2d',
  family: 'nn',
  kind: 'fused',
  op: 'conv2d',
  kernels: ['conv2d', 'matmul'],
  dtypes: ['float32'],
  run: (api, [x, f], a) => api.conv2d(x, f, a.o as ConvOptions),
  ref64: ([x, f], a) => {
    // A rank-3 x is one unbatched image.
    if (x.shape.length === 4) return conv2dRef(x, f, a.o as ConvOptions);
    const y = conv2dRef({ ...x, shape: [1, ...x.shape] }, f, a.o as ConvOptions);
    return { ...y, shape: y.shape.slice(1) };
  },
  cases: () => CONV_CASES.map(convCase),
  domain: () => uniform(-1, 1),
  tol: (_d, c) => convTol(c),
  errors: [
    { label: 'channel-mismatch', inputs: [{ shape: [1, 5, 5, 3], dtype: 'float32' }, { shape: [3, 3, 2, 4], dtype: 'float32' }], attrs: { o: {} }, error: 'ShapeError' },
    { label: 'rank2-input', inputs: [{ shape: [5, 3], dtype: 'float32' }, { shape: [3, 3, 3, 4], dtype: 'float32' }], attrs: { o: {} }, error: 'ShapeError' },
    { label: 'window-does-not-fit', inputs: [{ shape: [1, 2, 2, 1], dtype: 'float32' }, { shape: [3, 3, 1, 1], dtype: 'float32' }], attrs: { o: { padding: 'valid' } }, error: 'ShapeError' },
    { label: 'bad-strides', inputs: [{ shape: [1, 4, 4, 1], dtype: 'float32' }, { shape: [2, 2, 1, 1], dtype: 'float32' }], attrs: { o: { strides: 0 } }, error: 'ArgumentError' },
    disposedCase('float32', [[1, 5, 5, 1], [3, 3, 1, 1]], { o: {} }),
  ],
  grad: 'fd',
};

const DW: readonly C[] = [
  { label: 'same', x: [1, 6, 6, 3], f: [3, 3, 3, 2], o: { padding: 'same' } },
  { label: 'valid-s2', x: [2, 7, 7, 2], f: [3, 3, 2, 1], o: { padding: 'valid', strides: 2 } },
  { label: 'dil2', x: [1, 9, 9, 2], f: [3, 3, 2, 1], o: { padding: 'same', dilations: 2 } },
  { label: 'single-channel', x: [1, 5, 5, 1], f: [3, 3, 1, 1], o: { padding: 'valid' }, tags: ['size1'] },
  { label: 'odd-explicit', x: [1, 9, 7, 4], f: [2, 3, 4, 1], o: { padding: [[0, 1], [1, 1]] }, tags: ['odd'] },
  { label: 'batch0', x: [0, 4, 4, 2], f: [3, 3, 2, 1], o: { padding: 'same' }, tags: ['size0'] },
];

const depthwiseConv2d: OpSpec = {
  name: 'depthwiseConv2d',
  family: 'nn',
  kind: 'composite',
  op: 'depthwiseConv2d',
  kernels: ['conv2d', 'matmul'],
  dtypes: ['float32'],
  run: (api, [x, f], a) => api.depthwiseConv2d(x, f, a.o as ConvOptions),
  ref64: ([x, f], a) => depthwiseConv2dRef(x, f, a.o as ConvOptions),
  cases: () => DW.map(convCase),
  domain: () => uniform(-1, 1),
  tol: (_d, c) => accumulating(F32, c.inputs[1].shape[0] * c.inputs[1].shape[1], 1),
  grad: 'fd',
};

/** The conv cases whose gradients are checked, and the dy shape each produces. */
const BACKPROP = CONV_CASES.filter((c) =>
  ['same', 'same-s2', 'valid-dil2', 'explicit-pads', 'same-odd-s2x3', 'batch0', 'valid-s3'].includes(c.label));

function dyShape(c: C): number[] {
  const g = geometry(c.x[1], c.x[2], c.f[0], c.f[1], c.o);
  return [c.x[0], g.outH, g.outW, c.f[3]];
}

const conv2dBackpropInput: OpSpec = {
  name: 'conv2dBackpropInput',
  family: 'nn',
  kind: 'fused',
  op: 'conv2dBackpropInput',
  kernels: ['conv2dBackpropInput', 'matmul'],
  dtypes: ['float32'],
  run: (api, [dy, f], a) => api.conv2dBackpropInput(dy, f, a.xShape as number[], a.p as WindowParams),
  ref64: ([dy, f], a) => conv2dBackpropInputRef(dy, f, a.xShape as number[], a.o as ConvOptions),
  cases: () =>
    BACKPROP.map((c): CaseDef => ({
      label: `${c.label}-${shapeText(c.x)}x${shapeText(c.f)}`,
      inputs: [input(dyShape(c), 'float32'), input(c.f, 'float32')],
      attrs: { xShape: c.x, o: c.o, p: windowParams(c.x[1], c.x[2], c.f[0], c.f[1], c.o) },
      tags: c.tags ?? [],
    })),
  domain: () => uniform(-1, 1),
  tol: (_d, c) => {
    const f = c.inputs[1].shape;
    return accumulating(F32, f[0] * f[1] * f[3], 1);
  },
  grad: 'fd',
};

const conv2dBackpropFilter: OpSpec = {
  name: 'conv2dBackpropFilter',
  family: 'nn',
  kind: 'fused',
  op: 'conv2dBackpropFilter',
  kernels: ['conv2dBackpropFilter', 'matmul'],
  dtypes: ['float32'],
  run: (api, [x, dy], a) => api.conv2dBackpropFilter(x, dy, a.fShape as number[], a.p as WindowParams),
  ref64: ([x, dy], a) => conv2dBackpropFilterRef(x, dy, a.fShape as number[], a.o as ConvOptions),
  cases: () =>
    BACKPROP.map((c): CaseDef => ({
      label: `${c.label}-${shapeText(c.x)}x${shapeText(c.f)}`,
      inputs: [input(c.x, 'float32'), input(dyShape(c), 'float32')],
      attrs: { fShape: c.f, o: c.o, p: windowParams(c.x[1], c.x[2], c.f[0], c.f[1], c.o) },
      tags: c.tags ?? [],
    })),
  domain: () => uniform(-1, 1),
  tol: (_d, c) => {
    const dy = c.inputs[1].shape;
    return accumulating(F32, dy[0] * dy[1] * dy[2], 1);
  },
  grad: 'fd',
};

interface P {
  label: string;
  x: number[];
  o: PoolGeometry;
  view?: ViewRecipe;
  tags?: Tag[];
}

const POOL_CASES: readonly P[] = [
  { label: '2x2-s2', x: [1, 4, 4, 2], o: { poolSize: 2, strides: 2, padding: 'valid' } },
  { label: '3x3-s1-same', x: [2, 5, 5, 3], o: { poolSize: 3, strides: 1, padding: 'same' } },
  { label: '3x3-s2-same-odd', x: [1, 7, 6, 2], o: { poolSize: 3, strides: 2, padding: 'same' }, tags: ['odd'] },
  { label: '2x3-s1x2', x: [1, 5, 7, 1], o: { poolSize: [2, 3], strides: [1, 2], padding: 'valid' } },
  { label: '1x1', x: [1, 3, 3, 2], o: { poolSize: 1, strides: 1, padding: 'valid' }, tags: ['size1'] },
  { label: 'default-strides', x: [1, 6, 6, 1], o: { poolSize: 3, padding: 'valid' } },
  { label: 'explicit-pads', x: [1, 5, 5, 2], o: { poolSize: 2, strides: 2, padding: [[1, 0], [0, 1]] } },
  { label: 'batch0', x: [0, 4, 4, 1], o: { poolSize: 2, strides: 2, padding: 'valid' }, tags: ['size0'] },
  { label: 'transposed', x: [1, 6, 6, 2], o: { poolSize: 2, strides: 2, padding: 'same' }, view: { kind: 'transpose', perm: [0, 2, 1, 3] } },
  { label: 'large', x: [4, 32, 32, 8], o: { poolSize: 2, strides: 2, padding: 'valid' }, tags: ['large'] },
];

function poolSpec(kind: 'max' | 'avg'): OpSpec {
  const name = kind === 'max' ? 'maxPool' : 'avgPool';
  return {
    name,
    family: 'nn',
    kind: 'fused',
    op: name,
    kernels: [`pool2d:${kind}`, 'reduce:max', 'reduce:sum', 'copy'],
    dtypes: ['float32'],
    run: (api, [x], a) => {
      const o = a.o as PoolGeometry;
      return api[name](x, o.poolSize, { strides: o.strides, padding: o.padding });
    },
    ref64: ([x], a) => pool2dRef(kind, x, a.o as PoolGeometry),
    cases: () =>
      POOL_CASES.map((p): CaseDef => ({
        label: `${p.label}-${shapeText(p.x)}`,
        inputs: [input(p.x, 'float32', { view: p.view })],
        attrs: { o: p.o },
        tags: [...(p.tags ?? []), ...viewTag(p.view)],
      })),
    domain: () => (kind === 'max' ? grid(-2, 2, 0.25) : uniform(-2, 2)),
    tol: kind === 'max' ? () => EXACT : () => F32,
    errors: kind === 'max'
      ? [
          { label: 'rank3-input', inputs: [{ shape: [4, 4, 2], dtype: 'float32' }], attrs: { o: { poolSize: 2 } }, error: 'ShapeError' },
          { label: 'int32', inputs: [{ shape: [1, 4, 4, 2], dtype: 'int32' }], attrs: { o: { poolSize: 2 } }, error: 'DTypeError' },
        ]
      : undefined,
    grad: 'fd',
  };
}

/** The window parameters of a pooling case, as `pool2dBackward` takes them. */
function poolParams(x: readonly number[], o: PoolGeometry): WindowParams {
  const [kh, kw] = poolWindow(o);
  return windowParams(x[1], x[2], kh, kw, { strides: o.strides ?? o.poolSize, padding: o.padding });
}

/** `pool2dBackward(kind, x, dy, p)`: max routes to the first maximal cell, avg spreads. */
const pool2dBackward: OpSpec = {
  name: 'pool2dBackward',
  family: 'nn',
  kind: 'fused',
  op: 'pool2dBackward',
  kernels: ['pool2dBackward', 'argReduce:argmax', 'scatterAdd'],
  dtypes: ['float32'],
  run: (api, [dy, x], a) => api.pool2dBackward(a.kind as 'max' | 'avg', x, dy, a.p as WindowParams),
  ref64: ([dy, x], a) => pool2dBackwardRef(a.kind as 'max' | 'avg', dy, x, a.o as PoolGeometry),
  cases: () =>
    (['max', 'avg'] as const).flatMap((kind) =>
      POOL_CASES.filter((p) => p.label !== 'large' && p.label !== 'transposed').map((p): CaseDef => {
        const params = poolParams(p.x, p.o);
        const g = geometry(p.x[1], p.x[2], params.window[0], params.window[1], { strides: params.strides, padding: p.o.padding });
        return {
          label: `${kind}-${p.label}-${shapeText(p.x)}`,
          // x on a coarse grid: ties inside windows are common, and the first maximal cell wins.
          inputs: [
            input([p.x[0], g.outH, g.outW, p.x[3]], 'float32', { domain: uniform(-1, 1) }),
            input(p.x, 'float32', { domain: grid(-1, 1, 0.5) }),
          ],
          attrs: { kind, o: p.o, p: params },
          tags: [...(p.tags ?? []), ...(kind === 'max' ? (['ties'] as Tag[]) : [])],
          kernels: [`pool2dBackward:${kind}`, kind === 'max' ? 'argReduce:argmax' : 'binary:div', 'scatterAdd'],
        };
      }),
    ),
  tol: () => F32,
  grad: 'none',
};

/** Convolutions and pooling, forward and backward. */
export const convSpecs: readonly OpSpec[] = [
  conv2d, depthwiseConv2d, conv2dBackpropInput, conv2dBackpropFilter,
  poolSpec('max'), poolSpec('avg'), pool2dBackward,
];
