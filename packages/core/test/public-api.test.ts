/**
 * The public API is a deliberate list: an export added to @tessera/core (an `export *` that
 * picks up a new helper, say) fails here until it is added below with TSDoc and, for an op,
 * to the README and the reliability sweep (packages/reliability/test/support/op-specs.ts).
 */
import { expect, it } from 'vitest';
import * as core from '../src/index.js';

/** Every runtime export of the package (types are not visible at run time). */
const PUBLIC = [
  'ArgumentError', 'BYTES_PER_ELEMENT', 'BackendError', 'DTYPES', 'DTypeError',
  'DisposedTensorError', 'FormatError', 'IndexError', 'ShapeError', 'Tensor', 'TesseraError', 'abs',
  'accumulatePatches', 'add', 'alias', 'all', 'any', 'arange', 'argmax', 'argmin', 'atan2',
  'attentionWeights', 'avgPool', 'broadcastShapes', 'broadcastTo', 'cast', 'ceil', 'clip', 'clone',
  'collapseAxes', 'concat', 'contiguous', 'conv2d', 'conv2dBackpropFilter', 'conv2dBackpropInput',
  'conv2dWith', 'cos', 'cummax', 'cumprod', 'cumsum', 'depthwiseConv2d', 'dispose', 'div', 'dot',
  'elu', 'equal', 'erf', 'exp', 'expandDims', 'expm1', 'extractPatches', 'eye', 'fill', 'flip',
  'floor', 'floorDiv', 'fmtShape', 'gather', 'gelu', 'getBackend', 'getOpRecorder', 'greater',
  'greaterEqual', 'hardSigmoid', 'init', 'isFinite', 'isNaN', 'isRowMajor', 'keep', 'layerNorm',
  'leakyRelu', 'less', 'lessEqual', 'linear', 'linspace', 'listBackends', 'log', 'log1p',
  'logSoftmax', 'logSumExp', 'logicalAnd', 'logicalNot', 'logicalOr', 'matmul', 'max', 'maxPool',
  'maximum', 'mean', 'memory', 'min', 'minimum', 'mod', 'moveTo', 'mul', 'neg', 'normAxes',
  'normAxis', 'notEqual', 'oneHot', 'ones', 'onesLike', 'optimizerStep', 'pad', 'pool2dBackward',
  'pool2dWith', 'pow', 'prod', 'randomBits', 'randomNormal', 'randomUniform', 'reciprocal',
  'registerBackend', 'relu', 'relu6', 'reshape', 'resolveWindow', 'reverse', 'round', 'rsqrt',
  'scalar', 'scaledDotProductAttention', 'scatterAdd', 'selu', 'setBackend', 'setOpRecorder',
  'setSeed', 'shapesEqual', 'sigmoid', 'sign', 'silu', 'sin', 'sizeOf', 'slice', 'softmax',
  'softmaxCrossEntropy', 'softplus', 'softsign', 'split', 'sqrt', 'square', 'squaredDifference',
  'squeeze', 'stack', 'std', 'stridedSlice', 'stridesOf', 'sub', 'sum', 'tanh', 'tensor', 'tidy',
  'tidyAsync', 'tile', 'transpose', 'truncatedNormal', 'unslice', 'variance', 'where',
  'withAllocationLimit', 'withFusedKernels', 'zeros', 'zerosLike'
];

/** Internal helpers that used to leak through `export *` (kept out on purpose). */
const INTERNAL = ['activate', 'broadcastView', 'checkWindowed', 'expectImage', 'formatTensor', 'keyOf', 'makeArray', 'upcast', 'windowOutput', 'checkShape', 'live', 'output', 'view'];

it('exports exactly the public API', () => {
  expect(Object.keys(core).sort()).toEqual([...PUBLIC].sort());
});

it('keeps the internal helpers internal', () => {
  for (const name of INTERNAL) expect(core, name).not.toHaveProperty(name);
});
