import { describe, expect, it } from 'vitest';
import { host, type HostTensor } from '../src/host.js';
import { ALL_SPECS } from '../src/opdb/index.js';
import { matmulRef } from '../src/opdb/matmul.js';
import { gatherRef, scatterAddRef } from '../src/opdb/indexing.js';
import { conv2dRef, geometry, pool2dBackwardRef, pool2dRef, conv2dBackpropInputRef, conv2dBackpropFilterRef } from '../src/opdb/nn-conv-ref.js';
import type { Attrs } from '../src/types.js';

const f32 = (shape: number[], v: number[]) => host('float32', shape, v);
const i32 = (shape: number[], v: number[]) => host('int32', shape, v);

/** The reference of a database op, by spec name. */
function ref(name: string, inputs: HostTensor[], attrs: Attrs = {}): HostTensor[] {
  const spec = ALL_SPECS.find((s) => s.name === name);
  if (!spec?.ref64) throw new Error(`no ref64 for ${name}`);
  const r = spec.ref64(inputs, attrs);
  return Array.isArray(r) ? r : [r];
}
const vals = (t: HostTensor) => Array.from(t.data);

describe('op references against hand values', () => {
  it('element-wise binary ops broadcast and accept number operands', () => {
    const [y] = ref('add', [f32([2, 1], [1, 2]), f32([3], [10, 20, 30])]);
    expect(y.shape).toEqual([2, 3]);
    expect(vals(y)).toEqual([11, 21, 31, 12, 22, 32]);
    expect(vals(ref('sub', [f32([2], [1, 2])], { numberA: 5 })[0])).toEqual([4, 3]);
    expect(vals(ref('mod', [f32([4], [-7, 7, -7, 7]), f32([4], [3, 3, -3, -3])])[0])).toEqual([2, 1, -1, -2]);
    expect(vals(ref('floorDiv', [i32([3], [7, -7, 5]), i32([3], [2, 2, 0])])[0])).toEqual([3, -4, 0]);
    expect(vals(ref('mul', [i32([1], [123456789]), i32([1], [987654321])])[0])).toEqual([Math.imul(123456789, 987654321)]);
    const d = ref('div', [i32([2], [7, 1]), i32([2], [2, 0])])[0];
    expect(d.dtype).toBe('float32');
    expect(vals(d)).toEqual([3.5, Infinity]);
    expect(vals(ref('maximum', [f32([2], [NaN, 1]), f32([2], [0, 2])])[0])).toEqual([NaN, 2]);
  });

  it('unary ops, clip and cast', () => {
    expect(vals(ref('round', [f32([4], [0.5, 1.5, -2.5, 2.25])])[0])).toEqual([0, 2, -2, 2]);
    expect(vals(ref('relu', [f32([3], [-1, NaN, 2])])[0])).toEqual([0, NaN, 2]);
    expect(vals(ref('clip', [f32([4], [-3, 0.5, 9, NaN])], { lo: -1, hi: 1.5 })[0])).toEqual([-1, 0.5, 1.5, NaN]);
    const c = ref('cast', [f32([4], [1.9, -1.9, NaN, 0])], { to: 'int32' })[0];
    expect(c.dtype).toBe('int32');
    expect(vals(c)).toEqual([1, -1, 0, 0]);
    expect(vals(ref('cast', [f32([3], [NaN, 0, -0.5])], { to: 'bool' })[0])).toEqual([1, 0, 1]);
    expect(vals(ref('hardSigmoid', [f32([3], [-4, 0, 3])])[0])).toEqual([0, 0.5, 1]);
  });

  it('comparisons and where', () => {
    const y = ref('less', [f32([3], [1, NaN, 2]), f32([3], [2, 1, 2])])[0];
    expect(y.dtype).toBe('bool');
    expect(vals(y)).toEqual([1, 0, 0]);
    expect(vals(ref('notEqual', [f32([1], [NaN]), f32([1], [NaN])])[0])).toEqual([1]);
    const w = ref('where', [host('bool', [2, 1], [1, 0]), f32([2], [1, 2]), f32([], [9])])[0];
    expect(w.shape).toEqual([2, 2]);
    expect(vals(w)).toEqual([1, 2, 9, 9]);
  });

  it('reductions: axes, keepDims, empty axes, NaN and ties', () => {
    const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(vals(ref('sum', [x], { axis: 0 })[0])).toEqual([5, 7, 9]);
    const k = ref('sum', [x], { axis: -1, keepDims: true })[0];
    expect(k.shape).toEqual([2, 1]);
    expect(vals(k)).toEqual([6, 15]);
    expect(vals(ref('prod', [f32([0, 2], [])], { axis: 0 })[0])).toEqual([1, 1]);
    expect(vals(ref('max', [f32([3], [1, NaN, 3])])[0])).toEqual([NaN]);
    expect(ref('mean', [x], { axis: 1 })[0].data[1]).toBe(5);
    expect(ref('variance', [f32([4], [1, 2, 3, 4])])[0].data[0]).toBeCloseTo(1.25, 14);
    expect(ref('logSumExp', [f32([2], [1000, 1000])])[0].data[0]).toBeCloseTo(1000 + Math.LN2, 10);
    const am = ref('argmax', [f32([2, 4], [1, 3, 3, 0, 2, NaN, 5, NaN])], { axis: 1 })[0];
    expect(am.dtype).toBe('int32');
    expect(vals(am)).toEqual([1, 1]);
    expect(vals(ref('argmin', [f32([2, 2], [4, 1, 2, 3])])[0])).toEqual([1]);
  });

  it('cumulative ops: exclusive and reverse', () => {
    const x = f32([4], [1, 2, 3, 4]);
    expect(vals(ref('cumsum', [x], { axis: 0 })[0])).toEqual([1, 3, 6, 10]);
    expect(vals(ref('cumsum', [x], { axis: 0, exclusive: true })[0])).toEqual([0, 1, 3, 6]);
    expect(vals(ref('cumsum', [x], { axis: 0, reverse: true })[0])).toEqual([10, 9, 7, 4]);
    expect(vals(ref('cumprod', [x], { axis: 0, exclusive: true, reverse: true })[0])).toEqual([24, 12, 4, 1]);
  });

  it('movement', () => {
    const x = f32([2, 3], [0, 1, 2, 3, 4, 5]);
    expect(vals(ref('transpose', [x])[0])).toEqual([0, 3, 1, 4, 2, 5]);
    expect(vals(ref('flip', [x], { axis: -1 })[0])).toEqual([2, 1, 0, 5, 4, 3]);
    expect(vals(ref('stridedSlice', [f32([10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])], { begin: [1], end: [9], strides: [3] })[0])).toEqual([1, 4, 7]);
    expect(vals(ref('pad', [f32([2], [1, 2])], { paddings: [[1, 2]], value: -1 })[0])).toEqual([-1, 1, 2, -1, -1]);
    expect(vals(ref('tile', [f32([2], [1, 2])], { reps: [3] })[0])).toEqual([1, 2, 1, 2, 1, 2]);
    const c = ref('concat', [f32([1, 2], [1, 2]), f32([1, 1], [3])], { axis: 1 })[0];
    expect(c.shape).toEqual([1, 3]);
    expect(vals(c)).toEqual([1, 2, 3]);
    const s = ref('stack', [f32([2], [1, 2]), f32([2], [3, 4])], { axis: 1 })[0];
    expect(vals(s)).toEqual([1, 3, 2, 4]);
    const parts = ref('split', [x], { split: [1, 2], axis: 1 });
    expect(parts.map(vals)).toEqual([[0, 3], [1, 2, 4, 5]]);
    expect(ref('squeeze', [f32([1, 3, 1], [1, 2, 3])], { axis: 0 })[0].shape).toEqual([3, 1]);
    expect(ref('expandDims', [x], { axis: -1 })[0].shape).toEqual([2, 3, 1]);
    expect(ref('reshape', [x], { shape: [3, -1] })[0].shape).toEqual([3, 2]);
  });

  it('matmul: batches, broadcasting, vectors, transposes', () => {
    expect(vals(matmulRef(f32([2, 2], [1, 2, 3, 4]), f32([2, 1], [5, 6])))).toEqual([17, 39]);
    expect(matmulRef(f32([2, 1, 3, 4], new Array(24).fill(1)), f32([5, 4, 2], new Array(40).fill(1))).shape).toEqual([2, 5, 3, 2]);
    const vv = matmulRef(f32([3], [1, 2, 3]), f32([3], [4, 5, 6]));
    expect(vv.shape).toEqual([]);
    expect(vals(vv)).toEqual([32]);
    expect(vals(matmulRef(f32([2, 2], [1, 2, 3, 4]), f32([2, 2], [1, 0, 0, 1]), true, false))).toEqual([1, 3, 2, 4]);
    expect(vals(matmulRef(f32([2, 0], []), f32([0, 2], [])))).toEqual([0, 0, 0, 0]);
    const lin = ref('linear', [f32([1, 2], [1, -2]), f32([2, 1], [1, 1]), f32([1], [0.5])], { activation: 'relu' })[0];
    expect(vals(lin)).toEqual([0]);
  });

  it('softmax, layerNorm and softmax cross-entropy', () => {
    const s = ref('softmax', [f32([2], [0, Math.log(3)])])[0];
    expect(s.data[0]).toBeCloseTo(0.25, 15);
    expect(vals(ref('softmax', [f32([3], [-Infinity, 0, 0])])[0])).toEqual([0, 0.5, 0.5]);
    expect(ref('logSoftmax', [f32([2], [0, 0])])[0].data[0]).toBeCloseTo(-Math.LN2, 15);
    const ln = ref('layerNorm', [f32([1, 2], [1, 3]), f32([2], [1, 2]), f32([2], [0, 1])], { eps: 0 })[0];
    expect(vals(ln)).toEqual([-1, 3]);
    const ce = ref('softmaxCrossEntropy', [f32([1, 2], [0, 0]), f32([1, 2], [1, 0])])[0];
    expect(ce.shape).toEqual([1]);
    expect(ce.data[0]).toBeCloseTo(Math.LN2, 15);
  });

  it('convolution and pooling with TensorFlow padding', () => {
    expect(geometry(8, 8, 3, 3, { strides: 2, padding: 'same' }).pads).toEqual([0, 1, 0, 1]);
    expect(geometry(7, 7, 3, 3, { padding: 'same' }).pads).toEqual([1, 1, 1, 1]);
    const x = f32([1, 3, 3, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const ones = f32([2, 2, 1, 1], [1, 1, 1, 1]);
    expect(vals(conv2dRef(x, ones, { padding: 'valid' }))).toEqual([12, 16, 24, 28]);
    const same = conv2dRef(x, f32([3, 3, 1, 1], new Array(9).fill(1)), { padding: 'same' });
    expect(vals(same)).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
    expect(vals(pool2dRef('max', x, { poolSize: 2, strides: 1 }))).toEqual([5, 6, 8, 9]);
    expect(vals(pool2dRef('avg', x, { poolSize: 2, strides: 2, padding: 'same' }))).toEqual([3, 4.5, 7.5, 9]);
    const dyOnes = f32([1, 2, 2, 1], [1, 1, 1, 1]);
    expect(vals(pool2dBackwardRef('max', dyOnes, f32([1, 2, 3, 1], [1, 3, 3, 0, 0, 0]), { poolSize: [2, 2], strides: 1 }))).toEqual([0, 2, 0, 0, 0, 0]);
    expect(vals(conv2dBackpropInputRef(f32([1, 2, 2, 1], [1, 1, 1, 1]), ones, [1, 3, 3, 1], { padding: 'valid' }))).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
    expect(vals(conv2dBackpropFilterRef(x, f32([1, 2, 2, 1], [1, 1, 1, 1]), [2, 2, 1, 1], { padding: 'valid' }))).toEqual([12, 16, 24, 28]);
  });

  it('gather, scatterAdd and oneHot', () => {
    const x = f32([3, 2], [1, 2, 3, 4, 5, 6]);
    expect(vals(gatherRef(x, i32([2], [2, 0]), 0))).toEqual([5, 6, 1, 2]);
    expect(vals(gatherRef(x, i32([], [1]), 1))).toEqual([2, 4, 6]);
    expect(vals(gatherRef(f32([3], [1, 2, 3]), i32([3], [5, -1, 1]), 0))).toEqual([0, 0, 2]);
    expect(vals(scatterAddRef(f32([3], [0, 0, 0]), i32([3], [0, 0, 2]), f32([3], [1, 2, 3]), 0))).toEqual([3, 0, 3]);
    expect(vals(scatterAddRef(f32([2, 2], [0, 0, 0, 0]), i32([1], [1]), f32([2, 1], [5, 6]), 1))).toEqual([0, 5, 0, 6]);
    const oh = ref('oneHot', [i32([2], [0, 2])], { depth: 3 })[0];
    expect(oh.shape).toEqual([2, 3]);
    expect(vals(oh)).toEqual([1, 0, 0, 0, 0, 1]);
  });

  it('optimizer step (Keras forms)', () => {
    const p = f32([1], [1]);
    const g = f32([1], [0.5]);
    expect(vals(ref('optimizerStep', [p, g], { kind: 'sgd', n: 1, hyper: { lr: 0.1, step: 1 } })[0])).toEqual([0.95]);
    const [pm, vm] = ref('optimizerStep', [p, g, f32([1], [0.2])], { kind: 'momentum', n: 1, hyper: { lr: 0.1, step: 1, momentum: 0.5 } });
    expect(vm.data[0]).toBeCloseTo(0.05, 15);
    expect(pm.data[0]).toBeCloseTo(1.05, 15);
    const [pn] = ref('optimizerStep', [p, g, f32([1], [0.2])], { kind: 'nesterov', n: 1, hyper: { lr: 0.1, step: 1, momentum: 0.5 } });
    expect(pn.data[0]).toBeCloseTo(1 + 0.5 * 0.05 - 0.05, 15);
    const [pa, ma, va] = ref('optimizerStep', [p, g, f32([1], [0]), f32([1], [0])], { kind: 'adam', n: 1, hyper: { lr: 0.1, step: 1, beta1: 0.9, beta2: 0.999, epsilon: 0 } });
    expect(ma.data[0]).toBeCloseTo(0.05, 15);
    expect(va.data[0]).toBeCloseTo(0.00025, 15);
    // First Adam step moves by lr·sign(g) when epsilon is 0.
    expect(pa.data[0]).toBeCloseTo(0.9, 12);
  });
});
