/**
 * A valid call of every public op of @tessera/core, described as data (argument kinds), and
 * the bad-input mutations generated from it: each argument is replaced in turn by a wrong
 * rank, a mismatched shape, a wrong dtype, NaN/Inf values, an empty tensor, a disposed
 * tensor, a tensor of another backend, a non-tensor, an out-of-range or fractional axis, a
 * negative / fractional / non-finite size. The sweep test runs every case on every backend.
 */
import type { DType } from '@tessera/core';

/** One argument of a valid call, with its kind (which decides the mutations). */
export type ArgSpec =
  /** A tensor (`values`: 'any' in [-1, 1), 'pos' in (0, 2], 'idx' integer indices, given as `data`). */
  | { kind: 'tensor'; shape: number[]; dtype?: DType; data?: number[]; operand?: boolean; optional?: boolean }
  /** A list of tensors (concat, stack, optimizerStep). */
  | { kind: 'tensors'; shapes: number[][] }
  /** One axis of a tensor of rank `rank`. */
  | { kind: 'axis'; value: number; rank: number }
  /** A list of axes. */
  | { kind: 'axes'; value: number[]; rank: number }
  /** A shape or size list: non-negative integers. */
  | { kind: 'shape'; value: number[] }
  /** A list of integers where negatives mean something (begin/end/strides, reshape's -1). */
  | { kind: 'ints'; value: number[]; optional?: boolean }
  /** A count: a non-negative integer. */
  | { kind: 'size'; value: number }
  /** A seed: a non-negative safe integer. */
  | { kind: 'seed'; value: number }
  /** A real-valued parameter. */
  | { kind: 'num'; value: number }
  /** Passed as is (a string option, an options object); `name`: a free-form op name for messages (never invalid). */
  | { kind: 'lit'; value: unknown; name?: boolean };

/** A valid call of an op. */
export interface OpSpec {
  name: string;
  args: ArgSpec[];
  /**
   * A kernel-level building block (explicit WindowParams, pre-validated shapes: what autograd
   * and layers call after the public op checked its input). The sweep still runs its cases —
   * no process crash, no leak when it returns — but does not require typed errors from it.
   */
  lowLevel?: boolean;
}

const T = (shape: number[], dtype?: DType, data?: number[]): ArgSpec => ({ kind: 'tensor', shape, dtype, data });
const O = (shape: number[]): ArgSpec => ({ kind: 'tensor', shape, operand: true });
const axis = (value: number, rank: number): ArgSpec => ({ kind: 'axis', value, rank });
const axes = (value: number[], rank: number): ArgSpec => ({ kind: 'axes', value, rank });
const shape = (value: number[]): ArgSpec => ({ kind: 'shape', value });
const ints = (value: number[]): ArgSpec => ({ kind: 'ints', value });
const size = (value: number): ArgSpec => ({ kind: 'size', value });
const num = (value: number): ArgSpec => ({ kind: 'num', value });
const lit = (value: unknown): ArgSpec => ({ kind: 'lit', value });
const opName: ArgSpec = { kind: 'lit', value: 'op', name: true };
const seed = (value: number): ArgSpec => ({ kind: 'seed', value });

const X = T([2, 3]);
const WIN = { window: [3, 3], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1] };
const POOL = { window: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1] };

const UNARY = ['neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos', 'tanh', 'sigmoid', 'erf', 'floor', 'ceil', 'round', 'relu', 'relu6', 'selu', 'silu', 'softplus', 'softsign', 'hardSigmoid', 'logicalNot', 'isNaN', 'isFinite', 'contiguous', 'clone', 'zerosLike', 'onesLike'];
const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'atan2', 'equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual', 'logicalAnd', 'logicalOr', 'floorDiv', 'squaredDifference'];
const REDUCE = ['sum', 'prod', 'max', 'min', 'any', 'all', 'mean', 'variance', 'std', 'logSumExp'];

