/**
 * The Kernels and FusedKernels objects of the wasm backend.
 * @module
 */
import type { FusedKernels, Kernels } from '@tessera/core';
import { binary, cast, compare, copy, fill, unary, where } from './elementwise.js';
import {
  conv2d, conv2dBackpropFilter, conv2dBackpropInput, layerNorm, matmulFused, optimizerStep, pool2d, pool2dBackward,
  softmax, softmaxCrossEntropy,
} from './nn.js';
import { argReduce, cumulative, gather, randomBits, reduce, scatterAdd } from './reduce.js';
import type { Runtime } from './runtime.js';

/** The required kernels over a runtime. */
export function makeKernels(rt: Runtime): Kernels {
  return {
    fill: (out, value) => fill(rt, out, value),
    copy: (x, out) => copy(rt, x, out),
    cast: (x, out) => cast(rt, x, out),
    unary: (op, x, out) => unary(rt, op, x, out),
    binary: (op, a, b, out) => binary(rt, op, a, b, out),
    compare: (op, a, b, out) => compare(rt, op, a, b, out),
    where: (c, a, b, out) => where(rt, c, a, b, out),
    reduce: (op, x, axes, out) => reduce(rt, op, x, axes, out),
    argReduce: (op, x, axis, out) => argReduce(rt, op, x, axis, out),
    cumulative: (op, x, axis, ex, rev, out) => cumulative(rt, op, x, axis, ex, rev, out),
    matmul: (a, b, out) => matmulFused(rt, a, b, null, 'linear', out),
    gather: (x, idx, axis, out) => gather(rt, x, idx, axis, out),
    scatterAdd: (idx, upd, axis, out) => scatterAdd(rt, idx, upd, axis, out),
    randomBits: (key, counter, out) => randomBits(rt, key, counter, out),
  };
}

/** Every fused kernel over a runtime. */
export function makeFused(rt: Runtime): Omit<FusedKernels, 'scaledDotProductAttention'> {
  return {
    matmulFused: (a, b, bias, act, out) => matmulFused(rt, a, b, bias, act, out),
    conv2d: (x, f, p, out) => conv2d(rt, x, f, p, out),
    conv2dBackpropInput: (dy, f, p, out) => conv2dBackpropInput(rt, dy, f, p, out),
    conv2dBackpropFilter: (x, dy, p, out) => conv2dBackpropFilter(rt, x, dy, p, out),
    pool2d: (kind, x, p, out) => pool2d(rt, kind, x, p, out),
    pool2dBackward: (kind, x, dy, p, out) => pool2dBackward(rt, kind, x, dy, p, out),
    softmax: (x, log, out) => softmax(rt, x, log, out),
    softmaxCrossEntropy: (l, y, out) => softmaxCrossEntropy(rt, l, y, out),
    layerNorm: (x, g, b, eps, out) => layerNorm(rt, x, g, b, eps, out),
    optimizerStep: (kind, params, grads, state, hyper) => optimizerStep(rt, kind, params, grads, state, hyper),
  };
}
