/**
 * `@tessera/autograd`: reverse-mode automatic differentiation for Tessera. A tape records the
 * core's differentiable ops through `setOpRecorder`; one VJP rule per op name, written with
 * core ops, gives every backend gradients and gradients of gradients.
 *
 * @example
 * import { tensor, mul, sum } from '@tessera/core';
 * import { grad, variable, variableGrads } from '@tessera/autograd';
 * const df = grad((x) => mul(x, x));
 * df(tensor([3])); // [6]
 * @packageDocumentation
 */
export { grad, grads, valueAndGrad, vjp, variableGrads, stopGradient, noGrad, customGrad, type ValueAndGrads, type VariableGrads, type CustomGradResult, type SaveFn } from './api.js';
export { Variable, variable, liveVariables, type VariableOptions } from './variable.js';
export { registerGradient, getGradient, listGradients, unbroadcast, type GradRule, type VjpContext } from './tape.js';