/** Every op the sweep calls, with a valid call. */
export const OP_SPECS: OpSpec[] = [
  ...UNARY.map((name) => ({ name, args: [X] })),
  { name: 'leakyRelu', args: [X, num(0.2)] },
  { name: 'elu', args: [X, num(1)] },
  { name: 'gelu', args: [X, lit(true)] },
  ...BINARY.map((name) => ({ name, args: [O([2, 3]), O([3])] })),
  { name: 'where', args: [T([2, 3], 'bool', [1, 0, 1, 0, 1, 1]), O([2, 3]), O([3])] },
  { name: 'clip', args: [X, num(-0.5), num(0.5)] },
  { name: 'cast', args: [X, lit('int32')] },
  ...REDUCE.map((name) => ({ name, args: [X, axes([1], 2), lit(false)] })),
  ...['argmax', 'argmin', 'cumsum', 'cumprod', 'cummax', 'softmax', 'logSoftmax'].map((name) => ({ name, args: [X, axis(1, 2)] })),
  { name: 'reshape', args: [X, ints([3, 2])] },
  { name: 'transpose', args: [X, axes([1, 0], 2)] },
  { name: 'expandDims', args: [X, axis(0, 3)] },
  { name: 'squeeze', args: [T([1, 3]), axes([0], 2)] },
  { name: 'stridedSlice', args: [X, ints([0, 0]), ints([2, 3]), { kind: 'ints', value: [1, 2], optional: true }] },
  { name: 'slice', args: [X, ints([0, 1]), { kind: 'ints', value: [2, 2], optional: true }] },
  { name: 'unslice', args: [T([2, 2]), shape([2, 3]), ints([0, 1]), ints([1, 1])] },
  { name: 'flip', args: [X, axes([1], 2)] },
  { name: 'reverse', args: [X, axes([0], 2)] },
  { name: 'broadcastTo', args: [T([1, 3]), shape([2, 3])] },
  { name: 'concat', args: [{ kind: 'tensors', shapes: [[2, 3], [1, 3]] }, axis(0, 2)] },
  { name: 'stack', args: [{ kind: 'tensors', shapes: [[2, 3], [2, 3]] }, axis(0, 3)] },
  { name: 'split', args: [T([4, 3]), size(2), axis(0, 2)] },
  { name: 'pad', args: [X, lit([[1, 0], [0, 2]]), num(0)] },
  { name: 'tile', args: [X, shape([2, 1])] },
  { name: 'gather', args: [T([4, 3]), T([2], 'int32', [0, 3]), axis(0, 2)] },
  { name: 'scatterAdd', args: [T([4, 3]), T([2], 'int32', [1, 3]), T([2, 3]), axis(0, 2)] },
  { name: 'oneHot', args: [T([3], 'int32', [0, 2, 1]), size(3), num(1), num(0)] },
  { name: 'matmul', args: [T([2, 3]), T([3, 4]), lit({})] },
  { name: 'dot', args: [T([3]), T([3])] },
  { name: 'linear', args: [T([2, 3]), T([3, 4]), { kind: 'tensor', shape: [4], optional: true }, lit('relu')] },
  { name: 'conv2d', args: [T([1, 5, 5, 2]), T([3, 3, 2, 4]), lit({ padding: 'same' })] },
  { name: 'depthwiseConv2d', args: [T([1, 5, 5, 2]), T([3, 3, 2, 1]), lit({ strides: 2 })] },
  { name: 'maxPool', args: [T([1, 4, 4, 2]), size(2), lit({})] },
  { name: 'avgPool', args: [T([1, 4, 4, 2]), size(2), lit({ padding: 'same' })] },
  { name: 'conv2dWith', lowLevel: true, args: [T([1, 5, 5, 2]), T([3, 3, 2, 4]), lit(WIN)] },
  { name: 'conv2dBackpropInput', lowLevel: true, args: [T([1, 3, 3, 4]), T([3, 3, 2, 4]), shape([1, 5, 5, 2]), lit(WIN)] },
  { name: 'conv2dBackpropFilter', lowLevel: true, args: [T([1, 5, 5, 2]), T([1, 3, 3, 4]), shape([3, 3, 2, 4]), lit(WIN)] },
  { name: 'pool2dWith', lowLevel: true, args: [lit('max'), T([1, 4, 4, 2]), lit(POOL)] },
  { name: 'pool2dBackward', lowLevel: true, args: [lit('avg'), T([1, 4, 4, 2]), T([1, 2, 2, 2]), lit(POOL)] },
  { name: 'extractPatches', lowLevel: true, args: [T([1, 5, 5, 2]), lit(WIN), num(0)] },
  { name: 'accumulatePatches', lowLevel: true, args: [T([1, 3, 3, 3, 3, 2]), shape([1, 5, 5, 2]), lit(WIN)] },
  { name: 'softmaxCrossEntropy', args: [T([2, 3]), T([2, 3])] },
  { name: 'layerNorm', args: [X, T([3]), T([3]), num(1e-5)] },
  { name: 'attentionWeights', args: [T([2, 3, 4]), T([2, 5, 4]), lit({ causal: false })] },
  { name: 'scaledDotProductAttention', args: [T([2, 3, 4]), T([2, 5, 4]), T([2, 5, 4]), lit({})] },
  { name: 'optimizerStep', args: [lit('sgd'), { kind: 'tensors', shapes: [[2, 3]] }, { kind: 'tensors', shapes: [[2, 3]] }, lit([[]]), lit({ lr: 0.1, step: 1 })] },
  { name: 'tensor', args: [lit([1, 2, 3, 4, 5, 6]), shape([2, 3])] },
  { name: 'scalar', args: [num(3)] },
  { name: 'fill', args: [shape([2, 3]), num(1)] },
  { name: 'zeros', args: [shape([2, 3])] },
  { name: 'ones', args: [shape([2, 3])] },
  { name: 'arange', args: [num(0), num(5), num(1)] },
  { name: 'linspace', args: [num(0), num(1), size(5)] },
  { name: 'eye', args: [size(3), size(2)] },
  { name: 'randomBits', args: [shape([2, 3]), seed(1)] },
  { name: 'randomUniform', args: [shape([2, 3]), lit({ seed: 1 })] },
  { name: 'randomNormal', args: [shape([2, 3]), lit({ seed: 2 })] },
  { name: 'truncatedNormal', args: [shape([2, 3]), lit({ seed: 3 })] },
  { name: 'setSeed', args: [seed(5)] },
  { name: 'sizeOf', lowLevel: true, args: [shape([2, 3])] },
  { name: 'broadcastShapes', lowLevel: true, args: [shape([2, 3]), shape([3]), opName] },
  { name: 'normAxis', lowLevel: true, args: [axis(1, 2), size(2), opName] },
  { name: 'normAxes', lowLevel: true, args: [axes([0, 1], 2), size(2), opName] },
  { name: 'resolveWindow', lowLevel: true, args: [opName, size(8), size(8), lit([3, 3]), lit({ strides: 2, padding: 'same' })] },
];

/**
 * Exports of @tessera/core that are not ops on tensors, each with the reason the sweep leaves
 * it out (an export in neither list fails the coverage test, so a new op cannot be missed).
 */
export const NOT_OPS: Record<string, string> = {
  init: 'backend set-up (async; covered by the backend tests)',
  registerBackend: 'backend registry',
  setBackend: 'backend registry',
  getBackend: 'backend registry',
  listBackends: 'backend registry',
  moveTo: 'async transfer between backends (covered in concurrency.test.ts)',
  memory: 'memory report',
  tidy: 'scope management',
  tidyAsync: 'scope management',
  withAllocationLimit: 'scope management (an allocation cap; exercised by the loader fuzz)',
  keep: 'scope management',
  dispose: 'scope management',
  alias: 'internal view helper (returns its argument)',
  setOpRecorder: 'autograd hook',
  getOpRecorder: 'autograd hook',
  withFusedKernels: 'dispatch switch',
  fmtShape: 'string formatting',
  stridesOf: 'pure shape arithmetic used by backends',
  shapesEqual: 'pure shape comparison',
  isRowMajor: 'pure stride check used by backends',
  collapseAxes: 'pure stride arithmetic used by backends',
};
